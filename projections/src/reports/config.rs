//! The report configuration file (`projections/config/reports.toml`, embedded in the binary).

use serde::Deserialize;
use std::collections::BTreeMap;

/// The configuration shipped with the binary.
pub const EMBEDDED: &str = include_str!("../../config/reports.toml");

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Format used when a request names none.
    pub default_format: String,
    /// Formats offered.
    pub enabled: Vec<String>,
    /// Other accepted names.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// CSV options.
    #[serde(default)]
    pub csv: CsvOptions,
    /// PDF options.
    #[serde(default)]
    pub pdf: PdfOptions,
    /// Colours of at-risk rows.
    #[serde(default)]
    pub colours: RiskColours,
}

/// CSV options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// Field delimiter (one ASCII character).
    pub delimiter: String,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: ",".into(),
        }
    }
}

/// Page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PageSize {
    /// 210 x 297 mm.
    A4,
    /// 8.5 x 11 in.
    Letter,
}

/// Page orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    /// Tall.
    Portrait,
    /// Wide.
    Landscape,
    /// Landscape for wide course matrices, portrait otherwise.
    Auto,
}

/// PDF options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdfOptions {
    /// Page size.
    pub page_size: PageSize,
    /// Orientation.
    pub orientation: Orientation,
}

impl Default for PdfOptions {
    fn default() -> Self {
        PdfOptions {
            page_size: PageSize::A4,
            orientation: Orientation::Auto,
        }
    }
}

/// Fill colours (`#RRGGBB`) per risk level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskColours {
    /// Below 50 %.
    pub critical: String,
    /// Below 60 %.
    pub high: String,
    /// Below the threshold.
    pub moderate: String,
}

impl Default for RiskColours {
    fn default() -> Self {
        RiskColours {
            critical: "#F4CCCC".into(),
            high: "#FCE5CD".into(),
            moderate: "#FFF2CC".into(),
        }
    }
}

impl RiskColours {
    /// The colour of a level as `(r, g, b)`.
    pub fn rgb(&self, level: crate::reports::RiskLevel) -> (u8, u8, u8) {
        let hex = match level {
            crate::reports::RiskLevel::Critical => &self.critical,
            crate::reports::RiskLevel::High => &self.high,
            crate::reports::RiskLevel::Moderate => &self.moderate,
        };
        parse_hex(hex).unwrap_or((255, 242, 204))
    }
}

/// Parses `#RRGGBB`.
pub fn parse_hex(hex: &str) -> Option<(u8, u8, u8)> {
    let digits = hex.strip_prefix('#')?;
    if digits.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

/// Why the configuration is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not valid TOML or unknown keys.
    #[error("report configuration: {0}")]
    Parse(#[from] toml::de::Error),
    /// A value is out of range.
    #[error("report configuration: {0}")]
    Invalid(String),
}

impl ReportConfig {
    /// Parses and checks a configuration.
    pub fn parse(text: &str) -> Result<ReportConfig, ConfigError> {
        let config: ReportConfig = toml::from_str(text)?;
        let d = config.csv.delimiter.as_bytes();
        if d.len() != 1 {
            return Err(ConfigError::Invalid(
                "csv.delimiter must be one ASCII character".into(),
            ));
        }
        for (level, hex) in [
            ("critical", &config.colours.critical),
            ("high", &config.colours.high),
            ("moderate", &config.colours.moderate),
        ] {
            if parse_hex(hex).is_none() {
                return Err(ConfigError::Invalid(format!(
                    "colours.{level} must be #RRGGBB"
                )));
            }
        }
        Ok(config)
    }

    /// The configuration embedded in the binary.
    pub fn embedded() -> ReportConfig {
        ReportConfig::parse(EMBEDDED).expect("the embedded report configuration is valid")
    }
}
