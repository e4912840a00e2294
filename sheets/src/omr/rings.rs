//! Finding a bubble's printed ring near where the map puts it.
//!
//! A bubble is measured only where it is seen: its ring (a circle of [`BUBBLE_RADIUS`]) is
//! searched for in a small neighbourhood of its predicted centre, so a curl of the paper or
//! a lens that bends lines moves the measurement with the bubble. The ring is seen at an
//! offset when, at most of the angles around it, the printed line is clearly darker than the
//! paper just outside it; a fill inside the bubble does not hide it, and neither does a tick
//! that crosses it. A ring that is not seen is reported as such, and its row is not read.

use super::homography::Homography;
use super::working::bilinear;
use crate::layout::BUBBLE_RADIUS;
use image::GrayImage;

/// Angles sampled around a ring.
const ANGLES: usize = 24;
/// Where the paper outside a ring is sampled (pt from the centre): clear of a fill spilling
/// over the outline, inside the row's separator lines.
const OUTSIDE: f32 = BUBBLE_RADIUS + 2.1;
/// The line is sampled this far either side of its middle (pt); the darker sample counts.
const HALF_LINE: f32 = 0.3;
/// At an angle, the line must be darker than the paper outside by this share of the
/// paper-to-ink range.
const CONTRAST: f32 = 0.3;
/// Share of the angles at which the line must be seen.
const SEEN: f32 = 0.75;

/// Where one ring was looked for and where it was seen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ring {
    /// Its centre where the map puts it (pixels).
    pub predicted: (f32, f32),
    /// Its centre where it was seen (pixels), if it was.
    pub found: Option<(f32, f32)>,
}

/// Pixel offsets from a ring's centre to its samples at each angle: on the line's inner
/// and outer edge, and on the paper outside.
struct Template {
    samples: [[(f32, f32); 3]; ANGLES],
}

impl Template {
    /// The ring around `centre` (pt) as the map shows it there (an ellipse, turned).
    fn at(t: &Homography, centre: (f32, f32)) -> Template {
        let [a, b, d, e] = t.jacobian(centre);
        let offset = |r: f32, theta: f32| {
            let (s, c) = theta.sin_cos();
            let (dx, dy) = (r * c, r * s);
            (a * dx + b * dy, d * dx + e * dy)
        };
        Template {
            samples: std::array::from_fn(|i| {
                let theta = i as f32 * std::f32::consts::TAU / ANGLES as f32;
                [
                    offset(BUBBLE_RADIUS - HALF_LINE, theta),
                    offset(BUBBLE_RADIUS + HALF_LINE, theta),
                    offset(OUTSIDE, theta),
                ]
            }),
        }
    }

    /// Per angle, how much darker the line is than the paper outside it, centred at `c`: at
    /// its darker edge sample (`centred` false), or on average over both, which is largest
    /// when the template sits on the line's middle (`centred` true).
    fn contrasts(&self, image: &GrayImage, c: (f32, f32), centred: bool) -> [f32; ANGLES] {
        self.samples.map(|[inner, outer, paper]| {
            let at = |o: (f32, f32)| bilinear(image, (c.0 + o.0, c.1 + o.1));
            let (a, b) = (at(inner), at(outer));
            at(paper) - if centred { (a + b) / 2.0 } else { a.min(b) }
        })
    }
}

/// Looks for the ring of the bubble centred at `centre` (pt) within `reach` (pt) of where
/// `t` puts it; `ink` is the page's ink level.
pub(crate) fn search(
    image: &GrayImage,
    t: &Homography,
    centre: (f32, f32),
    reach: f32,
    ink: f32,
) -> Ring {
    let predicted = t.apply(centre);
    let template = Template::at(t, centre);
    let score = |c: (f32, f32)| template.contrasts(image, c, true).iter().sum::<f32>();
    let steps = (reach * t.scale_at(centre) / 2.0).ceil() as i32;
    let mut best = (f32::MIN, (0.0, 0.0));
    // Every second pixel (the line is about two pixels wide at 150 dpi), then the pixels
    // around the best, then a quarter pixel around the best pixel.
    for dy in -steps..=steps {
        for dx in -steps..=steps {
            if dx * dx + dy * dy > steps * steps {
                continue;
            }
            let c = (predicted.0 + 2.0 * dx as f32, predicted.1 + 2.0 * dy as f32);
            let s = score(c);
            if s > best.0 {
                best = (s, c);
            }
        }
    }
    for (step, n) in [(1.0, 1), (0.25, 3)] {
        let around = best.1;
        for j in -n..=n {
            for i in -n..=n {
                let c = (around.0 + i as f32 * step, around.1 + j as f32 * step);
                let s = score(c);
                if s > best.0 {
                    best = (s, c);
                }
            }
        }
    }
    let found = best.1;
    let seen = template
        .contrasts(image, found, false)
        .iter()
        .zip(&template.samples)
        .filter(|&(&contrast, [_, _, paper])| {
            let paper = bilinear(image, (found.0 + paper.0, found.1 + paper.1));
            contrast > CONTRAST * (paper - ink).max(1.0)
        })
        .count();
    let within = super::homography::distance(found, predicted) <= reach * t.scale_at(centre);
    Ring {
        predicted,
        found: (seen as f32 >= SEEN * ANGLES as f32 && within).then_some(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::omr::transform::Affine;

    fn ring_at(image: &mut GrayImage, (cx, cy): (f32, f32), r: f32, width: f32) {
        for (x, y, p) in image.enumerate_pixels_mut() {
            let d = (x as f32 + 0.5 - cx).hypot(y as f32 + 0.5 - cy);
            if (d - r).abs() <= width / 2.0 {
                p.0[0] = 20;
            }
        }
    }

    #[test]
    fn a_ring_a_little_off_is_found_where_it_is() {
        let s = 2.0;
        let t = Homography::from(Affine::nominal(s));
        let centre = (420.0, 660.0);
        let (u, v) = t.apply(centre);
        let mut image = GrayImage::from_pixel(1200, 1700, image::Luma([230]));
        ring_at(&mut image, (u + 5.0, v - 3.0), BUBBLE_RADIUS * s, 1.9);
        let ring = search(&image, &t, centre, 5.0, 10.0);
        let found = ring.found.expect("the ring is seen");
        assert!((found.0 - (u + 5.0)).abs() < 0.5 && (found.1 - (v - 3.0)).abs() < 0.5);
    }

    #[test]
    fn blank_paper_and_a_solid_blot_have_no_ring() {
        let s = 2.0;
        let t = Homography::from(Affine::nominal(s));
        let centre = (420.0, 660.0);
        let mut image = GrayImage::from_pixel(1200, 1700, image::Luma([230]));
        assert_eq!(search(&image, &t, centre, 5.0, 10.0).found, None);
        let (u, v) = t.apply(centre);
        ring_at(&mut image, (u, v), 15.0, 30.0);
        assert_eq!(search(&image, &t, centre, 5.0, 10.0).found, None);
    }

    #[test]
    fn a_ring_beyond_the_reach_is_not_found() {
        let s = 2.0;
        let t = Homography::from(Affine::nominal(s));
        let centre = (420.0, 660.0);
        let (u, v) = t.apply(centre);
        let mut image = GrayImage::from_pixel(1200, 1700, image::Luma([230]));
        ring_at(&mut image, (u + 9.0 * s, v), BUBBLE_RADIUS * s, 1.9);
        assert_eq!(search(&image, &t, centre, 3.0, 10.0).found, None);
    }
}
