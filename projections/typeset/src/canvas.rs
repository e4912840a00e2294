//! Pages of fills, lines and shaped text, turned into a PDF with printpdf at the end, each
//! font subset (allsorts) to the glyphs used.

use crate::TypesetError;
use crate::emit::{self, Embedded};
use crate::item::Item;
pub use crate::item::{BLACK, Rgb8};
use crate::text::{Face, Shaper, Weight};
use allsorts::subset::{CmapTarget, SubsetProfile, subset};
use printpdf::{FontId, Mm, ParsedFont, PdfDocument, PdfFont, PdfPage, PdfSaveOptions, Pt};
use std::collections::BTreeMap;

/// Horizontal alignment in a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Left.
    Left,
    /// Centred.
    Centre,
    /// Right.
    Right,
}

/// The pages of one document, in points from the bottom left corner.
pub struct Canvas {
    /// Page width (pt).
    pub width: f32,
    /// Page height (pt).
    pub height: f32,
    size_mm: (f32, f32),
    pages: Vec<Vec<Item>>,
    current: usize,
    /// Shapes the texts (and knows the fonts).
    pub shaper: Shaper,
}

fn error(reason: impl std::fmt::Display) -> TypesetError {
    TypesetError(reason.to_string())
}

impl Canvas {
    /// An empty document of pages of a size in millimetres.
    pub fn new(width_mm: f32, height_mm: f32) -> Result<Canvas, TypesetError> {
        Ok(Canvas {
            width: Pt::from(Mm(width_mm)).0,
            height: Pt::from(Mm(height_mm)).0,
            size_mm: (width_mm, height_mm),
            pages: Vec::new(),
            current: 0,
            shaper: Shaper::new().map_err(error)?,
        })
    }

    /// Starts a new page and draws on it.
    pub fn add_page(&mut self) {
        self.pages.push(Vec::new());
        self.current = self.pages.len() - 1;
    }

    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// Draws on an earlier page (0-based).
    pub fn select_page(&mut self, index: usize) {
        if index < self.pages.len() {
            self.current = index;
        }
    }

    fn items(&mut self) -> &mut Vec<Item> {
        if self.pages.is_empty() {
            self.add_page();
        }
        &mut self.pages[self.current]
    }

    /// A filled rectangle.
    pub fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, rgb: Rgb8) {
        self.items().push(Item::Fill { x, y, w, h, rgb });
    }

    /// A straight line; `grey` 0 is black.
    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, grey: u8) {
        self.items().push(Item::Line {
            from,
            to,
            width,
            grey,
        });
    }

    /// A circle's outline (`fill` false) or a filled disc; `grey` 0 is black.
    pub fn circle(&mut self, centre: (f32, f32), r: f32, width: f32, grey: u8, fill: bool) {
        self.items().push(Item::Circle {
            centre,
            r,
            width,
            grey,
            fill,
        });
    }

    /// A rectangle's outline.
    pub fn frame(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32, grey: u8) {
        let (x2, y2) = (x + w, y + h);
        self.line((x, y), (x2, y), width, grey);
        self.line((x2, y), (x2, y2), width, grey);
        self.line((x2, y2), (x, y2), width, grey);
        self.line((x, y2), (x, y), width, grey);
    }

    /// Text on a baseline `y`, in the box from `x` to `x + w` (cut with an ellipsis if it
    /// does not fit); returns the width drawn.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        text: &str,
        weight: Weight,
        size: f32,
        x: f32,
        y: f32,
        w: f32,
        align: Align,
    ) -> f32 {
        self.text_coloured(text, weight, size, (x, y, w), align, BLACK)
    }

    /// [`Canvas::text`] in a colour; `rect` is `(x, baseline, width)`.
    pub fn text_coloured(
        &mut self,
        text: &str,
        weight: Weight,
        size: f32,
        rect: (f32, f32, f32),
        align: Align,
        rgb: Rgb8,
    ) -> f32 {
        let (x, y, w) = rect;
        let shaped = self.shaper.fit(text, weight, size, w.max(0.0));
        let width = shaped.width_pt(size);
        let x = match align {
            Align::Left => x,
            Align::Centre => x + (w - width) / 2.0,
            Align::Right => x + w - width,
        };
        if !shaped.glyphs.is_empty() {
            self.items().push(Item::Text {
                shaped,
                x,
                y,
                size,
                rgb,
                rotated: false,
            });
        }
        width
    }

    /// Text turned a quarter counterclockwise (read upwards), with its baseline at `x`,
    /// starting at `y` and at most `len` long.
    pub fn text_up(&mut self, text: &str, weight: Weight, size: f32, x: f32, y: f32, len: f32) {
        let shaped = self.shaper.fit(text, weight, size, len.max(0.0));
        if !shaped.glyphs.is_empty() {
            self.items().push(Item::Text {
                shaped,
                x,
                y,
                size,
                rgb: BLACK,
                rotated: true,
            });
        }
    }

    /// Width in points of a text at a size.
    pub fn measure(&mut self, text: &str, weight: Weight, size: f32) -> f32 {
        self.shaper.shape(text, weight).width_pt(size)
    }

    /// The PDF.
    pub fn finish(mut self, title: &str) -> Result<Vec<u8>, TypesetError> {
        if self.pages.is_empty() {
            self.add_page();
        }
        // The glyphs used per font, and the text each stands for.
        let mut used: BTreeMap<Face, BTreeMap<u16, String>> = BTreeMap::new();
        for item in self.pages.iter().flatten() {
            if let Item::Text { shaped, .. } = item {
                for g in &shaped.glyphs {
                    used.entry(g.face)
                        .or_default()
                        .entry(g.gid)
                        .or_insert_with(|| g.text.clone());
                }
            }
        }
        let title: String = title.chars().take(200).collect();
        let mut doc = PdfDocument::new(&title);
        let mut fonts = Embedded::new();
        for (face, glyphs) in &used {
            let font = self
                .shaper
                .font(*face)
                .ok_or_else(|| error(format!("font {face:?} not available")))?;
            let mut ids = vec![0u16];
            ids.extend(glyphs.keys().copied().filter(|g| *g != 0));
            // Subset to the glyphs used; if that fails, embed the whole font.
            let (bytes, remap) = match subset(
                &font.font_table_provider,
                &ids,
                &SubsetProfile::Pdf,
                CmapTarget::Unrestricted,
            ) {
                Ok(bytes) => {
                    let remap = ids
                        .iter()
                        .enumerate()
                        .map(|(new, old)| (*old, new as u16))
                        .collect();
                    (bytes, remap)
                }
                Err(_) => (
                    face.bytes().to_vec(),
                    ids.iter().map(|g| (*g, *g)).collect(),
                ),
            };
            let parsed = ParsedFont::from_bytes(&bytes, 0, &mut Vec::new())
                .ok_or_else(|| error(format!("cannot embed font {face:?}")))?;
            let id = FontId(format!("F{}", *face as usize));
            doc.resources
                .fonts
                .map
                .insert(id.clone(), PdfFont::new(parsed));
            fonts.insert(*face, (id, remap));
        }
        let pages = self
            .pages
            .iter()
            .map(|items| {
                PdfPage::new(
                    Mm(self.size_mm.0),
                    Mm(self.size_mm.1),
                    emit::ops(items, &fonts),
                )
            })
            .collect();
        let options = PdfSaveOptions {
            optimize: true,
            subset_fonts: false,
            secure: true,
            image_optimization: None,
        };
        Ok(doc.with_pages(pages).save(&options, &mut Vec::new()))
    }
}
