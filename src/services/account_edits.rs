//! Accounts made and changed field by field, as the management API does it
//! (SPEC U1, U3, U5, U7, U9; M2): create with a chosen id and a welcome,
//! and update any of names, email, note, state and password in one change.
//! The rules are the console's: the same insert, the last administrator
//! stays (S-14), a new password ends every session (U10).

use serde::Serialize;

use crate::domain::account::NewAccount;
use crate::domain::{AccountState, Email, Password, PersonName, ids};
use crate::services::accounts::{
    Snapshot, ensure_not_last_admin, insert_account_as, load, send_account_created, subject,
};
use crate::services::{Actor, Ctx, Expect, ServiceError, audit, signup};
use crate::store::{self, accounts::AccountDetail};

/// What the account is told when it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Welcome {
    Nothing,
    /// The *account created* email (E1).
    AccountCreated,
    /// U9: pending until the emailed link confirms the address.
    ConfirmSignUp,
}

/// A new account, parsed.
pub struct AccountSpec {
    pub id: String,
    pub email: Email,
    pub first_name: PersonName,
    pub last_name: PersonName,
    /// Without one, a random password nobody knows (a reset sets one).
    pub password: Option<Password>,
    /// Active or blocked (a sign-up confirmation makes it pending).
    pub state: AccountState,
    pub note: Option<String>,
    pub welcome: Welcome,
}

#[derive(Serialize)]
struct Full<'a> {
    #[serde(flatten)]
    account: Snapshot<'a>,
    note: Option<&'a str>,
}

fn full(a: &AccountDetail) -> Full<'_> {
    Full {
        account: Snapshot::from(a),
        note: a.note.as_deref(),
    }
}

#[tracing::instrument(skip_all)]
pub async fn create_with(
    ctx: &Ctx,
    actor: &Actor,
    spec: AccountSpec,
) -> Result<AccountDetail, ServiceError> {
    let password = match spec.password {
        Some(p) => p,
        None => Password::unchecked(ids::new_secret()),
    };
    let hash = ctx.hasher.hash(&password).await?;
    let state = match spec.welcome {
        Welcome::ConfirmSignUp => AccountState::Pending,
        _ => spec.state,
    };
    let new = NewAccount {
        email: spec.email,
        password,
        first_name: spec.first_name,
        last_name: spec.last_name,
    };
    let mut tx = ctx.db.begin_write().await?;
    insert_account_as(
        &mut tx,
        &spec.id,
        &super::accounts::Person::of(&new),
        Some(&hash),
        state,
    )
    .await?;
    if let Some(note) = spec.note.as_deref() {
        store::accounts::set_note(&mut tx, &spec.id, Some(note)).await?;
    }
    let created = load(&mut tx, &spec.id).await?;
    audit::record(
        &mut tx,
        actor,
        "account.created",
        &format!("Created account {}", created.email),
        &[subject(&created)],
        audit::NONE,
        Some(&full(&created)),
    )
    .await?;
    match spec.welcome {
        Welcome::Nothing => {}
        Welcome::ConfirmSignUp => signup::send_confirmation(&mut tx, ctx, &created).await?,
        Welcome::AccountCreated => send_account_created(&mut tx, ctx, &created).await?,
    }
    tx.commit().await?;
    tracing::info!(account = %created.id, actor = %actor.label, "account created");
    Ok(created)
}

/// What a change sets; what is `None` stays as it is.
#[derive(Default)]
pub struct AccountChanges {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub email: Option<Email>,
    /// `Some(None)` clears the note.
    pub note: Option<Option<String>>,
    /// Active or blocked (U5).
    pub state: Option<AccountState>,
    pub password: Option<Password>,
}

/// Applies `changes` to account `id` as one change with one audit record.
#[tracing::instrument(skip_all)]
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    changes: AccountChanges,
    expect: Expect,
) -> Result<AccountDetail, ServiceError> {
    let hash = match &changes.password {
        Some(p) => Some(ctx.hasher.hash(p).await?),
        None => None,
    };
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    expect.check(before.version)?;
    if changes.first_name.is_some() || changes.last_name.is_some() {
        let first = changes
            .first_name
            .as_ref()
            .map_or(before.first_name.as_str(), |n| n.as_str());
        let last = changes
            .last_name
            .as_ref()
            .map_or(before.last_name.as_str(), |n| n.as_str());
        if first != before.first_name || last != before.last_name {
            store::accounts::set_names(&mut tx, id, first, last).await?;
        }
    }
    if let Some(email) = &changes.email
        && email.as_str() != before.email
    {
        let key = email.key();
        let taken = || {
            ServiceError::field(
                "email",
                "An account with this email address already exists.",
            )
        };
        if key != Email::key_of(&before.email)
            && store::accounts::email_taken(&mut tx, &key).await?
        {
            return Err(taken());
        }
        match store::accounts::set_email(&mut tx, id, email.as_str(), &key).await {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Err(taken()),
            other => other?,
        };
    }
    if let Some(note) = &changes.note
        && note.as_deref() != before.note.as_deref()
    {
        store::accounts::set_note(&mut tx, id, note.as_deref()).await?;
    }
    if let Some(state) = changes.state
        && state != before.state
    {
        if state != AccountState::Active {
            ensure_not_last_admin(&mut tx, &before, "blocked").await?;
        }
        store::accounts::set_state(&mut tx, id, state.as_str()).await?;
    }
    if let Some(hash) = &hash {
        crate::services::accounts::replace_password(&mut tx, id, hash).await?;
    }
    let after = load(&mut tx, id).await?;
    if after.version == before.version {
        return Ok(after);
    }
    let mut summary = format!("Updated account {}", after.email);
    if hash.is_some() {
        summary.push_str(" (new password)");
    }
    audit::record(
        &mut tx,
        actor,
        "account.updated",
        &summary,
        &[subject(&after)],
        Some(&full(&before)),
        Some(&full(&after)),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %id, actor = %actor.label, "account updated");
    Ok(after)
}
