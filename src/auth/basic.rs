//! HTTP Basic credentials, read the way PHP fills `PHP_AUTH_USER` / `PHP_AUTH_PW`: scheme
//! `Basic` (any case), base64 of `login:password`, split at the first colon. Anything else
//! is no credentials at all, so the request goes on as anonymous, as in WordPress.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;

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

/// Parses an `Authorization` header value.
pub fn parse(header: &[u8]) -> Option<BasicCredentials> {
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let login = String::from_utf8_lossy(&decoded[..colon]).into_owned();
    let password = String::from_utf8_lossy(&decoded[colon + 1..]).into_owned();
    Some(BasicCredentials {
        login,
        password: SecretString::from(password),
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
