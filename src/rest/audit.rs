//! `GET /ferropress/v1/audit`: the audit log (`crate::audit`), a ferropress addition with no
//! WordPress counterpart, shaped like a WordPress collection (`page`/`per_page`,
//! `X-WP-Total`/`X-WP-TotalPages`, `rest_*` error envelopes).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use crate::audit::{Event, entry_json};
use crate::auth::Auth;
use crate::error::{WpError, WpResult};
use crate::site::Site;
use crate::store::AuditQuery;

use super::params::{Params, Validator};

pub fn routes() -> Router<Arc<Site>> {
    Router::new().route("/ferropress/v1/audit", get(get_items))
}

/// Administrators read every entry; other users only those about their own account.
async fn get_items(
    State(site): State<Arc<Site>>,
    auth: Auth,
    params: Params,
) -> WpResult<Response> {
    let mut v = Validator::new(&params);
    let page = v.integer_min("page", 1).unwrap_or(1);
    let per_page = v.integer_range("per_page", 1, 100).unwrap_or(10);
    let user = v.integer("user");
    let names: Vec<&'static str> = Event::ALL.iter().map(|e| e.as_str()).collect();
    let events = v.enum_list("event", &names).unwrap_or_default();
    let since = date_param(&mut v, "since");
    let before = date_param(&mut v, "before");
    v.finish()?;

    let actor = auth.actor();
    if !actor.logged_in() {
        return Err(WpError::auth_required(
            false,
            "rest_forbidden",
            "Sorry, you are not allowed to do that.",
        ));
    }
    let user_id = if crate::caps::can_read_audit_log(&actor, None) {
        user
    } else {
        match user {
            Some(u) if !crate::caps::can_read_audit_log(&actor, Some(u)) => {
                return Err(WpError::auth_required(
                    true,
                    "rest_forbidden",
                    "Sorry, you are not allowed to see the activity of this user.",
                ));
            }
            _ => Some(actor.id),
        }
    };
    let q = AuditQuery {
        user_id,
        events,
        since,
        before,
        limit: per_page,
        offset: (page - 1).saturating_mul(per_page),
    };
    let (entries, total) = site.store.query_audit(&q).await?;
    let total_pages = if total == 0 {
        0
    } else {
        (total + per_page - 1) / per_page
    };
    if page > total_pages && total > 0 {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_page_number",
            "The page number requested is larger than the number of pages available.",
        ));
    }
    let items: Vec<Value> = entries.iter().map(entry_json).collect();
    let base = site.config.rest_url("ferropress/v1/audit");
    Ok(super::collection_response(
        items,
        total,
        total_pages,
        &base,
        &params,
        page,
    ))
}

/// A `date-time` parameter, read as UTC when it has no offset.
fn date_param(v: &mut Validator<'_>, param: &str) -> Option<i64> {
    let s = v.string(param)?;
    let parsed = super::posts::parse_date(&s, &jiff::tz::TimeZone::UTC);
    if parsed.is_none() {
        v.invalid(
            param,
            "rest_invalid_date",
            "Invalid date.".into(),
            Value::Null,
        );
    }
    parsed
}
