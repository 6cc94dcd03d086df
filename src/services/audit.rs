use std::net::IpAddr;

use serde::Serialize;

use crate::store::{self, Tx, audit::Subject};

/// Through what a change was made (A1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Console,
    Portal,
    Api,
    System,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Portal => "portal",
            Self::Api => "api",
            Self::System => "system",
        }
    }
}

/// Where a request came from, before it is known who made it: a
/// self-service use case learns the account from a link or a form.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub channel: Channel,
    pub client: Option<IpAddr>,
}

impl Origin {
    pub fn portal(client: Option<IpAddr>) -> Self {
        Self {
            channel: Channel::Portal,
            client,
        }
    }

    /// The account `id` (shown as `label`) acting from here.
    pub fn actor(&self, id: &str, label: &str) -> Actor {
        Actor {
            id: Some(id.to_owned()),
            label: label.to_owned(),
            channel: self.channel,
            client: self.client,
        }
    }
}

/// Who made a change, and from where (S-23).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<String>,
    pub label: String,
    pub channel: Channel,
    pub client: Option<IpAddr>,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            id: None,
            label: "System".into(),
            channel: Channel::System,
            client: None,
        }
    }

    /// A developer (or an administrator) acting on the developer portal.
    pub fn portal(id: &str, email: &str, client: Option<IpAddr>) -> Self {
        Origin::portal(client).actor(id, email)
    }

    /// A management API token (M5): changes are recorded as made through
    /// the API, by the token's name.
    pub fn api(token_id: &str, token_name: &str) -> Self {
        Self {
            id: Some(token_id.to_owned()),
            label: format!("API token {token_name}"),
            channel: Channel::Api,
            client: None,
        }
    }

    pub fn console(id: &str, email: &str, client: Option<IpAddr>) -> Self {
        Origin {
            channel: Channel::Console,
            client,
        }
        .actor(id, email)
    }
}

/// Writes one audit record inside the change's transaction.
#[tracing::instrument(skip_all)]
pub async fn record<B: Serialize, A: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    action: &'static str,
    summary: &str,
    subjects: &[Subject<'_>],
    before: Option<&B>,
    after: Option<&A>,
) -> Result<i64, sqlx::Error> {
    let now = tx.now();
    store::audit::record(
        tx,
        &store::audit::NewEntry {
            at: now,
            actor_id: actor.id.as_deref(),
            actor_label: &actor.label,
            client_addr: actor.client.map(|c| c.to_string()),
            channel: actor.channel.as_str(),
            action,
            summary,
            before: before.map(to_json),
            after: after.map(to_json),
            subjects,
        },
    )
    .await
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Nothing before, or nothing after.
pub const NONE: Option<&()> = None;
