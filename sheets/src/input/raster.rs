//! Rasterizing: the tiny-skia canvas a display list is painted onto, under a painting
//! budget, with far-off paths clipped (see [`super::clip`]) before tiny-skia sees them.

use image::GrayImage;
use lopdf::Document;
use tiny_skia::{
    Color, FillRule, FilterQuality, IntSize, LineJoin, Paint, Path, PathBuilder, PathSegment,
    Pattern, Pixmap, Point, Rect, SpreadMode, Stroke, Transform,
};

use super::clip::{clip_polygon, clip_segment, polylines};
use super::colour::to_u8;
use super::geometry::Geometry;
use super::images::{Decoded, check_pixels, decode_image, unit_square};
use super::state::Draw;
use super::{
    IMAGE_PAINT_COST, Limits, MAX_MITER, MAX_PAINTED_PIXELS, MAX_REPAINTS, MAX_STROKE_PX,
    PageError, SAFE_MARGIN, damaged,
};

/// A white page at a resolution, onto which the display list is painted.
pub(super) struct Canvas {
    pixmap: Pixmap,
    /// Page space to device pixels.
    device: Transform,
    /// Pixels still allowed to be painted, so a page cannot repaint itself for hours.
    paint_budget: f64,
}

impl Canvas {
    pub(super) fn new(geometry: &Geometry, dpi: f32, limits: &Limits) -> Result<Canvas, PageError> {
        let (device, w, h) = geometry.device(dpi / 72.0);
        let (w, h) = (w.round().max(1.0) as u32, h.round().max(1.0) as u32);
        check_pixels(u64::from(w), u64::from(h), limits)?;
        let mut pixmap =
            Pixmap::new(w, h).ok_or_else(|| PageError::TooLarge(format!("{w} x {h} pixels")))?;
        pixmap.fill(Color::WHITE);
        let area = f64::from(w) * f64::from(h);
        let paint_budget = (MAX_REPAINTS * area)
            .min(MAX_PAINTED_PIXELS)
            .max(4.0 * area);
        Ok(Canvas {
            pixmap,
            device,
            paint_budget,
        })
    }

    pub(super) fn draw(
        &mut self,
        doc: &Document,
        draw: &Draw,
        limits: &Limits,
        budget: &mut u64,
    ) -> Result<(), PageError> {
        match draw {
            Draw::Fill {
                path,
                rule,
                gray,
                ctm,
            } => {
                let transform = self.device.pre_concat(*ctm);
                if let Some(device) = path.clone().transform(transform)
                    && let Some(device) = self.contained(device)
                {
                    self.spend(self.area(device.bounds(), 0.0))?;
                    let paint = ink(*gray);
                    let identity = Transform::identity();
                    self.pixmap
                        .fill_path(&device, &paint, *rule, identity, None);
                }
            }
            Draw::Stroke {
                path,
                gray,
                ctm,
                width,
                cap,
                join,
                miter,
            } => {
                let stroke = Stroke {
                    width: *width,
                    miter_limit: miter.min(MAX_MITER),
                    line_cap: *cap,
                    line_join: *join,
                    dash: None,
                };
                self.stroke(path, &ink(*gray), stroke, self.device.pre_concat(*ctm))?;
            }
            Draw::Image(image) => {
                let decoded = decode_image(doc, image, limits, budget)?;
                self.image(&decoded, self.device.pre_concat(image.ctm))?;
            }
        }
        Ok(())
    }

    /// Canvas pixels under device-space `bounds` grown by `pad`.
    fn area(&self, bounds: Rect, pad: f32) -> f64 {
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        let across = (bounds.right() + pad).min(w) - (bounds.left() - pad).max(0.0);
        let down = (bounds.bottom() + pad).min(h) - (bounds.top() - pad).max(0.0);
        f64::from(across.max(0.0)) * f64::from(down.max(0.0))
    }

    /// Charges about `pixels` of painting to the page's budget.
    fn spend(&mut self, pixels: f64) -> Result<(), PageError> {
        self.paint_budget -= pixels;
        if self.paint_budget < 0.0 {
            let reason = "the page paints over itself too many times";
            return Err(PageError::TooLarge(reason.into()));
        }
        Ok(())
    }

    /// Charges a stroke: about its length times its width, at most its bounding box, so
    /// a long thin diagonal costs what it covers.
    fn spend_stroke(&mut self, device: &Path, width: f32) -> Result<(), PageError> {
        let along = f64::from(length(device)) * f64::from(width + 2.0);
        self.spend(along.min(self.area(device.bounds(), width)))
    }

    /// Whether device-space `bounds` stay near enough the canvas for tiny-skia.
    fn near(&self, bounds: Rect) -> bool {
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        bounds.left() >= -SAFE_MARGIN
            && bounds.top() >= -SAFE_MARGIN
            && bounds.right() <= w + SAFE_MARGIN
            && bounds.bottom() <= h + SAFE_MARGIN
    }

    /// A device-space path to fill: as it is near the canvas, else flattened and clipped to
    /// the canvas (`None` when nothing of it shows).
    fn contained(&self, path: Path) -> Option<Path> {
        if self.near(path.bounds()) {
            return Some(path);
        }
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        let mut clipped = PathBuilder::new();
        for (contour, _) in polylines(&path)? {
            let contour = clip_polygon(contour, [-1.0, -1.0, w + 1.0, h + 1.0]);
            if let Some((first, rest)) = contour.split_first() {
                clipped.move_to(first.x, first.y);
                rest.iter().for_each(|p| clipped.line_to(p.x, p.y));
                clipped.close();
            }
        }
        clipped.finish()
    }

