//! A page's drawing surveyed before anything is decoded: hayro's interpreter runs with a
//! device that only looks. It refuses images larger than the limits (by their declared size
//! and by what their JPEG or JPEG 2000 header says), pages that draw too much, and tells
//! whether the page is nothing but one scan.

use std::io::Cursor;

use hayro::hayro_interpret::font::GlyphRun;
use hayro::hayro_interpret::hayro_syntax::Filter;
use hayro::hayro_interpret::hayro_syntax::object::Stream;
use hayro::hayro_interpret::hayro_syntax::page::Page;
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_interpret::{
    BlendMode, ClipPath, Context, Device, DrawMode, DrawProps, Image, ImageDrawProps,
    InterpreterCache, InterpreterSettings, Paint, RenderContent, SoftMask, interpret_page,
};
use hayro::kurbo::{Affine, BezPath, Rect, Shape};
use image::ImageDecoder;
use image::codecs::jpeg::JpegDecoder;

use super::{Limits, PageError, too_large};

/// Drawing operations a page may make, forms included; a printed sheet makes thousands.
const MAX_DRAWS: usize = 1_000_000;
/// Times a page may be painted over, counted in page areas at the requested resolution...
const MAX_REPAINTS: f64 = 100.0;
/// ... and in pixels (a few hundred milliseconds of painting), but always at least four
/// page areas.
const MAX_PAINTED_PIXELS: f64 = 250_000_000.0;
/// What painting an image pixel costs against those budgets, in solid-fill pixels.
const IMAGE_PAINT_COST: f64 = 16.0;
/// Fraction of the page a single image must cover to be returned as the scan itself.
const MIN_COVERAGE: f64 = 0.8;
/// Largest page side accepted (pt): PDF's own limit is 200 inches.
const MAX_PAGE_SIDE: f32 = 14_400.0;

/// The one image a page is made of, as drawn: image pixels (rows top-down) to device points
/// (y down, upright as displayed).
#[derive(Debug, Clone, Copy)]
pub(super) struct Scan {
    pub(super) transform: Affine,
}

/// An image drawn: its transform (image pixels to device pixels) and size.
struct Drawn {
    transform: Affine,
    width: u32,
    height: u32,
}

/// What a page draws.
pub(super) struct Survey {
    /// Device size in pixels at the requested resolution.
    width: f64,
    height: f64,
    images: Vec<Drawn>,
    /// Something drawn that is neither an image nor white paper.
    ink: bool,
    /// Transparency, blending or soft masks: the page must be composited.
    composited: bool,
    draws: usize,
    /// Pixels still allowed to be painted.
    paint_budget: f64,
    /// Image pixels still allowed to be decoded.
    pixel_budget: u64,
    limits: Limits,
    refused: Option<PageError>,
}

impl Survey {
    /// Surveys `page` as rendered at `dpi`.
    pub(super) fn of(page: &Page<'_>, dpi: f32, limits: &Limits) -> Result<Survey, PageError> {
        let (w, h) = page.render_dimensions();
        let valid = 1.0..=MAX_PAGE_SIDE;
        if !valid.contains(&w) || !valid.contains(&h) {
            return Err(super::damaged("the page size is invalid"));
        }
        let scale = f64::from(dpi) / 72.0;
        let (width, height) = (f64::from(w) * scale, f64::from(h) * scale);
        let area = width * height;
        let mut survey = Survey {
            width,
            height,
            images: Vec::new(),
            ink: false,
            composited: false,
            draws: 0,
            paint_budget: (MAX_REPAINTS * area)
                .min(MAX_PAINTED_PIXELS)
                .max(4.0 * area),
            pixel_budget: limits.max_pixels,
            limits: *limits,
            refused: None,
        };
        let transform = Affine::scale(scale) * page.initial_transform(true).to_kurbo();
        let cache = InterpreterCache::new();
        let settings = InterpreterSettings {
            render_content: RenderContent::all(),
            ..InterpreterSettings::default()
        };
        let bbox = Rect::new(0.0, 0.0, width, height);
        let mut context = Context::new(transform, bbox, &cache, page.xref(), settings);
        interpret_page(page, &mut context, &mut survey);
        match survey.refused.take() {
            Some(error) => Err(error),
            None => Ok(survey),
        }
    }

    /// The page's scan when it is all there is: one image, axis-aligned, covering most of
    /// the page, drawn over nothing but white.
    pub(super) fn sole_scan(&self) -> Option<Scan> {
        let [ref image] = self.images[..] else {
            return None;
        };
        let transform = image.transform;
        if self.ink || self.composited {
            return None;
        }
        let [a, b, c, d, _, _] = transform.as_coeffs();
        let straight = b.abs() <= 1e-3 * a.abs() && c.abs() <= 1e-3 * d.abs();
        let turned = a.abs() <= 1e-3 * c.abs() && d.abs() <= 1e-3 * b.abs();
        if !(straight || turned) {
            return None;
        }
        let pixels = Rect::new(0.0, 0.0, f64::from(image.width), f64::from(image.height));
        let covered = self.visible_area(transform.transform_rect_bbox(pixels));
        (covered >= MIN_COVERAGE * self.width * self.height).then_some(Scan { transform })
    }

    /// Device pixels of `bounds` that fall on the page.
    fn visible_area(&self, bounds: Rect) -> f64 {
        let page = Rect::new(0.0, 0.0, self.width, self.height);
        let visible = bounds.intersect(page);
        visible.width().max(0.0) * visible.height().max(0.0)
    }

