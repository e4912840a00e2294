//! Text shaping for the PDF reports: a font per character run (DejaVu Sans, falling back to
//! Droid Sans Fallback for Chinese and Japanese, Nanum Gothic for Korean), bidi reordering (right-to-left runs
//! laid out right to left), OpenType shaping with allsorts (Arabic letters in their joined
//! forms, ligatures, kerning, mark positioning), and truncation with an ellipsis.
//!
//! Positions are in thousandths of an em, so a shaped text scales with the font size.

use allsorts::Font;
use allsorts::binary::read::ReadScope;
use allsorts::font::MatchingPresentation;
use allsorts::font_data::{DynamicFontTableProvider, FontData};
use allsorts::glyph_position::{GlyphLayout, TextDirection};
use allsorts::gsub::{FeatureMask, FeatureMaskExt};
use allsorts::tag;
use std::collections::HashMap;
use std::rc::Rc;
use unicode_bidi::{BidiClass, Level, ParagraphBidiInfo, bidi_class};

/// DejaVu Sans: Latin, Greek, Cyrillic, Arabic, Hebrew and more.
const DEJAVU: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold.
const DEJAVU_BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");
/// Droid Sans Fallback: Chinese and Japanese.
const DROID_FALLBACK: &[u8] = include_bytes!("../fonts/DroidSansFallbackFull.ttf");
/// Nanum Gothic: Korean (Hangul), which Droid Sans Fallback lacks.
const NANUM: &[u8] = include_bytes!("../fonts/NanumGothic.ttf");

/// Longest text shaped, in characters: no column or line holds more.
const MAX_CHARS: usize = 400;

/// The ellipsis that ends a truncated text.
const ELLIPSIS: &str = "\u{2026}";

/// An embedded font.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Face {
    /// DejaVu Sans.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
    /// Droid Sans Fallback (CJK).
    Cjk,
    /// Nanum Gothic (Hangul).
    Hangul,
}

impl Face {
    fn index(self) -> usize {
        self as usize
    }

    pub fn bytes(self) -> &'static [u8] {
        match self {
            Face::Regular => DEJAVU,
            Face::Bold => DEJAVU_BOLD,
            Face::Cjk => DROID_FALLBACK,
            Face::Hangul => NANUM,
        }
    }
}

/// Text weight asked for (CJK text has no bold face and stays regular).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weight {
    /// Regular.
    Regular,
    /// Bold.
    Bold,
}

/// A glyph placed on the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedGlyph {
    /// The font.
    pub face: Face,
    /// Glyph id in the full font.
    pub gid: u16,
    /// Offset from the text origin along the baseline (1/1000 em).
    pub x: f32,
    /// Offset across the baseline (1/1000 em).
    pub y: f32,
    /// The characters the glyph stands for (for the ToUnicode map: copy and search).
    pub text: String,
}

/// A shaped text, glyphs in visual order (left to right).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shaped {
    /// The glyphs.
    pub glyphs: Vec<PlacedGlyph>,
    /// Advance width (1/1000 em).
    pub width: f32,
}

impl Shaped {
    /// Width in points at a font size.
    pub fn width_pt(&self, size: f32) -> f32 {
        self.width * size / 1000.0
    }
}

/// A loaded font.
pub type LoadedFont = Font<DynamicFontTableProvider<'static>>;

fn load(face: Face) -> Option<LoadedFont> {
    let data = ReadScope::new(face.bytes())
        .read::<FontData<'static>>()
        .ok()?;
    let provider = data.table_provider(0).ok()?;
    Font::new(provider).ok()
}

/// Shapes texts; caches the results of one rendering (one report).
pub struct Shaper {
    fonts: [Option<LoadedFont>; 4],
    tried: [bool; 4],
    cache: [HashMap<String, Rc<Shaped>>; 2],
    fitted: HashMap<(String, Weight, u32), Rc<Shaped>>,
}

