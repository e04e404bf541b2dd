//! Terraform's JSON syntax, read with the native-syntax parser.
//!
//! A `.tf.json` file is read as an HCL expression (a JSON object is one), which agrees with
//! Terraform except for escapes. Terraform first decodes each JSON string and then parses
//! the result as a template, so an expression inside `${…}` is written with JSON escapes:
//! `"${jsonencode({a = \"x\"})}"`, as CDK for Terraform writes every `jsonencode`. Read as
//! native syntax, `\"` inside an interpolation is an error, and so is JSON's `\/` anywhere.
//! [`native`] rewrites each such string into the native form of the same template.
//! <https://developer.hashicorp.com/terraform/language/syntax/json#expression-mapping>

use std::borrow::Cow;

/// `text` (a JSON document) with every string in the native syntax's form of the template
/// Terraform reads from it. Byte offsets are kept outside the strings that change: a string
/// that gets shorter is followed by as many spaces. `text` itself when nothing changes or a
/// string is malformed (the parser then reports it).
pub fn native(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('"') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        // A body longer than its JSON form cannot keep the offsets after it (never expected:
        // decoding only shortens); the parser then reads the text as it is.
        let Some((body, consumed)) =
            string(rest).filter(|(body, consumed)| body.len() <= *consumed)
        else {
            return Cow::Borrowed(text);
        };
        out.push_str(&body);
        out.extend(std::iter::repeat_n(' ', consumed - body.len()));
        rest = &rest[consumed..];
    }
    out.push_str(rest);
    if out == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(out)
    }
}

/// One character of a JSON string: what it decodes to and its raw text.
struct Char<'a> {
    decoded: char,
    raw: &'a str,
    escaped: bool,
}

/// The next character of the JSON string body `raw`; `None` at its closing quote or when
/// the escape is malformed.
fn next_char(raw: &str) -> Option<Char<'_>> {
    let mut chars = raw.chars();
    let c = chars.next()?;
    if c == '"' {
        return None;
    }
    if c != '\\' {
        return Some(Char {
            decoded: c,
            raw: &raw[..c.len_utf8()],
            escaped: false,
        });
    }
    let e = chars.next()?;
    let simple = |decoded| {
        Some(Char {
            decoded,
            raw: &raw[..2],
            escaped: true,
        })
    };
    match e {
        '"' => simple('"'),
        '\\' => simple('\\'),
        '/' => simple('/'),
        'n' => simple('\n'),
        'r' => simple('\r'),
        't' => simple('\t'),
        'b' => simple('\u{8}'),
        'f' => simple('\u{c}'),
        'u' => {
            let hex = |s: &str| u32::from_str_radix(s.get(..4)?, 16).ok();
            let high = hex(raw.get(2..)?)?;
            if (0xD800..0xDC00).contains(&high) {
                let low = raw
                    .get(6..8)
                    .filter(|s| *s == "\\u")
                    .and(hex(raw.get(8..)?))?;
                let code = 0x10000 + ((high - 0xD800) << 10) + (low.checked_sub(0xDC00)?);
                return Some(Char {
                    decoded: char::from_u32(code)?,
                    raw: &raw[..12],
                    escaped: true,
                });
            }
            Some(Char {
                decoded: char::from_u32(high)?,
                raw: &raw[..6],
                escaped: true,
            })
        }
        _ => None,
    }
}

/// Where the template reader is inside an interpolation or directive: an expression (with
/// its depth of open braces) or a quoted string nested in it.
enum Frame {
    Expr(usize),
    Str,
}

