//! Photographs a filled sheet page as a phone would and reads it back: writes the photo
//! (JPEG) and the page picture the reader draws (PNG), and prints each row as read.
//!
//! `cargo run -p attendance-sheets --example phone_photo -- OUT_DIR [KEYSTONE_TOP] [TURN_DEG]`

use rand::SeedableRng;
use rand::rngs::StdRng;
use sheets::Layout;
use sheets::omr::{Thresholds, annotate_png, read_page};
use sheets::simulate::{Edge, Fill, Ink, PhoneOptions, photograph};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().ok_or("usage: phone_photo OUT_DIR")?);
    let keystone: f32 = args.next().map_or(Ok(0.06), |a| a.parse())?;
    let turn: f32 = args.next().map_or(Ok(4.0), |a| a.parse())?;
    let mut rng = StdRng::seed_from_u64(24);
    let ids: Vec<String> = (1..=12).map(|i| format!("S{i:04}")).collect();
    let layout = Layout::new("CS101-2026-09-07", &ids);
    let page = &layout.pages[0];
    let fills: Vec<_> = (0..ids.len())
        .map(|i| match i % 4 {
            0 => [Fill::Solid, Fill::Empty, Fill::Empty],
            1 => [Fill::Empty, Fill::Scribble, Fill::Empty],
            2 => [Fill::Empty, Fill::Empty, Fill::Empty],
            _ => [Fill::Empty, Fill::Empty, Fill::Partial],
        })
        .collect();
    let options = PhoneOptions {
        size: (1240, 1654),
        fill: 0.86,
        keystone: (keystone > 0.0).then_some((Edge::Top, keystone)),
        rotation_deg: turn,
        curl: 1.0,
        shadow: 0.3,
        ink: Ink::Blue,
        defocus: 1,
        ..PhoneOptions::straight()
    };
    let jpeg = photograph(page, &fills, &options, &mut rng);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("photo.jpg"), &jpeg)?;
    let image = sheets::photo::decode(&jpeg)?;
    if std::env::var_os("PHOTO_PREVIEW").is_some() {
        image.save(dir.join("photo-preview.png"))?;
    }
    let read = read_page(&image, &Thresholds::default())?;
    std::fs::write(dir.join("photo-read.png"), annotate_png(&read))?;
    for row in &read.rows {
        println!("row {:>2}: {:?}", row.row, row.decision);
    }
    Ok(())
}
