//! Decompression bombs: every stream a page reaches (content, forms, images and their masks,
//! fonts, annotations) is checked to inflate within [`Limits::max_stream_bytes`], and an
//! image's within what its size needs, before hayro, which inflates streams without a limit,
//! decodes any of them.

use std::collections::HashSet;
use std::io::Read;

use flate2::read::{DeflateDecoder, ZlibDecoder};
use hayro::hayro_syntax::Filter;
use hayro::hayro_syntax::object::{MaybeRef, Name, Object, ObjectIdentifier, Stream};
use hayro::hayro_syntax::page::Page;
use hayro::hayro_syntax::xref::XRef;

use super::{Limits, PageError, too_large};

/// The most Deflate can expand its input (a 258-byte match per bit pair, about 1032:1).
const DEFLATE_RATIO: usize = 1032;
/// Objects a page may reach; a scan reaches a handful, a printed sheet a few dozen.
const MAX_OBJECTS: usize = 100_000;

/// Checks every stream reachable from `page` (but not its parents) against the limits.
pub(super) fn check(page: &Page<'_>, limits: &Limits) -> Result<(), PageError> {
    let mut walk = Walk {
        xref: page.xref(),
        seen: HashSet::new(),
        objects: 0,
        limits,
    };
    let mut pending: Vec<Object<'_>> = vec![Object::Dict(page.raw().clone())];
    while let Some(object) = pending.pop() {
        walk.visit(object, &mut pending)?;
    }
    Ok(())
}

struct Walk<'x, 'l> {
    xref: &'x XRef,
    seen: HashSet<ObjectIdentifier>,
    objects: usize,
    limits: &'l Limits,
}

impl<'x> Walk<'x, '_> {
    /// Checks `object` if it is a stream and queues what it refers to.
    fn visit(
        &mut self,
        object: Object<'x>,
        pending: &mut Vec<Object<'x>>,
    ) -> Result<(), PageError> {
        self.objects += 1;
        if self.objects > MAX_OBJECTS {
            return Err(too_large("the page refers to too many objects"));
        }
        let dict = match object {
            Object::Dict(dict) => dict,
            Object::Stream(stream) => {
                let limit = image_bytes(&stream).map_or(self.limits.max_stream_bytes, |bytes| {
                    bytes.min(self.limits.max_stream_bytes)
                });
                inflates_within(&stream, limit)?;
                stream.dict().clone()
            }
            Object::Array(array) => {
                for item in array.raw_iter() {
                    self.queue(item, pending);
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        for (key, value) in dict.entries() {
            // The page tree above the page holds every other page.
            if key.as_ref() != b"Parent" {
                self.queue(value, pending);
            }
        }
        Ok(())
    }

    fn queue(&mut self, item: MaybeRef<Object<'x>>, pending: &mut Vec<Object<'x>>) {
        match item {
            MaybeRef::NotRef(object) => pending.push(object),
            MaybeRef::Ref(reference) => {
                let id = ObjectIdentifier::from(reference);
                if self.seen.insert(id)
                    && let Some(object) = self.xref.get::<Object<'x>>(id)
                {
                    pending.push(object);
                }
            }
        }
    }
}

/// Most an image's samples can take once inflated, when its Flate data is all it holds: its
/// rows of samples (a predictor byte each), with a little room for writers that pad. A
/// stream that inflates past that is a bomb whatever the document-wide limit allows.
fn image_bytes(stream: &Stream<'_>) -> Option<usize> {
    let dict = stream.dict();
    let is_image = dict
        .get::<Name<'_>>(b"Subtype")
        .is_some_and(|name| name.as_ref() == b"Image");
    if !is_image || stream.filters().as_slice() != [Filter::FlateDecode] {
        return None;
    }
    let width = dict.get::<u32>(b"Width")? as usize;
    let height = dict.get::<u32>(b"Height")? as usize;
    let (components, bits) = if dict.get::<bool>(b"ImageMask") == Some(true) {
        (1, 1)
    } else {
        // A colour space other than the device ones (Indexed, ICC, Lab...) has at most
        // four components; a missing depth is at most 16 bits.
        let components = match dict.get::<Name<'_>>(b"ColorSpace").as_deref() {
            Some(b"DeviceGray" | b"G") => 1,
            Some(b"DeviceRGB" | b"RGB") => 3,
            _ => 4,
        };
        (
            components,
            dict.get::<u32>(b"BitsPerComponent").unwrap_or(16) as usize,
        )
    };
    let row = (width * components * bits).div_ceil(8) + 1;
    Some(row.saturating_mul(height).saturating_add(64 * 1024))
}

/// Refuses a Flate stream that could inflate past `limit` and does: it is inflated into
/// nothing, counting, so the check costs time but no memory.
fn inflates_within(stream: &Stream<'_>, limit: usize) -> Result<(), PageError> {
    if stream.filters().first() != Some(&Filter::FlateDecode) {
        return Ok(());
    }
    let raw = stream.raw_data();
    if raw.len().saturating_mul(DEFLATE_RATIO) <= limit {
        return Ok(());
    }
    let budget = limit as u64 + 1;
    let mut inflated = counted(ZlibDecoder::new(&raw[..]).take(budget));
    if inflated == 0 {
        // Some writers leave out the zlib header; hayro inflates those too.
        inflated = counted(DeflateDecoder::new(&raw[..]).take(budget));
    }
    if inflated > limit as u64 {
        return Err(too_large(format!("a stream inflates past {limit} bytes")));
    }
    Ok(())
}

/// Bytes `reader` gives until its end or its first error (a damaged stream still inflates
/// up to where it breaks).
fn counted(mut reader: impl Read) -> u64 {
    let mut buffer = [0u8; 64 * 1024];
    let mut total = 0;
    while let Ok(n @ 1..) = reader.read(&mut buffer) {
        total += n as u64;
    }
    total
}
