//! Scanned PDFs to page images: embedded scans come back upright at their own resolution,
//! other pages are rasterized, and broken or hostile uploads are refused without panicking.
//!
//! Every document is built here with lopdf, so each test states exactly what it feeds in;
//! files written by other tools, in the encodings copiers use, are in `encodings.rs`.

use std::io::Write;

use fax::encoder::Encoder;
use fax::{Color as FaxColor, VecWriter};
use flate2::Compression;
use flate2::write::ZlibEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, GrayImage};
use lopdf::{Dictionary, Document, Object, Stream, dictionary};
use proptest::prelude::*;
use proptest::sample::Index;
use sheets::input::{InputError, Limits, PageError, ScannedPdf};

const A4: (f32, f32) = (595.28, 841.89);

/// One page of a test document; its images are named `/Im0`, `/Im1`, ...
struct Page {
    content: String,
    images: Vec<Stream>,
    rotate: Option<i64>,
}

/// A page showing `image` over the whole A4 sheet.
fn scan_page(image: Stream) -> Page {
    Page {
        content: format!("q {} 0 0 {} 0 0 cm /Im0 Do Q", A4.0, A4.1),
        images: vec![image],
        rotate: None,
    }
}

fn vector_page(content: &str) -> Page {
    Page {
        content: content.into(),
        images: Vec::new(),
        rotate: None,
    }
}

fn pdf(pages: Vec<Page>) -> Vec<u8> {
    pdf_with(pages, |_| {})
}

/// Saves `pages` as an A4 document; `tweak` may alter it just before saving.
fn pdf_with(pages: Vec<Page>, tweak: impl FnOnce(&mut Document)) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids: Vec<Object> = Vec::new();
    for page in pages {
        let mut xobjects = Dictionary::new();
        for (i, image) in page.images.into_iter().enumerate() {
            xobjects.set(format!("Im{i}"), doc.add_object(image));
        }
        let content = doc.add_object(Stream::new(Dictionary::new(), page.content.into_bytes()));
        let mut dict = dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), A4.0.into(), A4.1.into()],
            "Contents" => content,
            "Resources" => dictionary! { "XObject" => xobjects },
        };
        if let Some(rotate) = page.rotate {
            dict.set("Rotate", rotate);
        }
        kids.push(doc.add_object(dict).into());
    }
    let count = kids.len() as i64;
    let tree = dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count };
    doc.objects.insert(pages_id, tree.into());
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    tweak(&mut doc);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("the test document saves");
    bytes
}

fn image_stream(
    size: (u32, u32),
    space: &str,
    bpc: i64,
    extra: Dictionary,
    data: Vec<u8>,
) -> Stream {
    let mut dict = dictionary! {
        "Type" => "XObject",
        "Subtype" => "Image",
        "Width" => size.0,
        "Height" => size.1,
        "ColorSpace" => space,
        "BitsPerComponent" => bpc,
    };
    dict.extend(&extra);
    Stream::new(dict, data)
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).expect("in-memory write");
    encoder.finish().expect("in-memory write")
}

fn jpeg(data: &[u8], size: (u32, u32), colour: ExtendedColorType) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 95)
        .encode(data, size.0, size.1, colour)
        .expect("the JPEG encodes");
    out
}

/// A white grey image with a black block in its top left corner.
fn corner_block(size: (u32, u32), block: (u32, u32)) -> Vec<u8> {
    let mut data = vec![255u8; (size.0 * size.1) as usize];
    for y in 0..block.1 {
        for x in 0..block.0 {
            data[(y * size.0 + x) as usize] = 0;
        }
    }
    data
}

fn open(bytes: &[u8]) -> ScannedPdf {
    ScannedPdf::open(bytes, Limits::default()).expect("the document opens")
}

fn first_page(bytes: &[u8], dpi: f32) -> GrayImage {
    open(bytes).page_image(0, dpi).expect("the page renders")
}

