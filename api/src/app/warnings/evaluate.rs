//! Evaluating students' standings: which students an event concerns, their figures as of
//! that event (folded from the event store), and the `Evaluate` command through the write
//! side, stored as the system with source `warnings`.

use crate::app::error::AppError;
use crate::app::store::{self, CommandMeta, Source};
use crate::state::AppState;
use domain::course::CourseEvent;
use domain::register::RegisterEvent;
use domain::standing::{Cause, Figures, StandingCommand, StandingEvent, standing_id};
use domain::{Actor, CourseId, Status, StudentId};
use event_store::outbox::{EVENT_COLUMNS, Row, StoredEvent};
use projections::course_stats::{self, CourseStats};
use projections::event::{DomainEvent, ProjectedEvent};
use sqlx::PgPool;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

/// Whose figures an event may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concerned {
    /// Nobody's.
    Nobody,
    /// These students'.
    Students(BTreeSet<String>),
    /// Every student ever enrolled in the course (a policy change, a cancelled session).
    Everyone,
}

/// Whose figures an event may change: a mark or correction its student's, a close the
/// students it made absent, a roster change those added and removed; a course change that
/// moves what counts (enrolments, sessions cancelled, restored or moved, the policy, the
/// zone) everyone's.
pub fn concerned(event: &DomainEvent) -> Concerned {
    fn some(ids: &mut dyn Iterator<Item = &StudentId>) -> Concerned {
        Concerned::Students(ids.map(|id| id.to_string()).collect())
    }
    match event {
        DomainEvent::Register(RegisterEvent::AttendanceRecorded { student_id, .. })
        | DomainEvent::Register(RegisterEvent::AttendanceCorrected { student_id, .. }) => {
            some(&mut std::iter::once(student_id))
        }
        DomainEvent::Register(RegisterEvent::RegisterClosed {
            defaulted_absent, ..
        }) if !defaulted_absent.is_empty() => some(&mut defaulted_absent.iter()),
        DomainEvent::Register(RegisterEvent::RosterAmended { added, removed, .. }) => {
            some(&mut added.iter().chain(removed.iter()))
        }
        DomainEvent::Register(_) => Concerned::Nobody,
        DomainEvent::Course(
            CourseEvent::AttendancePolicyChanged { .. }
            | CourseEvent::SessionCancelled { .. }
            | CourseEvent::SessionRestored { .. }
            | CourseEvent::SessionRescheduled { .. }
            | CourseEvent::TimeZoneChanged { .. },
        ) => Concerned::Everyone,
        DomainEvent::Course(
            CourseEvent::StudentEnrolled { student_id, .. }
            | CourseEvent::StudentUnenrolled { student_id, .. }
            | CourseEvent::EnrollmentBackdated { student_id, .. },
        ) => some(&mut std::iter::once(student_id)),
        DomainEvent::Course(_) | DomainEvent::Standing(_) => Concerned::Nobody,
    }
}

/// A student's figures from a course's statistics document.
pub fn figures_of(stats: &CourseStats, student: &str) -> Figures {
    // `today` only decides "enrolled today", which no figure here uses.
    let row = stats.student(student, chrono::NaiveDate::MIN);
    let sessions_counted = Status::ALL
        .into_iter()
        .filter(|s| stats.policy.counts(*s))
        .map(|s| row.tally.count(s))
        .sum();
    Figures {
        rate: row.rate,
        at_risk_below: stats.policy.at_risk_below,
        sessions_counted,
        absence_streak: row.absence_streak,
        streak_of: stats.policy.absence_streak,
    }
}

/// A course's course and register events after one position up to another, in order: a
/// range of the course's position index (migration 0021), prepared or not.
pub fn fold_sql() -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events
          WHERE metadata ->> 'course_id' = $1 AND aggregate_type IN ('course', 'register')
            AND global_position > $2 AND global_position <= $3
          ORDER BY global_position"
    )
}

/// Courses' statistics folded from the event store, kept as of the last position asked
/// for, so that the next evaluation reads only the events since; and the course's events
/// read ahead, up to the last event the caller holds (a fetched batch), so that the other
/// evaluations of that course in the batch read nothing.
///
/// It also remembers the standings read afresh (or written) since it was made, whose
/// cached state a no-op evaluation may then trust ([`store::execute_in_order`]): make one
/// per leadership or replay, as a standing another process wrote meanwhile is not current.
#[derive(Default)]
pub struct Folds {
    courses: Mutex<HashMap<String, Kept>>,
    current: Mutex<HashSet<String>>,
}

/// One course's fold and what was read beyond it.
#[derive(Default)]
struct Kept {
    stats: CourseStats,
    /// Events of the course after `stats.position`, up to `read_to`, in order.
    ahead: std::collections::VecDeque<ProjectedEvent>,
    /// Every event of the course up to here is in `stats` or `ahead`.
    read_to: i64,
}

/// Courses kept in memory; all are dropped when it is reached.
const KEPT: usize = 256;

impl Folds {
    /// Nothing kept yet.
    pub fn new() -> Self {
        Folds::default()
    }

