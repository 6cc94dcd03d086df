//! What the session cookie holds, and the two moments it changes hands:
//! sign-in (renewed, S-9; CSRF token rotated, S-12) and sign-out (purged).
//!
//! The console and the developer portal are signed in to separately (one
//! cookie, one entry per realm): an administrator reading the portal is not
//! thereby in the console, and the console's idle timeout is its own.

use actix_session::Session;
use serde::{Deserialize, Serialize};

use crate::domain::ids;
use crate::services::auth::{Realm, SignedIn};

fn key(realm: Realm) -> &'static str {
    match realm {
        Realm::Console => "user",
        Realm::Portal => "portal",
    }
}
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

pub fn user(session: &Session, realm: Realm) -> Option<SessionUser> {
    session.get::<SessionUser>(key(realm)).ok().flatten()
}

pub fn touch(session: &Session, realm: Realm, user: &SessionUser, now: i64) {
    // Re-writing the cookie on every request costs; a minute of slack in the
    // idle timeout does not.
    if now - user.seen >= 60 {
        let mut u = user.clone();
        u.seen = now;
        let _ = session.insert(key(realm), u);
    }
}

pub fn begin(session: &Session, realm: Realm, signed_in: &SignedIn, now: i64) {
    let other = other(realm);
    // The other realm stays signed in only if it is the same person.
    let keep = user(session, other).filter(|u| u.id == signed_in.account_id);
    session.renew();
    session.clear();
    if let Some(u) = keep {
        let _ = session.insert(key(other), u);
    }
    let _ = session.insert(
        key(realm),
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
pub fn set_epoch(session: &Session, realm: Realm, epoch: i64) {
    if let Some(mut u) = user(session, realm) {
        u.epoch = epoch;
        let _ = session.insert(key(realm), u);
    }
}

fn other(realm: Realm) -> Realm {
    match realm {
        Realm::Console => Realm::Portal,
        Realm::Portal => Realm::Console,
    }
}

/// Signs out of one realm with a message saying why, for the next page
/// (the cookie is renewed rather than purged, so the message survives).
pub fn end_with_flash(session: &Session, realm: Realm, kind: &str, message: &str) {
    session.remove(key(realm));
    session.renew();
    flash(session, kind, message);
}

/// Signs out of one realm; the cookie is purged when neither is left.
pub fn end(session: &Session, realm: Realm) {
    if user(session, other(realm)).is_some() {
        session.remove(key(realm));
        session.renew();
    } else {
        session.purge();
    }
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
///
/// Messages often name what the request named ("There is no group named
/// …"), and the session lives in a cookie: an unbounded message made a
/// cookie no browser accepts, and the response an empty 500. Every value
/// the session holds is bounded; this one is cut at [`FLASH_MAX_CHARS`].
pub fn flash(session: &Session, kind: &str, message: impl Into<String>) {
    let _ = session.insert(
        FLASH,
        Flash {
            kind: kind.into(),
            message: shorten(message.into(), FLASH_MAX_CHARS),
        },
    );
}

/// The longest message kept for the next page, in characters.
pub const FLASH_MAX_CHARS: usize = 300;

/// `s`, cut to `max` characters with an ellipsis when longer.
pub fn shorten(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s,
        Some((cut, _)) => {
            let mut short = s[..cut].to_owned();
            short.pop();
            short.push('…');
            short
        }
    }
}

pub fn take_flash(session: &Session) -> Option<Flash> {
    // `remove` marks the session changed even when there is nothing to
    // remove, and a changed session is encrypted into a new cookie on the
    // response: every page view did that.
    if !session.contains_key(FLASH) {
        return None;
    }
    session.remove_as::<Flash>(FLASH).and_then(Result::ok)
}
