//! Stream filters: the filter chain of a stream, bounded inflating, the rarely used
//! filters through lopdf, and Flate predictors (PNG and TIFF) with their packed samples.

use std::borrow::Cow;
use std::io::Read;

use flate2::read::{DeflateDecoder, ZlibDecoder};
use lopdf::{DecompressError, Dictionary, Document, Object, Stream};

use super::objects::{deref, get2, lossy, param};
use super::{MAX_FILTERS, PageError, damaged};

/// The stream filters understood; the last two are image codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Filter {
    Flate,
    Lzw,
    Ascii85,
    AsciiHex,
    RunLength,
    Dct,
    Ccitt,
}

impl Filter {
    pub(super) fn image_codec(self) -> bool {
        matches!(self, Filter::Dct | Filter::Ccitt)
    }
}

type Chain<'a> = Vec<(Filter, Option<&'a Dictionary>)>;

/// A stream's filters in decoding order, each with its parameters.
pub(super) fn filters<'a>(doc: &'a Document, dict: &'a Dictionary) -> Result<Chain<'a>, PageError> {
    let names: Vec<&Object> = match get2(doc, dict, b"Filter", b"F") {
        None => Vec::new(),
        Some(Object::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    if names.len() > MAX_FILTERS {
        return Err(damaged("a stream chains too many filters"));
    }
    let params: Vec<Option<&Dictionary>> = match get2(doc, dict, b"DecodeParms", b"DP") {
        Some(Object::Array(items)) => items
            .iter()
            .map(|i| deref(doc, i).and_then(|o| o.as_dict().ok()))
            .collect(),
        Some(Object::Dictionary(one)) => vec![Some(one)],
        _ => Vec::new(),
    };
    let mut chain = Vec::with_capacity(names.len());
    for (index, name) in names.into_iter().enumerate() {
        let name = deref(doc, name)
            .and_then(|o| o.as_name().ok())
            .ok_or_else(|| damaged("a stream's filter is not a name"))?;
        let filter = match name {
            b"FlateDecode" | b"Fl" => Filter::Flate,
            b"LZWDecode" | b"LZW" => Filter::Lzw,
            b"ASCII85Decode" | b"A85" => Filter::Ascii85,
            b"ASCIIHexDecode" | b"AHx" => Filter::AsciiHex,
            b"RunLengthDecode" | b"RL" => Filter::RunLength,
            b"DCTDecode" | b"DCT" => Filter::Dct,
            b"CCITTFaxDecode" | b"CCF" => Filter::Ccitt,
            other => return Err(PageError::Unsupported(lossy(other))),
        };
        chain.push((filter, params.get(index).copied().flatten()));
    }
    Ok(chain)
}

/// Runs the general-purpose (non-image) filters of `chain` over `data`.
pub(super) fn unfilter<'d>(
    doc: &Document,
    data: &'d [u8],
    chain: &[(Filter, Option<&Dictionary>)],
    max: usize,
) -> Result<Cow<'d, [u8]>, PageError> {
    let mut data = Cow::Borrowed(data);
    for &(filter, params) in chain {
        data = Cow::Owned(match filter {
            Filter::Flate => unpredict(doc, inflate(&data, max)?, params)?,
            Filter::Lzw => with_lopdf(b"LZWDecode", params, &data, max)?,
            Filter::Ascii85 => with_lopdf(b"ASCII85Decode", params, &data, max)?,
            Filter::AsciiHex => with_lopdf(b"ASCIIHexDecode", params, &data, max)?,
            Filter::RunLength => with_lopdf(b"RunLengthDecode", params, &data, max)?,
            Filter::Dct | Filter::Ccitt => return Err(damaged("an image codec is misplaced")),
        });
    }
    Ok(data)
}

/// A whole non-image stream (page content, form, palette), at most `max` bytes decoded.
pub(super) fn decode_stream<'s>(
    doc: &Document,
    stream: &'s Stream,
    max: usize,
) -> Result<Cow<'s, [u8]>, PageError> {
    let chain = filters(doc, &stream.dict)?;
    let data = unfilter(doc, &stream.content, &chain, max)?;
    if data.len() > max {
        return Err(PageError::TooLarge(format!("a stream exceeds {max} bytes")));
    }
    Ok(data)
}

/// Inflates zlib data, reading at most `max + 1` bytes so a bomb is caught without being
/// held. A damaged tail keeps what was inflated before it, as viewers do.
fn inflate(data: &[u8], max: usize) -> Result<Vec<u8>, PageError> {
    let bound = (max as u64).saturating_add(1);
    let mut out = Vec::new();
    let result = ZlibDecoder::new(data).take(bound).read_to_end(&mut out);
    if result.is_err() && out.is_empty() && data.len() > 2 {
        // Some writers emit raw deflate, or a zlib header with a bad checksum.
        let _ = DeflateDecoder::new(&data[2..])
            .take(bound)
            .read_to_end(&mut out);
    }
    if out.len() > max {
        return Err(PageError::TooLarge(format!(
            "a stream inflates past {max} bytes"
        )));
    }
    if result.is_err() && out.is_empty() {
        return Err(damaged("a compressed stream is damaged"));
    }
    Ok(out)
}

