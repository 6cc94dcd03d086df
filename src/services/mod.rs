//! The use cases: one function per action, shared by the console, the
//! developer portal and (later) the JSON API. Each change is one IMMEDIATE
//! transaction holding the change and its audit record.

pub mod access;
pub mod account_edits;
pub mod account_list;
pub mod accounts;
pub mod api_tokens;
pub mod applications;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod bootstrap;
pub mod client_limit;
pub mod dashboard;
pub mod email_templates;
pub mod error;
pub mod external;
pub mod gateway;
pub mod groups;
pub mod identity_providers;
pub mod invitations;
pub mod jws;
pub mod links;
pub mod lists;
pub mod mail;
pub mod notifications;
pub mod oidc;
pub mod operations;
pub mod password_reset;
pub mod passwords;
pub mod products;
pub mod profile;
pub mod remembered;

pub mod signing_keys;
pub mod signup;
pub mod subscription_edits;
pub mod subscriptions;
pub mod visibility;

pub use audit::{Actor, Origin};
pub use error::ServiceError;

use crate::config::Settings;
use crate::store::Db;

/// What every use case needs, built once at start.
pub struct Ctx {
    pub db: Db,
    pub hasher: passwords::Hasher,
    pub settings: Settings,
    /// Outgoing email (woken by every commit that queued a message).
    pub mailer: crate::email::Mailer,
    /// The gateway key check's memory; see `gateway`.
    pub keys: gateway::KeyChecks,
    /// Requests per client address for sign-up and forgotten passwords.
    pub client_limits: client_limit::ClientLimits,
    /// Session checks, remembered until the next commit; see `auth`.
    pub sessions: auth::SessionChecks,
    /// The Users tab's Add to group menu, remembered until the next commit.
    pub group_menu: groups::GroupMenu,
    /// Searches' counts, remembered until the next commit.
    pub search_counts: account_list::SearchCounts,
    /// The grants behind "what can this viewer see", remembered until the
    /// next commit.
    pub visible_grants: visibility::VisibleGrants,
    /// Management API tokens, remembered until the next commit.
    pub api_tokens: api_tokens::TokenChecks,
    /// The OpenID provider's signing keys, loaded; see `signing_keys`.
    pub signing_keys: signing_keys::SigningKeys,
}

impl Ctx {
    /// Now, by the application's clock (tests move it forward).
    pub fn now(&self) -> i64 {
        self.db.clock().now()
    }
}

/// Which version of an entity a change must find (SPEC M3: the API's
/// `If-Match`; the console changes whatever is there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Any,
    Version(i64),
}

impl Expect {
    pub fn check(self, version: i64) -> Result<(), ServiceError> {
        match self {
            Self::Version(v) if v != version => Err(ServiceError::PreconditionFailed),
            _ => Ok(()),
        }
    }
}

/// Keyset paging: the store returns one row more than a page; drop it and
/// give the cursor of the last row shown when more follow.
pub(crate) fn next_page<T, K>(rows: &mut Vec<T>, page: i64, key: impl Fn(&T) -> K) -> Option<K> {
    if rows.len() as i64 > page {
        rows.truncate(page as usize);
        rows.last().map(key)
    } else {
        None
    }
}
