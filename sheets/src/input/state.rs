//! What the content-stream interpreter keeps and produces: the display list it draws to
//! and the graphics state (`q`/`Q`) with its colours reduced to grey.

use tiny_skia::{FillRule, LineCap, LineJoin, Path, Transform};

use super::colour::Space;
use super::images::ImageDraw;

/// One thing the page paints, in page space.
pub(super) enum Draw<'a> {
    Fill {
        path: Path,
        rule: FillRule,
        gray: f32,
        ctm: Transform,
    },
    Stroke {
        path: Path,
        gray: f32,
        ctm: Transform,
        width: f32,
        cap: LineCap,
        join: LineJoin,
        miter: f32,
    },
    Image(ImageDraw<'a>),
}

/// A colour reduced to grey; `gray` is `None` for a pattern, which is not drawn.
#[derive(Clone)]
pub(super) struct Ink {
    space: Space,
    pub(super) gray: Option<f32>,
}

impl Ink {
    pub(super) fn set(&mut self, space: Space, colour: &[f32]) {
        self.gray = space.gray(colour);
        self.space = space;
    }

    /// `sc`/`scn`: components in the current space, or guessed from their count when a
    /// space could not be read.
    pub(super) fn components(&mut self, colour: &[f32]) {
        let space = match colour.len() {
            n if n == self.space.components() => self.space.clone(),
            1 => Space::Gray,
            3 => Space::Rgb,
            4 => Space::Cmyk,
            _ => return,
        };
        self.gray = space.gray(colour);
    }
}

/// The graphics state this interpreter keeps (what `q` saves and `Q` restores).
#[derive(Clone)]
pub(super) struct GState {
    pub(super) ctm: Transform,
    pub(super) fill: Ink,
    pub(super) stroke: Ink,
    pub(super) line_width: f32,
    pub(super) cap: LineCap,
    pub(super) join: LineJoin,
    pub(super) miter: f32,
}

impl Default for GState {
    fn default() -> Self {
        let black = Ink {
            space: Space::Gray,
            gray: Some(0.0),
        };
        GState {
            ctm: Transform::identity(),
            fill: black.clone(),
            stroke: black,
            line_width: 1.0,
            cap: LineCap::Butt,
            join: LineJoin::Miter,
            miter: 10.0,
        }
    }
}
