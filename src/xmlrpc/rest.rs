//! XML-RPC methods (and the WP-CLI commands of `cli`) call the REST routes as the logged-in
//! user (the way `_embed` does), so that every rule of a write or a read has one
//! implementation.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, header};
use serde_json::Value as Json;
use tower::ServiceExt as _;

use crate::auth::{Auth, Client};
use crate::rest::Transport;
use crate::site::Site;
use crate::store::User;

use super::{Fault, Server};

/// Largest REST answer an XML-RPC method reads (a page of 100 posts in the edit context).
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// The REST API as one user over one transport.
pub struct Rest<'a> {
    site: &'a Site,
    auth: Auth,
    transport: Transport,
    /// The caller's address and agent, as the REST handlers record them (a comment's IP).
    client: Client,
}

impl<'a> Rest<'a> {
    pub fn new(s: &Server<'a>, user: Arc<User>) -> Self {
        Self {
            site: s.site,
            auth: Auth {
                user: Some(user),
                app_password: s.grant.as_ref().map(|g| g.uuid),
                // The token's scopes apply to the routes a method calls.
                grant: s.grant.clone(),
            },
            transport: Transport { https: s.https },
            client: s.client.clone(),
        }
    }

    /// The REST API as `user` outside any HTTP request (the `ferropress` WP-CLI commands).
    pub fn for_user(site: &'a Site, user: Arc<User>, https: bool) -> Self {
        Self {
            site,
            auth: Auth {
                user: Some(user),
                app_password: None,
                grant: None,
            },
            transport: Transport { https },
            // No HTTP client: WP-CLI leaves `REMOTE_ADDR` unset too.
            client: Client::default(),
        }
    }

    pub fn site(&self) -> &'a Site {
        self.site
    }

    /// The user the requests are made as.
    pub fn user(&self) -> Option<&User> {
        self.auth.user.as_deref()
    }

    pub async fn get(&self, route: &str, query: &[(&str, &str)]) -> Result<(u16, Json), Fault> {
        self.send(Method::GET, route, query, None).await
    }

    pub async fn post(&self, route: &str, body: &Json) -> Result<(u16, Json), Fault> {
        self.send(Method::POST, route, &[], Some(body)).await
    }

    pub async fn delete(&self, route: &str, query: &[(&str, &str)]) -> Result<(u16, Json), Fault> {
        self.send(Method::DELETE, route, query, None).await
    }

    /// A raw-body upload (`POST /wp/v2/media` with `Content-Disposition`).
    pub async fn upload(
        &self,
        route: &str,
        query: &[(&str, &str)],
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<(u16, Json), Fault> {
        // The name is quoted as RFC 6266 allows; quotes and backslashes in it are escaped.
        let quoted = filename.replace('\\', "\\\\").replace('"', "\\\"");
        let headers = [
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{quoted}\""),
            ),
            (header::CONTENT_TYPE, content_type.to_owned()),
        ];
        self.send_raw(Method::POST, route, query, &headers, Body::from(bytes))
            .await
    }

    /// A raw-body upload of a file on disk, streamed.
    pub async fn upload_file(
        &self,
        route: &str,
        query: &[(&str, &str)],
        filename: &str,
        content_type: &str,
        path: &std::path::Path,
    ) -> Result<(u16, Json), Fault> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|_| Fault::new(500, "Could not read the uploaded file."))?;
        let chunks = futures_util::stream::unfold(file, |mut file| async move {
            let mut buf = vec![0u8; 256 * 1024];
            match tokio::io::AsyncReadExt::read(&mut file, &mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), file))
                }
                Err(e) => Some((Err(e), file)),
            }
        });
        let quoted = filename.replace('\\', "\\\\").replace('"', "\\\"");
        let headers = [
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{quoted}\""),
            ),
            (header::CONTENT_TYPE, content_type.to_owned()),
        ];
        self.send_raw(
            Method::POST,
            route,
            query,
            &headers,
            Body::from_stream(chunks),
        )
        .await
    }

    /// The status and JSON body of one REST request (`route` such as `/wp/v2/posts/1`).
    async fn send(
        &self,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
        body: Option<&Json>,
    ) -> Result<(u16, Json), Fault> {
        match body {
            Some(b) => {
                let headers = [(header::CONTENT_TYPE, "application/json".to_owned())];
                self.send_raw(method, route, query, &headers, Body::from(b.to_string()))
                    .await
            }
            None => {
                self.send_raw(method, route, query, &[], Body::empty())
                    .await
            }
        }
    }

    async fn send_raw(
        &self,
        method: Method,
        route: &str,
        query: &[(&str, &str)],
        headers: &[(header::HeaderName, String)],
        body: Body,
    ) -> Result<(u16, Json), Fault> {
        let internal = || Fault::new(500, "Internal error.");
        crate::auth::scopes::check_path(self.site, &self.auth, route, &method)?;
        let mut uri = route.to_owned();
        if !query.is_empty() {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                ser.append_pair(k, v);
            }
            uri.push('?');
            uri.push_str(&ser.finish());
        }
        let router = self.site.api().ok_or_else(internal)?;
        let mut req = Request::builder().method(method).uri(&uri);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        let mut req = req.body(body).map_err(|_| internal())?;
        req.extensions_mut().insert(self.auth.clone());
        req.extensions_mut().insert(self.transport);
        req.extensions_mut().insert(self.client.clone());
        let resp = router.oneshot(req).await.map_err(|_| internal())?;
        let status = resp.status().as_u16();
        let bytes = to_bytes(resp.into_body(), MAX_ANSWER_BYTES)
            .await
            .map_err(|_| internal())?;
        let json = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
        Ok((status, json))
    }
}

/// A string member of a JSON object, `""` when absent.
pub fn json_str<'j>(v: &'j Json, key: &str) -> &'j str {
    v.get(key).and_then(Json::as_str).unwrap_or("")
}
