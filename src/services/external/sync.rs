//! X3, G7: at every sign-in through a provider, the account's memberships
//! of that provider's external groups become exactly the groups claim;
//! a value seen for the first time becomes an external group named after it.

use crate::domain::identity_provider::external_ids;
use crate::domain::ids::{self, GroupId};
use crate::services::{Actor, ServiceError, audit};
use crate::store::{self, Tx, accounts::AccountDetail, identity_providers::ProviderRow};

pub(super) async fn replace_external_groups(
    tx: &mut Tx,
    actor: &Actor,
    p: &ProviderRow,
    account: &AccountDetail,
    claim: Option<&serde_json::Value>,
) -> Result<(), ServiceError> {
    let wanted = external_ids(claim);
    let now = tx.now();
    let had = store::identities::external_memberships(tx, &p.id, &account.id).await?;
    let mut joined = Vec::new();
    let mut left = Vec::new();
    for (group, external_id) in &had {
        if !wanted.contains(external_id) {
            store::identities::remove_membership(tx, group, &account.id).await?;
            left.push(external_id.as_str());
        }
    }
    for external_id in &wanted {
        if had.iter().any(|(_, e)| e == external_id) {
            continue;
        }
        let group = match store::identities::external_group(tx, &p.id, external_id).await? {
            Some(g) => g,
            None => create_group(tx, p, external_id).await?,
        };
        store::groups::add_member(tx, &GroupId::from(group.as_str()), &account.id, now).await?;
        joined.push(external_id.as_str());
    }
    if joined.is_empty() && left.is_empty() {
        return Ok(());
    }
    audit::record(
        tx,
        actor,
        "account.external_groups",
        &format!("Groups from {} for {}", p.name, account.email),
        &[crate::services::accounts::subject(account)],
        Some(&serde_json::json!({ "left": left })),
        Some(&serde_json::json!({ "joined": joined, "now": wanted })),
    )
    .await?;
    Ok(())
}

/// A new external group: its display name is the claim's value, unless a
/// group has that name already (names are unique, G1): then the
/// provider's name is added, then a number.
async fn create_group(
    tx: &mut Tx,
    p: &ProviderRow,
    external_id: &str,
) -> Result<String, ServiceError> {
    let id = ids::new_id();
    let candidates = std::iter::once(external_id.to_owned())
        .chain(std::iter::once(format!("{external_id} ({})", p.name)))
        .chain((2..10).map(|n| format!("{external_id} ({}) {n}", p.name)));
    let mut name = None;
    for c in candidates {
        if !store::groups::name_taken(&mut *tx, &c.to_lowercase(), &id).await? {
            name = Some(c);
            break;
        }
    }
    let name = name.unwrap_or_else(|| format!("{external_id} ({id})"));
    store::identities::insert_external_group(tx, &id, &name, &p.id, external_id).await?;
    tracing::info!(group = %id, provider = %p.id, "external group made at first sight");
    Ok(id)
}

/// Removes the account from every external group of the provider; the
/// external ids it left.
pub(super) async fn leave_all(
    tx: &mut Tx,
    provider_id: &str,
    account_id: &str,
) -> Result<Vec<String>, ServiceError> {
    let had = store::identities::external_memberships(tx, provider_id, account_id).await?;
    for (group, _) in &had {
        store::identities::remove_membership(tx, group, account_id).await?;
    }
    Ok(had.into_iter().map(|(_, e)| e).collect())
}
