//! X2, S-22: the account a provider's subject signs in to. A linked
//! subject is its account; otherwise only an email address the provider
//! says it verified links to an existing account (never an
//! administrator's) or, when the provider's setting allows, makes a new
//! active account in Developers.

use std::net::IpAddr;

use super::ExternalError;
use super::provider_client::Identity;
use crate::domain::{AccountState, Email, PersonName, ids};
use crate::services::accounts::{Person, insert_account_as, load};
use crate::services::{Actor, audit};
use crate::store::{self, Tx, accounts::AccountDetail, identity_providers::ProviderRow};

pub(super) async fn account_for(
    tx: &mut Tx,
    p: &ProviderRow,
    identity: &Identity,
    client: Option<IpAddr>,
) -> Result<AccountDetail, ExternalError> {
    if let Some(id) = store::identities::account_of(tx, &p.id, &identity.subject).await? {
        return Ok(load(tx, &id).await?);
    }
    let email = identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified)
        .and_then(|e| Email::parse(e).ok());
    let Some(email) = email else {
        tracing::warn!(
            provider = %p.id,
            "external sign-in: no linked account, and no verified email to link or make one by"
        );
        return Err(ExternalError::NoAccount);
    };
    let now = tx.now();
    let (account, how) = match store::accounts::detail_by_email(&mut *tx, &email.key()).await? {
        Some(a) if a.is_admin => {
            tracing::warn!(account = %a.id, "external sign-in: an administrator is never linked automatically");
            return Err(ExternalError::NoAccount);
        }
        Some(a) => (a, "linked"),
        None if p.create_accounts => {
            let (first, last) = names_of(identity, &email);
            let id = ids::new_id();
            let person = Person {
                email: &email,
                first_name: &first,
                last_name: &last,
            };
            insert_account_as(tx, &id, &person, None, AccountState::Active).await?;
            let created = load(tx, &id).await?;
            audit::record(
                tx,
                &Actor::portal(&id, email.as_str(), client),
                "account.created",
                &format!(
                    "Created account {} at its first sign-in with {}",
                    email.as_str(),
                    p.name
                ),
                &[crate::services::accounts::subject(&created)],
                audit::NONE,
                Some(&crate::services::accounts::Snapshot::from(&created)),
            )
            .await?;
            (created, "created")
        }
        None => {
            tracing::info!(provider = %p.id, "external sign-in: no account, and this provider makes none");
            return Err(ExternalError::NoAccount);
        }
    };
    store::identities::link(tx, &p.id, &identity.subject, &account.id, now).await?;
    audit::record(
        tx,
        &Actor::portal(&account.id, &account.email, client),
        "account.identity_linked",
        &format!("Linked {} to its identity at {}", account.email, p.name),
        &[crate::services::accounts::subject(&account)],
        audit::NONE,
        Some(&serde_json::json!({ "provider": p.name, "subject": identity.subject, "by": how })),
    )
    .await?;
    Ok(account)
}

/// A new account's names: the provider's given and family names, else its
/// full name split at the first space, else the address's local part.
fn names_of(identity: &Identity, email: &Email) -> (PersonName, PersonName) {
    let parse = |s: Option<&str>, what| s.and_then(|s| PersonName::parse(s, what).ok());
    let full = identity.name.as_deref().map(str::trim).unwrap_or_default();
    let (full_first, full_last) = full.split_once(' ').unwrap_or((full, ""));
    let local = email.as_str().split('@').next().unwrap_or_default();
    let first = parse(identity.given_name.as_deref(), "first name")
        .or_else(|| parse(Some(full_first), "first name"))
        .or_else(|| parse(Some(local), "first name"))
        .unwrap_or_else(|| PersonName::parse("Developer", "first name").expect("a name"));
    let last = parse(identity.family_name.as_deref(), "last name")
        .or_else(|| parse(Some(full_last), "last name"))
        .unwrap_or_else(|| PersonName::parse("-", "last name").expect("a name"));
    (first, last)
}