fn first_page_error(bytes: &[u8], limits: Limits) -> PageError {
    let pdf = ScannedPdf::open(bytes, limits).expect("the document opens");
    pdf.page_image(0, 72.0).expect_err("the page is refused")
}

fn luma(x: u32, y: u32, image: &GrayImage) -> u8 {
    image.get_pixel(x, y).0[0]
}

fn assert_near(actual: u8, expected: u8, tolerance: u8, what: &str) {
    assert!(
        actual.abs_diff(expected) <= tolerance,
        "{what}: {actual}, expected {expected} ± {tolerance}"
    );
}

#[test]
fn a_grey_jpeg_scan_comes_back_at_its_own_resolution() {
    let size = (160, 224);
    let data = corner_block(size, (80, 112));
    let image = image_stream(
        size,
        "DeviceGray",
        8,
        dictionary! { "Filter" => "DCTDecode" },
        jpeg(&data, size, ExtendedColorType::L8),
    );

    let page = first_page(&pdf(vec![scan_page(image)]), 150.0);

    assert_eq!(page.dimensions(), size);
    assert_near(luma(40, 56, &page), 0, 10, "inside the block");
    assert_near(luma(120, 56, &page), 255, 10, "right of the block");
    assert_near(luma(40, 168, &page), 255, 10, "below the block");
}

#[test]
fn an_rgb_jpeg_scan_is_turned_to_luma() {
    let size = (64, 32);
    let data: Vec<u8> = (0..size.0 * size.1)
        .flat_map(|i| {
            if i % size.0 < 32 {
                [255, 0, 0]
            } else {
                [0, 0, 255]
            }
        })
        .collect();
    let image = image_stream(
        size,
        "DeviceRGB",
        8,
        dictionary! { "Filter" => "DCTDecode" },
        jpeg(&data, size, ExtendedColorType::Rgb8),
    );

    let page = first_page(&pdf(vec![scan_page(image)]), 150.0);

    assert_near(luma(12, 16, &page), 76, 12, "red");
    assert_near(luma(52, 16, &page), 29, 12, "blue");
}

/// Applies PNG row filters, cycling through all five kinds.
fn png_filter(raw: &[u8], row: usize, bpp: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let zero = vec![0u8; row];
    for (y, line) in raw.chunks(row).enumerate() {
        let previous = if y == 0 {
            &zero[..]
        } else {
            &raw[(y - 1) * row..y * row]
        };
        let kind = (y % 5) as u8;
        out.push(kind);
        for i in 0..row {
            let a = if i >= bpp { line[i - bpp] } else { 0 };
            let (b, c) = (previous[i], if i >= bpp { previous[i - bpp] } else { 0 });
            let predicted = match kind {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                _ => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
            };
            out.push(line[i].wrapping_sub(predicted));
        }
    }
    out
}

#[test]
fn a_flate_image_with_png_predictors_decodes_exactly() {
    let size = (64u32, 48u32);
    let raw: Vec<u8> = (0..size.0 * size.1)
        .map(|i| ((i % 64) * 4 + (i / 64) * 3 + (i * 7919) % 13) as u8)
        .collect();
    let parms =
        dictionary! { "Predictor" => 15, "Columns" => 64, "Colors" => 1, "BitsPerComponent" => 8 };
    let extra = dictionary! { "Filter" => "FlateDecode", "DecodeParms" => parms };
    let image = image_stream(size, "DeviceGray", 8, extra, zlib(&png_filter(&raw, 64, 1)));

    let page = first_page(&pdf(vec![scan_page(image)]), 150.0);

    assert_eq!(page.into_raw(), raw);
}

