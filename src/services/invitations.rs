//! Invitations (SPEC U4): invite, the Pending view, resend, cancel, accept.

use serde::Serialize;

use crate::domain::email_template::EmailTemplate;
use crate::domain::link::LinkPurpose;
use crate::domain::{AccountState, Email, FieldErrors, Password, PersonName, ids};
use crate::services::links::{self, LinkProblem};
use crate::services::mail::{self, Recipient};
use crate::services::{Actor, Ctx, Origin, ServiceError, audit};
use crate::store::{self, Tx, audit::Subject, invitations::*};

/// The Invite user form, parsed.
pub struct NewInvitation {
    pub email: Email,
    pub first_name: PersonName,
    pub last_name: PersonName,
    /// Custom groups the account joins on acceptance.
    pub groups: Vec<String>,
}

impl NewInvitation {
    pub fn parse(
        email: &str,
        first: &str,
        last: &str,
        groups: Vec<String>,
    ) -> Result<Self, Vec<crate::domain::FieldError>> {
        let mut errors = FieldErrors::default();
        let email = errors.take("email", Email::parse(email));
        let first = errors.take("first_name", PersonName::parse(first, "first name"));
        let last = errors.take("last_name", PersonName::parse(last, "last name"));
        match (email, first, last) {
            (Some(email), Some(first_name), Some(last_name)) => Ok(Self {
                email,
                first_name,
                last_name,
                groups,
            }),
            _ => Err(errors.0),
        }
    }
}

pub const ACCEPT_PATH: &str = "/invitations";

#[derive(Serialize)]
struct Snapshot<'a> {
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
    state: &'a str,
}

fn snapshot(i: &InvitationRow) -> Snapshot<'_> {
    Snapshot {
        email: &i.email,
        first_name: &i.first_name,
        last_name: &i.last_name,
        state: &i.state,
    }
}

