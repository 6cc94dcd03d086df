//! The session check every signed-in request makes (S-9, S-10), remembered
//! until anything is written.
//!
//! Pages are read far more often than anything changes. A remembered answer
//! is used only while no write transaction has committed since it was read
//! (`store::commits`): a sign-out, a block, a password change, a deletion or
//! a change of groups is honoured by the very next request, as it is with no
//! memory at all. The count is read *before* the database read, so an answer
//! read while a commit was landing carries the old count and is never used.
//! This holds for one Portal process per database (the only deployment
//! SQLite allows today), like the gateway's key memory.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::store::{self, Db, accounts::SessionAccount};

/// Remembered sessions at most; past this the memory is emptied and
/// refilled (about 300 bytes each: near 3 MB).
const CAPACITY: usize = 10_000;

struct Remembered {
    commits: u64,
    account: SessionAccount,
}

#[derive(Default)]
pub struct SessionMemory {
    /// By session id (random, one account's).
    sessions: RwLock<HashMap<String, Remembered>>,
}

impl SessionMemory {
    /// The account of session `sid` of account `account_id`, unless that
    /// session was signed out or the account is gone: as
    /// `store::accounts::session_account`, read from memory when nothing has
    /// been committed since it was last read.
    pub async fn account(
        &self,
        db: &Db,
        account_id: &str,
        sid: &str,
    ) -> Result<Option<SessionAccount>, sqlx::Error> {
        let commits = store::commits::count();
        if let Some(account) = self.recall(account_id, sid, commits) {
            return Ok(Some(account));
        }
        let account = store::accounts::session_account(db.pool(), account_id, sid).await?;
        if let Some(a) = &account {
            self.remember(sid, commits, a);
        }
        Ok(account)
    }

    fn recall(&self, account_id: &str, sid: &str, commits: u64) -> Option<SessionAccount> {
        let sessions = self.sessions.read().unwrap_or_else(|e| e.into_inner());
        sessions
            .get(sid)
            .filter(|r| r.commits == commits && r.account.id == account_id)
            .map(|r| r.account.clone())
    }

    fn remember(&self, sid: &str, commits: u64, account: &SessionAccount) {
        let mut sessions = self.sessions.write().unwrap_or_else(|e| e.into_inner());
        if sessions.len() >= CAPACITY && !sessions.contains_key(sid) {
            sessions.clear();
        }
        sessions.insert(
            sid.to_owned(),
            Remembered {
                commits,
                account: account.clone(),
            },
        );
    }
}
