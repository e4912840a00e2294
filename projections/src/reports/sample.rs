//! Sample report data of any size, for benchmarks (`attendance bench`, `cargo bench`).

use super::model::{CourseReport, CourseReportRow, ReportSession};
use chrono::{Duration, Utc};
use domain::{Status, Tally};

/// A course report of `students` x `sessions` with every status.
pub fn course_report(students: usize, sessions: usize) -> CourseReport {
    let start = Utc::now() - Duration::days(sessions as i64);
    let statuses = [
        Status::Present,
        Status::Present,
        Status::Late,
        Status::Absent,
        Status::Excused,
    ];
    let columns: Vec<_> = (0..sessions)
        .map(|n| ReportSession {
            session_id: format!("s{n}"),
            title: format!("Lecture {}", n + 1),
            starts_at: start + Duration::days(n as i64),
            local_start: (start + Duration::days(n as i64)).naive_utc(),
        })
        .collect();
    let rows: Vec<_> = (0..students)
        .map(|i| {
            let marks: Vec<_> = (0..sessions)
                .map(|n| Some(statuses[(i * 7 + n) % statuses.len()]))
                .collect();
            let mut tally = Tally::default();
            marks.iter().flatten().for_each(|s| tally.add(*s));
            let rate = tally.rate(&Default::default());
            CourseReportRow {
                student_id: format!("S{i:04}"),
                name: Some(format!("Zoë Ñúñez {i}")),
                statuses: marks,
                tally,
                rate,
                at_risk: rate.is_some_and(|r| r < 75.0),
            }
        })
        .collect();
    let mut totals = vec![Tally::default(); sessions];
    for row in &rows {
        for (n, s) in row.statuses.iter().enumerate() {
            if let Some(s) = s {
                totals[n].add(*s);
            }
        }
    }
    CourseReport {
        course_id: "BENCH".into(),
        course_name: "Benchmark course".into(),
        generated_at: Utc::now(),
        as_of: None,
        threshold: 75.0,
        sessions: columns,
        students: rows,
        session_totals: totals,
    }
}