/// The rarely used filters, through lopdf's own bounded decoders.
fn with_lopdf(
    name: &[u8],
    params: Option<&Dictionary>,
    data: &[u8],
    max: usize,
) -> Result<Vec<u8>, PageError> {
    let mut dict = Dictionary::new();
    dict.set("Filter", Object::Name(name.to_vec()));
    if let Some(params) = params {
        dict.set("DecodeParms", Object::Dictionary(params.clone()));
    }
    Stream::new(dict, data.to_vec())
        .decompressed_content_with_limit(max)
        .map_err(|error| match error {
            lopdf::Error::Decompress(DecompressError::MemoryLimitExceeded { .. }) => {
                PageError::TooLarge(format!("a stream decodes past {max} bytes"))
            }
            _ => damaged(format!("a {} stream is damaged", lossy(name))),
        })
}

/// Undoes a Flate predictor: PNG (10 to 15, per-row filter byte) or TIFF 2.
fn unpredict(
    doc: &Document,
    data: Vec<u8>,
    params: Option<&Dictionary>,
) -> Result<Vec<u8>, PageError> {
    let predictor = param(doc, params, b"Predictor").unwrap_or(1);
    if predictor < 2 {
        return Ok(data);
    }
    let colors = param(doc, params, b"Colors").unwrap_or(1);
    let bpc = param(doc, params, b"BitsPerComponent").unwrap_or(8);
    let columns = param(doc, params, b"Columns").unwrap_or(1);
    if !(1..=32).contains(&colors)
        || ![1, 2, 4, 8, 16].contains(&bpc)
        || !(1..=1 << 24).contains(&columns)
    {
        return Err(damaged("a stream's predictor parameters are invalid"));
    }
    let (colors, bpc, columns) = (colors as usize, bpc as usize, columns as usize);
    let row = (columns * colors * bpc).div_ceil(8);
    match predictor {
        2 => Ok(tiff_unpredict(data, (row, columns * colors), colors, bpc)),
        10..=15 => png_unpredict(&data, row, (colors * bpc).div_ceil(8)),
        other => Err(PageError::Unsupported(format!("predictor {other}"))),
    }
}

fn png_unpredict(data: &[u8], row: usize, bpp: usize) -> Result<Vec<u8>, PageError> {
    let mut out = Vec::with_capacity(data.len() / (row + 1) * row);
    let mut previous = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        let Some((&kind, line)) = chunk.split_first() else {
            break;
        };
        let mut line = line.to_vec();
        for i in 0..line.len() {
            let left = if i >= bpp { line[i - bpp] } else { 0 };
            let up = previous[i];
            let up_left = if i >= bpp { previous[i - bpp] } else { 0 };
            let predicted = match kind {
                0 => 0,
                1 => left,
                2 => up,
                3 => ((u16::from(left) + u16::from(up)) / 2) as u8,
                4 => paeth(left, up, up_left),
                _ => return Err(damaged("an image row has an unknown PNG filter")),
            };
            line[i] = line[i].wrapping_add(predicted);
        }
        previous[..line.len()].copy_from_slice(&line);
        out.extend_from_slice(&line);
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
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

/// TIFF predictor 2: each sample is stored as the difference from the one to its left.
fn tiff_unpredict(
    mut data: Vec<u8>,
    (row, samples): (usize, usize),
    colors: usize,
    bpc: usize,
) -> Vec<u8> {
    let mask = if bpc == 16 {
        u16::MAX
    } else {
        (1u16 << bpc) - 1
    };
    for line in data.chunks_mut(row) {
        let mut left = [0u16; 32];
        let available = (line.len() * 8 / bpc).min(samples);
        for index in 0..available {
            let value = read_sample(line, index, bpc).wrapping_add(left[index % colors]) & mask;
            write_sample(line, index, bpc, value);
            left[index % colors] = value;
        }
    }
    data
}

/// Sample `index` of a packed row of `bpc`-bit samples (0 past the end).
pub(super) fn read_sample(row: &[u8], index: usize, bpc: usize) -> u16 {
    match bpc {
        8 => row.get(index).copied().map_or(0, u16::from),
        16 => match row.get(index * 2..index * 2 + 2) {
            Some(pair) => u16::from_be_bytes([pair[0], pair[1]]),
            None => 0,
        },
        _ => {
            let bit = index * bpc;
            let byte = row.get(bit / 8).copied().unwrap_or(0);
            u16::from((byte >> (8 - bpc - bit % 8)) & ((1u8 << bpc) - 1))
        }
    }
}

pub(super) fn write_sample(row: &mut [u8], index: usize, bpc: usize, value: u16) {
    match bpc {
        8 => {
            if let Some(byte) = row.get_mut(index) {
                *byte = value as u8;
            }
        }
        16 => {
            if let Some(pair) = row.get_mut(index * 2..index * 2 + 2) {
                pair.copy_from_slice(&value.to_be_bytes());
            }
        }
        _ => {
            let bit = index * bpc;
            let shift = 8 - bpc - bit % 8;
            let mask = ((1u8 << bpc) - 1) << shift;
            if let Some(byte) = row.get_mut(bit / 8) {
                *byte = (*byte & !mask) | (((value as u8) << shift) & mask);
            }
        }
    }
}
