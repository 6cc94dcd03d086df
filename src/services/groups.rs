//! Groups: SPEC G1–G6 (the console side), S-14 (system groups never change).

use serde::Serialize;

use crate::domain::group::{GroupKind, GroupSettings, Holds, holds, slug};
use crate::services::{Actor, Ctx, Expect, ServiceError, account_list, audit};
use crate::store::account_list::{Cursor, SortKey};
use crate::store::selection::Selection;
use crate::store::{self, Tx, audit::Subject, groups::*};

#[derive(Serialize)]
struct Snapshot<'a> {
    name: &'a str,
    description: Option<&'a str>,
}

fn subject(g: &GroupRow) -> Subject<'_> {
    Subject {
        kind: "group",
        id: &g.id,
        name: &g.name,
    }
}

async fn load(tx: &mut Tx, id: &str) -> Result<GroupRow, ServiceError> {
    store::groups::get(&mut *tx, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Only custom groups are edited by hand: system groups are fixed (G2) and
/// external ones follow their identity provider (G7).
fn ensure_custom(g: &GroupRow) -> Result<(), ServiceError> {
    match g.kind {
        GroupKind::Custom => Ok(()),
        GroupKind::System => Err(ServiceError::Forbidden(format!(
            "{} is a system group: it cannot be renamed, edited or deleted, and its members cannot be changed by hand.",
            g.name
        ))),
        GroupKind::External => Err(ServiceError::Forbidden(format!(
            "{} mirrors a group of an identity provider: its members come from there.",
            g.name
        ))),
    }
}

/// G7: the identity provider an external group mirrors: (id, name).
pub async fn provider_of(
    ctx: &Ctx,
    g: &GroupRow,
) -> Result<Option<(String, String)>, ServiceError> {
    if g.kind != GroupKind::External {
        return Ok(None);
    }
    Ok(store::identities::provider_of_group(&ctx.db, &g.id).await?)
}

#[tracing::instrument(skip_all)]
pub async fn get(ctx: &Ctx, id: &str) -> Result<GroupRow, ServiceError> {
    store::groups::get(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub const PAGE_SIZE: i64 = 50;

pub struct GroupsPage {
    pub rows: Vec<GroupListRow>,
    /// (name key, id) of the last row when more follow.
    pub next: Option<(String, String)>,
    /// Members of Developers: every account.
    pub all_accounts: i64,
}

#[tracing::instrument(skip_all)]
pub async fn list(
    ctx: &Ctx,
    search: Option<&str>,
    after: Option<(&str, &str)>,
) -> Result<GroupsPage, ServiceError> {
    let mut rows = store::groups::list(&ctx.db, search, after, PAGE_SIZE).await?;
    let next = super::next_page(&mut rows, PAGE_SIZE, |r| {
        (r.name_key.clone(), r.id.to_string())
    });
    let all_accounts = store::account_list::count(&ctx.db, &Default::default(), 0).await?;
    Ok(GroupsPage {
        rows,
        next,
        all_accounts,
    })
}

/// The name must be free, compared case-insensitively (G1).
async fn ensure_name_free(
    tx: &mut Tx,
    s: &GroupSettings,
    except: &str,
) -> Result<(), ServiceError> {
    if store::groups::name_taken(&mut *tx, &s.name.key(), except).await? {
        return Err(ServiceError::field(
            "name",
            "A group with this name already exists.",
        ));
    }
    Ok(())
}

/// G3: a custom group, optionally with its first members: one change, one
/// audit record (its subjects name the first members too).
#[tracing::instrument(skip_all)]
pub async fn create(
    ctx: &Ctx,
    actor: &Actor,
    id: Option<&str>,
    s: &GroupSettings,
    members: &[String],
) -> Result<String, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    ensure_name_free(&mut tx, s, "").await?;
    let id = match id {
        // The management API names the id (a taken one is a conflict).
        Some(id) if store::groups::get(&mut tx, id).await?.is_some() => {
            return Err(ServiceError::Conflict(format!(
                "A group with the id {id} exists already."
            )));
        }
        Some(id) => id.to_owned(),
        None => store::free_id(&mut tx, store::Named::Groups, &slug(s.name.as_str())).await?,
    };
    let now = tx.now();
    store::groups::insert(&mut tx, &id, s.name.as_str(), s.description.as_deref(), now).await?;
    let group = load(&mut tx, &id).await?;
    let added = if members.is_empty() {
        0
    } else {
        store::selection::select(&mut tx, &Selection::Ids(members)).await?;
        store::selection::add_selected(&mut tx, &id, now).await?
    };
    #[derive(Serialize)]
    struct Created<'a> {
        name: &'a str,
        description: Option<&'a str>,
        members: u64,
    }
    let audit_id = audit::record(
        &mut tx,
        actor,
        "group.created",
        &match added {
            0 => format!("Created group {}", group.name),
            n => format!("Created group {} with {n} member(s)", group.name),
        },
        &[subject(&group)],
        audit::NONE,
        Some(&Created {
            name: &group.name,
            description: group.description.as_deref(),
            members: added,
        }),
    )
    .await?;
    if added > 0 {
        store::selection::audit_selected(&mut tx, audit_id).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// G3, G7: edit name and description of a custom or external group.
#[tracing::instrument(skip_all)]
pub async fn update(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    s: &GroupSettings,
    expect: Expect,
) -> Result<GroupRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let before = load(&mut tx, id).await?;
    if !before.kind.is_described_by_hand() {
        ensure_custom(&before)?;
    }
    expect.check(before.version)?;
    ensure_name_free(&mut tx, s, id).await?;
    store::groups::update(&mut tx, id, s.name.as_str(), s.description.as_deref()).await?;
    let after = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "group.updated",
        &format!("Updated group {}", after.name),
        &[subject(&after)],
        Some(&Snapshot {
            name: &before.name,
            description: before.description.as_deref(),
        }),
        Some(&Snapshot {
            name: &after.name,
            description: after.description.as_deref(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub struct Dependants {
    pub memberships: i64,
    pub grants: i64,
}

#[tracing::instrument(skip_all)]
pub async fn dependants(ctx: &Ctx, id: &str) -> Result<Dependants, ServiceError> {
    let (memberships, grants) = store::groups::dependants(&ctx.db, id).await?;
    Ok(Dependants {
        memberships,
        grants,
    })
}

/// G3: delete a custom group with its memberships and product access.
#[tracing::instrument(skip_all)]
pub async fn delete(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    expect: Expect,
) -> Result<GroupRow, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let group = load(&mut tx, id).await?;
    ensure_custom(&group)?;
    expect.check(group.version)?;
    let (memberships, grants) = store::groups::dependants(&mut tx, id).await?;
    store::groups::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        "group.deleted",
        &format!(
            "Deleted group {} with {memberships} membership(s) and {grants} product grant(s)",
            group.name
        ),
        &[subject(&group)],
        Some(&Snapshot {
            name: &group.name,
            description: group.description.as_deref(),
        }),
        audit::NONE,
    )
    .await?;
    tx.commit().await?;
    Ok(group)
}

#[derive(Serialize)]
struct Counts {
    added: u64,
    removed: u64,
}

/// Writes the audit record of a membership change that changed something
/// (a request that changed nothing leaves no record), its subjects being
/// the group and the selected accounts.
async fn record_members_changed(
    tx: &mut Tx,
    actor: &Actor,
    group: &GroupRow,
    action: &'static str,
    summary: String,
    counts: Counts,
) -> Result<(), ServiceError> {
    if counts.added == 0 && counts.removed == 0 {
        return Ok(());
    }
    let audit_id = audit::record(
        tx,
        actor,
        action,
        &summary,
        &[subject(group)],
        audit::NONE,
        Some(&counts),
    )
    .await?;
    store::selection::audit_selected(tx, audit_id).await?;
    Ok(())
}

/// G4: add accounts to a custom group; accounts already in it stay as they are.
#[tracing::instrument(skip_all)]
pub async fn add_members(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    accounts: &[String],
) -> Result<u64, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let group = load(&mut tx, id).await?;
    ensure_custom(&group)?;
    store::selection::select(&mut tx, &Selection::Ids(accounts)).await?;
    let now = tx.now();
    let added = store::selection::add_selected(&mut tx, id, now).await?;
    record_members_changed(
        &mut tx,
        actor,
        &group,
        "group.members_added",
        format!("Added {added} member(s) to {}", group.name),
        Counts { added, removed: 0 },
    )
    .await?;
    tx.commit().await?;
    Ok(added)
}

/// G4: remove accounts from a custom group.
#[tracing::instrument(skip_all)]
pub async fn remove_members(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    accounts: &[String],
) -> Result<u64, ServiceError> {
    let mut tx = ctx.db.begin_write().await?;
    let group = load(&mut tx, id).await?;
    ensure_custom(&group)?;
    store::selection::select(&mut tx, &Selection::Ids(accounts)).await?;
    let removed = store::selection::remove_selected(&mut tx, id).await?;
    record_members_changed(
        &mut tx,
        actor,
        &group,
        "group.members_removed",
        format!("Removed {removed} member(s) from {}", group.name),
        Counts { added: 0, removed },
    )
    .await?;
    tx.commit().await?;
    Ok(removed)
}

pub struct Toggled {
    pub group: GroupRow,
    pub added: u64,
    pub removed: u64,
}

/// G5 "Add to group": each selected account that is a member leaves the
/// group, each that is not joins it; one transaction, a few statements
/// whatever the number of accounts. Who is selected and who of them is a
/// member is read before the write lock is taken, and read again under it
/// only if something was committed in between (`store::add_to_group::prepare_toggle`),
/// so other writes wait for the writing alone.
#[tracing::instrument(skip_all)]
pub async fn toggle(
    ctx: &Ctx,
    actor: &Actor,
    id: &str,
    selection: &Selection<'_>,
) -> Result<Toggled, ServiceError> {
    let started = std::time::Instant::now();
    // A group that cannot be toggled is refused before any reading.
    ensure_custom(&get(ctx, id).await?)?;
    let prepared = store::add_to_group::prepare_toggle(&ctx.db, id, selection).await?;
    let reread_before = prepared.reread_before;
    let prepare_micros = started.elapsed().as_micros() as u64;
    let (mut tx, locked) = prepared.begin_write(&ctx.db, selection).await?;
    // Again under the lock: it may have been deleted or changed meanwhile.
    let group = load(&mut tx, id).await?;
    ensure_custom(&group)?;
    let now = tx.now();
    let (added, removed) = store::add_to_group::apply_toggle(&mut tx, id, selection, now).await?;
    record_members_changed(
        &mut tx,
        actor,
        &group,
        "group.members_toggled",
        format!(
            "Add to group {}: added {added}, removed {removed}",
            group.name
        ),
        Counts { added, removed },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        group = %id, added, removed, actor = %actor.label,
        selected = locked.selected,
        micros = started.elapsed().as_micros() as u64,
        prepare_micros,
        lock_micros = locked.locked_at.elapsed().as_micros() as u64,
        reread_before,
        reread_in_lock = locked.reread_in_lock,
        "group membership toggled"
    );
    Ok(Toggled {
        group,
        added,
        removed,
    })
}

/// The custom groups offered in the Add to group menu (system groups never are).
/// Up to this many custom groups are offered as a menu; beyond, people type
/// the group's name (a menu of 1,000 names helps nobody and costs every page).
pub const MENU_LIMIT: i64 = 100;

/// The Add to group menu, or `None` when there are too many groups for one.
#[tracing::instrument(skip_all)]
pub async fn custom_menu(ctx: &Ctx) -> Result<Option<Vec<GroupRef>>, ServiceError> {
    // Every Users page shows it and groups change seldom: remembered until
    // the next commit, like the session check (`remembered`).
    Ok(ctx
        .group_menu
        .0
        .get_or_read((), store::groups::custom_up_to(&ctx.db, MENU_LIMIT))
        .await?)
}

/// The Add to group menu, remembered until the next commit.
pub struct GroupMenu(crate::services::remembered::Remembered<(), Option<Vec<GroupRef>>>);

impl Default for GroupMenu {
    fn default() -> Self {
        Self(crate::services::remembered::Remembered::new(1))
    }
}

/// A group by id, or else by its name as typed.
#[tracing::instrument(skip_all)]
pub async fn find(ctx: &Ctx, id_or_name: &str) -> Result<GroupRow, ServiceError> {
    if let Some(g) = store::groups::get(&ctx.db, id_or_name).await? {
        return Ok(g);
    }
    store::groups::by_name(&ctx.db, id_or_name)
        .await?
        .ok_or(ServiceError::NotFound)
}

#[tracing::instrument(skip_all)]
pub async fn all(ctx: &Ctx) -> Result<Vec<GroupRef>, ServiceError> {
    Ok(store::groups::all(&ctx.db).await?)
}

/// How many accounts "every account matching" would touch, counted exactly
/// for the confirmation page.
#[tracing::instrument(skip_all)]
pub async fn count_matching(
    ctx: &Ctx,
    filter: &store::account_list::Filter<'_>,
) -> Result<i64, ServiceError> {
    Ok(store::account_list::count(&ctx.db, filter, i64::MAX).await?)
}

/// A group's Members page: the group, and a page of its members (`None`
/// for Guests, which holds nobody), read on one connection.
#[tracing::instrument(skip_all)]
pub async fn members_page(
    ctx: &Ctx,
    id: &str,
    search: Option<String>,
    cursor: Option<Cursor>,
) -> Result<(GroupRow, Option<account_list::UsersPage>), ServiceError> {
    let mut conn = ctx.db.acquire().await?;
    let group = store::groups::get(&mut conn, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let held = holds(&group.id);
    if held == Holds::Nobody {
        return Ok((group, None));
    }
    let page = account_list::list_in(
        ctx,
        &mut conn,
        &account_list::UsersQuery {
            sort: SortKey::Name,
            descending: false,
            state: None,
            search,
            groups: (held == Holds::Members).then(|| vec![group.id.to_string()]),
            cursor,
            group_counts: false,
        },
    )
    .await?;
    Ok((group, Some(page)))
}

/// Whether the account is in the group (G2: Developers holds everyone,
/// Guests nobody).
#[tracing::instrument(skip_all)]
pub async fn is_member(ctx: &Ctx, group: &GroupRow, account: &str) -> Result<bool, ServiceError> {
    Ok(match holds(&group.id) {
        Holds::Everyone => true,
        Holds::Nobody => false,
        Holds::Members => !members_among(ctx, &group.id, &[account.to_owned()])
            .await?
            .is_empty(),
    })
}

/// Which of these accounts are members of the group.
#[tracing::instrument(skip_all)]
pub async fn members_among(
    ctx: &Ctx,
    group_id: &str,
    ids: &[String],
) -> Result<Vec<String>, ServiceError> {
    Ok(store::groups::members_among(&ctx.db, group_id, ids).await?)
}
