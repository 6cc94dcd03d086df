//! Applications of the OpenID provider (SPEC O2) and the groups ticked for
//! them; a confidential application's secret only as SHA-256 (S-21).

use sqlx::FromRow;

use super::{Exec, Tx};
use crate::domain::application::{
    ApplicationSettings, ClientKind, SignInGroups, SigningAlg, TokenGroups,
};
use crate::domain::ids::GroupId;
use crate::{execute, run, sql};

#[derive(Debug, Clone, FromRow)]
pub struct ApplicationRow {
    pub id: String,
    pub name: String,
    pub redirect_uris: String,
    #[sqlx(try_from = "String")]
    pub kind: ClientKind,
    pub trusted: bool,
    #[sqlx(try_from = "String")]
    pub signing_alg: SigningAlg,
    pub token_groups: String,
    pub sign_in_groups: String,
    pub has_secret: bool,
    pub created_at: i64,
    pub version: i64,
}

/// An application with the groups ticked for it, as the rules read it.
#[derive(Debug, Clone)]
pub struct Application {
    pub row: ApplicationRow,
    pub token_groups: TokenGroups,
    pub sign_in_groups: SignInGroups,
    /// The SHA-256 of a confidential application's secret.
    secret_hash: Option<Vec<u8>>,
}

impl Application {
    pub fn redirect_uris(&self) -> impl Iterator<Item = &str> {
        self.row.redirect_uris.lines()
    }

    /// S-21: whether `uri` is one of the registered redirect URIs, exactly.
    pub fn accepts_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris().any(|u| u == uri)
    }

    /// Whether `hash` is the SHA-256 of this application's secret
    /// (compared in constant time).
    pub fn secret_matches(&self, hash: &[u8; 32]) -> bool {
        self.secret_hash
            .as_deref()
            .is_some_and(|h| subtle::ConstantTimeEq::ct_eq(h, &hash[..]).into())
    }
}

macro_rules! columns {
    () => {
        "id, name, redirect_uris, kind, trusted, signing_alg, token_groups, sign_in_groups,
         secret_hash IS NOT NULL AS has_secret, created_at, version"
    };
}

pub async fn list<'c>(e: impl Exec<'c>) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    run!(
        e,
        sql!(concat!(
            "SELECT ",
            columns!(),
            " FROM applications ORDER BY name_key LIMIT 1000"
        )),
        |x, q| sqlx::query_as(q).fetch_all(x).await
    )
}

/// The row and, as `[[role, group id], …]`, the groups ticked for it.
#[derive(FromRow)]
struct WithGroups {
    #[sqlx(flatten)]
    row: ApplicationRow,
    ticked: String,
    secret_hash: Option<Vec<u8>>,
}

pub async fn get<'c>(e: impl Exec<'c>, id: &str) -> Result<Option<Application>, sqlx::Error> {
    let found: Option<WithGroups> = run!(
        e,
        sql!(
            sqlite: concat!(
                "SELECT ",
                columns!(),
                ", secret_hash, (SELECT json_group_array(json_array(role, group_id)) FROM application_groups
                    WHERE application_id = applications.id) AS ticked
                 FROM applications WHERE id = ?"
            ),
            pg: concat!(
                "SELECT ",
                columns!(),
                ", secret_hash, (SELECT coalesce(json_agg(json_build_array(role, group_id) ORDER BY group_id), '[]')::text
                    FROM application_groups WHERE application_id = applications.id) AS ticked
                 FROM applications WHERE id = $1"
            )
        ),
        |x, q| sqlx::query_as(q).bind(id).fetch_optional(x).await
    )?;
    let Some(WithGroups {
        row,
        ticked,
        secret_hash,
    }) = found
    else {
        return Ok(None);
    };
    let mut ticked: Vec<(String, String)> = serde_json::from_str(&ticked).unwrap_or_default();
    ticked.sort();
    let of = |role: &str| -> Vec<GroupId> {
        ticked
            .iter()
            .filter(|(r, _)| r == role)
            .map(|(_, g)| GroupId::from(g.as_str()))
            .collect()
    };
    let token_groups = match row.token_groups.as_str() {
        "chosen" => TokenGroups::Chosen(of("token")),
        _ => TokenGroups::All,
    };
    let sign_in_groups = match row.sign_in_groups.as_str() {
        "chosen" => SignInGroups::Chosen(of("sign_in")),
        _ => SignInGroups::Everyone,
    };
    Ok(Some(Application {
        row,
        token_groups,
        sign_in_groups,
        secret_hash,
    }))
}

