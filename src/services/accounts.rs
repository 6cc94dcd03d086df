//! Accounts in the console: SPEC U1, U3, U5, U6, U7 (direct password), S-14.

use serde::Serialize;

use crate::domain::account::NewAccount;
use crate::domain::email_template::EmailTemplate;
use crate::domain::group::ADMINISTRATORS;
use crate::domain::visibility::Viewer;
use crate::domain::{AccountState, Password, ids};
use crate::services::{Actor, Ctx, Expect, ServiceError, audit, mail};
use crate::store::{self, Tx, accounts::*, audit::Subject, groups::GroupRef};

/// What the audit log keeps of an account.
#[derive(Serialize)]
pub(crate) struct Snapshot<'a> {
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    state: &'a str,
}

impl<'a> From<&'a AccountDetail> for Snapshot<'a> {
    fn from(a: &'a AccountDetail) -> Self {
        Self {
            email: &a.email,
            first_name: &a.first_name,
            last_name: &a.last_name,
            state: a.state.as_str(),
        }
    }
}

pub(crate) fn subject(a: &AccountDetail) -> Subject<'_> {
    Subject {
        kind: "account",
        id: &a.id,
        name: &a.email,
    }
}

/// U3: an active account, a member of Developers (implicitly) at once.
/// With `notify`, the *account created* email (E1) is queued in the same
/// transaction.
#[tracing::instrument(skip_all)]
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    new: NewAccount,
    notify: bool,
) -> Result<String, ServiceError> {
    let hash = ctx.hasher.hash(&new.password).await?;
    let mut tx = ctx.db.begin_write().await?;
    let created = create_in(&mut tx, actor, &new, &hash).await?;
    if notify {
        send_account_created(&mut tx, ctx, &created).await?;
    }
    tx.commit().await?;
    tracing::info!(account = %created.id, actor = %actor.label, notify, "account created");
    Ok(created.id.into())
}

/// Queues the *account created* email (E1) for `account` inside `tx`.
pub(crate) async fn send_account_created(
    tx: &mut Tx,
    ctx: &Ctx,
    account: &AccountDetail,
) -> Result<(), ServiceError> {
    let link = format!("{}/sign-in", ctx.settings.base_url);
    mail::queue(
        tx,
        ctx,
        EmailTemplate::AccountCreated,
        &mail::Recipient {
            address: &account.email,
            name: &format!("{} {}", account.first_name, account.last_name),
            account_id: Some(&account.id),
        },
        &[
            ("first_name", &account.first_name),
            ("last_name", &account.last_name),
            ("link", &link),
        ],
    )
    .await?;
    Ok(())
}

/// Creates an active account with its audit record inside `tx`.
pub(crate) async fn create_in(
    tx: &mut Tx,
    actor: &Actor,
    new: &NewAccount,
    hash: &str,
) -> Result<AccountDetail, ServiceError> {
    let id = insert_account(tx, new, hash, AccountState::Active).await?;
    let created = load(tx, &id).await?;
    audit::record(
        tx,
        actor,
        "account.created",
        &format!("Created account {}", created.email),
        &[subject(&created)],
        audit::NONE,
        Some(&Snapshot::from(&created)),
    )
    .await?;
    Ok(created)
}

/// Inserts the account row; a taken address is a field error, also when a
/// concurrent request took it between the check and the insert.
pub(crate) async fn insert_account(
    tx: &mut Tx,
    new: &NewAccount,
    hash: &str,
    state: AccountState,
) -> Result<String, ServiceError> {
    insert_account_as(tx, &ids::new_id(), &Person::of(new), Some(hash), state).await
}

/// Who an account is for, whatever way it is made.
pub(crate) struct Person<'a> {
    pub email: &'a crate::domain::Email,
    pub first_name: &'a crate::domain::PersonName,
    pub last_name: &'a crate::domain::PersonName,
}

impl<'a> Person<'a> {
    pub fn of(new: &'a NewAccount) -> Self {
        Self {
            email: &new.email,
            first_name: &new.first_name,
            last_name: &new.last_name,
        }
    }
}

