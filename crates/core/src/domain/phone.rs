//! Danish phone numbers: normalised to 8 digits, with "+45"/"0045" and spaces, dots and dashes allowed.

/// The outcome of reading a phone field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phone {
    /// A valid Danish number, as 8 digits.
    Valid(String),
    /// Something was registered but it is not a Danish phone number.
    Malformed(String),
    /// Nothing registered (absent or blank).
    Missing,
}

/// Normalises a phone field: `"+45 33 66 33 66"`, `"33-66-33-66"` and `"0045 33663366"` all
/// become `Valid("33663366")`.
pub fn normalise_phone(raw: Option<&str>) -> Phone {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Phone::Missing;
    };
    let mut s: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '\u{a0}')).collect();
    if let Some(rest) = s.strip_prefix("+45").or_else(|| s.strip_prefix("0045")) {
        s = rest.to_string();
    }
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0') {
        Phone::Valid(s)
    } else {
        Phone::Malformed(raw.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_numbers_normalise() {
        assert_eq!(normalise_phone(Some("+45 33 66 33 66")), Phone::Valid("33663366".into()));
        assert_eq!(normalise_phone(Some("0045-3366-3366")), Phone::Valid("33663366".into()));
        assert_eq!(normalise_phone(Some("  ")), Phone::Missing);
        assert_eq!(normalise_phone(None), Phone::Missing);
        assert_eq!(normalise_phone(Some("3366336")), Phone::Malformed("3366336".into()));
        assert_eq!(normalise_phone(Some("ring til Bo")), Phone::Malformed("ring til Bo".into()));
    }
}
