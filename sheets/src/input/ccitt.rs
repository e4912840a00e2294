//! CCITT fax images (Group 4, and Group 3 with end-of-line codes) decoded to packed 1-bit
//! rows.

use std::convert::Infallible;

use fax::Color as FaxColor;
use fax::decoder::{DecodeStatus, Group4Decoder, decode_g3, pels};
use lopdf::{Dictionary, Document};

use super::filters::write_sample;
use super::objects::{flag, param};
use super::{PageError, damaged};

/// A CCITT fax image, as packed 1-bit rows (0 = black unless `/BlackIs1`).
pub(super) fn ccitt(
    doc: &Document,
    data: &[u8],
    params: Option<&Dictionary>,
    (width, height): (u32, u32),
) -> Result<Vec<u8>, PageError> {
    let k = param(doc, params, b"K").unwrap_or(0);
    let columns = param(doc, params, b"Columns").unwrap_or(i64::from(width));
    if columns != i64::from(width) {
        return Err(damaged("a fax image's width disagrees with its columns"));
    }
    if flag(doc, params, b"EncodedByteAlign") == Some(true) {
        return Err(PageError::Unsupported(
            "CCITTFaxDecode with EncodedByteAlign".into(),
        ));
    }
    let black_is_1 = flag(doc, params, b"BlackIs1").unwrap_or(false);
    let mut sink = FaxRows::new(width, height, black_is_1);
    let complete = if k < 0 {
        let bytes = data.iter().map(|&b| Ok::<u8, Infallible>(b));
        let Ok(mut decoder) = Group4Decoder::new(bytes, width);
        loop {
            if sink.lines >= sink.height {
                break true;
            }
            match decoder.advance() {
                Ok(DecodeStatus::Incomplete) => sink.line(decoder.transition()),
                // Encoders may stop before trailing white lines.
                Ok(DecodeStatus::End) => break true,
                Err(_) => break false,
            }
        }
    } else if k == 0 && flag(doc, params, b"EndOfLine") == Some(true) {
        decode_g3(data.iter().copied(), |t| sink.line(t)).is_some()
    } else {
        return Err(PageError::Unsupported(
            "CCITTFaxDecode Group 3 without EOL or 2-D".into(),
        ));
    };
    if !complete && sink.lines < sink.height {
        return Err(damaged("a fax image is damaged"));
    }
    Ok(sink.packed)
}

/// Decoded fax lines packed into 1-bit rows, white where no line was decoded.
struct FaxRows {
    packed: Vec<u8>,
    width: u32,
    height: usize,
    stride: usize,
    black_is_1: bool,
    lines: usize,
}

impl FaxRows {
    fn new(width: u32, height: u32, black_is_1: bool) -> Self {
        let stride = (width as usize).div_ceil(8);
        let white = if black_is_1 { 0 } else { 0xFF };
        FaxRows {
            packed: vec![white; stride * height as usize],
            width,
            height: height as usize,
            stride,
            black_is_1,
            lines: 0,
        }
    }

    /// One line, given as the positions where its colour changes (starting white).
    fn line(&mut self, transitions: &[u32]) {
        let range = self.lines * self.stride..(self.lines + 1) * self.stride;
        if let Some(row) = self.packed.get_mut(range) {
            for (x, colour) in pels(transitions, self.width).enumerate() {
                let bit = u16::from((colour == FaxColor::Black) == self.black_is_1);
                write_sample(row, x, 1, bit);
            }
        }
        self.lines += 1;
    }
}