/// The native form of the JSON string body `raw` (up to and with its closing quote), and
/// how many bytes of `raw` it stands for.
fn string(raw: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut pos = 0;
    let mut stack: Vec<Frame> = Vec::new();
    // A `\` of a nested string escapes the character after it.
    let mut escape_next = false;
    loop {
        let Some(c) = next_char(&raw[pos..]) else {
            // The closing quote (or a malformed escape: left to the parser).
            if !raw[pos..].starts_with('"') || !stack.is_empty() {
                return None;
            }
            out.push('"');
            return Some((out, pos + 1));
        };
        pos += c.raw.len();
        let after = next_char(&raw[pos..]).map(|n| n.decoded);
        match stack.last_mut() {
            // The template's literal text: native escapes are JSON's, except `\/`.
            None => {
                if c.decoded == '/' && c.escaped {
                    out.push('/');
                } else {
                    out.push_str(c.raw);
                }
                if matches!(c.decoded, '$' | '%') && !c.escaped {
                    if after == Some('{') {
                        out.push('{');
                        pos += 1;
                        stack.push(Frame::Expr(0));
                    } else if after == Some(c.decoded) {
                        out.push(c.decoded);
                        pos += 1;
                    }
                }
            }
            Some(Frame::Expr(depth)) => {
                match c.decoded {
                    '{' => *depth += 1,
                    '}' if *depth == 0 => {
                        stack.pop();
                    }
                    '}' => *depth -= 1,
                    '"' => stack.push(Frame::Str),
                    _ => {}
                }
                out.push(if c.decoded.is_whitespace() {
                    ' '
                } else {
                    c.decoded
                });
            }
            Some(Frame::Str) => {
                if c.decoded.is_control() {
                    // Written back as the escape it was (the native syntax has the same).
                    out.push_str(c.raw);
                    escape_next = false;
                    continue;
                }
                out.push(c.decoded);
                if escape_next {
                    escape_next = false;
                    continue;
                }
                match c.decoded {
                    '\\' => escape_next = true,
                    '"' => {
                        stack.pop();
                    }
                    '$' | '%' if after == Some('{') => {
                        let n = next_char(&raw[pos..])?;
                        pos += n.raw.len();
                        out.push('{');
                        stack.push(Frame::Expr(0));
                    }
                    '$' | '%' if after == Some(c.decoded) => {
                        let n = next_char(&raw[pos..])?;
                        pos += n.raw.len();
                        out.push(c.decoded);
                    }
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::native;

    #[test]
    fn strings_without_escapes_are_kept() {
        let text = r#"{"a": "${var.x}", "b": "plain"}"#;
        assert!(matches!(native(text), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn escapes_inside_interpolations_are_decoded_and_offsets_kept() {
        let text = r#"{"p": "${jsonencode({a = \"x\", b = [\"${var.y}\"]})}", "q": 1}"#;
        let out = native(text);
        assert_eq!(out.len(), text.len());
        assert!(out.starts_with(r#"{"p": "${jsonencode({a = "x", b = ["${var.y}"]})}""#));
        assert_eq!(out.find("\"q\""), text.find("\"q\""));
    }

    #[test]
    fn literal_text_keeps_its_escapes_except_the_slash() {
        let out = native(r#"{"a": "x\"y\\z\/w\n", "b": "$${not} \"${var.v}\""}"#);
        assert!(out.starts_with(r#"{"a": "x\"y\\z/w\n" "#), "{out}");
        assert!(out.contains(r#""$${not} \"${var.v}\"""#), "{out}");
    }

    #[test]
    fn nested_strings_keep_their_own_escapes() {
        // JSON `\\\"` is `\"` in the template: an escaped quote inside the nested string.
        let out = native(r#"{"a": "${format(\"%s \\\"q\\\"\", var.x)}"}"#);
        assert!(
            out.starts_with(r#"{"a": "${format("%s \"q\"", var.x)}""#),
            "{out}"
        );
    }

    #[test]
    fn malformed_strings_are_left_to_the_parser() {
        let text = r#"{"a": "${upper(\"x)}"}"#;
        assert_eq!(native(text), text);
    }
}

#[cfg(test)]
mod stress {
    use super::native;

    /// Whatever the text, [`native`] never panics and keeps every byte offset after a string
    /// (the text keeps its length): random texts over the characters its state machine reads.
    #[test]
    fn any_text_keeps_its_length() {
        const ALPHABET: &[&str] = &[
            "\"", "\\", "$", "%", "{", "}", "u", "D8", "DC", "00", "41", "/", "n", " ", "é", "a",
            "\\u", "${", "\\\"", "\t",
        ];
        let mut seed: u64 = 0x5eed;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        };
        for _ in 0..20_000 {
            let len = next() % 24;
            let text: String = (0..len)
                .map(|_| ALPHABET[next() % ALPHABET.len()])
                .collect();
            assert_eq!(native(&text).len(), text.len(), "{text:?}");
        }
    }
}
