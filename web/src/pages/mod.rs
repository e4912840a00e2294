//! One module per area of the pages; each handler parses, authorizes through `api::app`,
//! calls one use case and renders one template.

pub mod admin;
pub mod check_in;
pub mod course;
pub mod health;
pub mod history;
pub mod home;
pub mod live;
pub mod policy;
pub mod register;
pub mod reports;
pub mod roll_call;
pub mod sheet;
pub mod sign_in;
pub mod students;
pub mod users;
