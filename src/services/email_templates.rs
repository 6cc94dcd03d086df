//! The Email templates tab (SPEC E1, E2): edit a template's subject and body,
//! preview it, restore its default; edit the sender and the portal's name.
//! Every change is one transaction with its audit record.

use serde::Serialize;

use crate::domain::email_template::{EmailTemplate, TemplateText};
use crate::domain::names::display_name;
use crate::domain::{Email, FieldErrors};
use crate::email::defaults::default_for;
use crate::email::render::{Rendered, render};
use crate::email::settings::MailSettings;
use crate::services::{Actor, Ctx, ServiceError, audit};
use crate::store::{self, audit::Subject, email_templates::StoredTemplate};

/// A template as the console shows it.
#[derive(Debug, Clone)]
pub struct TemplateView {
    pub template: EmailTemplate,
    pub subject: String,
    pub body: String,
    /// An administrator's edited text is in use (not the default).
    pub customised: bool,
    pub updated_at: Option<i64>,
    /// Its version (M3): 0 while it is the default.
    pub version: i64,
}

impl TemplateView {
    fn of(template: EmailTemplate, stored: Option<StoredTemplate>) -> Self {
        match stored {
            Some(s) => Self {
                template,
                subject: s.subject,
                body: s.body,
                customised: true,
                updated_at: Some(s.updated_at),
                version: s.version,
            },
            None => {
                let d = default_for(template);
                Self {
                    template,
                    subject: d.subject.to_owned(),
                    body: d.body.to_owned(),
                    customised: false,
                    updated_at: None,
                    version: 0,
                }
            }
        }
    }
}

/// The subject and body in use for `template`: the edited one, else the default.
#[tracing::instrument(skip_all)]
pub async fn effective<'c>(
    e: impl crate::store::Exec<'c>,
    template: EmailTemplate,
) -> Result<TemplateView, ServiceError> {
    let stored = store::email_templates::get(e, template.as_str()).await?;
    Ok(TemplateView::of(template, stored))
}

#[tracing::instrument(skip_all)]
pub async fn list(ctx: &Ctx) -> Result<Vec<TemplateView>, ServiceError> {
    let mut stored = store::email_templates::all(&ctx.db).await?;
    Ok(EmailTemplate::ALL
        .into_iter()
        .map(|t| {
            let s = stored
                .iter()
                .position(|s| s.name == t.as_str())
                .map(|i| stored.swap_remove(i));
            TemplateView::of(t, s)
        })
        .collect())
}

#[tracing::instrument(skip_all)]
pub async fn get(ctx: &Ctx, template: EmailTemplate) -> Result<TemplateView, ServiceError> {
    effective(&ctx.db, template).await
}

/// The values a preview fills in.
pub fn sample_values(ctx: &Ctx, template: EmailTemplate) -> Vec<(&'static str, String)> {
    let base = &ctx.settings.base_url;
    let link = match template {
        EmailTemplate::AccountCreated => format!("{base}/sign-in"),
        EmailTemplate::SubscriptionApproved => format!("{base}/subscriptions"),
        EmailTemplate::SubscriptionRejected => format!("{base}/products"),
        _ => format!(
            "{base}/example-link-to-{}",
            template.as_str().replace('_', "-")
        ),
    };
    vec![
        ("first_name", "Ann".to_owned()),
        ("last_name", "Lee".to_owned()),
        ("email", "ann.lee@example.com".to_owned()),
        ("link", link),
        ("expires", "48 hours".to_owned()),
        ("product", "Weather API".to_owned()),
    ]
}

/// Renders `text` with sample values, as the recipient would see it.
#[tracing::instrument(skip_all)]
pub async fn preview(
    ctx: &Ctx,
    template: EmailTemplate,
    text: &TemplateText,
) -> Result<Rendered, ServiceError> {
    let sender = MailSettings::load(&ctx.db, &ctx.settings).await?;
    let samples = sample_values(ctx, template);
    let mut vars: Vec<(&str, &str)> = samples.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.push(("portal_name", &sender.portal_name));
    Ok(render(template, &text.subject, &text.body, &vars))
}

#[derive(Serialize)]
struct TemplateSnapshot<'a> {
    subject: &'a str,
    body: &'a str,
}

fn subject_of(template: EmailTemplate) -> Subject<'static> {
    Subject {
        kind: "template",
        id: template.as_str(),
        name: template.label(),
    }
}