/// The same with a chosen id (the management API's PUT names it), and
/// possibly no password (yet, or ever: an account made by a sign-in
/// through an identity provider); a taken id is a conflict.
pub(crate) async fn insert_account_as(
    tx: &mut Tx,
    id: &str,
    new: &Person<'_>,
    hash: Option<&str>,
    state: AccountState,
) -> Result<String, ServiceError> {
    let key = new.email.key();
    let taken = || {
        ServiceError::field(
            "email",
            "An account with this email address already exists.",
        )
    };
    if store::accounts::email_taken(&mut *tx, &key).await? {
        return Err(taken());
    }
    if store::accounts::detail(&mut *tx, id).await?.is_some() {
        return Err(ServiceError::Conflict(format!(
            "An account with the id {id} exists already."
        )));
    }
    let id = id.to_owned();
    let now = tx.now();
    let row = NewAccountRow {
        id: &id,
        email: new.email.as_str(),
        email_key: &key,
        first_name: new.first_name.as_str(),
        last_name: new.last_name.as_str(),
        password_hash: hash,
        state: state.as_str(),
        registered_at: now,
    };
    match store::accounts::insert(tx, &row).await {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(taken()),
        other => Ok(other.map(|()| id)?),
    }
}

pub(crate) async fn load(tx: &mut Tx, id: &str) -> Result<AccountDetail, ServiceError> {
    store::accounts::detail(&mut *tx, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// S-14: the last active administrator stays.
pub(crate) async fn ensure_not_last_admin(
    tx: &mut Tx,
    account: &AccountDetail,
    doing: &str,
) -> Result<(), ServiceError> {
    if crate::domain::account::is_active_administrator(account.is_admin, account.state)
        && store::accounts::count_other_active_admins(tx, &account.id).await? == 0
    {
        return Err(ServiceError::Conflict(format!(
            "{} is the last active administrator and cannot be {doing}. Add another administrator first.",
            account.email
        )));
    }
    Ok(())
}

/// U5: a blocked account cannot sign in and its sessions end (S-10).
#[tracing::instrument(skip_all)]
pub async fn block(ctx: &Ctx, actor: &Actor, id: &str) -> Result<AccountDetail, ServiceError> {
    change_state(ctx, actor, id, AccountState::Blocked).await
}

/// U5: restores sign-in (sessions ended by the block stay ended).
#[tracing::instrument(skip_all)]
pub async fn activate(ctx: &Ctx, actor: &Actor, id: &str) -> Result<AccountDetail, ServiceError> {
    change_state(ctx, actor, id, AccountState::Active).await
}

async fn change_state(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    to: AccountState,
) -> Result<AccountDetail, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    if before.state == to {
        return Ok(before);
    }
    if to != AccountState::Active {
        ensure_not_last_admin(&mut tx, &before, "blocked").await?;
    }
    store::accounts::set_state(&mut tx, id, to.as_str()).await?;
    let after = load(&mut tx, id).await?;
    let (action, verb) = match to {
        AccountState::Blocked => ("account.blocked", "Blocked"),
        _ => ("account.activated", "Activated"),
    };
    audit::record(
        &mut tx,
        actor,
        action,
        &format!("{verb} account {}", after.email),
        &[subject(&after)],
        Some(&Snapshot::from(&before)),
        Some(&Snapshot::from(&after)),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %id, actor = %actor.label, state = to.as_str(), "account state changed");
    Ok(after)
}

/// U6: removes the account with its memberships and subscriptions.
#[tracing::instrument(skip_all)]
pub async fn delete(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    expect: Expect,
) -> Result<AccountDetail, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    expect.check(before.version)?;
    ensure_not_last_admin(&mut tx, &before, "deleted").await?;
    let summary = format!("Deleted account {}", before.email);
    remove(&mut tx, actor, &before, "account.deleted", &summary).await?;
    tx.commit().await?;
    tracing::info!(account = %id, actor = %actor.label, "account deleted");
    Ok(before)
}

/// U6 inside `tx`, however the account goes (deleted by an administrator,
/// closed by its owner): the account with its memberships, subscriptions
/// and links (`ON DELETE CASCADE`), audited as `action`.
pub(crate) async fn remove(
    tx: &mut Tx,
    actor: &Actor,
    account: &AccountDetail,
    action: &'static str,
    summary: &str,
) -> Result<(), ServiceError> {
    store::accounts::delete(tx, &account.id).await?;
    audit::record(
        tx,
        actor,
        action,
        summary,
        &[subject(account)],
        Some(&Snapshot::from(account)),
        audit::NONE,
    )
    .await?;
    Ok(())
}

