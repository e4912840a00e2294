//! Maps format names to report strategies, as the configuration says. Adding a format is
//! one new file and one line in [`build`].

use super::ReportFormat;
use super::config::{ConfigError, ReportConfig};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every format this build can render, by name.
fn build(name: &str, config: &ReportConfig) -> Option<Arc<dyn ReportFormat>> {
    match name {
        "csv" => Some(Arc::new(super::csv::CsvFormat::new(config))),
        "xlsx" => Some(Arc::new(super::xlsx::XlsxFormat::new(config))),
        "pdf" => Some(Arc::new(super::pdf::PdfFormat::new(config))),
        _ => None,
    }
}

/// A requested format that is not offered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown or disabled report format {requested:?}; available: {}", available.join(", "))]
pub struct UnknownFormat {
    /// What was asked for.
    pub requested: String,
    /// What is offered.
    pub available: Vec<String>,
}

/// The enabled formats.
#[derive(Clone)]
pub struct Registry {
    formats: BTreeMap<String, Arc<dyn ReportFormat>>,
    aliases: BTreeMap<String, String>,
    default: String,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("formats", &self.available())
            .field("default", &self.default)
            .finish()
    }
}

impl Registry {
    /// The registry a configuration describes.
    pub fn from_config(config: &ReportConfig) -> Result<Registry, ConfigError> {
        let mut formats = BTreeMap::new();
        for name in &config.enabled {
            let format = build(name, config)
                .ok_or_else(|| ConfigError::Invalid(format!("no report format named {name:?}")))?;
            formats.insert(name.clone(), format);
        }
        if !formats.contains_key(&config.default_format) {
            return Err(ConfigError::Invalid(format!(
                "default_format {:?} is not enabled",
                config.default_format
            )));
        }
        Ok(Registry {
            formats,
            aliases: config.aliases.clone(),
            default: config.default_format.clone(),
        })
    }

    /// The strategy for a name (or alias); the default when none is given.
    pub fn get(&self, name: Option<&str>) -> Result<Arc<dyn ReportFormat>, UnknownFormat> {
        let requested = name
            .map(|n| n.trim().to_ascii_lowercase())
            .unwrap_or_else(|| self.default.clone());
        let resolved = self
            .aliases
            .get(&requested)
            .cloned()
            .unwrap_or_else(|| requested.clone());
        self.formats
            .get(&resolved)
            .cloned()
            .ok_or_else(|| UnknownFormat {
                requested,
                available: self.available(),
            })
    }

    /// The enabled format names.
    pub fn available(&self) -> Vec<String> {
        self.formats.keys().cloned().collect()
    }

    /// The default format's name.
    pub fn default_format(&self) -> &str {
        &self.default
    }

    /// Aliases and the names they stand for.
    pub fn aliases(&self) -> &BTreeMap<String, String> {
        &self.aliases
    }
}