async fn load(tx: &mut Tx, id: &str) -> Result<InvitationRow, ServiceError> {
    store::invitations::get(&mut *tx, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Issues a fresh link for the invitation and queues the email, in `tx`.
async fn send(tx: &mut Tx, ctx: &Ctx, inv: &InvitationRow) -> Result<i64, ServiceError> {
    let (secret, expires_at) =
        links::issue(tx, ctx, LinkPurpose::Invitation, None, Some(&inv.id)).await?;
    let link = links::url(ctx, ACCEPT_PATH, &secret);
    mail::queue(
        tx,
        ctx,
        EmailTemplate::Invitation,
        &Recipient {
            address: &inv.email,
            name: &format!("{} {}", inv.first_name, inv.last_name),
            account_id: None,
        },
        &[
            ("first_name", &inv.first_name),
            ("last_name", &inv.last_name),
            ("link", &link),
        ],
    )
    .await?;
    Ok(expires_at)
}

/// U4: records the invitation and queues its email in one transaction.
#[tracing::instrument(skip_all)]
pub async fn invite(ctx: &Ctx, actor: &Actor, new: &NewInvitation) -> Result<String, ServiceError> {
    invite_as(ctx, actor, &ids::new_id(), new).await
}

/// The same under a chosen id (the management API's PUT names it), which
/// the account keeps once the invitation is accepted.
#[tracing::instrument(skip_all)]
pub async fn invite_as(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    new: &NewInvitation,
) -> Result<String, ServiceError> {
    let key = new.email.key();
    let mut tx = ctx.db.begin_write().await?;
    if store::accounts::email_taken(&mut tx, &key).await? {
        return Err(ServiceError::field(
            "email",
            "An account with this email address already exists.",
        ));
    }
    if store::invitations::open_for_email(&mut tx, &key).await? {
        return Err(ServiceError::field(
            "email",
            "This address already has an open invitation: resend it from the Pending view.",
        ));
    }
    if store::accounts::detail(&mut tx, id).await?.is_some()
        || store::invitations::get(&mut tx, id).await?.is_some()
    {
        return Err(ServiceError::Conflict(format!("The id {id} is taken.")));
    }
    let id = id.to_owned();
    let now = tx.now();
    store::invitations::insert(
        &mut tx,
        &store::invitations::NewInvitation {
            id: &id,
            email: new.email.as_str(),
            email_key: &key,
            first_name: new.first_name.as_str(),
            last_name: new.last_name.as_str(),
            invited_by: actor.id.as_deref(),
            now,
            expires_at: now + ctx.settings.links.of(LinkPurpose::Invitation),
        },
    )
    .await?;
    for g in &new.groups {
        store::invitations::add_group(&mut tx, &id, &g.as_str().into()).await?;
    }
    let inv = load(&mut tx, &id).await?;
    let expires_at = send(&mut tx, ctx, &inv).await?;
    store::invitations::resent(&mut tx, &id, now, expires_at).await?;
    audit::record(
        &mut tx,
        actor,
        "invitation.sent",
        &format!("Invited {}", inv.email),
        &[],
        audit::NONE,
        Some(&snapshot(&inv)),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// An open invitation by its id (the management API shows it as a pending user).
#[tracing::instrument(skip_all)]
pub async fn open_by_id(ctx: &Ctx, id: &str) -> Result<Option<InvitationRow>, ServiceError> {
    Ok(store::invitations::get(&ctx.db, id)
        .await?
        .filter(|i| i.state == "open"))
}

/// A line of the Pending view.
pub struct Pending {
    pub invitation: InvitationRow,
    pub expired: bool,
}

#[tracing::instrument(skip_all)]
pub async fn pending(ctx: &Ctx) -> Result<Vec<Pending>, ServiceError> {
    let now = ctx.now();
    Ok(store::invitations::open(&ctx.db, 500)
        .await?
        .into_iter()
        .map(|invitation| Pending {
            expired: invitation.expires_at <= now,
            invitation,
        })
        .collect())
}

/// Resend: a new link (the old one stops working) and a new expiry.
#[tracing::instrument(skip_all)]
pub async fn resend(ctx: &Ctx, actor: &Actor, id: &str) -> Result<InvitationRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let inv = load(&mut tx, id).await?;
    if inv.state != "open" {
        return Err(ServiceError::Conflict(
            "This invitation is no longer open.".into(),
        ));
    }
    let now = tx.now();
    let recent = store::tokens::issued_since(
        &mut tx,
        None,
        Some(id),
        LinkPurpose::Invitation.as_str(),
        now - links::WINDOW_SECS,
    )
    .await?;
    if recent >= links::EMAILS_PER_WINDOW {
        return Err(ServiceError::Conflict(format!(
            "{} was sent {recent} invitations in the last 15 minutes. Wait a little before sending another.",
            inv.email
        )));
    }
    store::tokens::void_for_invitation(&mut tx, id, now).await?;
    let expires_at = send(&mut tx, ctx, &inv).await?;
    store::invitations::resent(&mut tx, id, now, expires_at).await?;
    audit::record(
        &mut tx,
        actor,
        "invitation.resent",
        &format!("Resent the invitation to {}", inv.email),
        &[],
        audit::NONE,
        Some(&snapshot(&inv)),
    )
    .await?;
    tx.commit().await?;
    Ok(inv)
}

#[tracing::instrument(skip_all)]
pub async fn cancel(ctx: &Ctx, actor: &Actor, id: &str) -> Result<InvitationRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let inv = load(&mut tx, id).await?;
    if inv.state != "open" {
        return Err(ServiceError::Conflict(
            "This invitation is no longer open.".into(),
        ));
    }
    store::invitations::set_state(&mut tx, id, "cancelled").await?;
    let now = tx.now();
    store::tokens::void_for_invitation(&mut tx, id, now).await?;
    let after = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "invitation.cancelled",
        &format!("Cancelled the invitation to {}", inv.email),
        &[],
        Some(&snapshot(&inv)),
        Some(&snapshot(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(inv)
}

/// What the accept page shows before anything is spent.
#[tracing::instrument(skip_all)]
pub async fn for_link(
    ctx: &Ctx,
    secret: &str,
) -> Result<Result<InvitationRow, LinkProblem>, ServiceError> {
    let row = match links::check(ctx, secret, &[LinkPurpose::Invitation]).await? {
        Ok(r) => r,
        Err(p) => return Ok(Err(p)),
    };
    let Some(id) = row.invitation_id else {
        return Ok(Err(LinkProblem::Unknown));
    };
    match store::invitations::get(&ctx.db, &id).await? {
        Some(inv) if inv.state == "open" => Ok(Ok(inv)),
        Some(_) => Ok(Err(LinkProblem::Superseded)),
        None => Ok(Err(LinkProblem::Unknown)),
    }
}

pub enum AcceptError {
    Link(LinkProblem),
    Service(ServiceError),
}

impl From<ServiceError> for AcceptError {
    fn from(e: ServiceError) -> Self {
        Self::Service(e)
    }
}

impl From<sqlx::Error> for AcceptError {
    fn from(e: sqlx::Error) -> Self {
        Self::Service(e.into())
    }
}

pub struct Accepted {
    pub account_id: String,
    pub session_epoch: i64,
}

/// U4 accept: the account becomes active with its password, joins
/// Developers (implicitly) and the invitation's groups. The caller signs it in.
#[tracing::instrument(skip_all)]
pub async fn accept(
    ctx: &Ctx,
    origin: Origin,
    secret: &str,
    password: &Password,
) -> Result<Accepted, AcceptError> {
    let hash = ctx
        .hasher
        .hash(password)
        .await
        .map_err(ServiceError::from)?;
    let mut tx = ctx.db.begin_write().await?;
    let row = match links::spend(&mut tx, secret, &[LinkPurpose::Invitation]).await? {
        Ok(r) => r,
        Err(p) => return Err(AcceptError::Link(p)),
    };
    let inv_id = row
        .invitation_id
        .ok_or(AcceptError::Link(LinkProblem::Unknown))?;
    let inv = load(&mut tx, &inv_id).await?;
    if inv.state != "open" {
        return Err(AcceptError::Link(LinkProblem::Superseded));
    }
    if store::accounts::email_taken(&mut tx, &inv.email_key).await? {
        return Err(AcceptError::Service(ServiceError::Conflict(
            "An account with this email address exists already. Sign in instead.".into(),
        )));
    }
    // The account takes the invitation's id: an invitation made through
    // the management API was announced under it.
    let id = inv_id.clone();
    let now = tx.now();
    store::accounts::insert(
        &mut tx,
        &store::accounts::NewAccountRow {
            id: &id,
            email: &inv.email,
            email_key: &inv.email_key,
            first_name: &inv.first_name,
            last_name: &inv.last_name,
            password_hash: Some(&hash),
            state: AccountState::Active.as_str(),
            registered_at: now,
        },
    )
    .await?;
    for g in store::invitations::groups_of(&mut tx, &inv_id).await? {
        store::groups::add_member(&mut tx, &g.into(), &id.as_str().into(), now).await?;
    }
    store::invitations::set_state(&mut tx, &inv_id, "accepted").await?;
    let actor = origin.actor(&id, &inv.email);
    audit::record(
        &mut tx,
        &actor,
        "invitation.accepted",
        &format!("{} accepted the invitation", inv.email),
        &[Subject {
            kind: "account",
            id: &id,
            name: &inv.email,
        }],
        audit::NONE,
        Some(&snapshot(&inv)),
    )
    .await?;
    tx.commit().await?;
    Ok(Accepted {
        account_id: id,
        session_epoch: 0,
    })
}
