//! The console home at /admin (SPEC R5): the programme at a glance, in
//! charts that also read as tables, and the latest changes.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use askama::Template;
use time::OffsetDateTime;
use time::macros::format_description;

use super::charts::{Chart, Frame, Item};
use crate::clock;
use crate::domain::subscription::SubscriptionState;
use crate::services::Ctx;
use crate::services::dashboard::{self, Dashboard};
use crate::store::audit::Entry;
use crate::web::admin::{Chrome, CurrentAdmin};
use crate::web::errors::{WebError, ok};
use crate::web::numbers::thousands;
use crate::web::paths::console;

/// An entry of "Latest changes".
pub struct Change {
    pub at: String,
    pub at_iso: String,
    pub who: String,
    pub summary: String,
    pub action: String,
}

impl From<Entry> for Change {
    fn from(e: Entry) -> Self {
        Self {
            at: clock::display(e.at),
            at_iso: clock::iso(e.at),
            who: e.actor_label,
            summary: e.summary,
            action: e.action,
        }
    }
}

/// A number in the row above the charts.
pub struct Tile {
    pub id: &'static str,
    pub text: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    chrome: Chrome,
    tiles: Vec<Tile>,
    charts: Vec<Chart>,
    latest: Vec<Change>,
}

pub async fn show(
    ctx: web::Data<Ctx>,
    session: Session,
    admin: CurrentAdmin,
) -> Result<HttpResponse, WebError> {
    let d = dashboard::read(&ctx).await?;
    ok(&HomePage {
        chrome: Chrome::new(&session, &admin, "home"),
        tiles: tiles(&d),
        charts: charts(&d),
        latest: d.latest.into_iter().map(Change::from).collect(),
    })
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn tiles(d: &Dashboard) -> Vec<Tile> {
    let accounts: i64 = d.accounts.iter().map(|(_, n)| n).sum();
    let active: i64 = d
        .subscriptions
        .iter()
        .filter(|(s, _)| *s == SubscriptionState::Active)
        .map(|(_, n)| n)
        .sum();
    vec![
        Tile {
            id: "total-accounts",
            text: plural(accounts, "account", "accounts"),
            href: console::USERS.to_owned(),
        },
        Tile {
            id: "pending-invitations",
            text: plural(
                d.open_invitations,
                "pending invitation",
                "pending invitations",
            ),
            href: console::USERS_PENDING.to_owned(),
        },
        Tile {
            id: "active-subscriptions",
            text: plural(active, "active subscription", "active subscriptions"),
            href: console::PRODUCTS.to_owned(),
        },
        Tile {
            id: "emails-failed",
            text: plural(d.emails.failed, "email failed", "emails failed"),
            href: console::EMAIL_LOG.to_owned(),
        },
    ]
}

/// `Nov 30`: a week by its Monday.
fn week_label(start: i64) -> String {
    let fmt = format_description!("[month repr:short] [day padding:none]");
    OffsetDateTime::from_unix_timestamp(start)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

fn charts(d: &Dashboard) -> Vec<Chart> {
    let accounts = Chart::rows(
        Frame {
            id: "chart-accounts",
            title: "Accounts by state",
            hint: "Pending accounts have signed up and not yet confirmed their email address."
                .into(),
            key_heading: "State",
            value_heading: "Accounts",
            empty: "No accounts.",
            more: Some((console::USERS.to_owned(), "Users")),
        },
        d.accounts
            .iter()
            .map(|(s, n)| Item {
                href: Some(console::users_in_state(s.as_str())),
                ..Item::new(s.label(), *n)
            })
            .collect(),
    );
    let signups = Chart::columns(
        Frame {
            id: "chart-signups",
            title: "Sign-ups per week",
            hint: format!(
                "Accounts registered in each of the last {} weeks (weeks start on Monday, UTC), \
                 this week last.",
                dashboard::WEEKS
            ),
            key_heading: "Week of",
            value_heading: "Sign-ups",
            empty: "No sign-ups.",
            more: None,
        },
        d.signups
            .iter()
            .map(|(start, n)| Item::new(week_label(*start), *n))
            .collect(),
    );
    let subscriptions = Chart::rows(
        Frame {
            id: "chart-subscriptions",
            title: "Subscriptions by state",
            hint: "Every subscription of every product.".into(),
            key_heading: "State",
            value_heading: "Subscriptions",
            empty: "No subscriptions.",
            more: None,
        },
        d.subscriptions
            .iter()
            .map(|(s, n)| Item::new(s.label(), *n))
            .collect(),
    );
    let products = Chart::rows(
        Frame {
            id: "chart-products",
            title: "Products with the most active subscriptions",
            hint: format!(
                "The {} products with the most active subscriptions.",
                dashboard::TOP_PRODUCTS
            ),
            key_heading: "Product",
            value_heading: "Active subscriptions",
            empty: "No product has an active subscription yet.",
            more: Some((console::PRODUCTS.to_owned(), "Products")),
        },
        d.top_products
            .iter()
            .map(|p| Item {
                href: Some(console::product(&p.id)),
                ..Item::new(p.name.clone(), p.n)
            })
            .collect(),
    );
    let emails = Chart::rows(
        Frame {
            id: "chart-emails",
            title: "Emails waiting or failed",
            hint: "Queued emails wait for their first attempt, retrying ones for another; \
                   failed ones were given up on."
                .into(),
            key_heading: "State",
            value_heading: "Emails",
            empty: "No emails.",
            more: Some((console::EMAIL_LOG.to_owned(), "Email log")),
        },
        vec![
            Item::new("Queued", d.emails.queued),
            Item::new("Retrying", d.emails.retrying),
            Item::new("Failed", d.emails.failed),
        ],
    );
    vec![accounts, signups, subscriptions, products, emails]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_are_named_by_their_monday() {
        assert_eq!(week_label(1_795_996_800), "Nov 30");
    }
}
