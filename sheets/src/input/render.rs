//! Any other page (strips, a scan under a mask or text layer, vector pages such as our own
//! printed sheets) rendered by hayro over white paper at the requested resolution, in grey.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hayro::hayro_interpret::hayro_syntax::page::Page;
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_interpret::{InterpreterSettings, InterpreterWarning};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings, render_into};
use image::GrayImage;

use super::{Limits, PageError, damaged, luma8, too_large};

/// Renders `page` at `dpi` and turns it to grey.
pub(super) fn page(page: &Page<'_>, dpi: f32, limits: &Limits) -> Result<GrayImage, PageError> {
    let scale = dpi / 72.0;
    let (w, h) = page.render_dimensions();
    let (width, height) = ((w * scale).round().max(1.0), (h * scale).round().max(1.0));
    let pixels = f64::from(width) * f64::from(height);
    if pixels > limits.max_pixels as f64
        || width > f32::from(u16::MAX)
        || height > f32::from(u16::MAX)
    {
        return Err(too_large(format!(
            "{width} x {height} pixels at {dpi} dpi, at most {} pixels",
            limits.max_pixels
        )));
    }
    let (width, height) = (width as u16, height as u16);
    let failed = Arc::new(AtomicBool::new(false));
    let flag = failed.clone();
    let settings = InterpreterSettings {
        warning_sink: Arc::new(move |warning| {
            if matches!(warning, InterpreterWarning::ImageDecodeFailure) {
                flag.store(true, Ordering::Relaxed);
            }
        }),
        ..InterpreterSettings::default()
    };
    let cache = RenderCache::new();
    let mut context = RenderContext::new(width, height);
    let transform = Affine::scale(f64::from(scale)) * page.initial_transform(true).to_kurbo();
    render_into(
        page,
        &cache,
        &settings,
        &RenderSettings::default(),
        &mut context,
        transform,
    );
    context.flush();
    if failed.load(Ordering::Relaxed) {
        return Err(images_failed(page));
    }
    let mut pixmap = Pixmap::new(width, height);
    context.render_with(
        &mut pixmap,
        &mut Resources::default(),
        RasterizerSettings {
            target_init: TargetInit::Clear(WHITE),
            ..RasterizerSettings::default()
        },
    );
    // Opaque over white paper, so premultiplied channels are the colour itself.
    let gray = pixmap
        .data_as_u8_slice()
        .chunks_exact(4)
        .map(|p| luma8(p[0], p[1], p[2]))
        .collect();
    GrayImage::from_raw(u32::from(width), u32::from(height), gray)
        .ok_or_else(|| damaged("the page could not be rendered"))
}

/// The page's images that hayro could not decode, named by their encodings.
fn images_failed(page: &Page<'_>) -> PageError {
    let resources = page.resources();
    let mut filters = Vec::new();
    for name in resources.x_objects.keys() {
        if let Some(stream) = resources.get_x_object(&name)
            && stream
                .dict()
                .get::<hayro::hayro_syntax::object::Name<'_>>(b"Subtype".as_slice())
                .is_some_and(|s| s.as_ref() == b"Image")
        {
            filters.extend(stream.filters());
        }
    }
    filters.dedup();
    super::scan::undecodable(&filters)
}
