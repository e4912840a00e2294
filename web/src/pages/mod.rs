//! One module per area of the pages; each handler parses, authorizes through `api::app`,
//! calls one use case and renders one template.

pub mod account;
pub mod admin;
pub mod check_in;
pub mod closures;
pub mod course;
pub mod feeds;
pub mod health;
pub mod history;
pub mod home;
pub mod live;
pub mod policy;
pub mod register;
pub mod reports;
pub mod review;
pub mod roll_call;
pub mod sheet;
pub mod sheet_job;
pub mod sign_in;
pub mod students;
pub mod users;
pub mod warnings;
