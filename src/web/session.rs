//! What the session cookie holds, and the two moments it changes hands:
//! sign-in (renewed, S-9; CSRF token rotated, S-12) and sign-out (purged).

use actix_session::Session;
use serde::{Deserialize, Serialize};

use crate::domain::ids;
use crate::services::auth::SignedIn;

const USER: &str = "user";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

/// The signed-in part of a session. The epoch is compared with the account's
/// on every request (S-10); the times enforce S-11 on the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    /// This session's own id, so that signing out can revoke it.
    pub sid: String,
    pub id: String,
    pub epoch: i64,
    /// When the person signed in.
    pub since: i64,
    /// Last request seen, for the idle timeout.
    pub seen: i64,
}

pub fn user(session: &Session) -> Option<SessionUser> {
    session.get::<SessionUser>(USER).ok().flatten()
}

pub fn touch(session: &Session, user: &SessionUser, now: i64) {
    // Re-writing the cookie on every request costs; a minute of slack in the
    // idle timeout does not.
    if now - user.seen >= 60 {
        let mut u = user.clone();
        u.seen = now;
        let _ = session.insert(USER, u);
    }
}

pub fn begin(session: &Session, signed_in: &SignedIn, now: i64) {
    session.renew();
    session.clear();
    let _ = session.insert(
        USER,
        SessionUser {
            sid: ids::new_secret(),
            id: signed_in.account_id.clone(),
            epoch: signed_in.session_epoch,
            since: now,
            seen: now,
        },
    );
    let _ = session.insert(CSRF, ids::new_secret());
}

/// After the signed-in person changed their own password: keep this session,
/// at the account's new epoch, while every other one ends.
pub fn set_epoch(session: &Session, epoch: i64) {
    if let Some(mut u) = user(session) {
        u.epoch = epoch;
        let _ = session.insert(USER, u);
    }
}

pub fn end(session: &Session) {
    session.purge();
}

/// The session's CSRF token, created on first use (anonymous sessions need
/// one too: the sign-in form carries it).
pub fn csrf_token(session: &Session) -> String {
    if let Some(t) = session.get::<String>(CSRF).ok().flatten() {
        return t;
    }
    let t = ids::new_secret();
    let _ = session.insert(CSRF, &t);
    t
}

pub fn expected_csrf(session: &Session) -> Option<String> {
    session.get::<String>(CSRF).ok().flatten()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: String,
    pub message: String,
}

/// A message for the next page (post/redirect/get).
pub fn flash(session: &Session, kind: &str, message: impl Into<String>) {
    let _ = session.insert(
        FLASH,
        Flash {
            kind: kind.into(),
            message: message.into(),
        },
    );
}

pub fn take_flash(session: &Session) -> Option<Flash> {
    session.remove_as::<Flash>(FLASH).and_then(Result::ok)
}