pub async fn name_taken<'c>(
    e: impl Exec<'c>,
    name: &str,
    except: Option<&str>,
) -> Result<bool, sqlx::Error> {
    run!(
        e,
        sql!(
            sqlite: "SELECT EXISTS (SELECT 1 FROM applications WHERE name_key = ? AND id IS NOT ?)",
            pg: "SELECT EXISTS (SELECT 1 FROM applications WHERE name_key = $1 AND id IS DISTINCT FROM $2)"
        ),
        |x, q| sqlx::query_scalar(q)
            .bind(name.to_lowercase())
            .bind(except)
            .fetch_one(x)
            .await
    )
}

/// Of `ids`, those that name no group (a group deleted while the form was open).
pub async fn unknown_groups(tx: &mut Tx, ids: &[&GroupId]) -> Result<Vec<String>, sqlx::Error> {
    let mut unknown = Vec::new();
    for id in ids {
        let found: bool = run!(
            &mut *tx,
            sql!("SELECT EXISTS (SELECT 1 FROM groups WHERE id = ?)"),
            |x, q| sqlx::query_scalar(q).bind(id.as_str()).fetch_one(x).await
        )?;
        if !found {
            unknown.push(id.to_string());
        }
    }
    Ok(unknown)
}

pub async fn insert(
    tx: &mut Tx,
    id: &str,
    s: &ApplicationSettings,
    secret_hash: Option<&[u8]>,
) -> Result<(), sqlx::Error> {
    let now = tx.now();
    execute!(
        &mut *tx,
        sql!(
            "INSERT INTO applications (id, name, name_key, redirect_uris, kind, trusted, signing_alg,
                                       token_groups, sign_in_groups, secret_hash, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
        id,
        &s.name,
        s.name.to_lowercase(),
        s.redirect_uris.join("\n"),
        s.kind.as_str(),
        s.trusted,
        s.alg.as_str(),
        token_rule(&s.token_groups),
        sign_in_rule(&s.sign_in_groups),
        secret_hash,
        now
    )?;
    write_groups(tx, id, s).await
}

/// Replaces an application's settings; its secret stays unless the kind
/// changed to public (which has none).
pub async fn update(tx: &mut Tx, id: &str, s: &ApplicationSettings) -> Result<(), sqlx::Error> {
    execute!(
        &mut *tx,
        sql!(
            "UPDATE applications SET name = ?1, name_key = ?2, redirect_uris = ?3, kind = ?4, trusted = ?5,
                    signing_alg = ?6, token_groups = ?7, sign_in_groups = ?8,
                    secret_hash = CASE WHEN ?4 = 'public' THEN NULL ELSE secret_hash END,
                    version = version + 1
             WHERE id = ?9"
        ),
        &s.name,
        s.name.to_lowercase(),
        s.redirect_uris.join("\n"),
        s.kind.as_str(),
        s.trusted,
        s.alg.as_str(),
        token_rule(&s.token_groups),
        sign_in_rule(&s.sign_in_groups),
        id
    )?;
    execute!(
        &mut *tx,
        sql!("DELETE FROM application_groups WHERE application_id = ?"),
        id
    )?;
    write_groups(tx, id, s).await
}

fn token_rule(t: &TokenGroups) -> &'static str {
    match t {
        TokenGroups::All => "all",
        TokenGroups::Chosen(_) => "chosen",
    }
}

fn sign_in_rule(s: &SignInGroups) -> &'static str {
    match s {
        SignInGroups::Everyone => "everyone",
        SignInGroups::Chosen(_) => "chosen",
    }
}

async fn write_groups(tx: &mut Tx, id: &str, s: &ApplicationSettings) -> Result<(), sqlx::Error> {
    let token = match &s.token_groups {
        TokenGroups::Chosen(g) => g.as_slice(),
        TokenGroups::All => &[],
    };
    let sign_in = match &s.sign_in_groups {
        SignInGroups::Chosen(g) => g.as_slice(),
        SignInGroups::Everyone => &[],
    };
    for (role, groups) in [("token", token), ("sign_in", sign_in)] {
        for g in groups {
            execute!(
        &mut *tx,
        sql!(
                    "INSERT INTO application_groups (application_id, role, group_id) VALUES (?, ?, ?)
                     ON CONFLICT DO NOTHING"
                ),
        id,
        role,
        g.as_str()
    )?;
        }
    }
    Ok(())
}

pub async fn set_secret(tx: &mut Tx, id: &str, hash: &[u8]) -> Result<(), sqlx::Error> {
    execute!(
        tx,
        sql!("UPDATE applications SET secret_hash = ?, version = version + 1 WHERE id = ?"),
        hash,
        id
    )?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let n = run!(tx, sql!("DELETE FROM applications WHERE id = ?"), |x, q| {
        sqlx::query(q)
            .bind(id)
            .execute(x)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}
