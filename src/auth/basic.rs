//! HTTP Basic credentials, read the way PHP fills `PHP_AUTH_USER` / `PHP_AUTH_PW`: scheme
//! `Basic` (any case), base64 of `login:password`, split at the first colon. Anything else
//! is no credentials at all, so the request goes on as anonymous, as in WordPress.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::{DecodeSliceError, Engine};
use secrecy::SecretString;
use secrecy::zeroize::Zeroize;

pub struct BasicCredentials {
    pub login: String,
    pub password: SecretString,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// Decoded credentials up to this many bytes stay inside [`Decoded`] (a login of 60
/// characters or an email of 100, and a token, fit many times over).
const INLINE: usize = 256;

/// Basic credentials decoded without allocating, for the request path: the bytes sit in a
/// buffer inside this value and are wiped when it is dropped. Longer ones are kept on the
/// heap (wiped too).
pub struct Decoded {
    inline: [u8; INLINE],
    heap: Option<Vec<u8>>,
    len: usize,
    colon: usize,
}

impl Decoded {
    fn bytes(&self) -> &[u8] {
        match &self.heap {
            Some(heap) => heap,
            None => &self.inline[..self.len],
        }
    }

    /// The login, as PHP's `PHP_AUTH_USER` (invalid UTF-8 replaced).
    pub fn login(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes()[..self.colon])
    }

    /// The password, everything after the first colon (invalid UTF-8 replaced).
    pub fn password(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes()[self.colon + 1..])
    }
}

impl Drop for Decoded {
    fn drop(&mut self) {
        self.inline.zeroize();
        if let Some(heap) = &mut self.heap {
            heap.zeroize();
        }
    }
}

/// Decodes an `Authorization` header value: `None` when it holds no Basic credentials.
pub fn decode(header: &[u8]) -> Option<Decoded> {
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let rest = rest.trim();
    let mut d = Decoded {
        inline: [0; INLINE],
        heap: None,
        len: 0,
        colon: 0,
    };
    match STANDARD.decode_slice(rest, &mut d.inline) {
        Ok(n) => d.len = n,
        Err(DecodeSliceError::OutputSliceTooSmall) => {
            let v = STANDARD.decode(rest).ok()?;
            d.len = v.len();
            d.heap = Some(v);
        }
        Err(DecodeSliceError::DecodeError(_)) => return None,
    }
    d.colon = d.bytes().iter().position(|&b| b == b':')?;
    Some(d)
}

/// Parses an `Authorization` header value.
pub fn parse(header: &[u8]) -> Option<BasicCredentials> {
    let d = decode(header)?;
    Some(BasicCredentials {
        login: d.login().into_owned(),
        password: SecretString::from(d.password().into_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn parses_login_and_password() {
        let c = parse(format!("Basic {}", b64("alice:AbCd EfGh")).as_bytes()).expect("creds");
        assert_eq!(c.login, "alice");
        assert_eq!(c.password.expose_secret(), "AbCd EfGh");
        let c = parse(format!("basic {}", b64("a:b:c")).as_bytes()).expect("creds");
        assert_eq!(c.password.expose_secret(), "b:c");
    }

    #[test]
    fn long_credentials_decode_as_short_ones() {
        let login = "l".repeat(300);
        let password = "p\u{e9}".repeat(200);
        let c = parse(format!("Basic {}", b64(&format!("{login}:{password}"))).as_bytes())
            .expect("creds");
        assert_eq!(c.login, login);
        assert_eq!(c.password.expose_secret(), password);
        let d = decode(format!("Basic  {} ", b64("\u{e9}:x")).as_bytes()).expect("creds");
        assert_eq!((d.login().as_ref(), d.password().as_ref()), ("\u{e9}", "x"));
        let d = decode(format!("Basic {}", STANDARD.encode(b"a\xff:b")).as_bytes()).expect("creds");
        assert_eq!(d.login(), "a\u{fffd}");
    }

    #[test]
    fn malformed_headers_are_no_credentials() {
        for h in [
            "Basic",
            "Basic !!!",
            "Bearer abc",
            "",
            "Basic ",
            &format!("Basic {}", b64("nocolon")),
        ] {
            assert!(parse(h.as_bytes()).is_none(), "{h:?}");
        }
        assert!(parse(b"Basic \xff\xfe").is_none());
    }
}
