//! Course use cases: load a course, run a course command through the write side.

use crate::app::access::CurrentUser;
use crate::app::error::AppError;
use crate::app::store::{self, CommandMeta, Committed, Source};
use crate::state::AppState;
use domain::CourseId;
use domain::course::{Course, CourseCommand};
use std::sync::Arc;

/// Loads an existing course with its version, or 404.
pub async fn load_course(state: &AppState, id: &CourseId) -> Result<(Arc<Course>, u64), AppError> {
    let (course, version) = store::load(&state.stores().courses, id.as_str()).await?;
    if !course.exists() {
        return Err(AppError::NotFound(format!("course {id} does not exist")));
    }
    Ok((course, version))
}

/// The metadata of a command sent through the API.
pub fn api_meta(user: &CurrentUser, request_id: String, course_id: &CourseId) -> CommandMeta {
    CommandMeta {
        actor: user.actor(),
        request_id,
        source: Source::Api,
        course_id: course_id.clone(),
    }
}

/// Runs one course command through the write side, with the API's metadata.
pub async fn execute(
    state: &AppState,
    user: &CurrentUser,
    request_id: String,
    id: &CourseId,
    command: CourseCommand,
) -> Result<Committed<Course>, AppError> {
    let meta = api_meta(user, request_id, id);
    store::execute(&state.stores().courses, id.as_str(), &meta, |_| {
        Ok(vec![command.clone()])
    })
    .await
}
