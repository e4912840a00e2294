//! The perspective map from layout points to image pixels: what a camera does to a flat page.
//!
//! A scanner gives an affine map (turn, scale, shift); a phone held a little off square gives
//! a projective one, where one edge of the page is shorter than the opposite edge. The map is
//! fitted by least squares to any four or more correspondences (the corner marks, then every
//! bubble ring found), with the points normalised first so the solve is well conditioned.

use super::transform::{Affine, Correspondence};
use crate::layout::{PAGE_HEIGHT, PAGE_WIDTH};

/// `u = (h0·x + h1·y + h2) / w`, `v = (h3·x + h4·y + h5) / w`, `w = h6·x + h7·y + h8`, from
/// layout points (origin bottom left, y up) to image pixels (y down).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography {
    /// The 3×3 matrix, row by row.
    pub h: [f64; 9],
}

impl From<Affine> for Homography {
    fn from(t: Affine) -> Self {
        let [a, b, c, d, e, f] = t.m.map(f64::from);
        Homography {
            h: [a, b, c, d, e, f, 0.0, 0.0, 1.0],
        }
    }
}

impl Homography {
    /// Where a point lands (far away if it lands at infinity).
    pub fn apply(&self, (x, y): (f32, f32)) -> (f32, f32) {
        let (x, y) = (f64::from(x), f64::from(y));
        let h = &self.h;
        let w = h[6] * x + h[7] * y + h[8];
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            ((h[0] * x + h[1] * y + h[2]) / w) as f32,
            ((h[3] * x + h[4] * y + h[5]) / w) as f32,
        )
    }

    /// The least-squares fit of `to = H(from)` over four or more pairs; `None` when the
    /// points are too few or degenerate (three in a line).
    pub fn fit(pairs: &[Correspondence]) -> Option<Homography> {
        if pairs.len() < 4 {
            return None;
        }
        let (from_n, from_t) = normaliser(pairs.iter().map(|p| p.0));
        let (to_n, to_t) = normaliser(pairs.iter().map(|p| p.1));
        // Normal equations of the 8 unknowns with h8 = 1.
        let mut a = [[0.0f64; 9]; 8];
        for &(p, q) in pairs {
            let (x, y) = from_n(p);
            let (u, v) = to_n(q);
            for (row, rhs) in [
                ([x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y], u),
                ([0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y], v),
            ] {
                for i in 0..8 {
                    for j in 0..8 {
                        a[i][j] += row[i] * row[j];
                    }
                    a[i][8] += row[i] * rhs;
                }
            }
        }
        let n = solve(a)?;
        let normalised = [n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], 1.0];
        // H = T_to⁻¹ · N · T_from.
        let h = mul(&mul(&inverse(&to_t)?, &normalised), &from_t);
        let scale = h[8];
        (scale.abs() > 1e-12).then(|| Homography {
            h: h.map(|v| v / scale),
        })
    }

    /// The inverse map (pixels to points); `None` if degenerate.
    pub fn invert(&self) -> Option<Homography> {
        inverse(&self.h).map(|h| Homography { h })
    }

    /// The same page turned by 180°: a point is first rotated about the page's centre.
    pub fn rotated_180(&self) -> Homography {
        let turn = [
            -1.0,
            0.0,
            f64::from(PAGE_WIDTH),
            0.0,
            -1.0,
            f64::from(PAGE_HEIGHT),
            0.0,
            0.0,
            1.0,
        ];
        Homography {
            h: mul(&self.h, &turn),
        }
    }

    /// The local linear part at a point: `[du/dx, du/dy, dv/dx, dv/dy]`.
    pub fn jacobian(&self, (x, y): (f32, f32)) -> [f32; 4] {
        let (x, y) = (f64::from(x), f64::from(y));
        let h = &self.h;
        let w = h[6] * x + h[7] * y + h[8];
        let u = (h[0] * x + h[1] * y + h[2]) / w;
        let v = (h[3] * x + h[4] * y + h[5]) / w;
        [
            (h[0] - u * h[6]) / w,
            (h[1] - u * h[7]) / w,
            (h[3] - v * h[6]) / w,
            (h[4] - v * h[7]) / w,
        ]
        .map(|d| d as f32)
    }

    /// Pixels per point at a point (the square root of the local area ratio).
    pub fn scale_at(&self, p: (f32, f32)) -> f32 {
        let [a, b, d, e] = self.jacobian(p);
        (a * e - b * d).abs().sqrt()
    }

    /// Pixels per point at the page's centre.
    pub fn scale(&self) -> f32 {
        self.scale_at(centre())
    }

    /// Turn of the page's x axis at its centre, in degrees (clockwise as seen).
    pub fn rotation_deg(&self) -> f32 {
        let [a, _, d, _] = self.jacobian(centre());
        d.atan2(a).to_degrees()
    }

    /// The largest distance (pixels) between a fitted point and where it was seen.
    pub fn max_residual(&self, pairs: &[Correspondence]) -> f32 {
        pairs
            .iter()
            .map(|&(from, to)| distance(self.apply(from), to))
            .fold(0.0, f32::max)
    }

    /// Whether this could be a photograph of the page: not mirrored anywhere on the page,
    /// pixels nearly square at its centre, turned by at most 25° (either way up), and no
    /// edge of the page more than a third shorter than the opposite one.
    pub fn is_plausible(&self) -> bool {
        let corners = [
            (0.0, 0.0),
            (PAGE_WIDTH, 0.0),
            (0.0, PAGE_HEIGHT),
            (PAGE_WIDTH, PAGE_HEIGHT),
        ];
        let mirrored = corners.iter().any(|&p| {
            let [a, b, d, e] = self.jacobian(p);
            a * e - b * d >= 0.0
        });
        let [p0, p1, p2, p3] = corners.map(|p| self.apply(p));
        let ratio = |a: f32, b: f32| a.max(b) / a.min(b).max(f32::EPSILON);
        let (bottom, top) = (distance(p0, p1), distance(p2, p3));
        let (left, right) = (distance(p0, p2), distance(p1, p3));
        let [a, b, d, e] = self.jacobian(centre());
        let (sx, sy) = (a.hypot(d), b.hypot(e));
        let cos = (a * b + d * e) / (sx * sy).max(f32::EPSILON);
        !mirrored
            && ratio(bottom, top) < 1.5
            && ratio(left, right) < 1.5
            && ratio(sx, sy) < 1.25
            && cos.abs() < 0.25
            && !(25.0..=155.0).contains(&self.rotation_deg().abs())
    }
}

