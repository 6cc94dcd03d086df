//! The console's pages, under /admin: every link, form action and redirect
//! of the console is built here (route registrations in web/admin/mod.rs
//! stay patterns). Templates call these too: `{{ console::account(a.id) }}`,
//! with `use crate::web::paths::console` in the template's module.

use super::{segment, with_query};

/// The console's home: the programme at a glance.
pub const HOME: &str = "/admin";
pub const SIGN_IN: &str = "/admin/sign-in";
pub const SIGN_OUT: &str = "/admin/sign-out";

/// Whether `path` is a page of the console.
pub fn is_console(path: &str) -> bool {
    path.strip_prefix(HOME)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// The sign-in page; `ended` says the session has ended.
pub fn sign_in(ended: bool) -> String {
    with_query(SIGN_IN, &[("ended", if ended { "1" } else { "" })])
}

// ---- users and invitations ----------------------------------------------------

pub const USERS: &str = "/admin/users";
pub const USERS_ADD: &str = "/admin/users/add";
pub const USERS_INVITE: &str = "/admin/users/invite";
pub const USERS_PENDING: &str = "/admin/users/pending";
pub const USERS_TOGGLE: &str = "/admin/users/toggle";

/// The Users list with only the accounts in `state`.
pub fn users_in_state(state: &str) -> String {
    with_query(USERS, &[("state", state)])
}

pub fn invitation_resend(id: &str) -> String {
    format!("{USERS_PENDING}/{}/resend", segment(id))
}

pub fn invitation_cancel(id: &str) -> String {
    format!("{USERS_PENDING}/{}/cancel", segment(id))
}

/// An account's page.
pub fn account(id: &str) -> String {
    format!("{USERS}/{}", segment(id))
}

fn account_sub(id: &str, sub: &str) -> String {
    format!("{}/{sub}", account(id))
}

pub fn account_activate(id: &str) -> String {
    account_sub(id, "activate")
}

pub fn account_block(id: &str) -> String {
    account_sub(id, "block")
}

pub fn account_delete(id: &str) -> String {
    account_sub(id, "delete")
}

pub fn account_password(id: &str) -> String {
    account_sub(id, "password")
}

pub fn account_reset_password(id: &str) -> String {
    account_sub(id, "reset-password")
}

pub fn account_subscriptions(id: &str) -> String {
    account_sub(id, "subscriptions")
}

/// Add subscription, for this account.
pub fn account_subscriptions_add(id: &str) -> String {
    account_sub(id, "subscriptions/add")
}

// ---- groups ---------------------------------------------------------------------

pub const GROUPS: &str = "/admin/groups";
pub const GROUPS_ADD: &str = "/admin/groups/add";

/// A group's page (its Settings tab).
pub fn group(id: &str) -> String {
    format!("{GROUPS}/{}", segment(id))
}

pub fn group_members(id: &str) -> String {
    format!("{}/members", group(id))
}

pub fn group_members_add(id: &str) -> String {
    format!("{}/members/add", group(id))
}

pub fn group_members_remove(id: &str) -> String {
    format!("{}/members/remove", group(id))
}

pub fn group_delete(id: &str) -> String {
    format!("{}/delete", group(id))
}

// ---- products -------------------------------------------------------------------

pub const PRODUCTS: &str = "/admin/products";
pub const PRODUCTS_ADD: &str = "/admin/products/add";

/// A product's page (its Settings tab).
pub fn product(id: &str) -> String {
    format!("{PRODUCTS}/{}", segment(id))
}

pub fn product_publish(id: &str) -> String {
    format!("{}/publish", product(id))
}

pub fn product_unpublish(id: &str) -> String {
    format!("{}/unpublish", product(id))
}

pub fn product_access(id: &str) -> String {
    format!("{}/access", product(id))
}

pub fn product_access_add(id: &str) -> String {
    format!("{}/access/add", product(id))
}

pub fn product_access_remove(id: &str) -> String {
    format!("{}/access/remove", product(id))
}

pub fn product_subscriptions(id: &str) -> String {
    format!("{}/subscriptions", product(id))
}

/// Add subscription, to this product.
pub fn product_subscriptions_add(id: &str) -> String {
    format!("{}/subscriptions/add", product(id))
}

pub fn product_delete(id: &str) -> String {
    format!("{}/delete", product(id))
}

// ---- subscriptions --------------------------------------------------------------

/// A subscription's page, its keys hidden.
pub fn subscription(id: &str) -> String {
    format!("/admin/subscriptions/{}", segment(id))
}

/// A subscription's page with its keys shown.
pub fn subscription_keys(id: &str) -> String {
    with_query(&subscription(id), &[("show", "1")])
}

pub fn subscription_regenerate(id: &str) -> String {
    format!("{}/regenerate", subscription(id))
}

/// Where a subscription's Approve, Reject, Suspend, Activate or Cancel
/// button posts (`action` as `SubscriptionAction::as_str` names it).
pub fn subscription_action(id: &str, action: &str) -> String {
    format!("{}/{}", subscription(id), segment(action))
}

// ---- email ------------------------------------------------------------------------

pub const EMAIL_TEMPLATES: &str = "/admin/email/templates";
pub const EMAIL_SETTINGS: &str = "/admin/email/settings";
pub const EMAIL_LOG: &str = "/admin/email/log";

/// An email template's page (`name` as `EmailTemplate::as_str` names it).
pub fn email_template(name: &str) -> String {
    format!("{EMAIL_TEMPLATES}/{}", segment(name))
}

pub fn email_template_restore(name: &str) -> String {
    format!("{}/restore", email_template(name))
}

/// Where an Email log row's Retry button posts.
pub fn email_retry(id: impl std::fmt::Display) -> String {
    format!("{EMAIL_LOG}/{id}/retry")
}

// ---- applications (the OpenID provider) ---------------------------------------------

pub const APPLICATIONS: &str = "/admin/applications";
pub const APPLICATIONS_ADD: &str = "/admin/applications/add";
pub const SIGNING_KEYS_ROTATE: &str = "/admin/applications/rotate-keys";

/// An application's page.
pub fn application(id: &str) -> String {
    format!("{APPLICATIONS}/{}", segment(id))
}

pub fn application_secret(id: &str) -> String {
    format!("{}/secret", application(id))
}

pub fn application_delete(id: &str) -> String {
    format!("{}/delete", application(id))
}

/// Who is emailed about what (R5).
pub const NOTIFICATIONS: &str = "/admin/notifications";

// ---- identity providers (signing in through an outside provider) --------------------

pub const IDENTITY_PROVIDERS: &str = "/admin/identity-providers";
pub const IDENTITY_PROVIDERS_ADD: &str = "/admin/identity-providers/add";

/// An identity provider's page.
pub fn identity_provider(id: &str) -> String {
    format!("{IDENTITY_PROVIDERS}/{}", segment(id))
}

pub fn identity_provider_test(id: &str) -> String {
    format!("{}/test", identity_provider(id))
}

pub fn identity_provider_delete(id: &str) -> String {
    format!("{}/delete", identity_provider(id))
}

/// An account's **Unlink** of one identity.
pub fn user_unlink(id: &str) -> String {
    format!("/admin/users/{}/unlink", segment(id))
}

// ---- management API tokens ------------------------------------------------------------

/// The Management API page: the access tokens.
pub const API: &str = "/admin/api";
pub const API_TOKENS: &str = "/admin/api/tokens";

pub fn api_token_revoke(id: &str) -> String {
    format!("{API_TOKENS}/{}/revoke", segment(id))
}

// ---- audit log ----------------------------------------------------------------------

pub const AUDIT: &str = "/admin/audit";
pub const AUDIT_CSV: &str = "/admin/audit.csv";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_ids() {
        assert_eq!(account("0123abcd"), "/admin/users/0123abcd");
        assert_eq!(account("a/b c"), "/admin/users/a%2Fb%20c");
        assert_eq!(
            group_members("partner-team"),
            "/admin/groups/partner-team/members"
        );
        assert_eq!(product_access("p1"), "/admin/products/p1/access");
        assert_eq!(subscription_keys("s1"), "/admin/subscriptions/s1?show=1");
        assert_eq!(
            subscription_action("s1", "approve"),
            "/admin/subscriptions/s1/approve"
        );
        assert_eq!(email_retry(7), "/admin/email/log/7/retry");
        assert_eq!(api_token_revoke("t1"), "/admin/api/tokens/t1/revoke");
        assert_eq!(sign_in(false), "/admin/sign-in");
        assert_eq!(sign_in(true), "/admin/sign-in?ended=1");
        assert_eq!(users_in_state("pending"), "/admin/users?state=pending");
        assert!(is_console("/admin/users?q=x"));
        assert!(!is_console("/admin"));
        assert!(!is_console("/administrator"));
        assert!(!is_console("/products"));
    }
}
