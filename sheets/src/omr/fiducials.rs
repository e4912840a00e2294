//! The four corner marks: solid dark squares of a known size near the image's corners.
//!
//! Each corner of the working image is searched for connected dark blobs; a blob counts if
//! its area, bounding box and solidity fit a square of [`FIDUCIAL_SIDE`] turned by a few
//! degrees, and the one nearest where the mark should be wins. Three marks are enough.

use super::homography::Homography;
use super::transform::{Affine, Correspondence};
use super::working::{INK, PAPER};
use crate::layout::{FIDUCIAL_INSET, FIDUCIAL_SIDE, PAGE_HEIGHT, PAGE_WIDTH};
use image::GrayImage;

/// How far from each image corner a mark is searched for (pt): the inset plus room for a
/// page shifted by a centimetre, scaled by 5 % and turned by 5°.
const WINDOW: f32 = 150.0;
/// Largest residual (pt) of a four-mark fit before one mark is suspected.
const MAX_RESIDUAL: f32 = 3.0;

/// Corners of the image, in the order marks are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

const CORNERS: [Corner; 4] = [
    Corner::TopLeft,
    Corner::TopRight,
    Corner::BottomLeft,
    Corner::BottomRight,
];

/// Centres (pixels) of the marks found near the image's top-left, top-right, bottom-left and
/// bottom-right corners.
pub(crate) fn find(image: &GrayImage, scale: f32) -> [Option<(f32, f32)>; 4] {
    CORNERS.map(|corner| find_in_corner(image, scale, corner))
}

/// The map for an upright page fitted to the marks found, if they make a plausible page:
/// the four as a scanner sees them, else any three.
#[cfg(test)]
pub(crate) fn fit(found: &[Option<(f32, f32)>; 4], scale: f32) -> Option<Affine> {
    fit_four(found, scale).or_else(|| fit_three(found, scale))
}

/// The layout points of the marks, in the order [`find`] reports them, with where each was
/// seen.
fn pairs(found: &[Option<(f32, f32)>; 4]) -> Vec<Correspondence> {
    let (l, r) = (FIDUCIAL_INSET, PAGE_WIDTH - FIDUCIAL_INSET);
    let (b, t) = (FIDUCIAL_INSET, PAGE_HEIGHT - FIDUCIAL_INSET);
    let layout = [(l, t), (r, t), (l, b), (r, b)];
    layout
        .iter()
        .zip(found)
        .filter_map(|(&p, seen)| seen.map(|s| (p, s)))
        .collect()
}

/// The affine map through all four marks, if they make a page as a scanner sees it (flat,
/// square to the glass).
pub(crate) fn fit_four(found: &[Option<(f32, f32)>; 4], scale: f32) -> Option<Affine> {
    let pairs = pairs(found);
    if pairs.len() != 4 {
        return None;
    }
    Affine::fit(&pairs)
        .filter(|all| all.is_plausible(scale) && all.max_residual(&pairs) < MAX_RESIDUAL * scale)
}

/// The perspective map through all four marks, if they make a page as a camera sees it.
pub(crate) fn fit_perspective(found: &[Option<(f32, f32)>; 4], scale: f32) -> Option<Homography> {
    let pairs = pairs(found);
    if pairs.len() != 4 {
        return None;
    }
    Homography::fit(&pairs)
        .filter(|h| h.is_plausible() && (0.6 * scale..=1.4 * scale).contains(&h.scale()))
}

/// The affine map through the three marks that make the least distorted page: one mark may
/// be damaged, covered or cut off.
pub(crate) fn fit_three(found: &[Option<(f32, f32)>; 4], scale: f32) -> Option<Affine> {
    let pairs = pairs(found);
    let skips: Vec<Option<usize>> = match pairs.len() {
        4 => (0..4).map(Some).collect(),
        3 => vec![None],
        _ => Vec::new(),
    };
    skips
        .into_iter()
        .filter_map(|skip| {
            let three: Vec<_> = (0..pairs.len())
                .filter(|&i| Some(i) != skip)
                .map(|i| pairs[i])
                .collect();
            Affine::fit(&three).filter(|t| t.is_plausible(scale))
        })
        .min_by(|a, b| distortion(a).total_cmp(&distortion(b)))
}

