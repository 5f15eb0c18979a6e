//! Terms by name, for `terms_names` (`get_term_by( 'name', … )`).

use serde_json::Value as Json;

use crate::rest::terms::Taxonomy;

use super::Fault;
use super::rest::{Rest, json_str};

/// The id of the term of `tax` named `name` (case-insensitively, as MySQL compares), if any.
pub async fn term_by_name(
    rest: &Rest<'_>,
    tax: &Taxonomy,
    name: &str,
) -> Result<Option<i64>, Fault> {
    let wanted = crate::formatting::pre_name_field(name).to_lowercase();
    if wanted.is_empty() {
        return Ok(None);
    }
    let (_, found) = rest
        .get(
            &format!("/wp/v2/{}", tax.rest_base),
            &[
                ("search", name),
                ("per_page", "100"),
                ("hide_empty", "false"),
            ],
        )
        .await?;
    let Json::Array(found) = found else {
        return Ok(None);
    };
    Ok(found
        .iter()
        .find(|t| json_str(t, "name").to_lowercase() == wanted)
        .and_then(|t| t.get("id").and_then(Json::as_i64)))
}
