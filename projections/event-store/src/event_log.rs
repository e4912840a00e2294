//! Look-ups over the committed event history that span aggregates.

use domain::{CourseId, SessionId};
use sqlx::PgPool;

/// The course a session belongs to, from its `SessionScheduled` event.
pub async fn course_of_session(
    pool: &PgPool,
    session_id: &SessionId,
) -> Result<Option<CourseId>, sqlx::Error> {
    let course: Option<String> = sqlx::query_scalar(
        "SELECT aggregate_id FROM events
          WHERE aggregate_type = 'course' AND event_type = 'SessionScheduled'
            AND (payload -> 'SessionScheduled' ->> 'session_id') = $1
          LIMIT 1",
    )
    .bind(session_id.as_str())
    .fetch_optional(pool)
    .await?;
    Ok(course.and_then(|id| CourseId::parse(id).ok()))
}

/// Every course code ever created, in code order.
pub async fn course_ids(pool: &PgPool) -> Result<Vec<CourseId>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT aggregate_id FROM events
          WHERE aggregate_type = 'course' AND sequence = 1
          ORDER BY aggregate_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(ids
        .into_iter()
        .filter_map(|id| CourseId::parse(id).ok())
        .collect())
}
