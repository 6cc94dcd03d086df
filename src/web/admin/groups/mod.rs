//! The Groups tab (SPEC G1–G4, G6): the list (`list`), Add group (`add`),
//! a group's Settings (`settings`) and Members (`members`), and Delete
//! (`delete`). Here: what more than one of them uses.

mod add;
mod delete;
mod list;
mod members;
mod settings;

pub use add::{add, add_form};
pub use delete::{delete, delete_confirm};
pub use list::list;
pub use members::{add_members, members, remove_members};
pub use settings::{show, update};

use crate::services::{Ctx, ServiceError, account_list};
use crate::store::account_list::SortKey;
use crate::web::admin::users::Row;

/// Accounts matching a search, for picking (first 20).
async fn find_accounts(
    ctx: &Ctx,
    text: &str,
    exclude: &[String],
) -> Result<Vec<Row>, ServiceError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let page = account_list::list(
        ctx,
        &account_list::UsersQuery {
            sort: SortKey::Name,
            descending: false,
            state: None,
            search: Some(text.trim().to_owned()),
            groups: None,
            cursor: None,
            group_counts: false,
        },
    )
    .await?;
    Ok(page
        .rows
        .into_iter()
        .filter(|a| !exclude.iter().any(|e| a.id == *e))
        .take(20)
        .map(Row::from)
        .collect())
}
