//! `POST /batch/v1`: `WP_REST_Server::serve_batch_request_v1()`. Up to 25 write requests
//! in one, each matched, checked and run by the same router and handlers as a request of its
//! own, as the user the outer request authenticated as (authentication happens once, in the
//! pipeline; every handler still makes its own permission checks). Only routes registered
//! with `allow_batch` (`registry::allows_batch`) take part.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use crate::auth::Auth;
use crate::error::{WpError, WpResult};
use crate::site::Site;

use super::params::{Params, Validator, params_from_parts};
use super::registry::{self, Kind};
use super::{Transport, json_response};

/// `WP_REST_Server::get_max_batch_size()` (the `rest_get_max_batch_size` filter's default).
pub const MAX_BATCH_SIZE: usize = 25;

/// The bodies of all sub-responses together are buffered up to this many bytes; a
/// sub-response past it is answered with `rest_batch_response_too_large` instead (its
/// request has run). 25 posts of 1 MiB each, edit context, fit several times over.
const MAX_BATCH_RESPONSE_BYTES: usize = 64 << 20;

/// Response headers a sub-response reports (those WordPress's handlers set; `Allow` is
/// added as `rest_send_allow_header()` does).
const REPORTED_HEADERS: &[(&str, &str)] = &[
    ("location", "Location"),
    ("x-wp-total", "X-WP-Total"),
    ("x-wp-totalpages", "X-WP-TotalPages"),
    ("link", "Link"),
];

pub fn routes() -> Router<Arc<Site>> {
    Router::new().route("/batch/v1", post(serve_batch_request_v1))
}

/// One request of the batch, as `serve_batch_request_v1()` builds it.
struct SubRequest {
    method: Method,
    /// The route (the path of `wp_parse_url( $args['path'] )`).
    path: String,
    query: String,
    body: Option<Map<String, Value>>,
    headers: Vec<(String, String)>,
}

