//! XML-RPC values on the wire: parsing a `methodCall` as `IXR_Message::parse()` does and
//! writing a `methodResponse` as `IXR_Value::getXml()` does (`wp-includes/IXR/`).
//!
//! The parser is quick-xml's streaming reader: one pass, no DTD (a `<!DOCTYPE` anywhere is a
//! parse error, so neither entity expansion nor external entities exist), only the five
//! predefined entities and character references, and a bound on nesting and element count.

use std::collections::HashMap;
use std::fmt::Write as _;

use std::sync::Arc;

use base64::Engine as _;
use quick_xml::events::Event;

use super::spool::{self, Spooled};

/// A value as WordPress's methods see it after IXR decoded it (PHP scalars and arrays).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    String(String),
    Double(f64),
    /// `dateTime.iso8601`, as sent (`20261207T10:54:55`, with or without `Z`/dashes).
    DateTime(String),
    Base64(Vec<u8>),
    /// A `base64` value decoded to a temporary file as the body arrived (`spool`).
    File(Arc<Spooled>),
    /// A PHP associative array: members in order; a repeated name replaces the earlier value.
    Struct(Vec<(String, Value)>),
    Array(Vec<Value>),
}

/// A parsed `methodCall`.
#[derive(Debug)]
pub struct Call {
    pub method: String,
    pub params: Vec<Value>,
}

/// Nesting of arrays and structs a request may use (WordPress has no limit; the deepest
/// structure any of its methods reads is three levels).
pub const MAX_DEPTH: usize = 32;
/// `xmlrpc_element_limit` (30,000), counted as WordPress does: twice as many `<` in all.
pub const MAX_ELEMENTS: usize = 30_000;

impl Value {
    pub fn str(s: impl Into<String>) -> Self {
        Self::String(s.into())
    }

