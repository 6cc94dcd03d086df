//! Notifications to administrators (SPEC R5): the Notifications page's
//! choices, and the emails an event sends, queued in the event's own
//! transaction (so they exist if and only if the event does).

use serde::Serialize;

use crate::domain::notification::Notification;
use crate::services::{Actor, Ctx, ServiceError, audit, mail};
use crate::store::{self, Tx, audit::Subject, notifications::Recipient};

/// The page: the administrators it offers and, per event, those chosen.
pub struct Choices {
    pub administrators: Vec<Recipient>,
    pub chosen: Vec<(Notification, Vec<String>)>,
}

pub async fn choices(ctx: &Ctx) -> Result<Choices, ServiceError> {
    let mut conn = ctx.db.acquire().await?;
    let administrators = store::notifications::administrators(&mut conn).await?;
    let rows = store::notifications::chosen(&mut conn).await?;
    let chosen = Notification::ALL
        .into_iter()
        .map(|n| {
            let ids = rows
                .iter()
                .filter(|(e, _)| e == n.as_str())
                .map(|(_, a)| a.clone())
                .collect();
            (n, ids)
        })
        .collect();
    Ok(Choices {
        administrators,
        chosen,
    })
}

/// What the audit log keeps: each event's administrators (ids).
#[derive(Serialize)]
struct Snapshot<'a>(Vec<(&'static str, Vec<&'a str>)>);

fn snapshot<'a>(pairs: &[(&str, &'a str)]) -> Snapshot<'a> {
    Snapshot(
        Notification::ALL
            .into_iter()
            .map(|n| {
                let ids = pairs
                    .iter()
                    .filter(|(e, _)| *e == n.as_str())
                    .map(|(_, a)| *a)
                    .collect();
                (n.as_str(), ids)
            })
            .collect(),
    )
}

/// Saves the choices: each event's administrators (ids of active
/// administrators only; anything else is refused). Audited.
#[tracing::instrument(skip_all)]
pub async fn save(
    ctx: &Ctx,
    actor: &Actor,
    wanted: &[(Notification, Vec<String>)],
) -> Result<(), ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let admins = store::notifications::administrators(&mut tx).await?;
    let is_admin = |id: &str| admins.iter().any(|a| a.id == id);
    if let Some(bad) = wanted
        .iter()
        .flat_map(|(_, ids)| ids)
        .find(|id| !is_admin(id))
    {
        return Err(ServiceError::field(
            "recipients",
            format!("{bad} is not an active administrator: only administrators are notified."),
        ));
    }
    let before = store::notifications::chosen(&mut tx).await?;
    let mut choices: Vec<(&str, &str)> = wanted
        .iter()
        .flat_map(|(n, ids)| ids.iter().map(move |id| (n.as_str(), id.as_str())))
        .collect();
    choices.sort_unstable();
    choices.dedup();
    let mut old: Vec<(&str, &str)> = before
        .iter()
        .map(|(e, a)| (e.as_str(), a.as_str()))
        .collect();
    old.sort_unstable();
    // Saved as it was: nothing changed, nothing to record.
    if old == choices {
        return Ok(());
    }
    store::notifications::replace(&mut tx, &choices).await?;
    audit::record(
        &mut tx,
        actor,
        "notifications.updated",
        "Changed who is notified by email",
        &[Subject::setting("notifications", "Notifications")],
        Some(&snapshot(&old)),
        Some(&snapshot(&choices)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Queues `event`'s email to each administrator chosen for it, inside the
/// event's transaction. `vars`: the template's own placeholders
/// (`account`, `product`, `link`).
pub async fn notify(
    tx: &mut Tx,
    ctx: &Ctx,
    event: Notification,
    vars: &[(&str, &str)],
) -> Result<(), ServiceError> {
    notify_with(tx, &ctx.settings, event, vars).await
}

/// The same with the settings alone (the mail worker has no `Ctx`).
pub async fn notify_with(
    tx: &mut Tx,
    settings: &crate::config::Settings,
    event: Notification,
    vars: &[(&str, &str)],
) -> Result<(), ServiceError> {
    for r in store::notifications::recipients(tx, event.as_str()).await? {
        let mut all: Vec<(&str, &str)> =
            vec![("first_name", &r.first_name), ("last_name", &r.last_name)];
        all.extend_from_slice(vars);
        mail::queue_with(
            tx,
            settings,
            event.template(),
            &mail::Recipient {
                address: &r.email,
                name: &format!("{} {}", r.first_name, r.last_name),
                account_id: Some(&r.id),
            },
            &all,
        )
        .await?;
    }
    Ok(())
}
