//! Reports (strategy pattern): report data built from the read models ([`model`]), and one
//! [`ReportFormat`] strategy per file ([`csv`], [`xlsx`], [`pdf`]) that renders it. A
//! [`registry::Registry`] maps names to strategies from the report configuration.
//! Renderers are pure: report data in, bytes out.

pub mod config;
pub mod csv;
pub mod csv_safe;
pub mod department;
pub mod load;
pub mod model;
pub mod pdf;
pub mod registry;
pub mod sample;
pub mod xlsx;

pub use department::DepartmentReport;
pub use model::{AtRiskReport, CourseReport, RiskLevel, StudentReport};

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The renderer failed.
    #[error("rendering {format} failed: {reason}")]
    Render {
        /// The format.
        format: &'static str,
        /// What went wrong.
        reason: String,
    },
}

impl ReportError {
    /// A rendering failure of a format.
    pub fn render(format: &'static str, reason: impl std::fmt::Display) -> Self {
        ReportError::Render {
            format,
            reason: reason.to_string(),
        }
    }
}

impl From<typeset::TypesetError> for ReportError {
    fn from(error: typeset::TypesetError) -> Self {
        ReportError::render("pdf", error.0)
    }
}

/// A report format: a strategy that renders the four reports.
pub trait ReportFormat: Send + Sync {
    /// The registry name, e.g. `csv`.
    fn name(&self) -> &'static str;
    /// File extension without the dot.
    fn extension(&self) -> &'static str;
    /// MIME type.
    fn content_type(&self) -> &'static str;
    /// One student's attendance in one course.
    fn render_student(&self, report: &StudentReport) -> Result<Vec<u8>, ReportError>;
    /// A course's matrix: students by sessions.
    fn render_course(&self, report: &CourseReport) -> Result<Vec<u8>, ReportError>;
    /// Students below a threshold.
    fn render_at_risk(&self, report: &AtRiskReport) -> Result<Vec<u8>, ReportError>;
    /// A department's courses: students, average rate, at-risk count, and the totals.
    fn render_department(&self, report: &DepartmentReport) -> Result<Vec<u8>, ReportError>;
}