    /// A struct from `(name, value)` pairs.
    pub fn object<K: Into<String>>(members: impl IntoIterator<Item = (K, Value)>) -> Self {
        Self::Struct(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The member `name` of a struct.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Self::Struct(m) => m.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// What PHP's `foreach` walks: an array's items, a struct's values, a scalar alone.
    pub fn items(&self) -> Vec<Value> {
        match self {
            Self::Array(a) => a.clone(),
            Self::Struct(m) => m.iter().map(|(_, v)| v.clone()).collect(),
            other => vec![other.clone()],
        }
    }

    /// PHP's `(string)` of a scalar (arrays are `"Array"`, as PHP says with a notice).
    pub fn as_php_string(&self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::Bool(true) => "1".to_owned(),
            Self::Bool(false) => String::new(),
            Self::String(s) | Self::DateTime(s) => s.clone(),
            Self::Double(d) => php_float_string(*d),
            Self::Base64(b) => String::from_utf8_lossy(b).into_owned(),
            // Only the upload methods read a file; as text it is nothing.
            Self::File(_) => String::new(),
            Self::Struct(_) | Self::Array(_) => "Array".to_owned(),
        }
    }

    /// PHP's `(int)`.
    pub fn as_php_int(&self) -> i64 {
        match self {
            Self::Int(i) => *i,
            Self::Bool(b) => i64::from(*b),
            Self::String(s) | Self::DateTime(s) => php_intval(s),
            #[allow(clippy::cast_possible_truncation)]
            Self::Double(d) if d.is_finite() => *d as i64,
            Self::Double(_) => 0,
            Self::Base64(b) => php_intval(&String::from_utf8_lossy(b)),
            Self::File(_) => 0,
            Self::Struct(m) => i64::from(!m.is_empty()),
            Self::Array(a) => i64::from(!a.is_empty()),
        }
    }

    /// PHP's truthiness (`(bool)`, `empty()` negated).
    pub fn truthy(&self) -> bool {
        match self {
            Self::Int(i) => *i != 0,
            Self::Bool(b) => *b,
            Self::String(s) | Self::DateTime(s) => !(s.is_empty() || s == "0"),
            Self::Double(d) => *d != 0.0,
            Self::Base64(b) => !(b.is_empty() || b == b"0"),
            Self::File(f) => f.len > 0,
            Self::Struct(m) => !m.is_empty(),
            Self::Array(a) => !a.is_empty(),
        }
    }

    /// The response body of a successful call (`IXR_Server::serve`).
    pub fn response(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse>\n  <params>\n    <param>\n      <value>\n      ");
        self.write(&mut out);
        out.push_str("\n      </value>\n    </param>\n  </params>\n</methodResponse>\n");
        out
    }

    /// `IXR_Value::getXml()`.
    pub fn write(&self, out: &mut String) {
        match self {
            Self::Int(i) => {
                let _ = write!(out, "<int>{i}</int>");
            }
            Self::Bool(b) => {
                let _ = write!(out, "<boolean>{}</boolean>", u8::from(*b));
            }
            Self::Double(d) => {
                let _ = write!(out, "<double>{}</double>", php_float_string(*d));
            }
            Self::String(s) => {
                out.push_str("<string>");
                escape_into(s, out);
                out.push_str("</string>");
            }
            Self::DateTime(s) => {
                out.push_str("<dateTime.iso8601>");
                escape_into(s, out);
                out.push_str("</dateTime.iso8601>");
            }
            // No answer carries a request's file.
            Self::File(_) => out.push_str("<base64></base64>"),
            Self::Base64(b) => {
                out.push_str("<base64>");
                out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
                out.push_str("</base64>");
            }
            // An empty PHP array is a list to IXR, whatever the method meant.
            Self::Struct(members) if members.is_empty() => {
                out.push_str("<array><data>\n</data></array>");
            }
            Self::Array(items) => {
                out.push_str("<array><data>\n");
                for v in items {
                    out.push_str("  <value>");
                    v.write(out);
                    out.push_str("</value>\n");
                }
                out.push_str("</data></array>");
            }
            Self::Struct(members) => {
                out.push_str("<struct>\n");
                for (k, v) in members {
                    out.push_str("  <member><name>");
                    escape_into(k, out);
                    out.push_str("</name><value>");
                    v.write(out);
                    out.push_str("</value></member>\n");
                }
                out.push_str("</struct>");
            }
        }
    }
}

/// A fault answer (`IXR_Error::getXml`).
pub fn fault_response(code: i64, message: &str) -> String {
    let mut out = String::with_capacity(256);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse>\n  <fault>\n    <value>\n      <struct>\n        <member>\n          <name>faultCode</name>\n          <value><int>");
    let _ = write!(out, "{code}");
    out.push_str("</int></value>\n        </member>\n        <member>\n          <name>faultString</name>\n          <value><string>");
    escape_into(message, &mut out);
    out.push_str("</string></value>\n        </member>\n      </struct>\n    </value>\n  </fault>\n</methodResponse>\n");
    out
}

/// `htmlspecialchars()` with PHP 8's default flags (`ENT_QUOTES`), as IXR escapes strings.
fn escape_into(s: &str, out: &mut String) {
    out.push_str(&crate::admin::esc_html(s));
}

/// PHP's `(string)` of a float (shortest round-trip form, `1.0E+25` style past 1e15).
fn php_float_string(d: f64) -> String {
    if d.is_nan() {
        return "NAN".to_owned();
    }
    if d.is_infinite() {
        return if d > 0.0 { "INF" } else { "-INF" }.to_owned();
    }
    if d.fract() == 0.0 && d.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        return format!("{}", d as i64);
    }
    format!("{d}")
}

