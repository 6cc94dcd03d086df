//! Queuing email (SPEC E3) and the Email log.
//!
//! A use case that sends mail calls [`queue`] inside its own transaction, so
//! the message exists if and only if the change does; the commit wakes the
//! worker (`store::Tx`), which delivers at once:
//!
//! ```ignore
//! let mut tx = ctx.db.begin_write().await?;
//! // … the change and its audit record …
//! mail::queue(&mut tx, ctx, EmailTemplate::Invitation,
//!     &Recipient { address: &email, name: &full_name, account_id: None },
//!     &[("first_name", &first), ("last_name", &last), ("link", &link), ("expires", "48 hours")],
//! ).await?;
//! tx.commit().await?;
//! ```
//!
//! Placeholders: callers pass `first_name`, `last_name`, `link` and, for the
//! templates whose link expires, `expires` (in words); `queue` adds
//! `portal_name` and `email` (the recipient's address) itself.

use serde::Serialize;

use crate::domain::Email;
use crate::domain::email_template::EmailTemplate;
use crate::email::render::{one_line, render};
use crate::email::settings::MailSettings;
use crate::email::transport::domain_of;
use crate::services::{Actor, Ctx, ServiceError, audit, email_templates};
use crate::store::{self, Tx, audit::Subject, outbox};

/// Who a message goes to.
pub struct Recipient<'a> {
    pub address: &'a str,
    /// Shown in the To header ("Ann Lee"); may be empty.
    pub name: &'a str,
    /// The account it concerns, for the per-account limits of S-8.
    pub account_id: Option<&'a str>,
}

/// Renders `template` with `vars` (placeholder name → raw value, e.g.
/// `("first_name", "Ann")`, `("link", "https://…")`); adds `portal_name` and
/// `email` itself; writes the message to the outbox inside `tx`. Returns
/// the outbox id; the worker is woken when `tx` commits.
#[tracing::instrument(skip_all)]
pub async fn queue(
    tx: &mut Tx,
    ctx: &Ctx,
    template: EmailTemplate,
    to: &Recipient<'_>,
    vars: &[(&str, &str)],
) -> Result<i64, ServiceError> {
    queue_with(tx, &ctx.settings, template, to, vars).await
}

/// The same with the settings alone (the mail worker has no `Ctx`).
pub async fn queue_with(
    tx: &mut Tx,
    settings: &crate::config::Settings,
    template: EmailTemplate,
    to: &Recipient<'_>,
    vars: &[(&str, &str)],
) -> Result<i64, ServiceError> {
    let address = Email::parse(to.address).map_err(|m| ServiceError::field("email", m))?;
    let text = email_templates::effective(&mut *tx, template).await?;
    let sender = MailSettings::load(&mut *tx, settings).await?;
    let mut all: Vec<(&str, &str)> = vars.to_vec();
    if !vars.iter().any(|(k, _)| *k == "portal_name") {
        all.push(("portal_name", &sender.portal_name));
    }
    if !vars.iter().any(|(k, _)| *k == "email") {
        all.push(("email", address.as_str()));
    }
    let rendered = render(template, &text.subject, &text.body, &all);
    let id = outbox::insert(
        tx,
        &outbox::NewMessage {
            template: template.as_str(),
            to_address: address.as_str(),
            to_name: &one_line(to.name),
            account_id: to.account_id,
            subject: &rendered.subject,
            text_body: &rendered.text,
            html_body: &rendered.html,
        },
    )
    .await?;
    tracing::info!(
        outbox_id = id,
        template = template.as_str(),
        to_domain = %domain_of(address.as_str()),
        "email queued"
    );
    Ok(id)
}

/// S-8: how many messages of these templates were queued for this account
/// since `since` (unix seconds).
#[tracing::instrument(skip_all)]
pub async fn recent_count<'c>(
    e: impl crate::store::Exec<'c>,
    account_id: &str,
    templates: &[EmailTemplate],
    since: i64,
) -> Result<i64, ServiceError> {
    let names: Vec<&str> = templates.iter().map(|t| t.as_str()).collect();
    Ok(outbox::count_recent(e, account_id, &names, since).await?)
}

// ---- the Email log ---------------------------------------------------------------

pub const LOG_PAGE_SIZE: i64 = 50;

pub struct LogPage {
    pub rows: Vec<outbox::LogRow>,
    /// The `before` of the next (older) page, if any.
    pub next_before: Option<i64>,
}

/// Newest first, optionally only one state (`queued`, `retrying`, `sent`, `failed`).
#[tracing::instrument(skip_all)]
pub async fn log(
    ctx: &Ctx,
    state: Option<&str>,
    before: Option<i64>,
) -> Result<LogPage, ServiceError> {
    let state = state.filter(|s| outbox::STATES.contains(s));
    let mut rows = outbox::log_page(&ctx.db, state, before, LOG_PAGE_SIZE + 1).await?;
    let more = rows.len() as i64 > LOG_PAGE_SIZE;
    if more {
        rows.pop();
    }
    let next_before = rows.last().filter(|_| more).map(|r| r.id);
    Ok(LogPage { rows, next_before })
}

#[derive(Serialize)]
struct RetrySnapshot<'a> {
    state: &'a str,
    last_error: Option<&'a str>,
}

/// The console's Retry: a failed message becomes due again at once.
#[tracing::instrument(skip_all)]
pub async fn retry(ctx: &Ctx, actor: &Actor, id: i64) -> Result<outbox::LogRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = store::outbox::get(&mut tx, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let now = tx.now();
    if !outbox::retry_failed(&mut tx, id, now).await? {
        return Err(ServiceError::Conflict(format!(
            "Email #{id} is {}, not failed: there is nothing to retry.",
            before.state
        )));
    }
    let label =
        EmailTemplate::parse(&before.template).map_or(before.template.as_str(), |t| t.label());
    let mut subjects = vec![Subject {
        kind: "template",
        id: &before.template,
        name: label,
    }];
    if let Some(account) = before.account_id.as_deref() {
        subjects.push(Subject {
            kind: "account",
            id: account,
            name: &before.to_address,
        });
    }
    audit::record(
        &mut tx,
        actor,
        "email.retried",
        &format!("Retried email #{id} ({label}) to {}", before.to_address),
        &subjects,
        Some(&RetrySnapshot {
            state: &before.state,
            last_error: before.last_error.as_deref(),
        }),
        Some(&RetrySnapshot {
            state: outbox::QUEUED,
            last_error: before.last_error.as_deref(),
        }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(outbox_id = id, actor = %actor.label, "email retry requested");
    Ok(before)
}