impl Shaper {
    /// A shaper; fails only when the embedded DejaVu fonts cannot be read.
    pub fn new() -> Result<Shaper, String> {
        let mut shaper = Shaper {
            fonts: [None, None, None, None],
            tried: [false; 4],
            cache: [HashMap::new(), HashMap::new()],
            fitted: HashMap::new(),
        };
        for face in [Face::Regular, Face::Bold] {
            if shaper.font(face).is_none() {
                return Err(format!("cannot read the embedded font {face:?}"));
            }
        }
        Ok(shaper)
    }

    /// The loaded font of a face (loaded on first use).
    pub fn font(&mut self, face: Face) -> Option<&mut LoadedFont> {
        let i = face.index();
        if !self.tried[i] {
            self.tried[i] = true;
            self.fonts[i] = load(face);
        }
        self.fonts[i].as_mut()
    }

    fn has_glyph(&mut self, face: Face, ch: char) -> bool {
        self.font(face).is_some_and(|f| {
            f.lookup_glyph_index(ch, MatchingPresentation::NotRequired, None)
                .0
                != 0
        })
    }

    /// Shapes a text (cached).
    pub fn shape(&mut self, text: &str, weight: Weight) -> Rc<Shaped> {
        let slot = weight as usize;
        if let Some(shaped) = self.cache[slot].get(text) {
            return shaped.clone();
        }
        let shaped = Rc::new(self.shape_uncached(text, weight));
        self.cache[slot].insert(text.to_string(), shaped.clone());
        shaped
    }

    /// Shapes a text to fit a width in points at a size, cutting it and adding an ellipsis
    /// when it is too wide (nothing at all when not even the ellipsis fits).
    pub fn fit(&mut self, text: &str, weight: Weight, size: f32, max: f32) -> Rc<Shaped> {
        let full = self.shape(text, weight);
        if full.width_pt(size) <= max + 0.01 {
            return full;
        }
        let key = (text.to_string(), weight, (max / size * 1000.0) as u32);
        if let Some(shaped) = self.fitted.get(&key) {
            return shaped.clone();
        }
        let clean = sanitize(text);
        // Cut points: character boundaries not followed by a combining mark.
        let cuts: Vec<usize> = clean
            .char_indices()
            .filter(|(_, c)| !is_attached(*c))
            .map(|(i, _)| i)
            .collect();
        let fits = |shaper: &mut Shaper, n: usize| -> Option<Shaped> {
            let mut s = clean[..cuts[n]].trim_end().to_string();
            s.push_str(ELLIPSIS);
            // After right-to-left text the ellipsis goes on its left (where the cut is).
            if ends_right_to_left(&s) {
                s.push('\u{200F}');
            }
            let shaped = shaper.shape_uncached(&s, weight);
            (shaped.width_pt(size) <= max + 0.01).then_some(shaped)
        };
        // Largest prefix that fits with the ellipsis (binary search; width grows with length).
        let (mut lo, mut hi) = (0usize, cuts.len());
        let mut best = None;
        while lo < hi {
            let mid = (lo + hi) / 2;
            match fits(self, mid) {
                Some(shaped) => {
                    best = Some(shaped);
                    lo = mid + 1;
                }
                None => hi = mid,
            }
        }
        let shaped = Rc::new(best.unwrap_or_default());
        self.fitted.insert(key, shaped.clone());
        shaped
    }

    fn shape_uncached(&mut self, text: &str, weight: Weight) -> Shaped {
        let clean = sanitize(text);
        let mut out = Shaped::default();
        if clean.is_empty() {
            return out;
        }
        let primary = match weight {
            Weight::Regular => Face::Regular,
            Weight::Bold => Face::Bold,
        };
        // The reports are left-to-right documents: a right-to-left name is a run within a
        // left-to-right line (so "محمد (S1)" keeps its number on the right).
        let bidi = ParagraphBidiInfo::new(&clean, Some(Level::ltr()));
        let (levels, runs) = bidi.visual_runs(0..clean.len());
        let mut pen = 0.0;
        for run in runs {
            let rtl = levels.get(run.start).is_some_and(|l| l.is_rtl());
            let mirrored: String;
            let run_text = if rtl {
                mirrored = clean[run].chars().map(mirror).collect();
                mirrored.as_str()
            } else {
                &clean[run]
            };
            let segments = self.segments(run_text, primary);
            if rtl {
                for (face, seg) in segments.iter().rev() {
                    pen = self.shape_segment(*face, seg, true, pen, &mut out.glyphs);
                }
            } else {
                for (face, seg) in &segments {
                    pen = self.shape_segment(*face, seg, false, pen, &mut out.glyphs);
                }
            }
        }
        out.width = pen;
        out
    }