/// How far a map is from a pure turn and scale.
fn distortion(t: &Affine) -> f32 {
    let [a, b, _, d, e, _] = t.m;
    (a + e).abs() + (b - d).abs()
}

fn find_in_corner(image: &GrayImage, scale: f32, corner: Corner) -> Option<(f32, f32)> {
    let (w, h) = image.dimensions();
    let size = ((WINDOW * scale) as u32).min(w / 2).min(h / 2);
    let x0 = match corner {
        Corner::TopLeft | Corner::BottomLeft => 0,
        Corner::TopRight | Corner::BottomRight => w - size,
    };
    let y0 = match corner {
        Corner::TopLeft | Corner::TopRight => 0,
        Corner::BottomLeft | Corner::BottomRight => h - size,
    };
    let inset = FIDUCIAL_INSET * scale;
    let expected = (
        if x0 == 0 { inset } else { w as f32 - inset },
        if y0 == 0 { inset } else { h as f32 - inset },
    );
    let side = FIDUCIAL_SIDE * scale;
    blobs(image, (x0, y0), (size, size))
        .into_iter()
        .filter_map(|blob| blob.square_score(side).map(|s| (blob, s)))
        .map(|(blob, shape)| {
            let (cx, cy) = blob.centre(x0, y0);
            let off = (cx - expected.0).hypot(cy - expected.1) / (100.0 * scale);
            ((cx, cy), shape + off)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(centre, _)| centre)
}

/// A connected set of dark pixels in a search window.
#[derive(Debug, Clone, Copy)]
pub(super) struct Blob {
    pub(super) area: u32,
    sum_x: u64,
    sum_y: u64,
    pub(super) min: (u32, u32),
    pub(super) max: (u32, u32),
    pub(super) touches_edge: bool,
}

impl Blob {
    fn at(x: u32, y: u32) -> Blob {
        Blob {
            area: 0,
            sum_x: 0,
            sum_y: 0,
            min: (x, y),
            max: (x, y),
            touches_edge: false,
        }
    }

    /// Adds the pixel `(x, y)` of a window of `n = (width, height)`.
    fn add(&mut self, x: u32, y: u32, n: (u32, u32)) {
        self.area += 1;
        self.sum_x += u64::from(x);
        self.sum_y += u64::from(y);
        self.min = (self.min.0.min(x), self.min.1.min(y));
        self.max = (self.max.0.max(x), self.max.1.max(y));
        self.touches_edge |= x == 0 || y == 0 || x == n.0 - 1 || y == n.1 - 1;
    }

    pub(super) fn centre(&self, x0: u32, y0: u32) -> (f32, f32) {
        let n = self.area as f64;
        (
            (self.sum_x as f64 / n) as f32 + x0 as f32 + 0.5,
            (self.sum_y as f64 / n) as f32 + y0 as f32 + 0.5,
        )
    }

    /// How unlike a solid square of `side` pixels this is (lower is better), or `None` if
    /// it is not one at all.
    fn square_score(&self, side: f32) -> Option<f32> {
        let bw = (self.max.0 - self.min.0 + 1) as f32;
        let bh = (self.max.1 - self.min.1 + 1) as f32;
        let area = self.area as f32;
        let fill = area / (bw * bh);
        let size_ok = |v: f32| (0.75 * side..=1.5 * side).contains(&v);
        let area_ratio = area / (side * side);
        let ok = !self.touches_edge
            && size_ok(bw)
            && size_ok(bh)
            && (0.5..=1.6).contains(&area_ratio)
            && fill >= 0.7
            && bw.max(bh) / bw.min(bh) <= 1.3;
        ok.then(|| area_ratio.ln().abs() + (1.0 - fill))
    }
}

/// Dark connected blobs (4-connected) in the `size` (width, height) window at `origin`.
pub(super) fn blobs(image: &GrayImage, origin: (u32, u32), size: (u32, u32)) -> Vec<Blob> {
    let n = size.0 as usize;
    let (labels, mut parent) = label(image, origin, size);
    let mut stats: Vec<Option<Blob>> = vec![None; parent.len()];
    for (i, &label) in labels.iter().enumerate() {
        if label == 0 {
            continue;
        }
        let root = find_root(&mut parent, label) as usize;
        let (x, y) = ((i % n) as u32, (i / n) as u32);
        stats[root]
            .get_or_insert_with(|| Blob::at(x, y))
            .add(x, y, size);
    }
    stats.into_iter().flatten().collect()
}

/// One pass of union-find labelling: a provisional label per pixel (0 for paper) and the
/// labels' parents.
fn label(image: &GrayImage, origin: (u32, u32), size: (u32, u32)) -> (Vec<u32>, Vec<u32>) {
    let threshold = INK / 2 + PAPER / 2;
    let (n, rows) = (size.0 as usize, size.1 as usize);
    let mut labels = vec![0u32; n * rows];
    let mut parent: Vec<u32> = vec![0];
    for y in 0..rows {
        for x in 0..n {
            let v = image.get_pixel(origin.0 + x as u32, origin.1 + y as u32).0[0];
            if v >= threshold {
                continue;
            }
            let left = if x > 0 { labels[y * n + x - 1] } else { 0 };
            let up = if y > 0 { labels[(y - 1) * n + x] } else { 0 };
            labels[y * n + x] = match (left, up) {
                (0, 0) => {
                    parent.push(parent.len() as u32);
                    parent.len() as u32 - 1
                }
                (l, 0) => l,
                (0, u) => u,
                (l, u) => union(&mut parent, l, u),
            };
        }
    }
    (labels, parent)
}

fn find_root(parent: &mut [u32], mut label: u32) -> u32 {
    while parent[label as usize] != label {
        let grand = parent[parent[label as usize] as usize];
        parent[label as usize] = grand;
        label = grand;
    }
    label
}

fn union(parent: &mut [u32], a: u32, b: u32) -> u32 {
    let (ra, rb) = (find_root(parent, a), find_root(parent, b));
    let (keep, drop) = (ra.min(rb), ra.max(rb));
    parent[drop as usize] = keep;
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_with_squares(scale: f32, skip: Option<usize>) -> GrayImage {
        let (w, h) = ((PAGE_WIDTH * scale) as u32, (PAGE_HEIGHT * scale) as u32);
        let mut image = GrayImage::from_pixel(w, h, image::Luma([PAPER]));
        let nominal = Affine::nominal(scale);
        for (i, &c) in crate::layout::fiducial_centres().iter().enumerate() {
            if Some(i) == skip {
                continue;
            }
            let (cx, cy) = nominal.apply(c);
            let half = FIDUCIAL_SIDE * scale / 2.0;
            for y in (cy - half) as u32..(cy + half) as u32 {
                for x in (cx - half) as u32..(cx + half) as u32 {
                    image.put_pixel(x, y, image::Luma([INK]));
                }
            }
        }
        image
    }

    #[test]
    fn four_squares_give_the_nominal_map() {
        let scale = 2.0;
        let found = find(&page_with_squares(scale, None), scale);
        assert!(found.iter().all(Option::is_some));
        let t = fit(&found, scale).expect("a page");
        let (u, v) = t.apply((300.0, 400.0));
        assert!((u - 600.0).abs() < 1.0 && (v - (PAGE_HEIGHT - 400.0) * 2.0).abs() < 1.0);
    }

    #[test]
    fn three_squares_are_enough() {
        let scale = 2.0;
        let found = find(&page_with_squares(scale, Some(1)), scale);
        assert_eq!(found.iter().flatten().count(), 3);
        assert!(fit(&found, scale).is_some());
    }

    #[test]
    fn text_sized_blobs_are_not_marks() {
        let scale = 2.0;
        let mut image = GrayImage::from_pixel(1190, 1684, image::Luma([PAPER]));
        for x in 60..70 {
            for y in 60..75 {
                image.put_pixel(x, y, image::Luma([INK]));
            }
        }
        assert!(find(&image, scale).iter().all(Option::is_none));
    }
}
