//! WordPress eXtended RSS (WXR 1.2), the format of Tools → Export and `wp export`
//! (`wp-admin/includes/export.php`): [`export`] writes it as `export_wp()` does, [`read`]
//! streams one back for `ferropress import wxr`.

pub mod export;
pub mod read;

/// `WXR_VERSION`.
pub const WXR_VERSION: &str = "1.2";

/// MySQL's `Y-m-d H:i:s` of an instant in a zone (`post_date`, `post_date_gmt`).
pub fn mysql_date(ts: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| ZERO_DATE.to_owned())
}

/// The date MySQL stores for "none" (a draft's `post_date_gmt`).
pub const ZERO_DATE: &str = "0000-00-00 00:00:00";

/// Parses a MySQL date read in `tz`; `None` for the zero date or anything unreadable.
pub fn parse_mysql_date(s: &str, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.starts_with("0000-00-00") {
        return None;
    }
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", s).ok()?;
    Some(dt.to_zoned(tz.clone()).ok()?.timestamp().as_second())
}

/// `maybe_serialize()` of a meta value stored as JSON text: strings as they are, numbers
/// and booleans as PHP would print them, arrays and objects PHP-serialized.
pub fn php_meta_value(json_text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(json_text) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Null) => String::new(),
        Ok(serde_json::Value::Bool(b)) => if b { "1" } else { "" }.to_owned(),
        Ok(serde_json::Value::Number(n)) => n.to_string(),
        Ok(v) => {
            let mut out = String::new();
            php_serialize(&v, &mut out);
            out
        }
        Err(_) => json_text.to_owned(),
    }
}

/// PHP's `serialize()` of a JSON value (objects become string-keyed arrays).
fn php_serialize(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    use std::fmt::Write as _;
    match v {
        Value::Null => out.push_str("N;"),
        Value::Bool(b) => {
            let _ = write!(out, "b:{};", u8::from(*b));
        }
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                let _ = write!(out, "i:{n};");
            } else {
                let _ = write!(out, "d:{n};");
            }
        }
        Value::String(s) => {
            let _ = write!(out, "s:{}:\"{s}\";", s.len());
        }
        Value::Array(items) => {
            let _ = write!(out, "a:{}:{{", items.len());
            for (i, item) in items.iter().enumerate() {
                let _ = write!(out, "i:{i};");
                php_serialize(item, out);
            }
            out.push('}');
        }
        Value::Object(map) => {
            let _ = write!(out, "a:{}:{{", map.len());
            for (k, item) in map {
                // PHP turns integer-like keys into integers.
                if k.parse::<i64>().is_ok_and(|i| i.to_string() == *k) {
                    let _ = write!(out, "i:{k};");
                } else {
                    let _ = write!(out, "s:{}:\"{k}\";", k.len());
                }
                php_serialize(item, out);
            }
            out.push('}');
        }
    }
}

/// `maybe_unserialize()` into JSON: a PHP-serialized array or scalar becomes its JSON
/// value, anything else stays the string it is. Objects (`O:`) are left as strings, as
/// WordPress refuses to revive them from imports.
pub fn php_unserialize(s: &str) -> serde_json::Value {
    let mut p = PhpParser {
        b: s.trim().as_bytes(),
        i: 0,
    };
    match p.value() {
        Some(v) if p.i == p.b.len() => v,
        _ => serde_json::Value::String(s.to_owned()),
    }
}

struct PhpParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl PhpParser<'_> {
    fn until(&mut self, end: u8) -> Option<&str> {
        let start = self.i;
        let len = self.b.get(start..)?.iter().position(|&c| c == end)?;
        self.i = start + len + 1;
        std::str::from_utf8(&self.b[start..start + len]).ok()
    }

    fn expect(&mut self, s: &[u8]) -> Option<()> {
        if self.b.get(self.i..self.i + s.len())? == s {
            self.i += s.len();
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self) -> Option<serde_json::Value> {
        use serde_json::Value;
        let tag = *self.b.get(self.i)?;
        if tag == b'N' {
            self.expect(b"N;")?;
            return Some(Value::Null);
        }
        self.i += 1;
        self.expect(b":")?;
        match tag {
            b'b' => Some(Value::Bool(self.until(b';')? == "1")),
            b'i' => Some(Value::from(self.until(b';')?.parse::<i64>().ok()?)),
            b'd' => Some(
                serde_json::Number::from_f64(self.until(b';')?.parse::<f64>().ok()?)
                    .map_or(Value::Null, Value::Number),
            ),
            b's' => {
                let len: usize = self.until(b':')?.parse().ok()?;
                self.expect(b"\"")?;
                let bytes = self.b.get(self.i..self.i + len)?;
                self.i += len;
                self.expect(b"\";")?;
                Some(Value::String(String::from_utf8_lossy(bytes).into_owned()))
            }
            b'a' => {
                let n: usize = self.until(b':')?.parse().ok()?;
                self.expect(b"{")?;
                let mut map = serde_json::Map::new();
                let mut list = true;
                // The count is the input's claim: bounded by what is left to read.
                for i in 0..n.min(self.b.len()) {
                    let key = match self.value()? {
                        Value::String(s) => {
                            list = false;
                            s
                        }
                        Value::Number(k) => {
                            if k.as_u64() != Some(i as u64) {
                                list = false;
                            }
                            k.to_string()
                        }
                        _ => return None,
                    };
                    let v = self.value()?;
                    map.insert(key, v);
                }
                self.expect(b"}")?;
                Some(if list {
                    Value::Array(map.into_iter().map(|(_, v)| v).collect())
                } else {
                    Value::Object(map)
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn php_serialize_round_trips() {
        let v = json!({"width": 640, "height": 480, "file": "2026/12/a.jpg",
                       "sizes": {"thumbnail": {"file": "a-150x150.jpg", "width": 150}},
                       "list": ["x", "y"], "r": 1.5, "ok": true});
        let s = php_meta_value(&v.to_string());
        assert!(s.starts_with("a:7:{s:5:\"width\";i:640;"), "{s}");
        assert_eq!(php_unserialize(&s), v);
        assert_eq!(php_unserialize("not serialized"), json!("not serialized"));
        assert_eq!(php_unserialize("a:99999999:{"), json!("a:99999999:{"));
        assert_eq!(php_meta_value("\"plain\""), "plain");
    }

    #[test]
    fn mysql_dates() {
        let tz = jiff::tz::TimeZone::UTC;
        assert_eq!(mysql_date(0, &tz), "1970-01-01 00:00:00");
        assert_eq!(parse_mysql_date("1970-01-01 00:01:00", &tz), Some(60));
        assert_eq!(parse_mysql_date(ZERO_DATE, &tz), None);
    }
}
