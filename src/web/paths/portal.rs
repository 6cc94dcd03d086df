//! The developer portal's pages, at /: every link, form action and redirect
//! of the portal is built here (route registrations in web/portal/mod.rs
//! stay patterns). Templates call these too: `{{ portal::product(p.id) }}`,
//! with `use crate::web::paths::portal` in the template's module.

use super::{segment, with_query};

pub const HOME: &str = "/";
pub const PRODUCTS: &str = "/products";
pub const SUBSCRIPTIONS: &str = "/subscriptions";
pub const SIGN_IN: &str = "/sign-in";
pub const SIGN_OUT: &str = "/sign-out";
pub const SIGN_UP: &str = "/sign-up";
pub const SIGN_UP_RESEND: &str = "/sign-up/resend";
pub const FORGOT_PASSWORD: &str = "/forgot-password";
pub const PROFILE: &str = "/profile";
pub const PROFILE_PASSWORD: &str = "/profile/password";
pub const PROFILE_CLOSE: &str = "/profile/close";

/// The sign-in page, which goes on to `next` (a path of this site) afterwards.
pub fn sign_in_then(next: &str) -> String {
    with_query(SIGN_IN, &[("next", next)])
}

/// **Sign in with {provider}**, going on to `next` afterwards.
pub fn external_sign_in(id: &str, next: &str) -> String {
    with_query(
        &format!("{SIGN_IN}/external/{}", segment(id)),
        &[("next", next)],
    )
}

/// Where an identity provider sends the person back (to register there).
pub fn external_callback(id: &str) -> String {
    format!("{SIGN_IN}/external/{}/callback", segment(id))
}

/// A product's page.
pub fn product(id: &str) -> String {
    format!("{PRODUCTS}/{}", segment(id))
}

pub fn product_subscribe(id: &str) -> String {
    format!("{}/subscribe", product(id))
}

/// One subscription on My subscriptions, its keys hidden.
pub fn subscription(id: &str) -> String {
    format!("{SUBSCRIPTIONS}#s-{}", segment(id))
}

/// One subscription on My subscriptions, with its keys shown.
pub fn subscription_keys(id: &str) -> String {
    let id = segment(id);
    format!("{SUBSCRIPTIONS}?show={id}#s-{id}")
}

pub fn subscription_regenerate(id: &str) -> String {
    format!("{SUBSCRIPTIONS}/{}/regenerate", segment(id))
}

pub fn subscription_cancel(id: &str) -> String {
    format!("{SUBSCRIPTIONS}/{}/cancel", segment(id))
}

/// The page a sign-up confirmation email links to.
pub fn confirm(token: &str) -> String {
    format!("/confirm/{}", segment(token))
}

/// The page an invitation email links to.
pub fn invitation(token: &str) -> String {
    format!("/invitations/{}", segment(token))
}

/// The page a password reset email links to.
pub fn reset_password(token: &str) -> String {
    format!("/reset-password/{}", segment(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_ids() {
        assert_eq!(product("p0001"), "/products/p0001");
        assert_eq!(product_subscribe("p1"), "/products/p1/subscribe");
        assert_eq!(subscription("s1"), "/subscriptions#s-s1");
        assert_eq!(subscription_keys("s1"), "/subscriptions?show=s1#s-s1");
        assert_eq!(
            sign_in_then("/subscriptions"),
            "/sign-in?next=%2Fsubscriptions"
        );
        assert_eq!(confirm("Ab-_9"), "/confirm/Ab-_9");
    }
}
