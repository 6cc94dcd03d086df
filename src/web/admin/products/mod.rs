//! The Products tab (SPEC P1, P2, P5): the list (`list`), Add product
//! (`add`), a product's Settings with publish/unpublish (`settings`), its
//! Access control with who can see it (`access`), and Delete (`delete`).

mod access;
mod add;
mod delete;
mod list;
mod settings;

pub use access::{access, add_group, remove_group, save_access};
pub use add::{add, add_form};
pub use delete::{delete, delete_confirm};
pub use list::list;
pub use settings::{publish, show, unpublish, update};

use serde::Deserialize;

use crate::domain::product::ProductSettings;
use crate::store::products::ProductRow;

/// The settings form of Add product and of a product's Settings tab.
#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    terms: String,
    subscription_required: Option<String>,
    approval_required: Option<String>,
    #[serde(default)]
    subscriptions_limit: String,
    published: Option<String>,
}

impl SettingsForm {
    fn parse(&self) -> Result<ProductSettings, Vec<crate::domain::FieldError>> {
        ProductSettings::parse(
            &self.name,
            &self.description,
            &self.terms,
            self.subscription_required.is_some(),
            self.approval_required.is_some(),
            &self.subscriptions_limit,
            self.published.is_some(),
        )
    }

    fn from_product(p: &ProductRow) -> Self {
        let on = |b: bool| b.then(|| "on".to_owned());
        Self {
            name: p.name.clone(),
            description: p.description.clone(),
            terms: p.terms.clone(),
            subscription_required: on(p.subscription_required),
            approval_required: on(p.approval_required),
            subscriptions_limit: p
                .subscriptions_limit
                .map(|n| n.to_string())
                .unwrap_or_default(),
            published: on(p.published()),
        }
    }
}
