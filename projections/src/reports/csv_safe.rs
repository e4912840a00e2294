//! Text cells that a spreadsheet would run as a formula (OWASP's CSV injection): a cell
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which
//! spreadsheets show as text. Only text from people (names, titles, reasons, remarks, ids)
//! goes through here; the numbers the report computes are written as they are.

use std::borrow::Cow;

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as text a spreadsheet will not evaluate.
pub fn text(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// [`text`] for an owned cell.
pub fn owned(cell: String) -> String {
    match text(&cell) {
        Cow::Borrowed(_) => cell,
        Cow::Owned(safe) => safe,
    }
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn formula_triggers_are_quoted_and_other_text_is_left_alone() {
        for hostile in ["=1+2", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(text(hostile), format!("'{hostile}"));
        }
        for plain in ["Ada Obi", "李小龙", "1.5", "", "a=b"] {
            assert_eq!(text(plain), plain);
        }
    }
}