    /// Splits a run (logical order) into pieces of one font each: the primary face when it has
    /// the character, else the CJK fallback when that has it, else the primary (a box).
    fn segments<'t>(&mut self, run: &'t str, primary: Face) -> Vec<(Face, &'t str)> {
        let mut out: Vec<(Face, &'t str)> = Vec::new();
        let mut start = 0;
        let mut current: Option<Face> = None;
        for (i, ch) in run.char_indices() {
            let face = match current {
                Some(face) if is_attached(ch) => face,
                Some(face) if ch.is_whitespace() && self.has_glyph(face, ch) => face,
                _ if self.has_glyph(primary, ch) => primary,
                _ if self.has_glyph(Face::Cjk, ch) => Face::Cjk,
                _ if self.has_glyph(Face::Hangul, ch) => Face::Hangul,
                _ => primary,
            };
            if current != Some(face) {
                if let Some(prev) = current
                    && i > start
                {
                    out.push((prev, &run[start..i]));
                }
                start = i;
                current = Some(face);
            }
        }
        if let Some(face) = current
            && start < run.len()
        {
            out.push((face, &run[start..]));
        }
        out
    }

    /// Shapes one piece of one font and direction, appends its glyphs in visual order from
    /// `pen`, and returns the pen after it.
    fn shape_segment(
        &mut self,
        face: Face,
        text: &str,
        rtl: bool,
        pen: f32,
        out: &mut Vec<PlacedGlyph>,
    ) -> f32 {
        let face = if self.font(face).is_some() {
            face
        } else {
            Face::Regular
        };
        let Some(font) = self.font(face) else {
            return pen;
        };
        let script = script_of(text, face);
        let glyphs = font.map_glyphs(text, script, MatchingPresentation::NotRequired);
        let infos = match font.shape(
            glyphs,
            script,
            None,
            FeatureMask::default_mask(),
            &[],
            None,
            true,
        ) {
            Ok(infos) => infos,
            Err((_, infos)) => infos,
        };
        let direction = if rtl {
            TextDirection::RightToLeft
        } else {
            TextDirection::LeftToRight
        };
        let positions = GlyphLayout::new(font, &infos, direction, false)
            .glyph_positions()
            .ok();
        let upem = f32::from(font.head_table.units_per_em.max(1));
        let scale = 1000.0 / upem;
        let order: Vec<usize> = if rtl {
            (0..infos.len()).rev().collect()
        } else {
            (0..infos.len()).collect()
        };
        let mut pen = pen;
        for i in order {
            let info = &infos[i];
            let gid = info.glyph.glyph_index;
            // Deleted glyphs, and invisible format characters (bidi marks and controls,
            // zero-width joiners...; shaping has used them): nothing to draw.
            let unicodes = &info.glyph.unicodes;
            if gid == 0xFFFF || (!unicodes.is_empty() && unicodes.iter().all(|c| is_invisible(*c)))
            {
                continue;
            }
            let (advance, dx, dy) = match positions.as_ref().and_then(|p| p.get(i)) {
                Some(p) => (p.hori_advance, p.x_offset, p.y_offset),
                None => (i32::from(font.horizontal_advance(gid).unwrap_or(0)), 0, 0),
            };
            out.push(PlacedGlyph {
                face,
                gid,
                x: pen + dx as f32 * scale,
                y: dy as f32 * scale,
                text: info.glyph.unicodes.iter().collect(),
            });
            pen += advance as f32 * scale;
        }
        pen
    }
}