/// PHP's `(int)` of a string: the leading numeric part (`"12abc"` → 12, `"1e3"` → 1000,
/// `"abc"` → 0), saturating as PHP 8 does on 64-bit.
pub fn php_intval(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let prefix = numeric_prefix(t);
    if prefix.contains(['.', 'e', 'E']) {
        #[allow(clippy::cast_possible_truncation)]
        return prefix.parse::<f64>().map_or(0, |f| f as i64);
    }
    let (neg, digits) = match prefix.as_bytes().first() {
        Some(b'-') => (true, &prefix[1..]),
        Some(b'+') => (false, &prefix[1..]),
        _ => (false, prefix),
    };
    let mut n: i64 = 0;
    for b in digits.bytes() {
        let d = i64::from(b - b'0');
        n = match n.checked_mul(10).and_then(|v| {
            if neg {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        }) {
            Some(v) => v,
            None => return if neg { i64::MIN } else { i64::MAX },
        };
    }
    n
}

/// The longest prefix of `s` that is a PHP numeric string (sign, digits, fraction, exponent).
pub(super) fn numeric_prefix(s: &str) -> &str {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i > int_start;
    if i < b.len() && b[i] == b'.' {
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > i + 1 || digits {
            digits = digits || j > i + 1;
            i = j;
        }
    }
    if !digits {
        return "";
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        let mut j = i + 1;
        if j < b.len() && matches!(b[j], b'+' | b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    &s[..i]
}

/// Why a request is not a well-formed call: -32700 or -32600 as `IXR_Server::serve` answers.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// -32700 "parse error. not well formed"
    NotWellFormed,
    /// -32600 "… Request must be a methodCall"
    NotACall,
}

enum Frame {
    Array(Vec<Value>),
    /// The members so far, and where each name is among them: a repeated name replaces the
    /// earlier value (PHP's array assignment) in one lookup, so a struct of n members costs
    /// n steps, not n²/2 name comparisons.
    Struct(Vec<(String, Value)>, HashMap<String, usize>),
}

/// Parses a request body as `IXR_Message::parse()` would, in one pass.
pub fn parse_call(body: &[u8]) -> Result<Call, ParseError> {
    parse_call_with(body, &[])
}

/// `parse_call()` of a body read by `spool::read`: its markers stand for `files`.
pub fn parse_call_with(body: &[u8], files: &[Arc<Spooled>]) -> Result<Call, ParseError> {
    let text = std::str::from_utf8(body).map_err(|_| ParseError::NotWellFormed)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(ParseError::NotWellFormed);
    }
    // WordPress counts `<` before parsing and refuses past twice the element limit.
    if memchr_count(text.as_bytes(), b'<') > 2 * MAX_ELEMENTS {
        return Err(ParseError::NotWellFormed);
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.expand_empty_elements = true;

    let mut root: Option<String> = None;
    let mut method = String::new();
    let mut params = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut contents = String::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event() {
            Err(_) | Ok(Event::DocType(_)) => return Err(ParseError::NotWellFormed),
            // Elements left open: expat fails at the end of the document.
            Ok(Event::Eof) if depth > 0 => return Err(ParseError::NotWellFormed),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                depth += 1;
                if depth > MAX_DEPTH * 3 + 8 {
                    return Err(ParseError::NotWellFormed);
                }
                contents.clear();
                let name = e.name();
                let tag = name.as_ref();
                if root.is_none() {
                    root = Some(String::from_utf8_lossy(tag).into_owned());
                }
                match tag {
                    b"data" | b"struct" => {
                        if stack.len() >= MAX_DEPTH {
                            return Err(ParseError::NotWellFormed);
                        }
                        stack.push(if tag == b"data" {
                            Frame::Array(Vec::new())
                        } else {
                            Frame::Struct(Vec::new(), HashMap::new())
                        });
                    }
                    _ => {}
                }
            }
            Ok(Event::Text(t)) => {
                let s = t.decode().map_err(|_| ParseError::NotWellFormed)?;
                contents.push_str(&s);
            }
            Ok(Event::GeneralRef(r)) => {
                // `&amp;`, `&#38;`…: predefined entities and character references only.
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    contents.push(c);
                } else {
                    let name = r.decode().map_err(|_| ParseError::NotWellFormed)?;
                    let c = match name.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err(ParseError::NotWellFormed),
                    };
                    contents.push(c);
                }
            }
            Ok(Event::CData(t)) => {
                contents.push_str(
                    std::str::from_utf8(t.as_ref()).map_err(|_| ParseError::NotWellFormed)?,
                );
            }
            Ok(Event::End(e)) => {
                depth = depth.saturating_sub(1);
                let name = e.name();
                let value = match name.as_ref() {
                    b"int" | b"i4" | b"i8" => Some(Value::Int(php_intval(contents.trim()))),
                    b"double" => Some(Value::Double(php_floatval(contents.trim()))),
                    b"string" => Some(Value::String(contents.trim().to_owned())),
                    b"dateTime.iso8601" => Some(Value::DateTime(contents.trim().to_owned())),
                    b"boolean" => {
                        let t = contents.trim();
                        Some(Value::Bool(!(t.is_empty() || t == "0")))
                    }
                    b"base64" => Some(
                        match spool::marker_index(&contents).and_then(|i| files.get(i)) {
                            Some(f) => Value::File(f.clone()),
                            None => Value::Base64(base64_decode_lenient(&contents)),
                        },
                    ),
                    // "If no type is indicated, the type is string."
                    b"value" if !contents.trim().is_empty() => {
                        Some(Value::String(std::mem::take(&mut contents)))
                    }
                    b"data" | b"struct" => match stack.pop() {
                        Some(Frame::Array(a)) => Some(Value::Array(a)),
                        Some(Frame::Struct(m, _)) => Some(Value::Struct(m)),
                        None => None,
                    },
                    b"member" => {
                        names.pop();
                        None
                    }
                    b"name" => {
                        names.push(contents.trim().to_owned());
                        None
                    }
                    b"methodName" => {
                        method = contents.trim().to_owned();
                        None
                    }
                    _ => None,
                };
                if let Some(v) = value {
                    match stack.last_mut() {
                        Some(Frame::Struct(m, index)) => {
                            let key = names.last().cloned().unwrap_or_default();
                            match index.get(&key) {
                                Some(&at) => m[at].1 = v,
                                None => {
                                    index.insert(key.clone(), m.len());
                                    m.push((key, v));
                                }
                            }
                        }
                        Some(Frame::Array(a)) => a.push(v),
                        None => params.push(v),
                    }
                }
                contents.clear();
            }
            Ok(Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::Empty(_)) => {}
        }
    }
    match root.as_deref() {
        Some("methodCall") => Ok(Call { method, params }),
        Some("methodResponse" | "fault") => Err(ParseError::NotACall),
        _ => Err(ParseError::NotWellFormed),
    }
}