    /// `look` at the course's statistics as of `position`: every course and register event
    /// of the course at or below it (events commit in position order, so none can appear
    /// there later). When it has to read, it reads up to `read_to` (at least `position`;
    /// every event up to it must be committed, as those of a fetched batch are) and keeps
    /// the rest. The statistics are lent, never copied: a term's marks are thousands of
    /// entries, and a copy per evaluation made the cost of each grow with the course.
    pub async fn as_of<R>(
        &self,
        pool: &PgPool,
        course: &str,
        position: i64,
        read_to: i64,
        look: impl FnOnce(&CourseStats) -> R,
    ) -> Result<R, sqlx::Error> {
        let taken = self
            .courses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(course);
        // A kept fold beyond this position (an evaluation again after a restart) stays kept;
        // this one is folded from the start.
        let (mut kept, newer) = match taken {
            Some(kept) if kept.stats.position <= position => (kept, None),
            other => (Kept::default(), other),
        };
        if kept.read_to < position {
            let from = kept.read_to.max(kept.stats.position);
            let to = read_to.max(position);
            let rows: Vec<Row> = sqlx::query_as(&fold_sql())
                .bind(course)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?;
            for row in rows {
                let stored = StoredEvent::try_from(row)?;
                let event = ProjectedEvent::from_stored(&stored)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                kept.ahead.push_back(event);
            }
            kept.read_to = to;
        }
        while kept.ahead.front().is_some_and(|e| e.position <= position) {
            if let Some(event) = kept.ahead.pop_front() {
                course_stats::apply(&mut kept.stats, &event);
            }
        }
        // Nothing newer read, the kept one is as of an earlier event: it stands for this one.
        kept.stats.position = kept.stats.position.max(position);
        // The change marks only matter to the projector's storage; here they would grow.
        kept.stats.changes = Default::default();
        let seen = look(&kept.stats);
        let mut courses = self.courses.lock().unwrap_or_else(|p| p.into_inner());
        if courses.len() >= KEPT {
            courses.clear();
        }
        courses.insert(course.to_string(), newer.unwrap_or(kept));
        Ok(seen)
    }

    /// Whether the standing `id` was read afresh or written since these folds were made.
    fn is_current(&self, id: &str) -> bool {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(id)
    }

    /// The standing `id` was read afresh or written: its cached state is current.
    fn now_current(&self, id: String) {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded as the standings' cache is: forgetting costs one read per standing.
        if current.len() >= store::STANDINGS_LIMIT {
            current.clear();
        }
        current.insert(id);
    }
}

/// What one event's evaluation recorded.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Evaluated {
    /// Students evaluated.
    pub students: usize,
    /// Standing events stored.
    pub events: Vec<StandingEvent>,
}

/// Evaluates every student an event concerns, with their figures as of the event.
///
/// `read_to`: the position of the last event the caller holds to evaluate next (the end of
/// its batch; at least the event's own), so that one read of a course serves the batch.
pub async fn evaluate(
    state: &AppState,
    folds: &Folds,
    event: &ProjectedEvent,
    read_to: i64,
) -> Result<Evaluated, AppError> {
    let concerned = concerned(&event.event);
    if concerned == Concerned::Nobody {
        return Ok(Evaluated::default());
    }
    let Ok(course_id) = CourseId::parse(event.course_id.clone()) else {
        return Ok(Evaluated::default());
    };
    let students: Vec<(String, Figures)> = folds
        .as_of(
            state.pool(),
            course_id.as_str(),
            event.position,
            read_to,
            |stats| {
                let students: Vec<String> = match concerned {
                    Concerned::Students(students) => students.into_iter().collect(),
                    _ => stats.enrollments.keys().cloned().collect(),
                };
                students
                    .into_iter()
                    .map(|student| {
                        let figures = figures_of(stats, &student);
                        (student, figures)
                    })
                    .collect()
            },
        )
        .await?;
    let cause = Cause {
        position: event.position,
        event_type: event_type(&event.event),
        aggregate_id: event.aggregate_id.clone(),
    };
    let meta = CommandMeta {
        actor: Actor::system(),
        request_id: format!("warnings-{}", event.position),
        source: Source::Warnings,
        course_id: course_id.clone(),
    };
    let mut out = Evaluated::default();
    for (student, figures) in students {
        let Ok(student_id) = StudentId::parse(student) else {
            continue;
        };
        let command = StandingCommand::Evaluate {
            course_id: course_id.clone(),
            student_id: student_id.clone(),
            figures,
            cause: cause.clone(),
            by: Actor::system(),
            at: event.recorded_at,
        };
        let id = standing_id(&course_id, &student_id);
        let current = folds.is_current(&id);
        let committed =
            store::execute_in_order(&state.stores().standings, &id, &meta, current, |_| {
                Ok(vec![command.clone()])
            })
            .await?;
        if !current {
            folds.now_current(id);
        }
        out.students += 1;
        out.events.extend(committed.events);
    }
    Ok(out)
}

fn event_type(event: &DomainEvent) -> String {
    use cqrs_es::DomainEvent as _;
    match event {
        DomainEvent::Course(e) => e.event_type(),
        DomainEvent::Register(e) => e.event_type(),
        DomainEvent::Standing(e) => e.event_type(),
    }
}

/// What a replay did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    /// Events read.
    pub events: u64,
    /// Standing events stored (none when every crossing was recorded before).
    pub stored: u64,
}

/// Evaluates every event of the store again, in commit order (`attendance rebuild`): each
/// standing ignores the causes it has seen, so only crossings never recorded are stored.
pub async fn replay(state: &AppState) -> Result<Replayed, AppError> {
    let folds = Folds::new();
    let mut after = 0i64;
    let mut done = Replayed::default();
    loop {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE global_position > $1
              ORDER BY global_position LIMIT 1000"
        ))
        .bind(after)
        .fetch_all(state.pool())
        .await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let read_to = rows.last().map_or(after, |row| row.7);
        for row in rows {
            let stored = StoredEvent::try_from(row)?;
            after = stored.position;
            done.events += 1;
            let Ok(event) = ProjectedEvent::from_stored(&stored) else {
                continue;
            };
            done.stored += evaluate(state, &folds, &event, read_to).await?.events.len() as u64;
        }
    }
}
