//! The map from layout points to image pixels, fitted to the corner marks.

use crate::layout::{PAGE_HEIGHT, PAGE_WIDTH};

/// A layout point `(x, y)` and where it was seen in the image `(u, v)`.
pub type Correspondence = ((f32, f32), (f32, f32));

/// An affine map from layout points (origin bottom left, y up) to image pixels (y down,
/// pixel `(i, j)` covering `[i, i+1) × [j, j+1)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// `[a, b, c, d, e, f]`: `u = a·x + b·y + c`, `v = d·x + e·y + f`.
    pub m: [f32; 6],
}

impl Affine {
    /// An upright, unrotated page at `scale` pixels per point: `(x·s, (PAGE_HEIGHT − y)·s)`.
    pub fn nominal(scale: f32) -> Affine {
        Affine {
            m: [scale, 0.0, 0.0, 0.0, -scale, PAGE_HEIGHT * scale],
        }
    }

    /// Where a point lands.
    pub fn apply(&self, (x, y): (f32, f32)) -> (f32, f32) {
        let [a, b, c, d, e, f] = self.m;
        (a * x + b * y + c, d * x + e * y + f)
    }

    /// The least-squares fit of `to = T(from)` over three or more pairs; `None` if the points
    /// are too few or in a line.
    pub fn fit(pairs: &[Correspondence]) -> Option<Affine> {
        if pairs.len() < 3 {
            return None;
        }
        let n = pairs.len() as f64;
        let mean = |f: &dyn Fn(&Correspondence) -> f32| {
            pairs.iter().map(|p| f64::from(f(p))).sum::<f64>() / n
        };
        let (mx, my) = (mean(&|p| p.0.0), mean(&|p| p.0.1));
        let (mu, mv) = (mean(&|p| p.1.0), mean(&|p| p.1.1));
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        let (mut sxu, mut syu, mut sxv, mut syv) = (0.0, 0.0, 0.0, 0.0);
        for &((x, y), (u, v)) in pairs {
            let (x, y) = (f64::from(x) - mx, f64::from(y) - my);
            let (u, v) = (f64::from(u) - mu, f64::from(v) - mv);
            sxx += x * x;
            sxy += x * y;
            syy += y * y;
            sxu += x * u;
            syu += y * u;
            sxv += x * v;
            syv += y * v;
        }
        let det = sxx * syy - sxy * sxy;
        if det.abs() <= 1e-9 * (sxx * syy).max(1.0) {
            return None;
        }
        let solve = |bx: f64, by: f64| ((bx * syy - by * sxy) / det, (by * sxx - bx * sxy) / det);
        let (a, b) = solve(sxu, syu);
        let (d, e) = solve(sxv, syv);
        let (c, f) = (mu - a * mx - b * my, mv - d * mx - e * my);
        Some(Affine {
            m: [a, b, c, d, e, f].map(|v| v as f32),
        })
    }

    /// The largest distance (pixels) between a fitted point and where it was seen.
    pub fn max_residual(&self, pairs: &[Correspondence]) -> f32 {
        pairs
            .iter()
            .map(|&(from, (u, v))| {
                let (pu, pv) = self.apply(from);
                (pu - u).hypot(pv - v)
            })
            .fold(0.0, f32::max)
    }

    /// Pixels per point (the square root of the area ratio).
    pub fn scale(&self) -> f32 {
        self.determinant().abs().sqrt()
    }

    /// Turn of the page's x axis in the image, in degrees (clockwise as seen), in (−180, 180].
    pub fn rotation_deg(&self) -> f32 {
        self.m[3].atan2(self.m[0]).to_degrees()
    }

    /// The same page turned by 180°: a point is first rotated about the page's centre.
    pub fn rotated_180(&self) -> Affine {
        let [a, b, c, d, e, f] = self.m;
        Affine {
            m: [
                -a,
                -b,
                a * PAGE_WIDTH + b * PAGE_HEIGHT + c,
                -d,
                -e,
                d * PAGE_WIDTH + e * PAGE_HEIGHT + f,
            ],
        }
    }