    fn refuse(&mut self, error: PageError) {
        self.refused.get_or_insert(error);
    }

    /// Counts one drawing operation painting about `pixels`.
    fn spend(&mut self, pixels: f64) {
        self.draws += 1;
        self.paint_budget -= pixels;
        if self.draws > MAX_DRAWS {
            self.refuse(too_large("the page makes too many drawing operations"));
        } else if self.paint_budget < 0.0 {
            self.refuse(too_large("the page paints over itself too many times"));
        }
    }

    /// Checks an image's declared size, its codec's own size and its soft mask's.
    fn check_image(&mut self, stream: &Stream<'_>, width: u32, height: u32) {
        let mut sizes = vec![(u64::from(width), u64::from(height))];
        sizes.extend(encoded_size(stream));
        if let Some(mask) = stream.dict().get::<Stream<'_>>(b"SMask".as_slice()) {
            let dict = mask.dict();
            let side = |key: &[u8]| dict.get::<u32>(key).map_or(0, u64::from);
            sizes.push((side(b"Width"), side(b"Height")));
        }
        for (w, h) in sizes {
            let pixels = w.saturating_mul(h);
            if pixels > self.limits.max_pixels {
                let max = self.limits.max_pixels;
                return self.refuse(too_large(format!("{w} x {h} pixels, at most {max}")));
            }
            let Some(left) = self.pixel_budget.checked_sub(pixels) else {
                return self.refuse(too_large("the page's images hold too many pixels"));
            };
            self.pixel_budget = left;
        }
    }

    fn survey_mask(&mut self, mask: Option<SoftMask<'_>>) {
        if let Some(mask) = mask {
            self.composited = true;
            mask.interpret(self);
        }
    }
}

/// The size a JPEG or JPEG 2000 stream's own header gives, which is what its decoder
/// allocates whatever the image dictionary says.
fn encoded_size(stream: &Stream<'_>) -> Option<(u64, u64)> {
    let filters = stream.filters();
    let raw = stream.raw_data();
    match filters.as_slice() {
        [Filter::DctDecode] => {
            let decoder = JpegDecoder::new(Cursor::new(&raw[..])).ok()?;
            let (w, h) = decoder.dimensions();
            Some((u64::from(w), u64::from(h)))
        }
        [Filter::JpxDecode] => {
            let settings = hayro_jpeg2000::DecodeSettings::default();
            let image = hayro_jpeg2000::Image::new(&raw, &settings).ok()?;
            Some((u64::from(image.width()), u64::from(image.height())))
        }
        _ => None,
    }
}

/// Whether a fill paints white paper, which a scan page may have under its image.
fn is_white(props: &DrawProps<'_>, mode: &DrawMode) -> bool {
    let Paint::Color(colour) = &props.paint else {
        return false;
    };
    let [r, g, b, a] = colour.to_rgba().to_rgba8();
    matches!(mode, DrawMode::Fill(_)) && r.min(g).min(b) >= 254 && a == 255
}

impl<'a> Device<'a> for Survey {
    fn draw_path(&mut self, path: &BezPath, props: DrawProps<'a>, mode: &DrawMode) {
        let pad = match mode {
            DrawMode::Stroke(stroke) | DrawMode::FillAndStroke(_, stroke) => {
                f64::from(stroke.line_width) * props.transform.as_coeffs()[0].abs().max(1.0)
            }
            _ => 0.0,
        };
        let bounds = props.transform.transform_rect_bbox(path.bounding_box());
        self.spend(self.visible_area(bounds.inflate(pad, pad)));
        if matches!(mode, DrawMode::Invisible) {
            return;
        }
        self.ink |= !is_white(&props, mode);
        self.survey_mask(props.soft_mask);
    }

    fn push_clip_path(&mut self, _: &ClipPath) {}

    fn push_transparency_group(
        &mut self,
        opacity: f32,
        mask: Option<SoftMask<'a>>,
        blend_mode: BlendMode,
    ) {
        // hayro wraps every image in a group; only a real one needs compositing.
        self.composited |= opacity < 1.0 || blend_mode != BlendMode::Normal;
        self.survey_mask(mask);
    }

    fn draw_glyph_run(&mut self, run: &GlyphRun<'_, 'a>, props: DrawProps<'a>, mode: &DrawMode) {
        let _ = run;
        self.spend(0.0);
        self.ink |= !matches!(mode, DrawMode::Invisible);
        self.survey_mask(props.soft_mask);
    }

    fn draw_image(&mut self, image: Image<'a, '_>, props: ImageDrawProps<'a>) {
        let (width, height) = (image.width(), image.height());
        let stream = match &image {
            Image::Stencil(stencil) => stencil.stream(),
            Image::Raster(raster) => raster.stream(),
        };
        self.check_image(stream, width, height);
        let unit = Rect::new(0.0, 0.0, f64::from(width), f64::from(height));
        let bounds = props.transform.transform_rect_bbox(unit);
        self.spend(IMAGE_PAINT_COST * self.visible_area(bounds));
        self.images.push(Drawn {
            transform: props.transform,
            width,
            height,
        });
        // A stencil mask paints ink through an image; it is composited like any ink.
        self.ink |= matches!(image, Image::Stencil(_));
        self.survey_mask(props.soft_mask);
    }

    fn pop_clip(&mut self) {}

    fn pop_transparency_group(&mut self) {}
}
