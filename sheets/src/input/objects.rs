//! Dictionary access: lenient, following references, never panicking.

use lopdf::{Dictionary, Document, Object};

use super::MAX_TREE_DEPTH;

pub(super) fn deref<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Object> {
    doc.dereference(object).ok().map(|(_, o)| o)
}

pub(super) fn get<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    deref(doc, dict.get(key).ok()?)
}

/// A key that inline images may abbreviate (`/W` for `/Width`).
pub(super) fn get2<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    full: &[u8],
    short: &[u8],
) -> Option<&'a Object> {
    get(doc, dict, full).or_else(|| get(doc, dict, short))
}

pub(super) fn integer(object: &Object) -> Option<i64> {
    match object {
        Object::Integer(i) => Some(*i),
        Object::Real(r) if r.is_finite() => Some(r.round() as i64),
        _ => None,
    }
}

pub(super) fn param(doc: &Document, dict: Option<&Dictionary>, key: &[u8]) -> Option<i64> {
    get(doc, dict?, key).and_then(integer)
}

pub(super) fn flag(doc: &Document, dict: Option<&Dictionary>, key: &[u8]) -> Option<bool> {
    get(doc, dict?, key).and_then(|o| o.as_bool().ok())
}

/// The finite numbers of an array (references followed).
pub(super) fn numbers(doc: &Document, object: &Object) -> Vec<f32> {
    match object {
        Object::Array(items) => items
            .iter()
            .filter_map(|i| deref(doc, i)?.as_float().ok())
            .filter(|n| n.is_finite())
            .collect(),
        _ => Vec::new(),
    }
}

/// A page attribute that may be set on the page or any of its ancestors.
pub(super) fn inherited<'a>(
    doc: &'a Document,
    page: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Object> {
    let mut node = page;
    for _ in 0..MAX_TREE_DEPTH {
        if let Some(value) = get(doc, node, key) {
            return Some(value);
        }
        node = get(doc, node, b"Parent")?.as_dict().ok()?;
    }
    None
}

pub(super) fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}
