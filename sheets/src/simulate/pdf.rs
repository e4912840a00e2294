//! Scanned pages as a scanner's PDF: one page per image, the image filling an A4 page.

use super::scan::{Encoding, encode};
use crate::layout::{PAGE_HEIGHT, PAGE_WIDTH};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use image::GrayImage;
use lopdf::{Document, Object, Stream, dictionary};
use std::io::Write;

/// A PDF with one A4 page per image, each image stored with its encoding (DCTDecode for
/// JPEG, FlateDecode for 8-bit grey and for 1-bit).
pub fn wrap_pdf(pages: Vec<(GrayImage, Encoding)>) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let kids: Vec<Object> = pages
        .iter()
        .map(|(image, encoding)| {
            let image_id = doc.add_object(image_stream(image, *encoding));
            let content = format!("q {PAGE_WIDTH} 0 0 {PAGE_HEIGHT} 0 0 cm /Im0 Do Q");
            let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
            doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
                "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
                "Contents" => content_id,
            })
            .into()
        })
        .collect();
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    if let Err(e) = doc.save_to(&mut bytes) {
        panic!("writing a PDF in memory failed: {e}");
    }
    bytes
}

fn image_stream(image: &GrayImage, encoding: Encoding) -> Stream {
    let (width, height) = image.dimensions();
    let raw = encode(image, encoding);
    let (filter, bits, content) = match encoding {
        Encoding::Jpeg { .. } => ("DCTDecode", 8, raw),
        Encoding::Png => ("FlateDecode", 8, deflate(&raw)),
        Encoding::Bitonal => ("FlateDecode", 1, deflate(&raw)),
    };
    let dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => i64::from(width),
        "Height" => i64::from(height),
        "ColorSpace" => "DeviceGray",
        "BitsPerComponent" => bits,
        "Filter" => filter,
    };
    Stream::new(dict, content).with_compression(false)
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
    match encoder.write_all(bytes).and_then(|()| encoder.finish()) {
        Ok(out) => out,
        Err(e) => panic!("deflating in memory failed: {e}"),
    }
}