fn memchr_count(bytes: &[u8], needle: u8) -> usize {
    bytes.iter().filter(|&&b| b == needle).count()
}

/// PHP's `(double)` of a string: its leading numeric part, else 0.
fn php_floatval(s: &str) -> f64 {
    numeric_prefix(s.trim_start()).parse::<f64>().unwrap_or(0.0)
}

/// PHP's `base64_decode()` without strict mode: characters outside the alphabet are skipped.
pub fn base64_decode_lenient(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for b in s.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).unwrap_or(0));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(xml: &str) -> Result<Call, ParseError> {
        parse_call(xml.as_bytes())
    }

    #[test]
    fn parses_typed_and_untyped_values_as_ixr() {
        let c = call(
            "<?xml version=\"1.0\"?>\n<methodCall><methodName> wp.getPost </methodName><params>\
             <param><value><int> 7 </int></value></param>\
             <param><value>untyped &amp; kept </value></param>\
             <param><value><string> trimmed </string></value></param>\
             <param><value><boolean>0</boolean></value></param>\
             <param><value><base64>aGk=</base64></value></param>\
             <param><value><struct><member><name>a</name><value><i4>1</i4></value></member>\
             <member><name>a</name><value><double>2.5</double></value></member></struct></value></param>\
             <param><value><array><data><value><string>x</string></value><value></value></data></array></value></param>\
             </params></methodCall>",
        )
        .expect("parsed");
        assert_eq!(c.method, "wp.getPost");
        assert_eq!(
            c.params,
            vec![
                Value::Int(7),
                Value::str("untyped & kept "),
                Value::str("trimmed"),
                Value::Bool(false),
                Value::Base64(b"hi".to_vec()),
                Value::object([("a", Value::Double(2.5))]),
                Value::Array(vec![Value::str("x")]),
            ]
        );
    }

    #[test]
    fn refuses_doctype_unknown_entities_and_deep_nesting() {
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]>\
                    <methodCall><methodName>&lol;</methodName></methodCall>";
        assert_eq!(call(bomb).expect_err("refused"), ParseError::NotWellFormed);
        assert_eq!(
            call("<methodCall><methodName>&xxe;</methodName></methodCall>").expect_err("refused"),
            ParseError::NotWellFormed
        );
        let deep = format!(
            "<methodCall><params><param><value>{}{}</value></param></params></methodCall>",
            "<array><data><value>".repeat(100),
            "</value></data></array>".repeat(100)
        );
        assert_eq!(call(&deep).expect_err("refused"), ParseError::NotWellFormed);
        assert_eq!(
            call("<methodResponse/>").expect_err("refused"),
            ParseError::NotACall
        );
        assert_eq!(
            call("not xml").expect_err("refused"),
            ParseError::NotWellFormed
        );
        assert_eq!(
            call("<methodCall>").expect_err("refused"),
            ParseError::NotWellFormed
        );
    }

    #[test]
    fn writes_responses_that_round_trip() {
        let v = Value::object([
            ("id", Value::Int(3)),
            ("name", Value::str("a <b> & 'c'")),
            ("ok", Value::Bool(true)),
            (
                "list",
                Value::Array(vec![Value::DateTime("20261207T10:00:00".into())]),
            ),
        ]);
        let xml = v.response().replace("methodResponse", "methodCall");
        let back = parse_call(xml.as_bytes()).expect("parsed");
        assert_eq!(back.params, vec![v]);
        assert!(fault_response(403, "Incorrect username or password.").contains("<int>403</int>"));
    }

    #[test]
    fn php_casts() {
        assert_eq!(php_intval("12abc"), 12);
        assert_eq!(php_intval(" -7"), -7);
        assert_eq!(php_intval("abc"), 0);
        assert_eq!(php_intval("99999999999999999999"), i64::MAX);
        assert_eq!(php_intval("1e3"), 1000);
        assert!((php_floatval("2.5x") - 2.5).abs() < f64::EPSILON);
        assert_eq!(base64_decode_lenient("a G\nk="), b"hi".to_vec());
    }
}
