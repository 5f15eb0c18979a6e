//! Rows of the audit log (`audit_log`), its anchor and the webhook outbox
//! (`webhook_outbox`). What they mean is in `crate::audit` and `crate::webhooks`.

/// An audit entry to append; the store gives it its id and chain hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: i64,
    pub event: String,
    /// The account concerned (0: none known, e.g. a failure for an unknown login).
    pub user_id: i64,
    /// Who did it (0: the system or the command line).
    pub actor_id: i64,
    /// The Application Password concerned (its uuid), or empty.
    pub token: String,
    pub ip: String,
    pub user_agent: String,
    /// A JSON object, as text.
    pub data: String,
    /// URLs of the webhooks to notify (an outbox row each, in the same transaction).
    pub hooks: Vec<String>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub event: String,
    pub user_id: i64,
    pub actor_id: i64,
    pub token: String,
    pub ip: String,
    pub user_agent: String,
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A page of the audit log, newest first. Empty `events`: every event.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub user_id: Option<i64>,
    pub events: Vec<String>,
    /// `at >= since`.
    pub since: Option<i64>,
    /// `at < before`.
    pub before: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// A webhook delivery claimed from the outbox.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub hook: String,
    pub audit_id: i64,
    pub event: String,
    pub payload: String,
    pub attempts: i64,
}

pub(crate) const AUDIT_COLUMNS: &str =
    "id, at, event, user_id, actor_id, token, ip, user_agent, data, prev_hash, hash";

/// Hash of the chain before its first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Gives `entries` ids and hashes following (`last_id`, `last_hash`).
pub(crate) fn chain(entries: &[NewAuditEntry], last_id: i64, last_hash: &str) -> Vec<AuditEntry> {
    let mut prev = last_hash.to_owned();
    let mut id = last_id;
    entries
        .iter()
        .map(|e| {
            id += 1;
            let mut row = AuditEntry {
                id,
                at: e.at,
                event: e.event.clone(),
                user_id: e.user_id,
                actor_id: e.actor_id,
                token: e.token.clone(),
                ip: e.ip.clone(),
                user_agent: e.user_agent.clone(),
                data: e.data.clone(),
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            row.hash = crate::audit::chain_hash(&row);
            prev.clone_from(&row.hash);
            row
        })
        .collect()
}
