//! Micro-benchmarks of the read side: the course statistics fold and derived figures, and
//! each report renderer on a 500 x 60 course. `cargo bench -p attendance-projections`.

use projections::reports::config::ReportConfig;
use projections::reports::registry::Registry;
use projections::reports::sample;

fn main() {
    divan::main();
}

#[divan::bench(args = ["csv", "xlsx", "pdf"], sample_count = 5, sample_size = 1)]
fn render_course_report_500_by_60(bencher: divan::Bencher, format: &str) {
    let report = sample::course_report(500, 60);
    let registry = Registry::from_config(&ReportConfig::embedded()).unwrap();
    let strategy = registry.get(Some(format)).unwrap();
    bencher.bench(|| strategy.render_course(&report).unwrap());
}

#[divan::bench(sample_count = 20)]
fn student_figures_of_a_500_by_60_course(bencher: divan::Bencher) {
    use domain::course::EnrollmentPeriod;
    use projections::course_stats::{CourseStats, SessionInfo};
    let report = sample::course_report(500, 60);
    let mut stats = CourseStats::default();
    let from = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    for session in &report.sessions {
        let info = SessionInfo {
            title: session.title.clone(),
            starts_at: session.starts_at,
            cancelled: false,
        };
        stats.sessions.insert(session.session_id.clone(), info);
    }
    for row in &report.students {
        stats.enrollments.insert(
            row.student_id.clone(),
            vec![EnrollmentPeriod { from, until: None }],
        );
        let marks = report
            .sessions
            .iter()
            .zip(&row.statuses)
            .filter_map(|(s, m)| m.map(|m| (s.session_id.clone(), m)));
        stats.marks.insert(row.student_id.clone(), marks.collect());
    }
    let today = chrono::Utc::now().date_naive();
    bencher.bench(|| stats.students(today));
}
