//! Usernames that cannot pass for one another: `Admin`, `ADMIN`, `ａｄｍｉｎ` (full width)
//! and `admin` are one username, compared by their NFKC, case-folded form (the `key`);
//! control and format characters (zero-width spaces, direction marks) are refused, and so
//! is mixing Latin letters with Cyrillic or Greek ones (`аdmin` with a Cyrillic `а`).

use unicode_normalization::UnicodeNormalization;

/// Why a username is refused.
pub type Refusal = &'static str;

/// Unicode format characters (general category Cf) that occur in text: soft hyphen, Arabic
/// and Syriac marks, zero-width and direction controls, word joiners, the byte order mark,
/// interlinear annotation marks, and tags.
fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

fn script(c: char) -> Option<u8> {
    match c {
        c if c.is_ascii_alphabetic() => Some(0),
        '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Some(1),
        '\u{0400}'..='\u{052F}' => Some(2),
        _ => None,
    }
}

/// The form usernames are compared in, or why the username is refused.
pub fn key(username: &str) -> Result<String, Refusal> {
    if username.chars().any(|c| c.is_control() || is_format(c)) {
        return Err("must not contain control or invisible formatting characters");
    }
    let folded: String = username
        .nfkc()
        .collect::<String>()
        .to_lowercase()
        .nfkc()
        .collect();
    let mut scripts = folded.chars().filter_map(script);
    if let Some(first) = scripts.next()
        && scripts.any(|s| s != first)
    {
        return Err("must not mix Latin letters with Greek or Cyrillic ones");
    }
    Ok(folded)
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn case_and_compatibility_forms_are_one_username() {
        for same in ["Admin", "ADMIN", "ａｄｍｉｎ", "admin"] {
            assert_eq!(key(same), Ok("admin".to_string()), "{same}");
        }
        assert_eq!(key("Zoë"), key("ZOË"));
    }

    #[test]
    fn invisible_characters_and_mixed_scripts_are_refused() {
        for bad in [
            "ad\u{200b}min",
            "ad\u{202e}nim",
            "ad\u{0}min",
            "\u{feff}admin",
            "\u{0430}dmin",
        ] {
            assert!(key(bad).is_err(), "{bad:?}");
        }
        assert!(key("иван").is_ok(), "one script alone is fine");
    }
}