    /// Strokes `path` at least one device pixel wide, so thin lines do not vanish.
    fn stroke(
        &mut self,
        path: &Path,
        paint: &Paint,
        mut stroke: Stroke,
        transform: Transform,
    ) -> Result<(), PageError> {
        let (thin, thick) = stretches(transform);
        let Some(device) = path.clone().transform(transform) else {
            return Ok(());
        };
        if !(thin > 0.0 && thick.is_finite()) {
            return Ok(());
        }
        if self.near(device.bounds()) {
            // At least a pixel across, at most `MAX_STROKE_PX` along the longest stretch.
            stroke.width = stroke.width.max(1.0 / thin).min(MAX_STROKE_PX / thick);
            self.spend_stroke(&device, stroke.width * thick)?;
            self.pixmap
                .stroke_path(path, paint, &stroke, transform, None);
            return Ok(());
        }
        let width = (stroke.width * thin.sqrt() * thick.sqrt()).clamp(1.0, MAX_STROKE_PX);
        // Far-off coordinates: stroke the visible parts of the segments in device space.
        let (w, h) = (self.pixmap.width() as f32, self.pixmap.height() as f32);
        let area = [-width - 2.0, -width - 2.0, w + width + 2.0, h + width + 2.0];
        let mut visible = PathBuilder::new();
        for (contour, closed) in polylines(&device).unwrap_or_default() {
            let closing = closed.then(|| [contour[contour.len() - 1], contour[0]]);
            let segments = contour.windows(2).map(|s| [s[0], s[1]]).chain(closing);
            for (a, b) in segments.filter_map(|[a, b]| clip_segment(a, b, area)) {
                visible.move_to(a.x, a.y);
                visible.line_to(b.x, b.y);
            }
        }
        if let Some(visible) = visible.finish() {
            self.spend_stroke(&visible, width)?;
            stroke.width = width;
            stroke.line_join = LineJoin::Round;
            self.pixmap
                .stroke_path(&visible, paint, &stroke, Transform::identity(), None);
        }
        Ok(())
    }

    /// Paints an image through a pattern over its (clipped) device-space quadrilateral,
    /// as `draw_pixmap` would, without handing tiny-skia far-off coordinates.
    fn image(&mut self, decoded: &Decoded, to_device: Transform) -> Result<(), PageError> {
        let size = IntSize::from_wh(decoded.width, decoded.height)
            .ok_or_else(|| damaged("an image is empty"))?;
        let transform = to_device.pre_concat(unit_square(decoded.width, decoded.height));
        let quad = Rect::from_xywh(0.0, 0.0, decoded.width as f32, decoded.height as f32)
            .map(PathBuilder::from_rect)
            .and_then(|quad| quad.transform(transform))
            .and_then(|quad| self.contained(quad));
        let Some(quad) = quad else {
            return Ok(());
        };
        self.spend(IMAGE_PAINT_COST * self.area(quad.bounds(), 0.0))?;
        let rgba: Vec<u8> = match &decoded.alpha {
            None => decoded.gray.iter().flat_map(|&g| [g, g, g, 255]).collect(),
            Some(alpha) => decoded
                .gray
                .iter()
                .zip(alpha)
                .flat_map(|(&g, &a)| {
                    let p = (u16::from(g) * u16::from(a) / 255) as u8;
                    [p, p, p, a]
                })
                .collect(),
        };
        let image = Pixmap::from_vec(rgba, size).ok_or_else(|| damaged("an image is malformed"))?;
        let quality = FilterQuality::Bilinear;
        let paint = Paint {
            shader: Pattern::new(image.as_ref(), SpreadMode::Pad, quality, 1.0, transform),
            // Anti-aliased edges would leave light seams between image strips.
            anti_alias: false,
            ..Paint::default()
        };
        self.pixmap.fill_path(
            &quad,
            &paint,
            FillRule::Winding,
            Transform::identity(),
            None,
        );
        Ok(())
    }

    /// Every colour painted is a grey, so the red channel is the grey.
    pub(super) fn into_gray(self) -> Result<GrayImage, PageError> {
        let (w, h) = (self.pixmap.width(), self.pixmap.height());
        let gray = self.pixmap.data().chunks_exact(4).map(|p| p[0]).collect();
        GrayImage::from_raw(w, h, gray).ok_or_else(|| damaged("the page could not be rasterized"))
    }
}

fn ink(gray: f32) -> Paint<'static> {
    let g = to_u8(gray);
    let mut paint = Paint {
        anti_alias: true,
        ..Paint::default()
    };
    paint.set_color_rgba8(g, g, g, 255);
    paint
}

/// The least and greatest factor by which a transform stretches lengths (its singular
/// values), in f64 because hostile matrices square past f32.
fn stretches(t: Transform) -> (f32, f32) {
    let [a, b, c, d] = [t.sx, t.ky, t.kx, t.sy].map(f64::from);
    let sum = a * a + b * b + c * c + d * d;
    let det = (a * d - b * c).abs();
    let thick = ((sum + (sum * sum - 4.0 * det * det).max(0.0).sqrt()) / 2.0).sqrt();
    let thin = if thick > 0.0 { det / thick } else { 0.0 };
    (thin as f32, thick as f32)
}

/// The length of a device-space path along its control polygon (an upper bound for curves).
fn length(path: &Path) -> f32 {
    let mut last = Point::zero();
    let mut total = 0.0;
    for segment in path.segments() {
        let points = match segment {
            PathSegment::MoveTo(p) => {
                last = p;
                continue;
            }
            PathSegment::LineTo(p) => [p, p, p],
            PathSegment::QuadTo(c, p) => [c, p, p],
            PathSegment::CubicTo(c1, c2, p) => [c1, c2, p],
            PathSegment::Close => continue,
        };
        for p in points {
            total += last.distance(p);
            last = p;
        }
    }
    total
}
