//! Applications of the OpenID provider (SPEC O2) and the groups ticked for
//! them; a confidential application's secret only as SHA-256 (S-21).

use sqlx::{FromRow, SqliteExecutor};

use super::Tx;
use crate::domain::application::{
    ApplicationSettings, ClientKind, SignInGroups, SigningAlg, TokenGroups,
};
use crate::domain::ids::GroupId;

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
}

impl Application {
    pub fn redirect_uris(&self) -> impl Iterator<Item = &str> {
        self.row.redirect_uris.lines()
    }
}

const COLUMNS: &str =
    "id, name, redirect_uris, kind, trusted, signing_alg, token_groups, sign_in_groups,
                       secret_hash IS NOT NULL AS has_secret, created_at, version";

pub async fn list(e: impl SqliteExecutor<'_>) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM applications ORDER BY name_key LIMIT 1000"
    )))
    .fetch_all(e)
    .await
}

pub async fn get(
    tx: &mut sqlx::SqliteConnection,
    id: &str,
) -> Result<Option<Application>, sqlx::Error> {
    let row: Option<ApplicationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM applications WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let ticked: Vec<(String, String)> = sqlx::query_as(
        "SELECT role, group_id FROM application_groups WHERE application_id = ? ORDER BY group_id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
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
    }))
}

pub async fn name_taken(
    e: impl SqliteExecutor<'_>,
    name: &str,
    except: Option<&str>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM applications WHERE name_key = ? AND id IS NOT ?)",
    )
    .bind(name.to_lowercase())
    .bind(except)
    .fetch_one(e)
    .await
}

/// Of `ids`, those that name no group (a group deleted while the form was open).
pub async fn unknown_groups(tx: &mut Tx, ids: &[&GroupId]) -> Result<Vec<String>, sqlx::Error> {
    let mut unknown = Vec::new();
    for id in ids {
        let found: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM groups WHERE id = ?)")
            .bind(id.as_str())
            .fetch_one(&mut **tx)
            .await?;
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
    sqlx::query(
        "INSERT INTO applications (id, name, name_key, redirect_uris, kind, trusted, signing_alg,
                                   token_groups, sign_in_groups, secret_hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&s.name)
    .bind(s.name.to_lowercase())
    .bind(s.redirect_uris.join("\n"))
    .bind(s.kind.as_str())
    .bind(s.trusted)
    .bind(s.alg.as_str())
    .bind(token_rule(&s.token_groups))
    .bind(sign_in_rule(&s.sign_in_groups))
    .bind(secret_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    write_groups(tx, id, s).await
}

/// Replaces an application's settings; its secret stays unless the kind
/// changed to public (which has none).
pub async fn update(tx: &mut Tx, id: &str, s: &ApplicationSettings) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE applications SET name = ?, name_key = ?, redirect_uris = ?, kind = ?, trusted = ?,
                signing_alg = ?, token_groups = ?, sign_in_groups = ?,
                secret_hash = CASE WHEN ? = 'public' THEN NULL ELSE secret_hash END,
                version = version + 1
         WHERE id = ?",
    )
    .bind(&s.name)
    .bind(s.name.to_lowercase())
    .bind(s.redirect_uris.join("\n"))
    .bind(s.kind.as_str())
    .bind(s.trusted)
    .bind(s.alg.as_str())
    .bind(token_rule(&s.token_groups))
    .bind(sign_in_rule(&s.sign_in_groups))
    .bind(s.kind.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM application_groups WHERE application_id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?;
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
            sqlx::query(
                "INSERT OR IGNORE INTO application_groups (application_id, role, group_id) VALUES (?, ?, ?)",
            )
            .bind(id)
            .bind(role)
            .bind(g.as_str())
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

pub async fn set_secret(tx: &mut Tx, id: &str, hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE applications SET secret_hash = ?, version = version + 1 WHERE id = ?")
        .bind(hash)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether `hash` is the application's secret's (compared by the database
/// on a fixed-size hash, so its time says nothing about the secret).
pub async fn secret_matches(
    e: impl SqliteExecutor<'_>,
    id: &str,
    hash: &[u8],
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM applications WHERE id = ? AND secret_hash = ?)",
    )
    .bind(id)
    .bind(hash)
    .fetch_one(e)
    .await
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("DELETE FROM applications WHERE id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() > 0)
}
