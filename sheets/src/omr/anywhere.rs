//! The corner marks of a photographed page, wherever the page lies in the picture.
//!
//! A phone photo may show the page turned by 15°, smaller than the frame, on a desk: the
//! marks are then not near the image's corners. Every dark blob of the whole image that
//! could be a mark (solid, squarish, about the mark's size) is a candidate; each corner mark
//! is the candidate furthest out in its diagonal direction, because everything else printed
//! on the page lies inside the rectangle the marks span. The four must make a plausible
//! page, and each must be the size a mark has at its place under the map they give.

use super::fiducials::blobs;
use super::homography::Homography;
use crate::layout::{FIDUCIAL_INSET, FIDUCIAL_SIDE, PAGE_HEIGHT, PAGE_WIDTH};
use image::GrayImage;

/// A candidate: its centre (pixels) and the side of a square of its area (pixels).
type Candidate = ((f32, f32), f32);

/// The perspective map through the four corner marks found anywhere in `image`, whose
/// scale is roughly `scale_guess` (pixels per point, within a factor of two).
pub(crate) fn find(image: &GrayImage, scale_guess: f32) -> Option<Homography> {
    let side = FIDUCIAL_SIDE * scale_guess;
    let candidates: Vec<Candidate> = blobs(image, (0, 0), image.dimensions())
        .into_iter()
        .filter(|b| !b.touches_edge)
        .filter_map(|b| {
            let bw = (b.max.0 - b.min.0 + 1) as f32;
            let bh = (b.max.1 - b.min.1 + 1) as f32;
            let root = (b.area as f32).sqrt();
            let solid = b.area as f32 / (bw * bh) >= 0.55;
            let squarish = bw.max(bh) / bw.min(bh) <= 1.45;
            let sized = (0.45 * side..=1.6 * side).contains(&root);
            (solid && squarish && sized).then(|| (b.centre(0, 0), root))
        })
        .collect();
    // Image directions of the top-left, top-right, bottom-left and bottom-right marks.
    let outermost = [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)].map(|(dx, dy)| {
        candidates
            .iter()
            .copied()
            .max_by(|a, b| (dx * a.0.0 + dy * a.0.1).total_cmp(&(dx * b.0.0 + dy * b.0.1)))
    });
    let marks: Vec<Candidate> = outermost.iter().flatten().copied().collect();
    if marks.len() != 4 || (1..4).any(|i| (0..i).any(|j| marks[i].0 == marks[j].0)) {
        return None;
    }
    let (l, r) = (FIDUCIAL_INSET, PAGE_WIDTH - FIDUCIAL_INSET);
    let (b, t) = (FIDUCIAL_INSET, PAGE_HEIGHT - FIDUCIAL_INSET);
    let layout = [(l, t), (r, t), (l, b), (r, b)];
    let pairs: Vec<_> = layout.iter().zip(&marks).map(|(&p, m)| (p, m.0)).collect();
    let h = Homography::fit(&pairs).filter(Homography::is_plausible)?;
    let sized = layout.iter().zip(&marks).all(|(&p, &(_, root))| {
        let expected = FIDUCIAL_SIDE * h.scale_at(p);
        (0.75 * expected..=1.3 * expected).contains(&root)
    });
    sized.then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::omr::working::{INK, PAPER};

    /// A page's four marks drawn through `h` on a larger picture.
    fn marks_through(h: &Homography, w: u32, ht: u32) -> GrayImage {
        let back = h.invert().expect("invertible");
        let half = FIDUCIAL_SIDE / 2.0;
        GrayImage::from_fn(w, ht, |x, y| {
            let (px, py) = back.apply((x as f32 + 0.5, y as f32 + 0.5));
            let on_mark = crate::layout::fiducial_centres()
                .iter()
                .any(|&(cx, cy)| (px - cx).abs() <= half && (py - cy).abs() <= half);
            image::Luma([if on_mark { INK } else { PAPER }])
        })
    }

    #[test]
    fn marks_of_a_page_turned_15_degrees_in_the_middle_of_a_photo_are_found() {
        let (s, c) = 15f32.to_radians().sin_cos();
        let k = 1.5;
        // Turned about the page's centre, placed in the middle of a 1300 × 1600 picture.
        let (cx, cy) = (PAGE_WIDTH / 2.0, PAGE_HEIGHT / 2.0);
        let to = |(x, y): (f32, f32)| {
            let (dx, dy) = (x - cx, cy - y);
            (650.0 + k * (c * dx - s * dy), 800.0 + k * (s * dx + c * dy))
        };
        let corners = [
            (0.0, 0.0),
            (PAGE_WIDTH, 0.0),
            (0.0, PAGE_HEIGHT),
            (PAGE_WIDTH, PAGE_HEIGHT),
        ];
        let truth = Homography::fit(&corners.map(|p| (p, to(p)))).expect("a map");
        let image = marks_through(&truth, 1300, 1600);
        let found = find(&image, 1.9).expect("the marks");
        let p = (300.0, 400.0);
        assert!(super::super::homography::distance(found.apply(p), truth.apply(p)) < 1.0);
        assert!((found.rotation_deg() - 15.0).abs() < 0.5);
    }

    #[test]
    fn a_page_without_marks_has_none() {
        let image = GrayImage::from_pixel(600, 800, image::Luma([PAPER]));
        assert!(find(&image, 1.0).is_none());
    }
}
