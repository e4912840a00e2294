//! Colour spaces, reduced to what a grey page needs, and packed image samples turned to
//! grey through them.

use std::borrow::Cow;
use std::rc::Rc;

use lopdf::{Dictionary, Document, Object};

use super::filters::{decode_stream, read_sample};
use super::objects::{deref, get, integer, lossy, param};
use super::{PageError, damaged};

/// A colour space, for turning colours into greys.
#[derive(Debug, Clone)]
pub(super) enum Space {
    Gray,
    Rgb,
    Cmyk,
    Lab,
    /// One ink; its tint is approximated as darkness.
    Separation,
    /// Several inks, approximated by the darkest.
    DeviceN(usize),
    /// A palette, already converted to grey.
    Indexed(Rc<[u8]>),
    Pattern,
}

impl Space {
    pub(super) fn parse(
        doc: &Document,
        object: &Object,
        resources: Option<&Dictionary>,
        depth: usize,
    ) -> Result<Space, PageError> {
        if depth > 4 {
            return Err(damaged("colour spaces refer to each other"));
        }
        match object {
            Object::Name(name) => Self::named(doc, name, resources, depth),
            Object::Array(items) => Self::family(doc, items, resources, depth),
            Object::Reference(_) => match deref(doc, object) {
                Some(target) => Self::parse(doc, target, resources, depth + 1),
                None => Err(damaged("a colour space is missing")),
            },
            _ => Err(damaged("a colour space is malformed")),
        }
    }

    fn named(
        doc: &Document,
        name: &[u8],
        resources: Option<&Dictionary>,
        depth: usize,
    ) -> Result<Space, PageError> {
        match name {
            b"DeviceGray" | b"G" | b"CalGray" => Ok(Space::Gray),
            b"DeviceRGB" | b"RGB" | b"CalRGB" => Ok(Space::Rgb),
            b"DeviceCMYK" | b"CMYK" => Ok(Space::Cmyk),
            b"Pattern" => Ok(Space::Pattern),
            _ => {
                let found = resources
                    .and_then(|r| get(doc, r, b"ColorSpace"))
                    .and_then(|o| o.as_dict().ok())
                    .and_then(|d| get(doc, d, name))
                    .ok_or_else(|| {
                        PageError::Unsupported(format!("colour space {}", lossy(name)))
                    })?;
                Self::parse(doc, found, resources, depth + 1)
            }
        }
    }

    fn family(
        doc: &Document,
        items: &[Object],
        resources: Option<&Dictionary>,
        depth: usize,
    ) -> Result<Space, PageError> {
        let family = items
            .first()
            .and_then(|o| deref(doc, o)?.as_name().ok())
            .unwrap_or(b"");
        let argument = |i: usize| items.get(i).and_then(|o| deref(doc, o));
        match family {
            b"CalGray" => Ok(Space::Gray),
            b"CalRGB" => Ok(Space::Rgb),
            b"CalCMYK" => Ok(Space::Cmyk),
            b"Lab" => Ok(Space::Lab),
            b"Separation" => Ok(Space::Separation),
            b"DeviceN" => {
                let inks = argument(1)
                    .and_then(|o| o.as_array().ok())
                    .map_or(1, Vec::len);
                Ok(Space::DeviceN(inks.clamp(1, 32)))
            }
            b"Pattern" => Ok(Space::Pattern),
            b"ICCBased" => {
                let dict = argument(1)
                    .and_then(|o| o.as_stream().ok())
                    .map(|s| &s.dict);
                match param(doc, dict, b"N") {
                    Some(1) => Ok(Space::Gray),
                    Some(3) => Ok(Space::Rgb),
                    Some(4) => Ok(Space::Cmyk),
                    _ => match dict.and_then(|d| get(doc, d, b"Alternate")) {
                        Some(alternate) => Self::parse(doc, alternate, resources, depth + 1),
                        None => Err(PageError::Unsupported("ICC profile of unknown size".into())),
                    },
                }
            }
            b"Indexed" | b"I" => Self::indexed(doc, items, resources, depth),
            b"" => Err(damaged("a colour space is malformed")),
            _ if items.len() == 1 => Self::named(doc, family, resources, depth + 1),
            other => Err(PageError::Unsupported(format!(
                "colour space {}",
                lossy(other)
            ))),
        }
    }

    /// `[/Indexed base hival lookup]`, with the palette converted to grey once.
    fn indexed(
        doc: &Document,
        items: &[Object],
        resources: Option<&Dictionary>,
        depth: usize,
    ) -> Result<Space, PageError> {
        let argument = |i: usize| items.get(i).and_then(|o| deref(doc, o));
        let base = argument(1).ok_or_else(|| damaged("a palette has no base colour space"))?;
        let base = Self::parse(doc, base, resources, depth + 1)?;
        if matches!(base, Space::Indexed(_) | Space::Pattern) {
            return Err(damaged("a palette's base colour space is invalid"));
        }
        let hival = argument(2).and_then(integer).unwrap_or(255).clamp(0, 255) as usize;
        let lookup: Cow<[u8]> = match argument(3) {
            Some(Object::String(bytes, _)) => Cow::Borrowed(bytes),
            Some(Object::Stream(stream)) => decode_stream(doc, stream, 64 * 1024)?,
            _ => return Err(damaged("a palette has no colours")),
        };
        let n = base.components();
        let palette: Vec<u8> = (0..=hival)
            .map(|index| {
                let colour: Vec<f32> = (0..n)
                    .map(|c| {
                        let (low, high) = base.default_range(c);
                        let byte = lookup.get(index * n + c).copied().unwrap_or(0);
                        low + f32::from(byte) / 255.0 * (high - low)
                    })
                    .collect();
                to_u8(base.gray(&colour).unwrap_or(0.0))
            })
            .collect();
        Ok(Space::Indexed(palette.into()))
    }

