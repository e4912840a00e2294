//! What people put in a bubble: from a solid fill to an erased smudge.

use super::canvas::Canvas;
use crate::Bubble;
use rand::Rng;

/// One way of marking (or not marking) a bubble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fill {
    /// Untouched.
    Empty,
    /// Filled in completely with a pen (95–100 %, may spill over a little).
    Solid,
    /// An irregular blob covering 60–90 % of the bubble.
    Partial,
    /// Several thick pen strokes across the bubble.
    Scribble,
    /// A V-shaped pen stroke.
    Tick,
    /// Shaded with a pencil: grey, not black.
    Pencil,
    /// A mark rubbed out, leaving a faint smudge.
    Erased,
}

impl Fill {
    /// Every kind.
    pub const ALL: [Fill; 7] = [
        Fill::Empty,
        Fill::Solid,
        Fill::Partial,
        Fill::Scribble,
        Fill::Tick,
        Fill::Pencil,
        Fill::Erased,
    ];

    /// A mark that must be read as its status.
    pub fn is_clear(self) -> bool {
        matches!(self, Fill::Solid | Fill::Partial | Fill::Scribble)
    }

    /// A mark that must be read as its status or held, never as anything else.
    pub fn is_faint(self) -> bool {
        matches!(self, Fill::Tick | Fill::Pencil)
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Fill::Empty => "empty",
            Fill::Solid => "solid",
            Fill::Partial => "partial",
            Fill::Scribble => "scribble",
            Fill::Tick => "tick",
            Fill::Pencil => "pencil",
            Fill::Erased => "erased",
        }
    }
}

/// Draws `fill` into `bubble`.
pub fn draw_fill(canvas: &mut Canvas, bubble: &Bubble, fill: Fill, rng: &mut impl Rng) {
    let (c, r) = ((bubble.x, bubble.y), bubble.r);
    let ink = rng.random_range(0.82..1.0);
    match fill {
        Fill::Empty => {}
        Fill::Solid => {
            let centre = jitter(c, 0.4, rng);
            canvas.blob(
                centre,
                r * rng.random_range(0.95..1.1),
                &wobble(0.03, rng),
                ink,
            );
        }
        Fill::Partial => {
            let share: f32 = rng.random_range(0.6..0.9);
            let radius = r * share.sqrt();
            let centre = jitter(c, (r - radius) * 0.7, rng);
            canvas.blob(centre, radius, &wobble(0.12, rng), ink);
        }
        Fill::Scribble => {
            let width = rng.random_range(1.2..2.2);
            canvas.stroke(&zigzag(c, r, rng.random_range(4..8), rng), width, ink);
        }
        Fill::Tick => {
            let size = r * rng.random_range(0.8..1.15);
            let at = jitter(c, 0.1 * r, rng);
            let v = [(-0.55, 0.05), (-0.15, -0.6), (0.65, 0.7)]
                .map(|(x, y)| jitter((at.0 + x * size, at.1 + y * size), 0.12 * r, rng));
            canvas.stroke(&v, rng.random_range(0.8..1.5), ink);
        }
        Fill::Pencil => {
            let grey = rng.random_range(0.3..0.5);
            canvas.stroke(
                &zigzag(c, r * 0.95, rng.random_range(7..11), rng),
                2.2,
                grey,
            );
        }
        Fill::Erased => {
            let faint = rng.random_range(0.04..0.2);
            canvas.blob(
                jitter(c, 1.0, rng),
                r * rng.random_range(0.7..1.1),
                &wobble(0.1, rng),
                faint,
            );
        }
    }
}

/// A stroke going back and forth across the bubble from bottom to top, slightly turned.
fn zigzag((cx, cy): (f32, f32), r: f32, turns: usize, rng: &mut impl Rng) -> Vec<(f32, f32)> {
    let (sin, cos) = rng.random_range(-0.6f32..0.6).sin_cos();
    (0..=turns)
        .map(|i| {
            let x = if i % 2 == 0 { -0.85 * r } else { 0.85 * r };
            let y = -0.75 * r + 1.5 * r * i as f32 / turns as f32;
            let (x, y) = jitter((x, y), 0.15 * r, rng);
            (cx + x * cos - y * sin, cy + x * sin + y * cos)
        })
        .collect()
}

fn wobble(amplitude: f32, rng: &mut impl Rng) -> Vec<(f32, f32)> {
    (0..5)
        .map(|k| {
            let a = if k == 0 {
                0.0
            } else {
                rng.random_range(0.0..=amplitude)
            };
            (a, rng.random_range(0.0..std::f32::consts::TAU))
        })
        .collect()
}

fn jitter((x, y): (f32, f32), by: f32, rng: &mut impl Rng) -> (f32, f32) {
    if by <= 0.0 {
        return (x, y);
    }
    (x + rng.random_range(-by..by), y + rng.random_range(-by..by))
}