/// `rest_validate_value_from_schema()` of the `requests` argument: the first error, as a
/// `(code, message, data)` reported under `requests`.
fn check_requests(list: &Value) -> Result<(), (&'static str, String, Value)> {
    let Value::Array(items) = list else {
        return Err((
            "rest_invalid_type",
            "requests is not of type array.".into(),
            json!({ "param": "requests" }),
        ));
    };
    for (i, item) in items.iter().enumerate() {
        let p = format!("requests[{i}]");
        let Value::Object(o) = item else {
            return Err((
                "rest_invalid_type",
                format!("{p} is not of type object."),
                json!({ "param": p }),
            ));
        };
        if !o.contains_key("path") {
            return Err((
                "rest_property_required",
                format!("path is a required property of {p}."),
                Value::Null,
            ));
        }
        for (k, v) in o {
            let q = format!("{p}[{k}]");
            let type_error = |ty: &str| {
                Err((
                    "rest_invalid_type",
                    format!("{q} is not of type {ty}."),
                    json!({ "param": q }),
                ))
            };
            match k.as_str() {
                "method" => match v {
                    Value::String(m)
                        if ["POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) => {}
                    Value::String(_) => {
                        return Err((
                            "rest_not_in_enum",
                            format!("{q} is not one of POST, PUT, PATCH, and DELETE."),
                            Value::Null,
                        ));
                    }
                    _ => return type_error("string"),
                },
                "path" if !v.is_string() => return type_error("string"),
                "body" if !v.is_object() => return type_error("object"),
                "headers" => {
                    let Value::Object(h) = v else {
                        return type_error("object");
                    };
                    for (name, value) in h {
                        let ok = match value {
                            Value::String(_) => true,
                            Value::Array(a) => a.iter().all(Value::is_string),
                            _ => false,
                        };
                        if !ok {
                            return Err((
                                "rest_invalid_type",
                                format!("{q}[{name}] is not of type string,array."),
                                json!({ "param": format!("{q}[{name}]") }),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if items.len() > MAX_BATCH_SIZE {
        return Err((
            "rest_too_many_items",
            format!("requests must contain at most {MAX_BATCH_SIZE} items."),
            Value::Null,
        ));
    }
    Ok(())
}

/// The path and query of `wp_parse_url()`: a scheme and host, if any, are dropped, as
/// WordPress keeps only `$parsed_url['path']` and `['query']`.
fn parse_path(raw: &str) -> (String, String) {
    let no_fragment = raw.split('#').next().unwrap_or("");
    let (before, query) = no_fragment.split_once('?').unwrap_or((no_fragment, ""));
    let after_scheme = match before.find("://") {
        Some(i)
            if before[..i]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            Some(&before[i + 3..])
        }
        _ => before.strip_prefix("//"),
    };
    let path = match after_scheme {
        Some(rest) => rest.find('/').map_or("", |i| &rest[i..]),
        None => before,
    };
    (path.to_owned(), query.to_owned())
}

fn sub_request(args: &Map<String, Value>) -> SubRequest {
    let method = args
        .get("method")
        .and_then(Value::as_str)
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .unwrap_or(Method::POST);
    let (path, query) = parse_path(args.get("path").and_then(Value::as_str).unwrap_or(""));
    let body = args
        .get("body")
        .and_then(Value::as_object)
        .filter(|b| !b.is_empty())
        .cloned();
    let mut headers = vec![];
    for (name, value) in args
        .get("headers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        match value {
            Value::String(s) => headers.push((name.clone(), s.clone())),
            Value::Array(a) => {
                let joined: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                headers.push((name.clone(), joined.join(",")));
            }
            _ => {}
        }
    }
    SubRequest {
        method,
        path,
        query,
        body,
        headers,
    }
}

/// The route as the router matches it: lower case, without a trailing slash.
fn route_path(path: &str) -> String {
    let mut p = path.to_ascii_lowercase();
    while p.len() > 1 && p.ends_with('/') {
        p.pop();
    }
    p
}

/// `match_request_to_handler()`, the `allow_batch` check and `has_valid_params()`: the
/// error the request fails validation with, if any.
async fn validate(site: &Site, req: &SubRequest) -> Result<(), WpError> {
    let path = route_path(&req.path);
    let m = registry::match_route(site, &path, req.method.as_str())
        .ok_or_else(WpError::rest_no_route)?;
    if !registry::allows_batch(&m.doc.kind) {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_batch_not_allowed",
            "The requested route does not support batch requests.",
        ));
    }
    let params = params_of(req)?;
    let delete = req.method == Method::DELETE;
    match &m.doc.kind {
        Kind::Posts(base) | Kind::Post(base) => {
            super::posts::validate_write(site, base, delete, &params).await
        }
        Kind::Terms(base) => super::terms::validate_write(base, true, delete, &params),
        Kind::Term(base) => super::terms::validate_write(base, false, delete, &params),
        _ => Ok(()),
    }
}

fn params_of(req: &SubRequest) -> WpResult<Params> {
    let body = req
        .body
        .as_ref()
        .map(|b| Value::Object(b.clone()).to_string())
        .unwrap_or_default();
    params_from_parts(
        &req.method,
        Some(&req.query),
        "application/json",
        body.as_bytes(),
    )
}

/// `Allow` for a matched route (`rest_send_allow_header()`), as the pipeline computes it.
async fn allow_header(
    site: &Site,
    auth: &Auth,
    transport: Transport,
    req: &SubRequest,
    hints: Option<registry::AllowHints>,
) -> Option<String> {
    let path = route_path(&req.path);
    let m = registry::match_route(site, &path, req.method.as_str())?;
    let edit =
        form_urlencoded::parse(req.query.as_bytes()).any(|(k, v)| k == "context" && v == "edit");
    let allow = registry::allowed_methods(site, auth, transport, &m, edit, &req.query, hints).await;
    (!allow.is_empty()).then(|| allow.join(", "))
}

/// `envelope_response( $response, false )->get_data()`: `{body, status, headers}`, where
/// headers with none are PHP's empty array (`[]`).
fn envelope(body: Value, status: StatusCode, headers: Map<String, Value>) -> Value {
    json!({
        "body": body,
        "status": status.as_u16(),
        "headers": if headers.is_empty() { json!([]) } else { Value::Object(headers) },
    })
}

/// Runs one sub-request through the REST router, as the outer request's user; its body may
/// take at most `budget` bytes, which it then uses up.
async fn dispatch(
    site: &Site,
    auth: &Auth,
    transport: Transport,
    req: &SubRequest,
    budget: &mut usize,
) -> WpResult<Value> {
    let router = site.api().ok_or_else(WpError::internal)?;
    let path = route_path(&req.path);
    // Each sub-request within the token's scopes, as a request of its own would be.
    crate::auth::scopes::check_path(site, auth, &path, &req.method)?;
    let uri = if req.query.is_empty() {
        path
    } else {
        format!("{path}?{}", req.query)
    };
    let mut builder = Request::builder().method(req.method.clone()).uri(uri);
    for (name, value) in &req.headers {
        // Credentials and the body's framing are the outer request's business.
        let lower = name.to_ascii_lowercase();
        if [
            "authorization",
            "cookie",
            "content-type",
            "content-length",
            "host",
        ]
        .contains(&lower.as_str())
        {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(lower.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            builder = builder.header(n, v);
        }
    }
    let body = match &req.body {
        Some(b) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(Value::Object(b.clone()).to_string())
        }
        None => Body::empty(),
    };
    let mut http = builder.body(body).map_err(|_| WpError::rest_no_route())?;
    http.extensions_mut().insert(auth.clone());
    http.extensions_mut().insert(transport);
    let resp = router
        .oneshot(http)
        .await
        .unwrap_or_else(|never| match never {});
    let status = resp.status();
    let mut headers = Map::new();
    for (lower, name) in REPORTED_HEADERS {
        if let Some(v) = resp.headers().get(*lower).and_then(|v| v.to_str().ok()) {
            headers.insert((*name).to_owned(), json!(v));
        }
    }
    // What the handler told `Allow` about this request, as the pipeline reads it.
    let hints = resp.extensions().get::<registry::AllowHints>().copied();
    if let Some(allow) = allow_header(site, auth, transport, req, hints).await {
        headers.insert("Allow".into(), json!(allow));
    }
    let bytes = match to_bytes(resp.into_body(), *budget).await {
        Ok(b) => b,
        Err(_) => {
            *budget = 0;
            let e = WpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "rest_batch_response_too_large",
                "The answers of this batch are too large; the request was run, but its answer is not shown.",
            );
            return Ok(envelope(e.body(), e.status, headers));
        }
    };
    *budget -= bytes.len();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(envelope(body, status, headers))
}

async fn serve_batch_request_v1(
    State(site): State<Arc<Site>>,
    auth: Auth,
    transport: Transport,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    v.require("requests");
    let validation = v
        .one_of("validation", &["require-all-validate", "normal"])
        .unwrap_or("normal");
    if let Some(list) = params.get("requests")
        && !list.is_null()
        && let Err((code, message, data)) = check_requests(list)
    {
        v.invalid("requests", code, message, data);
    }
    v.finish()?;
    let requests: Vec<SubRequest> = params
        .get("requests")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(sub_request)
        .collect();

    let mut checks = Vec::with_capacity(requests.len());
    for req in &requests {
        checks.push(validate(&site, req).await);
    }
    let has_error = checks.iter().any(Result::is_err);

    if has_error && validation == "require-all-validate" {
        let responses: Vec<Value> = checks
            .into_iter()
            .map(|c| match c {
                Ok(()) => Value::Null,
                Err(e) => envelope(e.body(), e.status, Map::new()),
            })
            .collect();
        return Ok(json_response(
            StatusCode::MULTI_STATUS,
            &json!({ "failed": "validation", "responses": responses }),
        ));
    }

    let mut responses = Vec::with_capacity(requests.len());
    let mut budget = MAX_BATCH_RESPONSE_BYTES;
    for (req, check) in requests.iter().zip(checks) {
        let answer = match check {
            Err(e) => {
                let mut headers = Map::new();
                if let Some(allow) = allow_header(&site, &auth, transport, req, None).await {
                    headers.insert("Allow".into(), json!(allow));
                }
                envelope(e.body(), e.status, headers)
            }
            Ok(()) => match dispatch(&site, &auth, transport, req, &mut budget).await {
                Ok(v) => v,
                Err(e) => envelope(e.body(), e.status, Map::new()),
            },
        };
        responses.push(answer);
    }
    Ok(json_response(
        StatusCode::MULTI_STATUS,
        &json!({ "responses": responses }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_only_path_and_query_as_wp_parse_url() {
        assert_eq!(
            parse_path("/wp/v2/posts?context=edit"),
            ("/wp/v2/posts".into(), "context=edit".into())
        );
        assert_eq!(
            parse_path("http://elsewhere/wp/v2/posts/1#x"),
            ("/wp/v2/posts/1".into(), String::new())
        );
        assert_eq!(parse_path("//host/wp/v2/tags").0, "/wp/v2/tags");
        assert_eq!(parse_path("wp/v2/posts").0, "wp/v2/posts");
    }

    #[test]
    fn request_list_errors_are_wordpress_s() {
        let too_many = Value::Array(vec![json!({"path": "/wp/v2/posts"}); 26]);
        assert_eq!(
            check_requests(&too_many).expect_err("an error").0,
            "rest_too_many_items"
        );
        let bad_method = json!([{"path": "/a"}, {"path": "/b", "method": "GET"}]);
        let (code, message, _) = check_requests(&bad_method).expect_err("an error");
        assert_eq!(code, "rest_not_in_enum");
        assert_eq!(
            message,
            "requests[1][method] is not one of POST, PUT, PATCH, and DELETE."
        );
        assert_eq!(
            check_requests(&json!([{"method": "POST"}]))
                .expect_err("an error")
                .0,
            "rest_property_required"
        );
        assert!(check_requests(&json!([{"path": "/a", "body": {"x": 1}}])).is_ok());
    }
}
