//! The importer never panics: corrupted scans of real sheets and arbitrary images go through
//! the whole reading path (PDF, page image, OMR, annotated picture) and come out as values or
//! errors.

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sheets::Layout;
use sheets::document::{Options, read_pages};
use sheets::input::Limits;
use sheets::omr::{Thresholds, annotate_png, read_page};
use sheets::simulate::{Encoding, ScanOptions, random_row, scan_page, wrap_pdf};
use std::sync::OnceLock;

/// A small scan (72 dpi keeps it quick) of a filled sheet page, as JPEG and as 1-bit.
fn scan_pdf() -> &'static [u8] {
    static PDF: OnceLock<Vec<u8>> = OnceLock::new();
    PDF.get_or_init(|| {
        let mut rng = StdRng::seed_from_u64(11);
        let ids: Vec<String> = (1..=8).map(|n| format!("S{n}")).collect();
        let layout = Layout::new("fuzz-session", &ids);
        let page = &layout.pages[0];
        let fills: Vec<_> = page
            .rows
            .iter()
            .map(|_| random_row(&mut rng, true))
            .collect();
        let image = scan_page(page, &fills, &ScanOptions::ideal(100.0), &mut rng);
        wrap_pdf(vec![
            (image.clone(), Encoding::Jpeg { quality: 60 }),
            (image, Encoding::Bitonal),
        ])
    })
}

/// Vector pages at 72 dpi, a picture of every page read, two pages at once.
fn at_72_dpi() -> Options {
    Options {
        dpi: 72.0,
        pictures: true,
        workers: 2,
    }
}

/// Reads a whole document, drawing the picture of every page read.
fn read_all(bytes: &[u8]) {
    let limits = Limits {
        max_pages: 4,
        max_pixels: 4_000_000,
        max_stream_bytes: 8 * 1024 * 1024,
    };
    let _ = read_pages(bytes, limits, at_72_dpi(), &Thresholds::default(), |_| {});
}

#[test]
fn the_uncorrupted_scan_reads() {
    let mut pages = 0;
    read_pages(
        scan_pdf(),
        Limits::default(),
        at_72_dpi(),
        &Thresholds::default(),
        |page| {
            assert!(page.read.is_ok(), "page {} reads", page.index + 1);
            pages += 1;
        },
    )
    .expect("a readable PDF");
    assert_eq!(pages, 2);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn corrupted_scans_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..24),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = scan_pdf().to_vec();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        read_all(&bytes);
    }

    #[test]
    fn arbitrary_page_images_never_panic(
        width in 1u32..300,
        height in 1u32..300,
        seed in any::<u64>(),
        stripes in any::<bool>(),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let image = image::GrayImage::from_fn(width, height, |x, y| {
            if stripes {
                image::Luma([if (x / 7 + y / 5) % 2 == 0 { 0 } else { 255 }])
            } else {
                image::Luma([rand::Rng::random(&mut rng)])
            }
        });
        if let Ok(read) = read_page(&image, &Thresholds::default()) {
            let _ = annotate_png(&read);
        }
    }
}