    pub(super) fn components(&self) -> usize {
        match self {
            Space::Gray | Space::Separation | Space::Indexed(_) | Space::Pattern => 1,
            Space::Rgb | Space::Lab => 3,
            Space::Cmyk => 4,
            Space::DeviceN(n) => *n,
        }
    }

    /// The natural range of component `c` (what `/Decode` maps samples onto by default).
    fn default_range(&self, c: usize) -> (f32, f32) {
        match (self, c) {
            (Space::Lab, 0) => (0.0, 100.0),
            (Space::Lab, _) => (-100.0, 100.0),
            _ => (0.0, 1.0),
        }
    }

    /// The colour a fill gets when the space is selected (black for process colours).
    pub(super) fn initial(&self) -> Vec<f32> {
        match self {
            Space::Separation | Space::DeviceN(_) => vec![1.0; self.components()],
            _ => vec![0.0; self.components()],
        }
    }

    /// Lightness of a colour in 0..=1, or `None` for a pattern (not drawn).
    pub(super) fn gray(&self, c: &[f32]) -> Option<f32> {
        let at = |i: usize| c.get(i).copied().unwrap_or(0.0).clamp(0.0, 1.0);
        let luma = |r: f32, g: f32, b: f32| 0.299 * r + 0.587 * g + 0.114 * b;
        Some(match self {
            Space::Gray => at(0),
            Space::Rgb => luma(at(0), at(1), at(2)),
            Space::Cmyk => {
                let k = 1.0 - at(3);
                luma((1.0 - at(0)) * k, (1.0 - at(1)) * k, (1.0 - at(2)) * k)
            }
            Space::Lab => (c.first().copied().unwrap_or(0.0) / 100.0).clamp(0.0, 1.0),
            Space::Separation => 1.0 - at(0),
            Space::DeviceN(n) => 1.0 - (0..*n).map(at).fold(0.0, f32::max),
            Space::Indexed(palette) => {
                let index = c.first().copied().unwrap_or(0.0).round().max(0.0) as usize;
                let last = palette.len().saturating_sub(1);
                f32::from(palette.get(index.min(last)).copied().unwrap_or(0)) / 255.0
            }
            Space::Pattern => return None,
        })
    }
}

pub(super) fn to_u8(value: f32) -> u8 {
    (value.clamp(0.0, 1.0) * 255.0).round() as u8
}

pub(super) fn luma8(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000) as u8
}

pub(super) fn to_gray(
    data: &[u8],
    (w, h): (usize, usize),
    bpc: i64,
    space: &Space,
    decode: &[f32],
) -> Result<Vec<u8>, PageError> {
    let n = space.components();
    // 16-bit samples keep their high byte: grey output has 8 bits anyway.
    let (data, bpc): (Cow<[u8]>, usize) = match bpc {
        16 => (data.iter().step_by(2).copied().collect(), 8),
        1 | 2 | 4 | 8 => (Cow::Borrowed(data), bpc as usize),
        other => return Err(damaged(format!("an image has {other} bits per component"))),
    };
    let stride = (w * n * bpc).div_ceil(8);
    if data.len() < stride * h {
        return Err(damaged("an image's data is shorter than its size"));
    }
    let top = (1usize << bpc) - 1;
    // Per component: sample value to its decoded value.
    let tables: Vec<Vec<f32>> = (0..n)
        .map(|c| {
            let (low, high) = match (decode.get(2 * c), decode.get(2 * c + 1), space) {
                (Some(&low), Some(&high), _) => (low, high),
                (_, _, Space::Indexed(_)) => (0.0, top as f32),
                _ => space.default_range(c),
            };
            (0..=top)
                .map(|v| low + v as f32 * (high - low) / top as f32)
                .collect()
        })
        .collect();
    let mut gray = Vec::with_capacity(w * h);
    if n == 1 {
        let table: Vec<u8> = tables[0]
            .iter()
            .map(|&v| to_u8(space.gray(&[v]).unwrap_or(0.0)))
            .collect();
        for row in data.chunks_exact(stride).take(h) {
            gray.extend((0..w).map(|x| table[usize::from(read_sample(row, x, bpc))]));
        }
        return Ok(gray);
    }
    let mut colour = vec![0f32; n];
    for row in data.chunks_exact(stride).take(h) {
        for x in 0..w {
            for (c, value) in colour.iter_mut().enumerate() {
                *value = tables[c][usize::from(read_sample(row, x * n + c, bpc))];
            }
            gray.push(to_u8(space.gray(&colour).unwrap_or(0.0)));
        }
    }
    Ok(gray)
}