/// A new password hash for account `id`, inside `tx`: every session ends
/// (S-10, U10) and every reset link still out is void (S-5), however the
/// password changed (set by an administrator, the API, a reset, the owner).
/// Returns the account's new session epoch.
pub(crate) async fn replace_password(
    tx: &mut Tx,
    id: &str,
    hash: &str,
) -> Result<i64, ServiceError> {
    let epoch = store::accounts::set_password_hash(tx, id, hash)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let now = tx.now();
    store::tokens::void_for_account(tx, id, &crate::domain::link::LinkPurpose::RESETS, now).await?;
    Ok(epoch)
}

/// U7 (direct): sets a new password and ends every session of the account
/// (U10). Returns the account's new session epoch, so the caller can keep
/// its own session when it changed its own password.
#[tracing::instrument(skip_all)]
pub async fn set_password(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    password: &Password,
) -> Result<i64, ServiceError> {
    let hash = ctx.hasher.hash(password).await?;
    let mut tx = ctx.db.begin_write().await?;
    let account = load(&mut tx, id).await?;
    let epoch = replace_password(&mut tx, id, &hash).await?;
    audit::record(
        &mut tx,
        actor,
        "account.password_set",
        &format!("Set a new password for {}", account.email),
        &[subject(&account)],
        audit::NONE,
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(account = %id, actor = %actor.label, "password set by administrator");
    Ok(epoch)
}

/// The words an account's own password must not be built from.
pub fn related_words(a: &AccountDetail) -> [&str; 3] {
    [&a.email, &a.first_name, &a.last_name]
}

#[tracing::instrument(skip_all)]
pub async fn get(ctx: &Ctx, id: &str) -> Result<AccountDetail, ServiceError> {
    store::accounts::detail(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub struct AccountPage {
    pub account: AccountDetail,
    pub groups: Vec<GroupRef>,
    pub history: Vec<store::audit::Entry>,
    /// The account as a viewer of products (P3), from the groups above.
    pub viewer: Viewer,
    /// What it can see, and through which groups (P5).
    pub visible: Vec<super::visibility::VisibleProduct>,
    /// Its links to outside identity providers (X2).
    pub identities: Vec<store::identities::IdentityRow>,
}

/// The account page: details, groups (G6), linked identities (X2), history
/// (A1) and the products it can see (P5), read on one connection (one
/// hand-off to the pool) in one statement, two when the grants to its
/// groups are not remembered (`visibility::VisibleGrants`).
#[tracing::instrument(skip_all)]
pub async fn page(ctx: &Ctx, id: &str) -> Result<AccountPage, ServiceError> {
    let mut conn = ctx.db.acquire().await?;
    let store::accounts::Head {
        detail: account,
        groups,
        identities,
        history,
    } = store::accounts::head(&mut conn, id, super::audit_log::HISTORY)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let viewer = Viewer::account(
        account.is_admin,
        account.state,
        groups.iter().map(|g| g.id.to_string()).collect(),
    );
    let visible = super::visibility::visible_products_in(ctx, &mut conn, &viewer).await?;
    Ok(AccountPage {
        account,
        groups,
        history,
        viewer,
        visible,
        identities,
    })
}

/// The account with this email address, if any (compared case-insensitively).
#[tracing::instrument(skip_all)]
pub async fn by_email(ctx: &Ctx, email: &str) -> Result<Option<AccountDetail>, ServiceError> {
    Ok(store::accounts::detail_by_email(&ctx.db, &crate::domain::Email::key_of(email)).await?)
}

#[tracing::instrument(skip_all)]
pub async fn by_ids(ctx: &Ctx, ids: &[String]) -> Result<Vec<AccountSummary>, ServiceError> {
    Ok(store::accounts::by_ids(&ctx.db, ids).await?)
}

/// Makes an existing account an administrator (the `create-admin` command).
pub(crate) async fn add_to_administrators(
    tx: &mut Tx,
    actor: &Actor,
    account: &AccountDetail,
) -> Result<(), ServiceError> {
    let now = tx.now();
    store::groups::add_member(tx, &ADMINISTRATORS.into(), &account.id, now).await?;
    audit::record(
        tx,
        actor,
        "group.member_added",
        &format!("Added {} to Administrators", account.email),
        &[
            subject(account),
            Subject {
                kind: "group",
                id: ADMINISTRATORS,
                name: "Administrators",
            },
        ],
        audit::NONE,
        audit::NONE,
    )
    .await?;
    Ok(())
}
