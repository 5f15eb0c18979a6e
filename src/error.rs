//! The one error type that reaches HTTP: WordPress's `WP_Error` as the REST server
//! renders it (`WP_REST_Server::error_to_response`): `{"code","message","data":{"status"}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// A WordPress-style error. `data` always carries `status` unless `data_null` is set
/// (WordPress passes some `wp_insert_user` errors through with `"data": null` and HTTP 500).
#[derive(Debug, Clone)]
pub struct WpError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra members of `data` besides `status`.
    pub extra: Map<String, Value>,
    pub data_null: bool,
    /// `additional_data`: the data of further errors of the same code (`WP_Error`).
    pub additional: Option<Box<Value>>,
    /// Seconds for a `Retry-After` header (429). Kept small: `WpError` travels in every
    /// handler's `Result`.
    pub retry_after: Option<std::num::NonZeroU32>,
}

pub type WpResult<T> = Result<T, WpError>;

impl WpError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
            data_null: false,
            additional: None,
            retry_after: None,
        }
    }

    /// `rest_authorization_required_code()`: 401 when nobody is logged in, 403 otherwise.
    pub fn auth_required(logged_in: bool, code: &'static str, message: impl Into<String>) -> Self {
        let status = if logged_in {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        };
        Self::new(status, code, message)
    }

    pub fn with_data(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    pub fn body(&self) -> Value {
        let data = if self.data_null {
            Value::Null
        } else {
            let mut data = Map::new();
            data.insert("status".into(), json!(self.status.as_u16()));
            for (k, v) in &self.extra {
                data.insert(k.clone(), v.clone());
            }
            Value::Object(data)
        };
        let mut body = json!({ "code": self.code, "message": self.message, "data": data });
        if let (Some(extra), Some(o)) = (&self.additional, body.as_object_mut()) {
            o.insert("additional_data".into(), (**extra).clone());
        }
        body
    }

    // Infrastructure (spec 1.16).
    pub fn rest_no_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "rest_no_route",
            "No route was found matching the URL and request method.",
        )
    }
    pub fn rest_forbidden(logged_in: bool) -> Self {
        Self::auth_required(
            logged_in,
            "rest_forbidden",
            "Sorry, you are not allowed to do that.",
        )
    }
    pub fn rest_not_logged_in() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "rest_not_logged_in",
            "You are not currently logged in.",
        )
    }
    pub fn rest_invalid_json(message: &str) -> Self {
        Self::rest_invalid_json_code(4, message)
    }
    /// `rest_invalid_json` with PHP's `json_last_error()` code: 4 `JSON_ERROR_SYNTAX`,
    /// 1 `JSON_ERROR_DEPTH` ("Maximum stack depth exceeded").
    pub fn rest_invalid_json_code(code: u8, message: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        )
        .with_data("json_error_code", json!(code))
        .with_data("json_error_message", json!(message))
    }
    /// Too many failed authentication attempts from this client or for this account
    /// (ferropress's own code: WordPress core has no brute-force throttle).
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!(
                "Too many failed authentication attempts. Try again in {retry_after_secs} seconds."
            ),
        )
        .with_data("retry_after", json!(retry_after_secs));
        e.retry_after =
            std::num::NonZeroU32::new(u32::try_from(retry_after_secs.max(1)).unwrap_or(u32::MAX));
        e
    }
    /// The bounded queue of CPU-heavy work (`crate::work`) is full: try again shortly
    /// (ferropress's own code: WordPress has none; its maintenance mode also answers 503
    /// with `Retry-After`).
    pub fn server_busy(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "rest_server_busy",
            "The server is too busy to do this now. Please try again shortly.",
        )
        .with_data("retry_after", json!(retry_after_secs));
        e.retry_after =
            std::num::NonZeroU32::new(u32::try_from(retry_after_secs.max(1)).unwrap_or(u32::MAX));
        e
    }
    pub fn request_header_fields_too_large() -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "rest_request_header_fields_too_large",
            "The request headers are too large.",
        )
    }
    /// A request target longer than `--max-header-bytes` (Apache answers 414 past 8 KB).
    pub fn uri_too_long() -> Self {
        Self::new(
            StatusCode::URI_TOO_LONG,
            "rest_uri_too_long",
            "The request URL is too long.",
        )
    }
    /// Past `--max-connections`: come back in a second.
    pub fn too_many_connections() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "rest_too_many_connections",
            "The server is serving as many connections as it can. Try again shortly.",
        );
        e.retry_after = std::num::NonZeroU32::new(1);
        e
    }
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "rest_request_timeout",
            "The request took too long.",
        )
    }
    pub fn rest_post_invalid_id() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "rest_post_invalid_id",
            "Invalid post ID.",
        )
    }
    pub fn rest_user_invalid_id() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "rest_user_invalid_id",
            "Invalid user ID.",
        )
    }
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "rest_request_too_large",
            "The request body is too large.",
        )
    }
    /// Storage or other internal failure: logged by the caller, never detailed to the client.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "There has been a critical error on this website.",
        )
    }

    // Authentication (wp_authenticate_application_password in user.php).
    pub fn incorrect_password() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "incorrect_password",
            "The provided password is an invalid application password.",
        )
    }
    pub fn invalid_username() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_username",
            "<strong>Error</strong>: Unknown username. Check again or try your email address.",
        )
    }
    pub fn invalid_email() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_email",
            "<strong>Error</strong>: Unknown email address. Check again or try your username.",
        )
    }
    pub fn application_passwords_disabled_for_user() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "application_passwords_disabled_for_user",
            "Application passwords are not available for your account. Please contact the site administrator for assistance.",
        )
    }
}

impl std::fmt::Display for WpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for WpError {}

impl From<sqlx::Error> for WpError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database error");
        Self::internal()
    }
}

impl From<crate::store::StoreError> for WpError {
    fn from(err: crate::store::StoreError) -> Self {
        tracing::error!(error = %err, "store error");
        Self::internal()
    }
}

impl IntoResponse for WpError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, crate::rest::json_body(&self.body())).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::rest::JSON_CONTENT_TYPE),
        );
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.get()));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_wordpress_envelope() {
        let body = WpError::rest_forbidden(false).body();
        assert_eq!(
            body.to_string(),
            r#"{"code":"rest_forbidden","message":"Sorry, you are not allowed to do that.","data":{"status":401}}"#
        );
        let body = WpError::rest_forbidden(true).body();
        assert_eq!(body["data"]["status"], 403);
    }

    #[test]
    fn too_many_requests_carries_retry_after() {
        let e = WpError::too_many_requests(42);
        assert_eq!(
            e.body().to_string(),
            r#"{"code":"too_many_requests","message":"Too many failed authentication attempts. Try again in 42 seconds.","data":{"status":429,"retry_after":42}}"#
        );
        let resp = e.into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "42");
    }

    #[test]
    fn server_busy_is_503_with_retry_after() {
        let e = WpError::server_busy(1);
        assert_eq!(
            e.body().to_string(),
            r#"{"code":"rest_server_busy","message":"The server is too busy to do this now. Please try again shortly.","data":{"status":503,"retry_after":1}}"#
        );
        let resp = e.into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn null_data_is_kept_null() {
        let mut e = WpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "existing_user_login",
            "Sorry, that username already exists!",
        );
        e.data_null = true;
        assert_eq!(
            e.body().to_string(),
            r#"{"code":"existing_user_login","message":"Sorry, that username already exists!","data":null}"#
        );
    }
}
