//! Answers read from the database and remembered until the next commit.
//!
//! Pages and gateways read far more often than anything changes, so the two
//! hottest reads (the session check every signed-in request makes, and the
//! key check every API call makes) are remembered. One rule forgets them: a
//! remembered answer is used only while no write transaction has committed
//! since it was read (`store::commits` counts commits as they land). The
//! count is read *before* the database read, so an answer read while a
//! commit was landing carries the old count and is never used. A block, a
//! sign-out, a regenerated key or an unpublished product is therefore
//! honoured by the very next request, as it is with no memory at all, and
//! no use case has to remember to tell anyone.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;

use crate::store::commits;

pub struct Remembered<K, V> {
    answers: RwLock<HashMap<K, (u64, V)>>,
    /// Answers kept at most; past this the memory is emptied and refilled.
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Remembered<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            answers: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// The answer for `key`: remembered if nothing was committed since it
    /// was read, else read by `read` (and remembered).
    pub async fn get_or_read<E, F>(&self, key: K, read: F) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        self.get_or_read_keeping(key, read, |_| true).await
    }

    /// The same, remembering only answers that `keep` accepts: a large one
    /// is read again each time rather than held.
    pub async fn get_or_read_keeping<E, F>(
        &self,
        key: K,
        read: F,
        keep: impl Fn(&V) -> bool,
    ) -> Result<V, E>
    where
        F: Future<Output = Result<V, E>>,
    {
        let commits = commits::count();
        if let Some(v) = self.recall(&key, commits) {
            return Ok(v);
        }
        let v = read.await?;
        if keep(&v) {
            self.remember(key, commits, v.clone());
        }
        Ok(v)
    }

    fn recall(&self, key: &K, commits: u64) -> Option<V> {
        let answers = self.answers.read().unwrap_or_else(|e| e.into_inner());
        answers
            .get(key)
            .filter(|(at, _)| *at == commits)
            .map(|(_, v)| v.clone())
    }

    fn remember(&self, key: K, commits: u64, v: V) {
        let mut answers = self.answers.write().unwrap_or_else(|e| e.into_inner());
        if answers.len() >= self.capacity && !answers.contains_key(&key) {
            answers.clear();
        }
        answers.insert(key, (commits, v));
    }
}
