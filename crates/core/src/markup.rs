//! Escaping text for XML, SVG and HTML output: the one place that decides how.

use std::borrow::Cow;

/// Escapes `s` for XML/HTML element content and (double- or single-quoted) attribute values.
/// Control characters that XML 1.0 does not allow become spaces. Borrows when nothing changes.
pub fn escape_xml(s: &str) -> Cow<'_, str> {
    let needs = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || is_forbidden_control(c);
    if !s.contains(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if is_forbidden_control(c) => out.push(' '),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn is_forbidden_control(c: char) -> bool {
    (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped_and_plain_text_is_borrowed() {
        assert_eq!(
            escape_xml("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&apos;x&apos;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert!(matches!(escape_xml("Plejecenter Evigglad"), Cow::Borrowed(_)));
        assert_eq!(escape_xml("a\u{1}b"), "a b");
    }
}