fn centre() -> (f32, f32) {
    (PAGE_WIDTH / 2.0, PAGE_HEIGHT / 2.0)
}

pub(crate) fn distance(a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// A map taking points to mean 0 and mean distance √2, and its matrix.
#[allow(clippy::type_complexity)]
fn normaliser(
    points: impl Iterator<Item = (f32, f32)> + Clone,
) -> (impl Fn((f32, f32)) -> (f64, f64), [f64; 9]) {
    let n = points.clone().count().max(1) as f64;
    let (mx, my) = points.clone().fold((0.0, 0.0), |(sx, sy), (x, y)| {
        (sx + f64::from(x) / n, sy + f64::from(y) / n)
    });
    let spread = points
        .map(|(x, y)| (f64::from(x) - mx).hypot(f64::from(y) - my))
        .sum::<f64>()
        / n;
    let k = std::f64::consts::SQRT_2 / spread.max(1e-9);
    let map = move |(x, y): (f32, f32)| ((f64::from(x) - mx) * k, (f64::from(y) - my) * k);
    (map, [k, 0.0, -k * mx, 0.0, k, -k * my, 0.0, 0.0, 1.0])
}

/// Gaussian elimination with partial pivoting of an 8×8 system (augmented).
fn solve(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-10 {
            return None;
        }
        a.swap(col, pivot);
        let pivot_row = a[col];
        for (row, r) in a.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                for (x, p) in r.iter_mut().zip(pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    Some(std::array::from_fn(|i| a[i][8] / a[i][i]))
}

fn mul(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    std::array::from_fn(|i| {
        let (r, c) = (i / 3, i % 3);
        (0..3).map(|k| a[r * 3 + k] * b[k * 3 + c]).sum()
    })
}

fn inverse(m: &[f64; 9]) -> Option<[f64; 9]> {
    let [a, b, c, d, e, f, g, h, i] = *m;
    let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    if det.abs() < 1e-15 {
        return None;
    }
    Some(
        [
            e * i - f * h,
            c * h - b * i,
            b * f - c * e,
            f * g - d * i,
            a * i - c * g,
            c * d - a * f,
            d * h - e * g,
            b * g - a * h,
            a * e - b * d,
        ]
        .map(|v| v / det),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page photographed with its top edge `k` shorter than its bottom edge, at 2 px/pt.
    fn keystoned(k: f32) -> Vec<Correspondence> {
        let s = 2.0;
        let inset = k / 2.0 * PAGE_WIDTH * s;
        [
            ((0.0, 0.0), (0.0, PAGE_HEIGHT * s)),
            ((PAGE_WIDTH, 0.0), (PAGE_WIDTH * s, PAGE_HEIGHT * s)),
            ((0.0, PAGE_HEIGHT), (inset, 0.0)),
            ((PAGE_WIDTH, PAGE_HEIGHT), (PAGE_WIDTH * s - inset, 0.0)),
        ]
        .to_vec()
    }

    #[test]
    fn four_corners_of_a_keystoned_page_fit_exactly() {
        let pairs = keystoned(0.08);
        let h = Homography::fit(&pairs).expect("four points fit");
        assert!(h.max_residual(&pairs) < 0.01);
        assert!(h.is_plausible());
        let back = h
            .invert()
            .expect("invertible")
            .apply(h.apply((100.0, 700.0)));
        assert!(distance(back, (100.0, 700.0)) < 0.01);
        // Lines stay lines: the middle of the top edge lands in the middle of its image.
        let mid = h.apply((PAGE_WIDTH / 2.0, PAGE_HEIGHT));
        assert!((mid.0 - PAGE_WIDTH).abs() < 0.01 && mid.1.abs() < 0.01);
    }

    #[test]
    fn an_affine_map_is_a_homography() {
        let t = Affine::nominal(2.0);
        let h = Homography::from(t);
        assert!(distance(h.apply((30.0, 40.0)), t.apply((30.0, 40.0))) < 1e-3);
        assert!((h.scale() - 2.0).abs() < 1e-4);
        let turned = h.rotated_180().apply((30.0, 40.0));
        assert!(distance(turned, t.apply((PAGE_WIDTH - 30.0, PAGE_HEIGHT - 40.0))) < 1e-3);
    }

    #[test]
    fn a_mirrored_or_badly_keystoned_map_is_not_a_page() {
        let mut mirrored = keystoned(0.0);
        for p in &mut mirrored {
            p.1.0 = -p.1.0;
        }
        assert!(!Homography::fit(&mirrored).expect("fits").is_plausible());
        assert!(
            !Homography::fit(&keystoned(0.45))
                .expect("fits")
                .is_plausible()
        );
    }

    #[test]
    fn three_points_are_not_enough() {
        assert!(Homography::fit(&keystoned(0.05)[..3]).is_none());
    }
}
