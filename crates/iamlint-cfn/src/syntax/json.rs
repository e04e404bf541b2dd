//! A JSON reader that keeps byte spans (serde_json gives none).
//!
//! The parser is iterative: open maps and lists live on an explicit stack, so a 10,000-deep
//! document is rejected by the depth cap instead of overflowing the thread's stack.

use super::{MAX_DEPTH, MapBuilder, ParseError, depth_error};
use iamlint_core::{FileId, Key, SourceFile, Span, Value, ValueKind};

/// Reads a JSON document into a [`Value`] with byte spans.
pub fn parse_json(file: &SourceFile) -> Result<Value, ParseError> {
    let text: &str = &file.text;
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    JsonParser {
        id: file.id,
        text,
        bytes: text.as_bytes(),
        pos: start,
    }
    .parse()
}

enum Frame {
    List {
        start: usize,
        items: Vec<Value>,
    },
    Map {
        start: usize,
        map: MapBuilder,
        key: Option<Key>,
    },
}

struct JsonParser<'a> {
    id: FileId,
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl JsonParser<'_> {
    fn parse(mut self) -> Result<Value, ParseError> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            self.skip_ws();
            let start = self.pos;
            let mut value = match self.peek() {
                None => return Err(self.eof()),
                Some(b'{') => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(depth_error(self.id, start));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        self.value(ValueKind::Map(Default::default()), start)
                    } else {
                        let key = self.key()?;
                        stack.push(Frame::Map {
                            start,
                            map: MapBuilder::default(),
                            key: Some(key),
                        });
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(depth_error(self.id, start));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        self.value(ValueKind::List(Vec::new()), start)
                    } else {
                        stack.push(Frame::List {
                            start,
                            items: Vec::new(),
                        });
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    let s = self.string()?;
                    self.value(ValueKind::String(s), start)
                }
                Some(b'-' | b'0'..=b'9') => {
                    let n = self.number()?;
                    self.value(ValueKind::Number(n), start)
                }
                Some(b't') if self.rest().starts_with(b"true") => {
                    self.pos += 4;
                    self.value(ValueKind::Bool(true), start)
                }
                Some(b'f') if self.rest().starts_with(b"false") => {
                    self.pos += 5;
                    self.value(ValueKind::Bool(false), start)
                }
                Some(b'n') if self.rest().starts_with(b"null") => {
                    self.pos += 4;
                    self.value(ValueKind::Null, start)
                }
                Some(b']' | b'}') if matches!(stack.last(), Some(Frame::List { items, .. }) if !items.is_empty()) =>
                {
                    return Err(self.error("trailing comma before the closing bracket"));
                }
                Some(_) => return Err(self.unexpected("expected a value")),
            };
            // Attach the finished value to its parent; close every map and list that ends here.
            loop {
                let Some(frame) = stack.last_mut() else {
                    self.skip_ws();
                    if self.pos < self.bytes.len() {
                        return Err(self.error("unexpected content after the JSON document"));
                    }
                    return Ok(value);
                };
                match frame {
                    Frame::List { start, items } => {
                        items.push(value);
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                continue 'value;
                            }
                            Some(b']') => {
                                self.pos += 1;
                                let start = *start;
                                let items = std::mem::take(items);
                                stack.pop();
                                value = self.value(ValueKind::List(items), start);
                            }
                            _ => return Err(self.unexpected("expected `,` or `]`")),
                        }
                    }
                    Frame::Map { start, map, key } => {
                        if let Some(k) = key.take() {
                            map.push(k, value);
                        }
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                if self.peek() == Some(b'}') {
                                    return Err(
                                        self.error("trailing comma before the closing brace")
                                    );
                                }
                                *key = Some(self.key()?);
                                continue 'value;
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                let start = *start;
                                let map = std::mem::take(map).finish();
                                stack.pop();
                                value = self.value(ValueKind::Map(map), start);
                            }
                            _ => return Err(self.unexpected("expected `,` or `}`")),
                        }
                    }
                }
            }
        }
    }

    /// Reads `"name" :` and leaves the position after the colon.
    fn key(&mut self) -> Result<Key, ParseError> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected("expected a string key in double quotes"));
        }
        let start = self.pos;
        let name = self.string()?;
        let span = Span::new(self.id, start, self.pos);
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.unexpected("expected `:`"));
        }
        self.pos += 1;
        Ok(Key { name, span })
    }

    /// Reads a string starting at its opening quote.
    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run ends at an ASCII byte, so it is a whole number of UTF-8 characters.
            out.push_str(self.text.get(run_start..self.pos).unwrap_or(""));
            match self.peek() {
                None => return Err(self.error("unexpected end of file in a string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(_) => {
                    return Err(self.error(
                        "control character in a string (write it as an escape such as `\\n`)",
                    ));
                }
            }
        }
    }

    /// Reads one escape sequence starting at its backslash.
    fn escape(&mut self, out: &mut String) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.peek() else {
            return Err(self.error("unexpected end of file in a string"));
        };
        self.pos += 1;
        let decoded = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4(start)?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    if !self.rest().starts_with(b"\\u") {
                        return Err(ParseError::at(
                            "unpaired surrogate in a `\\u` escape",
                            self.id,
                            start,
                        ));
                    }
                    self.pos += 2;
                    let second = self.hex4(start)?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err(ParseError::at(
                            "unpaired surrogate in a `\\u` escape",
                            self.id,
                            start,
                        ));
                    }
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else {
                    first
                };
                match char::from_u32(code) {
                    Some(ch) => ch,
                    None => {
                        return Err(ParseError::at(
                            "unpaired surrogate in a `\\u` escape",
                            self.id,
                            start,
                        ));
                    }
                }
            }
            _ => {
                let shown = self
                    .text
                    .get(start..)
                    .and_then(|s| s.chars().nth(1))
                    .unwrap_or('?');
                return Err(ParseError::at(
                    format!("invalid escape `\\{shown}`"),
                    self.id,
                    start,
                ));
            }
        };
        out.push(decoded);
        Ok(())
    }

    fn hex4(&mut self, escape_start: usize) -> Result<u32, ParseError> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let code = digits
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok());
        match code {
            Some(code) => {
                self.pos += 4;
                Ok(code)
            }
            None => Err(ParseError::at(
                "invalid `\\u` escape (expected four hex digits)",
                self.id,
                escape_start,
            )),
        }
    }

    /// Reads a number as JSON spells it and returns its text.
    fn number(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = digits(self);
        if n == 0 {
            return Err(self.unexpected("invalid number"));
        }
        if n > 1 && self.bytes.get(int_start) == Some(&b'0') {
            return Err(ParseError::at(
                "invalid number (leading zero)",
                self.id,
                int_start,
            ));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(self.unexpected("invalid number (expected a digit after `.`)"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(self.unexpected("invalid number (expected a digit in the exponent)"));
            }
        }
        Ok(self.text.get(start..self.pos).unwrap_or("").to_owned())
    }

    fn value(&self, kind: ValueKind, start: usize) -> Value {
        Value::new(kind, Span::new(self.id, start, self.pos))
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn rest(&self) -> &[u8] {
        self.bytes.get(self.pos..).unwrap_or(&[])
    }

    fn error(&self, message: &str) -> ParseError {
        ParseError::at(message, self.id, self.pos)
    }

    fn eof(&self) -> ParseError {
        ParseError::at("unexpected end of file", self.id, self.pos)
    }

    /// `message`, or "unexpected end of file" when the input ran out.
    fn unexpected(&self, message: &str) -> ParseError {
        if self.pos >= self.bytes.len() {
            self.eof()
        } else {
            self.error(message)
        }
    }
}
