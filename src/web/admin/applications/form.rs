//! The application settings form (Add application and the application's
//! page): its fields as sent, and the choices it offers.

use serde::Deserialize;

use crate::domain::FieldError;
use crate::domain::application::{
    ApplicationSettings, ClientKind, RawSettings, SignInGroups, SigningAlg, TokenGroups,
};
use crate::domain::group::{Holds, holds};
use crate::services::{Ctx, ServiceError};
use crate::store;

#[derive(Deserialize, Default, Clone)]
pub struct SettingsForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub redirect_uris: String,
    #[serde(default)]
    pub kind: String,
    pub trusted: Option<String>,
    #[serde(default)]
    pub alg: String,
    #[serde(default)]
    pub token_groups: String,
    #[serde(default)]
    pub token_group_ids: Vec<String>,
    #[serde(default)]
    pub sign_in_groups: String,
    #[serde(default)]
    pub sign_in_group_ids: Vec<String>,
}

impl SettingsForm {
    pub fn new_application() -> Self {
        Self {
            kind: ClientKind::Confidential.as_str().into(),
            alg: SigningAlg::Rs256.as_str().into(),
            token_groups: "all".into(),
            sign_in_groups: "everyone".into(),
            ..Default::default()
        }
    }

    pub fn of(s: &ApplicationSettings) -> Self {
        let ids = |g: &[crate::domain::ids::GroupId]| g.iter().map(|g| g.to_string()).collect();
        Self {
            name: s.name.clone(),
            redirect_uris: s.redirect_uris.join("\n"),
            kind: s.kind.as_str().into(),
            trusted: s.trusted.then(|| "on".into()),
            alg: s.alg.as_str().into(),
            token_groups: match &s.token_groups {
                TokenGroups::All => "all".into(),
                TokenGroups::Chosen(_) => "chosen".into(),
            },
            token_group_ids: match &s.token_groups {
                TokenGroups::All => Vec::new(),
                TokenGroups::Chosen(g) => ids(g),
            },
            sign_in_groups: match &s.sign_in_groups {
                SignInGroups::Everyone => "everyone".into(),
                SignInGroups::Chosen(_) => "chosen".into(),
            },
            sign_in_group_ids: match &s.sign_in_groups {
                SignInGroups::Everyone => Vec::new(),
                SignInGroups::Chosen(g) => ids(g),
            },
        }
    }

    pub fn parse(&self) -> Result<ApplicationSettings, Vec<FieldError>> {
        ApplicationSettings::parse(&RawSettings {
            name: &self.name,
            redirect_uris: &self.redirect_uris,
            kind: &self.kind,
            trusted: self.trusted.is_some(),
            alg: &self.alg,
            token_groups: &self.token_groups,
            token_group_ids: &self.token_group_ids,
            sign_in_groups: &self.sign_in_groups,
            sign_in_group_ids: &self.sign_in_group_ids,
        })
    }

    pub fn token_ticked(&self, id: &str) -> bool {
        self.token_group_ids.iter().any(|g| g == id)
    }

    pub fn sign_in_ticked(&self, id: &str) -> bool {
        self.sign_in_group_ids.iter().any(|g| g == id)
    }
}

/// A group the form offers to tick.
pub struct GroupChoice {
    pub id: String,
    pub name: String,
}

/// Every group that can hold someone (Guests holds nobody, G2).
pub async fn group_choices(ctx: &Ctx) -> Result<Vec<GroupChoice>, ServiceError> {
    Ok(store::groups::all(&ctx.db)
        .await?
        .into_iter()
        .filter(|g| holds(&g.id) != Holds::Nobody)
        .map(|g| GroupChoice {
            id: g.id.to_string(),
            name: g.name,
        })
        .collect())
}

pub const KINDS: [ClientKind; 2] = [ClientKind::Confidential, ClientKind::Public];
pub const ALGS: [SigningAlg; 2] = SigningAlg::ALL;