    /// The inverse map (pixels to points), in the same form; `None` if degenerate.
    pub fn invert(&self) -> Option<Affine> {
        let det = self.determinant();
        if det.abs() < 1e-9 {
            return None;
        }
        let [a, b, c, d, e, f] = self.m;
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Some(Affine {
            m: [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)],
        })
    }

    /// Whether this could be a photograph of the page at about `scale_guess` pixels per
    /// point: not mirrored, nearly square pixels, turned by at most a few degrees.
    pub(crate) fn is_plausible(&self, scale_guess: f32) -> bool {
        let [a, b, _, d, e, _] = self.m;
        let (sx, sy) = (a.hypot(d), b.hypot(e));
        let s = self.scale();
        let cos = (a * b + d * e) / (sx * sy).max(f32::EPSILON);
        self.determinant() < 0.0
            && (0.8 * scale_guess..=1.25 * scale_guess).contains(&s)
            && (sx / sy - 1.0).abs() < 0.06
            && cos.abs() < 0.06
            && self.rotation_deg().abs() < 12.0
    }

    fn determinant(&self) -> f32 {
        self.m[0] * self.m[4] - self.m[1] * self.m[3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turned(deg: f32, scale: f32, shift: (f32, f32)) -> Affine {
        let (s, c) = deg.to_radians().sin_cos();
        Affine {
            m: [
                scale * c,
                scale * s,
                shift.0,
                scale * s,
                -scale * c,
                PAGE_HEIGHT * scale + shift.1,
            ],
        }
    }

    fn close(a: (f32, f32), b: (f32, f32)) -> bool {
        (a.0 - b.0).abs() < 0.01 && (a.1 - b.1).abs() < 0.01
    }

    #[test]
    fn fitting_four_corners_recovers_a_turned_shifted_page() {
        let truth = turned(3.0, 2.1, (12.0, -7.0));
        let points = crate::layout::fiducial_centres();
        let pairs: Vec<_> = points.iter().map(|&p| (p, truth.apply(p))).collect();
        let fitted = Affine::fit(&pairs).expect("four corners fit");
        assert!(close(
            fitted.apply((300.0, 400.0)),
            truth.apply((300.0, 400.0))
        ));
        assert!((fitted.rotation_deg() - 3.0).abs() < 0.01);
        assert!((fitted.scale() - 2.1).abs() < 0.001);
        assert!(fitted.is_plausible(2.0));
        assert!(fitted.max_residual(&pairs) < 0.01);
    }

    #[test]
    fn three_corners_are_enough_and_two_are_not() {
        let truth = turned(-4.0, 4.0, (3.0, 5.0));
        let points = crate::layout::fiducial_centres();
        let pairs: Vec<_> = points.iter().map(|&p| (p, truth.apply(p))).collect();
        let fitted = Affine::fit(&pairs[1..]).expect("three corners fit");
        assert!(close(fitted.apply(points[0]), truth.apply(points[0])));
        assert!(Affine::fit(&pairs[..2]).is_none());
    }

    #[test]
    fn a_mirrored_or_squashed_map_is_not_a_page() {
        let mirrored = Affine {
            m: [2.0, 0.0, 0.0, 0.0, 2.0, 0.0],
        };
        assert!(!mirrored.is_plausible(2.0));
        let squashed = Affine {
            m: [2.0, 0.0, 0.0, 0.0, -1.6, 0.0],
        };
        assert!(!squashed.is_plausible(2.0));
        assert!(Affine::nominal(2.0).is_plausible(2.0));
        assert!(!Affine::nominal(3.0).is_plausible(2.0));
    }

    #[test]
    fn turning_twice_and_inverting_give_back_the_point() {
        let t = turned(2.0, 3.0, (4.0, 1.0));
        let p = (100.0, 700.0);
        assert!(close(t.rotated_180().rotated_180().apply(p), t.apply(p)));
        assert!(close(
            t.rotated_180().apply(p),
            t.apply((PAGE_WIDTH - 100.0, PAGE_HEIGHT - 700.0))
        ));
        let back = t.invert().expect("invertible").apply(t.apply(p));
        assert!((back.0 - p.0).abs() < 0.05 && (back.1 - p.1).abs() < 0.05);
    }
}
