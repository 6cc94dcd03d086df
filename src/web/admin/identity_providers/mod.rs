//! The console's Identity providers tab (SPEC X1): the outside OpenID
//! providers people may sign in with, their settings, **Test connection**
//! and the callback URL to register at the provider.

mod show;

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::clock;
use crate::domain::FieldError;
use crate::domain::identity_provider::{
    DEFAULT_GROUPS_CLAIM, DEFAULT_SCOPES, ProviderSettings, RawProviderSettings,
};
use crate::services::{Ctx, identity_providers};
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::errors::{WebError, ok};
use crate::web::paths::console;

pub use show::{add, add_form, delete, delete_confirm, show, test_connection, update};

/// The settings form's fields as sent.
#[derive(Deserialize, Default, Clone)]
pub struct SettingsForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub client_id: String,
    /// Never filled in by a page: the saved secret is not shown again.
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub scopes: String,
    #[serde(default)]
    pub groups_claim: String,
    pub create_accounts: Option<String>,
    pub enabled: Option<String>,
}

impl SettingsForm {
    pub fn new_provider() -> Self {
        Self {
            scopes: DEFAULT_SCOPES.into(),
            groups_claim: DEFAULT_GROUPS_CLAIM.into(),
            enabled: Some("on".into()),
            ..Default::default()
        }
    }

    pub fn of(s: &ProviderSettings) -> Self {
        Self {
            name: s.name.clone(),
            issuer: s.issuer.clone(),
            client_id: s.client_id.clone(),
            client_secret: String::new(),
            scopes: s.scopes.clone(),
            groups_claim: s.groups_claim.clone(),
            create_accounts: s.create_accounts.then(|| "on".into()),
            enabled: s.enabled.then(|| "on".into()),
        }
    }

    pub fn parse(&self, new: bool) -> Result<ProviderSettings, Vec<FieldError>> {
        ProviderSettings::parse(
            &RawProviderSettings {
                name: &self.name,
                issuer: &self.issuer,
                client_id: &self.client_id,
                client_secret: &self.client_secret,
                scopes: &self.scopes,
                groups_claim: &self.groups_claim,
                create_accounts: self.create_accounts.is_some(),
                enabled: self.enabled.is_some(),
            },
            new,
        )
    }

    /// Sent back with errors: the secret typed is not echoed into the page.
    pub fn without_secret(mut self) -> Self {
        self.client_secret.clear();
        self
    }
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub enabled: bool,
    pub linked: i64,
    pub groups: i64,
    pub created: String,
}

#[derive(Template)]
#[template(path = "admin/identity_providers/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
}

pub async fn list(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    let rows = identity_providers::list(&ctx)
        .await?
        .into_iter()
        .map(|p| Row {
            created: clock::display(p.created_at),
            id: p.id,
            name: p.name,
            issuer: p.issuer,
            enabled: p.enabled,
            linked: p.linked,
            groups: p.groups,
        })
        .collect();
    ok(&ListPage {
        chrome: Chrome::new(&session, &admin, "identity_providers"),
        rows,
    })
}
