//! What a page holds: the drawn items that the canvas collects and the emitter turns into
//! PDF operators, and the colour type both speak.

use crate::text::Shaped;
use std::rc::Rc;

/// A colour as bytes.
pub type Rgb8 = (u8, u8, u8);

/// Black.
pub const BLACK: Rgb8 = (0, 0, 0);

/// Something drawn on a page.
pub(crate) enum Item {
    /// A filled rectangle.
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        rgb: Rgb8,
    },
    /// A line; `grey` 0 is black.
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        grey: u8,
    },
    /// A circle, stroked (`fill: None`) or filled; `grey` 0 is black.
    Circle {
        centre: (f32, f32),
        r: f32,
        width: f32,
        grey: u8,
        fill: bool,
    },
    /// Shaped text at a baseline origin, turned a quarter counterclockwise if `rotated`.
    Text {
        shaped: Rc<Shaped>,
        x: f32,
        y: f32,
        size: f32,
        rgb: Rgb8,
        rotated: bool,
    },
}