#[test]
fn an_rgb_flate_image_with_png_predictors_is_turned_to_luma() {
    let size = (20u32, 10u32);
    let raw: Vec<u8> = (0..size.0 * size.1 * 3)
        .map(|i| (i * 37 % 256) as u8)
        .collect();
    let parms = dictionary! { "Predictor" => 12, "Columns" => 20, "Colors" => 3 };
    let extra = dictionary! { "Filter" => "FlateDecode", "DecodeParms" => parms };
    let image = image_stream(size, "DeviceRGB", 8, extra, zlib(&png_filter(&raw, 60, 3)));

    let page = first_page(&pdf(vec![scan_page(image)]), 150.0);

    for (pixel, rgb) in page.pixels().zip(raw.chunks(3)) {
        let expected =
            0.299 * f32::from(rgb[0]) + 0.587 * f32::from(rgb[1]) + 0.114 * f32::from(rgb[2]);
        assert_near(pixel.0[0], expected.round() as u8, 1, "luma");
    }
}

#[test]
fn a_flate_image_with_the_tiff_predictor_decodes_exactly() {
    let size = (16u32, 4u32);
    let raw: Vec<u8> = (0..size.0 * size.1).map(|i| (i * 11 % 256) as u8).collect();
    let differences: Vec<u8> = raw
        .chunks(16)
        .flat_map(|row| {
            (0..16)
                .map(|x| {
                    if x == 0 {
                        row[0]
                    } else {
                        row[x].wrapping_sub(row[x - 1])
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let parms = dictionary! { "Predictor" => 2, "Columns" => 16 };
    let extra = dictionary! { "Filter" => "FlateDecode", "DecodeParms" => parms };
    let image = image_stream(size, "DeviceGray", 8, extra, zlib(&differences));

    assert_eq!(
        first_page(&pdf(vec![scan_page(image)]), 72.0).into_raw(),
        raw
    );
}

/// A 37 x 20 checkerboard of 4-pixel cells, black where the cell sum is even.
fn checker(x: u32, y: u32) -> bool {
    (x / 4 + y / 4).is_multiple_of(2)
}

fn checker_1bit() -> Stream {
    let (w, h) = (37u32, 20u32);
    let stride = w.div_ceil(8) as usize;
    let mut packed = vec![0u8; stride * h as usize];
    for y in 0..h {
        for x in 0..w {
            if !checker(x, y) {
                packed[y as usize * stride + x as usize / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    image_stream(
        (w, h),
        "DeviceGray",
        1,
        dictionary! { "Filter" => "FlateDecode" },
        zlib(&packed),
    )
}

#[test]
fn a_one_bit_flate_image_is_black_and_white() {
    let page = first_page(&pdf(vec![scan_page(checker_1bit())]), 150.0);

    assert_eq!(page.dimensions(), (37, 20));
    for (x, y, pixel) in page.enumerate_pixels() {
        assert_eq!(
            pixel.0[0],
            if checker(x, y) { 0 } else { 255 },
            "pixel {x},{y}"
        );
    }
}

fn fax_shape(x: u32, y: u32) -> bool {
    let (dx, dy) = (x as i32 - 30, y as i32 - 20);
    dx * dx + dy * dy < 150 || x == 5
}

fn g4(size: (u32, u32)) -> Vec<u8> {
    let mut encoder = Encoder::new(VecWriter::new());
    for y in 0..size.1 {
        let line = (0..size.0).map(|x| {
            if fax_shape(x, y) {
                FaxColor::Black
            } else {
                FaxColor::White
            }
        });
        let Ok(()) = encoder.encode_line(line, size.0);
    }
    let Ok(writer) = encoder.finish();
    writer.finish()
}

#[test]
fn a_ccitt_group_4_image_decodes_exactly() {
    let size = (61u32, 40u32);
    let plain = dictionary! { "K" => -1, "Columns" => 61, "Rows" => 40 };
    let inverted = dictionary! { "K" => -1, "Columns" => 61, "Rows" => 40, "BlackIs1" => true };
    let decode: Vec<Object> = vec![1.into(), 0.into()];
    let images = [
        dictionary! { "Filter" => "CCITTFaxDecode", "DecodeParms" => plain },
        dictionary! { "Filter" => "CCITTFaxDecode", "DecodeParms" => inverted, "Decode" => decode },
    ];

    for extra in images {
        let image = image_stream(size, "DeviceGray", 1, extra, g4(size));
        let page = first_page(&pdf(vec![scan_page(image)]), 150.0);
        assert_eq!(page.dimensions(), size);
        for (x, y, pixel) in page.enumerate_pixels() {
            assert_eq!(
                pixel.0[0],
                if fax_shape(x, y) { 0 } else { 255 },
                "pixel {x},{y}"
            );
        }
    }
}

/// A 40 x 56 scan with a black 10 x 8 block at its top left, shown as `page`.
fn turned_scan(rotate: Option<i64>, content: Option<&str>) -> GrayImage {
    let size = (40, 56);
    let image = image_stream(
        size,
        "DeviceGray",
        8,
        Dictionary::new(),
        corner_block(size, (10, 8)),
    );
    let mut page = scan_page(image);
    page.rotate = rotate;
    if let Some(content) = content {
        page.content = content.into();
    }
    first_page(&pdf(vec![page]), 150.0)
}

#[test]
fn a_scan_is_turned_upright_per_the_page_rotation() {
    let quarter = turned_scan(Some(90), None);
    assert_eq!(quarter.dimensions(), (56, 40));
    assert_eq!(
        luma(52, 5, &quarter),
        0,
        "the block turned to the top right"
    );
    assert_eq!(luma(3, 5, &quarter), 255);

    let half = turned_scan(Some(180), None);
    assert_eq!(half.dimensions(), (40, 56));
    assert_eq!(
        luma(35, 52, &half),
        0,
        "the block turned to the bottom right"
    );
    assert_eq!(luma(3, 3, &half), 255);

    let three_quarters = turned_scan(Some(-90), None);
    assert_eq!(three_quarters.dimensions(), (56, 40));
    assert_eq!(
        luma(3, 35, &three_quarters),
        0,
        "the block turned to the bottom left"
    );
    assert_eq!(luma(3, 5, &three_quarters), 255);
}

#[test]
fn a_scan_drawn_upside_down_is_flipped_back() {
    let flipped = format!("q {} 0 0 {} 0 {} cm /Im0 Do Q", A4.0, -A4.1, A4.1);

    let page = turned_scan(None, Some(&flipped));

    assert_eq!(page.dimensions(), (40, 56));
    assert_eq!(luma(5, 52, &page), 0, "the block shown at the bottom left");
    assert_eq!(luma(5, 3, &page), 255);
}

#[test]
fn image_strips_are_composited_at_the_requested_resolution() {
    let size = (100, 50);
    let dark = image_stream(size, "DeviceGray", 8, Dictionary::new(), vec![0; 5000]);
    let light = image_stream(size, "DeviceGray", 8, Dictionary::new(), vec![200; 5000]);
    let half = A4.1 / 2.0;
    let page = Page {
        content: format!(
            "q {w} 0 0 {half} 0 {half} cm /Im0 Do Q q {w} 0 0 {half} 0 0 cm /Im1 Do Q",
            w = A4.0
        ),
        images: vec![dark, light],
        rotate: None,
    };

    let page = first_page(&pdf(vec![page]), 72.0);

    assert_eq!(page.dimensions(), (595, 842));
    assert_near(luma(300, 200, &page), 0, 2, "top strip");
    assert_near(luma(300, 640, &page), 200, 2, "bottom strip");
}

/// A black square at (100, 700)-(150, 750), a 2 pt circle of radius 50 around (300, 400)
/// and a 0.1 pt line along y = 100.
const SHAPES: &str = "0 g 100 700 50 50 re f
0 G 2 w 350 400 m 350 427.6 327.6 450 300 450 c 272.4 450 250 427.6 250 400 c
250 372.4 272.4 350 300 350 c 327.6 350 350 372.4 350 400 c h S
0.1 w 100 100 m 500 100 l S";

/// Where page point (x, y) lands at `dpi` on an unrotated A4 page.
fn pixel_of(x: f32, y: f32, dpi: f32) -> (u32, u32) {
    let s = dpi / 72.0;
    ((x * s) as u32, ((A4.1 - y) * s) as u32)
}

#[test]
fn a_vector_page_is_rasterized_where_its_shapes_are() {
    let page = first_page(&pdf(vec![vector_page(SHAPES)]), 100.0);

    assert_eq!(page.dimensions(), (827, 1169));
    let at = |x: f32, y: f32| {
        let (px, py) = pixel_of(x, y, 100.0);
        luma(px, py, &page)
    };
    assert_eq!(at(125.0, 725.0), 0, "inside the square");
    assert_eq!(at(90.0, 725.0), 255, "left of the square");
    assert!(at(350.0, 400.0) < 100, "on the circle's right edge");
    assert!(at(300.0, 449.9) < 100, "on the circle's top edge");
    assert_eq!(at(300.0, 400.0), 255, "the circle's centre");
    assert!(at(300.0, 100.0) < 128, "a hairline stays visible");
}

#[test]
fn a_rotated_vector_page_is_rasterized_upright() {
    let mut page = vector_page(SHAPES);
    page.rotate = Some(90);

    let page = first_page(&pdf(vec![page]), 100.0);

    assert_eq!(page.dimensions(), (1169, 827));
    let (x, y) = pixel_of(125.0, 725.0, 100.0);
    assert_eq!(
        luma(1169 - y, x, &page),
        0,
        "the square turned a quarter clockwise"
    );
    assert_eq!(luma(x, y, &page), 255);
}

#[test]
fn shapes_reaching_far_off_the_page_are_clipped_not_fatal() {
    // tiny-skia aborts the process on coordinates this far out unless they are clipped.
    let content = "0 g 100 100 m 300 -600000000 l 500 100 l f
        0 G 5 w 50 400 m 50 -900000000 l S";

    let page = first_page(&pdf(vec![vector_page(content)]), 72.0);

    assert_eq!(luma(300, 792, &page), 0, "inside the long triangle");
    assert_eq!(luma(300, 692, &page), 255, "above it");
    assert_eq!(luma(50, 642, &page), 0, "on the long line");
    assert_eq!(luma(80, 642, &page), 255, "beside it");
}

#[test]
fn a_curve_without_a_current_point_does_not_break_the_page() {
    let content = "0 g 10 10 m 40 40 l 70 10 l f 100 400 200 400 200 500 c 100 500 l f";

    let page = first_page(&pdf(vec![vector_page(content)]), 72.0);

    assert_eq!(luma(40, 842 - 15, &page), 0, "the shape before it is drawn");
}

#[test]
fn leading_junk_is_skipped_like_readers_do() {
    let valid = pdf(vec![vector_page(SHAPES)]);
    let with_junk = |n: usize| [vec![b'#'; n], valid.clone()].concat();

    assert_eq!(open(&with_junk(500)).page_count(), 1);
    assert!(matches!(
        ScannedPdf::open(&with_junk(2000), Limits::default()),
        Err(InputError::NotPdf)
    ));
}

#[test]
fn a_file_that_is_not_a_pdf_is_refused() {
    let result = ScannedPdf::open(b"PK\x03\x04 a zip archive, not a scan", Limits::default());

    assert_eq!(result.err(), Some(InputError::NotPdf));
}

#[test]
fn a_truncated_pdf_is_damaged() {
    let valid = pdf(vec![scan_page(checker_1bit()), vector_page(SHAPES)]);

    let result = ScannedPdf::open(&valid[..valid.len() / 2], Limits::default());

    assert!(
        matches!(result, Err(InputError::Damaged(_))),
        "{:?}",
        result.err()
    );
}

#[test]
fn an_encrypted_pdf_is_refused() {
    let bytes = pdf_with(vec![vector_page(SHAPES)], |doc| {
        let encrypt = doc.add_object(dictionary! {
            "Filter" => "Standard",
            "V" => 1,
            "R" => 2,
            "O" => Object::string_literal(vec![7u8; 32]),
            "U" => Object::string_literal(vec![9u8; 32]),
            "P" => -4,
        });
        doc.trailer.set("Encrypt", encrypt);
    });

    assert_eq!(
        ScannedPdf::open(&bytes, Limits::default()).err(),
        Some(InputError::Encrypted)
    );
}

#[test]
fn a_pdf_without_pages_is_refused() {
    assert_eq!(
        ScannedPdf::open(&pdf(Vec::new()), Limits::default()).err(),
        Some(InputError::NoPages)
    );
}

#[test]
fn a_pdf_with_too_many_pages_is_refused() {
    let pages = (0..150)
        .map(|_| vector_page("0 g 0 0 10 10 re f"))
        .collect();
    let limits = Limits {
        max_pages: 100,
        ..Limits::default()
    };

    let result = ScannedPdf::open(&pdf(pages), limits);

    assert_eq!(
        result.err(),
        Some(InputError::TooManyPages {
            pages: 150,
            max: 100
        })
    );
}

#[test]
fn an_image_claiming_a_huge_size_is_refused_before_decoding() {
    let image = image_stream(
        (100_000, 100_000),
        "DeviceGray",
        8,
        Dictionary::new(),
        vec![0; 16],
    );

    let error = first_page_error(&pdf(vec![scan_page(image)]), Limits::default());

    assert!(matches!(error, PageError::TooLarge(_)), "{error:?}");
}

#[test]
fn a_stream_inflating_past_the_limit_is_refused() {
    let image = image_stream(
        (800, 500),
        "DeviceGray",
        8,
        dictionary! { "Filter" => "FlateDecode" },
        zlib(&[0; 400_000]),
    );
    let limits = Limits {
        max_stream_bytes: 100_000,
        ..Limits::default()
    };

    let error = first_page_error(&pdf(vec![scan_page(image)]), limits);

    assert!(matches!(error, PageError::TooLarge(_)), "{error:?}");
}

#[test]
fn a_page_painting_over_itself_endlessly_is_refused() {
    let content = "0.5 g 0 0 595 842 re f\n".repeat(150);
    let pdf = open(&pdf(vec![vector_page(&content)]));

    let error = pdf.page_image(0, 20.0).expect_err("the page is refused");

    assert!(matches!(error, PageError::TooLarge(_)), "{error:?}");
}

#[test]
fn an_image_that_cannot_be_decoded_names_its_encoding() {
    for (filter, named) in [
        ("JBIG2Decode", "JBIG2Decode"),
        ("JPXDecode", "JPXDecode (JPEG 2000)"),
    ] {
        let image = image_stream(
            (8, 8),
            "DeviceGray",
            1,
            dictionary! { "Filter" => filter },
            vec![0; 8],
        );

        let error = first_page_error(&pdf(vec![scan_page(image)]), Limits::default());

        assert_eq!(
            error,
            PageError::Unsupported(format!("an image ({named}) that could not be decoded"))
        );
    }
}

#[test]
fn pages_can_be_read_on_another_thread() {
    let pdf = open(&pdf(vec![scan_page(checker_1bit())]));

    let page = std::thread::scope(|s| s.spawn(|| pdf.page_image(0, 72.0)).join());

    assert!(matches!(page, Ok(Ok(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn corrupted_uploads_never_panic(
        flips in prop::collection::vec((any::<Index>(), any::<u8>()), 0..12),
        junk in prop::option::of((any::<Index>(), prop::collection::vec(any::<u8>(), 1..64))),
        cut in prop::option::of(any::<Index>()),
    ) {
        let mut bytes = pdf(vec![scan_page(checker_1bit()), vector_page(SHAPES)]);
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Some((at, junk)) = junk {
            let i = at.index(bytes.len());
            bytes.splice(i..i, junk);
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        let limits = Limits { max_pages: 10, max_pixels: 4_000_000, max_stream_bytes: 1 << 20 };
        if let Ok(pdf) = ScannedPdf::open(&bytes, limits) {
            for i in 0..pdf.page_count() {
                let _ = pdf.page_image(i, 36.0);
            }
        }
    }
}