/// Whether a character attaches to the one before it (combining marks, joiners, variation
/// selectors): it stays in the same font run and a text is never cut before it.
fn is_attached(ch: char) -> bool {
    bidi_class(ch) == BidiClass::NSM
        || matches!(ch, '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}')
        || matches!(ch, '\u{E0100}'..='\u{E01EF}')
}

/// Whether the last letter of a text with a strong direction is right-to-left.
fn ends_right_to_left(text: &str) -> bool {
    text.chars()
        .rev()
        .map(bidi_class)
        .find(|c| matches!(c, BidiClass::L | BidiClass::R | BidiClass::AL))
        .is_some_and(|c| c != BidiClass::L)
}

/// Default-ignorable format characters: never drawn.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The mirrored form of a paired character, shown in right-to-left runs (bidi rule L4).
fn mirror(c: char) -> char {
    match c {
        '(' => ')',
        ')' => '(',
        '[' => ']',
        ']' => '[',
        '{' => '}',
        '}' => '{',
        '<' => '>',
        '>' => '<',
        '«' => '»',
        '»' => '«',
        '‹' => '›',
        '›' => '‹',
        '⁅' => '⁆',
        '⁆' => '⁅',
        '≤' => '≥',
        '≥' => '≤',
        other => other,
    }
}

