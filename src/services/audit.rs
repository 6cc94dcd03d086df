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

/// Who made a change.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<String>,
    pub label: String,
    pub channel: Channel,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            id: None,
            label: "System".into(),
            channel: Channel::System,
        }
    }

    /// A developer (or an administrator) acting on the developer portal.
    pub fn portal(id: &str, email: &str) -> Self {
        Self {
            id: Some(id.to_owned()),
            label: email.to_owned(),
            channel: Channel::Portal,
        }
    }

    pub fn console(id: &str, email: &str) -> Self {
        Self {
            id: Some(id.to_owned()),
            label: email.to_owned(),
            channel: Channel::Console,
        }
    }
}

/// Writes one audit record inside the change's transaction.
pub async fn record<B: Serialize, A: Serialize>(
    tx: &mut Tx,
    actor: &Actor,
    action: &'static str,
    summary: &str,
    subjects: &[Subject<'_>],
    before: Option<&B>,
    after: Option<&A>,
) -> Result<i64, sqlx::Error> {
    store::audit::record(
        tx,
        &store::audit::NewEntry {
            at: crate::clock::now(),
            actor_id: actor.id.as_deref(),
            actor_label: &actor.label,
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