/// E1: saves an edited subject and body.
#[tracing::instrument(skip_all)]
pub async fn save(
    ctx: &Ctx,
    actor: &Actor,
    template: EmailTemplate,
    text: &TemplateText,
) -> Result<(), ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = effective(&mut tx, template).await?;
    if before.subject == text.subject && before.body == text.body {
        return Ok(());
    }
    let now = tx.now();
    store::email_templates::upsert(&mut tx, template.as_str(), &text.subject, &text.body, now)
        .await?;
    audit::record(
        &mut tx,
        actor,
        "template.updated",
        &format!("Edited the {} email template", template.label()),
        &[subject_of(template)],
        Some(&TemplateSnapshot {
            subject: &before.subject,
            body: &before.body,
        }),
        Some(&TemplateSnapshot {
            subject: &text.subject,
            body: &text.body,
        }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(template = template.as_str(), actor = %actor.label, "email template edited");
    Ok(())
}

/// E1: back to the default text; false when it was the default already.
#[tracing::instrument(skip_all)]
pub async fn restore(
    ctx: &Ctx,
    actor: &Actor,
    template: EmailTemplate,
) -> Result<bool, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = effective(&mut tx, template).await?;
    if !store::email_templates::delete(&mut tx, template.as_str()).await? {
        return Ok(false);
    }
    let d = default_for(template);
    audit::record(
        &mut tx,
        actor,
        "template.restored",
        &format!("Restored the default {} email template", template.label()),
        &[subject_of(template)],
        Some(&TemplateSnapshot {
            subject: &before.subject,
            body: &before.body,
        }),
        Some(&TemplateSnapshot {
            subject: d.subject,
            body: d.body,
        }),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(template = template.as_str(), actor = %actor.label, "email template restored");
    Ok(true)
}

// ---- sender and portal name (E2) ------------------------------------------------

#[tracing::instrument(skip_all)]
pub async fn mail_settings(ctx: &Ctx) -> Result<MailSettings, ServiceError> {
    Ok(MailSettings::load(&ctx.db, &ctx.settings).await?)
}

/// Checks the settings form; errors keyed `from_name`, `from_address`, `portal_name`.
pub fn parse_mail_settings(
    from_name: &str,
    from_address: &str,
    portal_name: &str,
) -> Result<MailSettings, Vec<crate::domain::FieldError>> {
    let mut errors = FieldErrors::default();
    let from_name = errors.take("from_name", display_name(from_name, 100));
    let from_address = errors.take("from_address", Email::parse(from_address));
    let portal_name = errors.take("portal_name", display_name(portal_name, 100));
    match (from_name, from_address, portal_name) {
        (Some(from_name), Some(from_address), Some(portal_name)) if errors.is_empty() => {
            Ok(MailSettings {
                from_name,
                from_address: from_address.as_str().to_owned(),
                portal_name,
            })
        }
        _ => Err(errors.0),
    }
}

/// E2: saves the sender name and address and the portal's name.
#[tracing::instrument(skip_all)]
pub async fn save_mail_settings(
    ctx: &Ctx,
    actor: &Actor,
    new: &MailSettings,
) -> Result<(), ServiceError> {
    use store::email_templates::{MAIL_FROM_ADDRESS, MAIL_FROM_NAME, PORTAL_NAME, put_setting};
    let mut tx = ctx.db.begin_write().await?;
    let before = MailSettings::load(&mut tx, &ctx.settings).await?;
    if &before == new {
        return Ok(());
    }
    put_setting(&mut tx, MAIL_FROM_NAME, &new.from_name).await?;
    put_setting(&mut tx, MAIL_FROM_ADDRESS, &new.from_address).await?;
    put_setting(&mut tx, PORTAL_NAME, &new.portal_name).await?;
    let subjects: Vec<Subject<'_>> = [
        (
            MAIL_FROM_NAME,
            "Sender name",
            before.from_name != new.from_name,
        ),
        (
            MAIL_FROM_ADDRESS,
            "Sender address",
            before.from_address != new.from_address,
        ),
        (
            PORTAL_NAME,
            "Portal name",
            before.portal_name != new.portal_name,
        ),
    ]
    .into_iter()
    .filter(|(_, _, changed)| *changed)
    .map(|(id, name, _)| Subject::setting(id, name))
    .collect();
    let names: Vec<&str> = subjects.iter().map(|s| s.name).collect();
    audit::record(
        &mut tx,
        actor,
        "email.settings_updated",
        &format!("Changed the email settings: {}", names.join(", ")),
        &subjects,
        Some(&before),
        Some(new),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(actor = %actor.label, "email settings changed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let ok = parse_mail_settings(" Acme APIs ", "apis@acme.test", "Acme").unwrap();
        assert_eq!(ok.from_name, "Acme APIs");
        let errs = parse_mail_settings("a\nb", "not-an-address", "").unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["from_name", "from_address", "portal_name"]);
    }
}