/// Control characters and line or paragraph separators become spaces; the text is cut to
/// [`MAX_CHARS`] characters.
fn sanitize(text: &str) -> String {
    text.chars()
        .take(MAX_CHARS)
        .map(|c| {
            if c.is_control() || matches!(bidi_class(c), BidiClass::B | BidiClass::S) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The OpenType script of a piece of text: that of its first letter of a known script.
fn script_of(text: &str, face: Face) -> u32 {
    if face == Face::Cjk {
        return u32::from_be_bytes(*b"hani");
    }
    if face == Face::Hangul {
        return u32::from_be_bytes(*b"hang");
    }
    for c in text.chars() {
        let script = match c {
            '\u{0600}'..='\u{06FF}'
            | '\u{0750}'..='\u{077F}'
            | '\u{08A0}'..='\u{08FF}'
            | '\u{FB50}'..='\u{FDFF}'
            | '\u{FE70}'..='\u{FEFF}' => tag::ARAB,
            '\u{0590}'..='\u{05FF}' => u32::from_be_bytes(*b"hebr"),
            '\u{0370}'..='\u{03FF}' => u32::from_be_bytes(*b"grek"),
            '\u{0400}'..='\u{052F}' => tag::CYRL,
            c if c.is_alphabetic() => tag::LATN,
            _ => continue,
        };
        return script;
    }
    tag::LATN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_widths_and_fallback() {
        let mut shaper = Shaper::new().unwrap();
        let s = shaper.shape("Zoë Ñúñez", Weight::Regular);
        assert!(
            s.glyphs
                .iter()
                .all(|g| g.face == Face::Regular && g.gid != 0)
        );
        assert!(s.width > 3000.0);
        let cjk = shaper.shape("李小龙 Lee", Weight::Bold);
        let faces: Vec<Face> = cjk.glyphs.iter().map(|g| g.face).collect();
        assert_eq!(&faces[..3], &[Face::Cjk; 3]);
        assert_eq!(faces.last(), Some(&Face::Bold));
        assert!(cjk.glyphs.iter().all(|g| g.gid != 0));
    }

    #[test]
    fn korean_names_use_the_hangul_face() {
        let mut shaper = Shaper::new().unwrap();
        let korean = shaper.shape("김민준", Weight::Regular);
        assert_eq!(korean.glyphs.len(), 3);
        assert!(
            korean
                .glyphs
                .iter()
                .all(|g| g.face == Face::Hangul && g.gid != 0)
        );
    }

    #[test]
    fn arabic_is_joined_and_right_to_left() {
        let mut shaper = Shaper::new().unwrap();
        let name = "محمد العلي";
        let s = shaper.shape(name, Weight::Regular);
        assert!(s.glyphs.iter().all(|g| g.gid != 0));
        // Visual order is the reverse of the logical order.
        let visual: String = s.glyphs.iter().map(|g| g.text.as_str()).collect();
        let reversed: String = name.chars().rev().collect();
        assert_eq!(visual, reversed);
        // Joined forms: the first letter (rightmost glyph) is not the isolated form.
        let font = shaper.font(Face::Regular).unwrap();
        let isolated = font
            .lookup_glyph_index('م', MatchingPresentation::NotRequired, None)
            .0;
        assert_ne!(s.glyphs.last().unwrap().gid, isolated);
        // Glyphs go left to right.
        assert!(s.glyphs.windows(2).all(|w| w[0].x <= w[1].x));
        // In a left-to-right line the Arabic run comes first, then the rest; brackets inside
        // a right-to-left run are mirrored.
        let visual = |s: &Shaped| s.glyphs.iter().map(|g| g.text.clone()).collect::<String>();
        let mixed = shaper.shape("محمد العلي (S00042)", Weight::Regular);
        assert_eq!(visual(&mixed), format!("{reversed} (S00042)"));
        let nested = shaper.shape("علي (محمد)", Weight::Regular);
        assert_eq!(visual(&nested), "(دمحم) يلع");
    }

    #[test]
    fn any_text_shapes() {
        let mut shaper = Shaper::new().unwrap();
        // Pseudo-random strings over the whole Unicode range, then runs of single blocks
        // (marks, Hebrew, Arabic, Devanagari, Thai, Hangul, emoji...).
        let mut seed: u32 = 12345;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            seed >> 8
        };
        for _ in 0..300 {
            let s: String = (0..12)
                .filter_map(|_| char::from_u32(next() % 0x3_0000))
                .collect();
            let shaped = shaper.shape(&s, Weight::Regular);
            assert!(shaped.width.is_finite());
            shaper.fit(&s, Weight::Bold, 7.0, 30.0);
        }
        for start in (0x300..0x3000)
            .step_by(0x80)
            .chain([0xAC00, 0x1F600, 0xFB50, 0xFE70])
        {
            let s: String = (start..start + 40).filter_map(char::from_u32).collect();
            shaper.shape(&s, Weight::Regular);
            shaper.fit(&s, Weight::Regular, 7.0, 25.0);
        }
    }

    #[test]
    fn fit_truncates_with_ellipsis() {
        let mut shaper = Shaper::new().unwrap();
        let long = "Bartholomew Montgomery-Fitzwilliam the Third of Somewhere";
        let s = shaper.fit(long, Weight::Regular, 8.0, 60.0);
        assert!(s.width_pt(8.0) <= 60.01);
        assert_eq!(s.glyphs.last().map(|g| g.text.as_str()), Some(ELLIPSIS));
        assert!(
            shaper
                .fit(long, Weight::Regular, 8.0, 1.0)
                .glyphs
                .is_empty()
        );
        let huge = "x".repeat(100_000);
        assert!(shaper.fit(&huge, Weight::Regular, 8.0, 100.0).width_pt(8.0) <= 100.01);
        assert!(shaper.shape("\n\t\u{0}", Weight::Regular).glyphs.len() <= 3);
        assert!(shaper.shape("", Weight::Regular).glyphs.is_empty());
        // Invisible format characters draw nothing.
        let marks = shaper.shape("a\u{200F}\u{202E}b\u{2066}\u{FEFF}", Weight::Regular);
        assert_eq!(marks.glyphs.len(), 2);
        // A cut Arabic name has its ellipsis on the left, where the cut is.
        let arabic = "محمد عبد الرحمن العلي الهاشمي";
        let cut = shaper.fit(arabic, Weight::Regular, 8.0, 50.0);
        assert_eq!(cut.glyphs.first().map(|g| g.text.as_str()), Some(ELLIPSIS));
        assert_eq!(cut.glyphs.last().map(|g| g.text.as_str()), Some("م"));
    }
}
