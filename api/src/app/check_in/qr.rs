//! The QR code of a check-in URL as an SVG image: one path of dark modules on a white
//! background with the standard quiet zone, scaled by the page.

use crate::app::error::AppError;
use qrcode::{Color, EcLevel, QrCode};
use std::fmt::Write;

/// Modules of white around the code.
const QUIET: usize = 4;

/// An SVG image of the QR code of `payload`.
pub fn svg(payload: &str) -> Result<String, AppError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(AppError::internal)?;
    let width = code.width();
    let size = width + 2 * QUIET;
    let mut path = String::new();
    for (index, colour) in code.to_colors().iter().enumerate() {
        if *colour == Color::Dark {
            let (x, y) = (index % width + QUIET, index / width + QUIET);
            let _ = write!(path, "M{x} {y}h1v1h-1z");
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_image_is_an_svg_with_dark_modules() {
        let svg = super::svg("https://school.example/check-in/s1/123456").unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.matches('z').count() > 100, "{svg}");
    }
}
