//! The URLs of this site's pages.
//!
//! `console` and `portal` name every page of the console and of the
//! developer portal, for handlers and templates alike. `with_query` builds a list page's URL from its search, filters and
//! position. `local_path` and `back_to` decide where a form may send the
//! browser afterwards: `back` and `next` come from the request, so they are
//! kept only when they name a page of this site that the form expects (no
//! open redirect), and only when they can stand in a `Location` header as
//! they are (no control characters, no spaces, nothing outside visible
//! ASCII): a value that cannot was a 500 after the change had been made.

use std::borrow::Cow;
use std::fmt::Write;

pub mod console;
pub mod oidc;
pub mod portal;

/// `s` as one path segment: percent-encoded but for the characters a
/// segment may hold as they are (ids, slugs and base64url tokens keep
/// their form).
pub fn segment(s: &str) -> Cow<'_, str> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if s.bytes().all(plain) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if plain(b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Cow::Owned(out)
}

/// `base` with the query `pairs` in their order, leaving out the pairs whose
/// value is empty (a search or filter not in use); `base` alone when none is
/// left.
pub fn with_query<V: AsRef<str>>(base: &str, pairs: &[(&str, V)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(name, value)| (*name, value.as_ref()))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    if query.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{query}")
    }
}

/// A path on this site, or nothing.
pub fn local_path(next: Option<&str>) -> Option<&str> {
    next.filter(|n| {
        n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && header_safe(n)
    })
}

/// `sent`, if it is `page` itself or `page` with a query (a list page
/// with its search and paging), else `page`.
pub fn back_to<'a>(sent: &'a str, page: &'a str) -> &'a str {
    let same_page = sent
        .strip_prefix(page)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('?'));
    if same_page && header_safe(sent) {
        sent
    } else {
        page
    }
}

fn header_safe(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_what_is_in_use() {
        assert_eq!(
            with_query("/admin/users", &[("q", "ann & bob"), ("state", "")]),
            "/admin/users?q=ann+%26+bob"
        );
        assert_eq!(
            with_query("/admin/email/log", &[("state", ""), ("before", "")]),
            "/admin/email/log"
        );
        assert_eq!(
            with_query("/x", &[("after", "k".to_owned()), ("id", "7".to_owned())]),
            "/x?after=k&id=7"
        );
    }

    #[test]
    fn only_this_sites_paths() {
        assert_eq!(local_path(Some("/products?x=1")), Some("/products?x=1"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "/a\r\nSet-Cookie: x",
            "/a\0",
            "/a b",
            "/é",
        ] {
            assert_eq!(local_path(Some(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn back_only_to_the_expected_page() {
        assert_eq!(
            back_to("/admin/users?q=ann", "/admin/users"),
            "/admin/users?q=ann"
        );
        assert_eq!(back_to("/admin/users", "/admin/users"), "/admin/users");
        assert_eq!(
            back_to("/admin/users/x/delete", "/admin/users"),
            "/admin/users"
        );
        assert_eq!(back_to("/admin/usersx", "/admin/users"), "/admin/users");
        assert_eq!(back_to("/admin/users?q=\n", "/admin/users"), "/admin/users");
        assert_eq!(
            back_to("https://evil.example", "/admin/users"),
            "/admin/users"
        );
    }
}
