//! The bad-input sweep: as an administrator, a developer and a visitor, post
//! generated bodies to every POST route registered in `src/web/admin/mod.rs`,
//! `src/web/portal/mod.rs` and `src/web/oidc/mod.rs`, and check after every
//! request that
//!
//! - the answer is not a 5xx;
//! - a change to user-visible data came with exactly one audit record, and no
//!   change with none;
//! - what changed is what the route may change for that role: no system
//!   group, no other account, no other developer's subscription, nothing at
//!   all through the console for someone who is not an administrator, nothing
//!   at all through the OpenID endpoints (their codes, refresh tokens and
//!   consents are the protocol's bookkeeping: not compared, not audited);
//! - at least one active administrator remains;
//! - a redirect stays on this site (the OpenID consent and end-session forms
//!   may also send the browser back to a redirect URI registered for the
//!   `client_id` sent), and markup sent never comes back unescaped (but in
//!   JSON served as `application/json` with `nosniff`: userinfo's claims
//!   carry names as people typed them);
//!
//! and after the run that `PRAGMA integrity_check` says ok (and
//! `foreign_key_check` finds nothing).
//!
//! - `sweep_covers_every_post_route` reads the three route files and fails
//!   when a POST route is registered that `ROUTES` below does not describe.
//! - `sweep_short` (normal suite): every route, every field, every path id
//!   kind, systematically: about 970 cases, 15 s.
//! - `sweep_full` (ignored; `benches/sweep.sh`): `SWEEP_CASES` random cases
//!   (default 10,000, about 2 minutes) from seed `SWEEP_SEED`, with a table
//!   of the answers; `SWEEP_TRACE=1` prints every case as it is answered.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use reqwest::{Client, redirect};
use sqlx::Row as _;

use portal::store::backend::Sql;

use crate::helpers::*;

// ---- the route table --------------------------------------------------------

/// What a `{…}` in a route's path stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Param {
    Account,
    /// An account too, the blocked one first (for Activate).
    BlockedAccount,
    Invitation,
    Group,
    Product,
    /// A product too, the unpublished one first (for Publish).
    HiddenProduct,
    Subscription,
    /// `{action}` of a console subscription.
    Action,
    Template,
    /// An Email log message id (an i64 in the handler).
    Outbox,
    /// A management API token's id.
    ApiToken,
    /// An OpenID application's id (client id), the confidential one first.
    Application,
    /// An outside identity provider's id.
    Provider,
    Token(Tok),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Invitation,
    Reset,
    Confirm,
}

/// What a form field holds: the generator's idea of a valid value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    ConsoleLogin,
    ConsolePassword,
    PortalLogin,
    PortalPassword,
    CurrentPassword,
    /// An address no account has yet.
    NewEmail,
    /// The address of a pending account (resend confirmation).
    PendingEmail,
    /// The address of an active account (forgot password).
    ActiveEmail,
    /// A sender address.
    Address,
    NewPassword,
    /// The `confirm` of the password field before it.
    SameAsPassword,
    PersonName,
    /// A group's or product's name nobody uses yet.
    NewName,
    Text,
    Subject,
    TemplateBody,
    Checkbox,
    Number,
    /// One of these; the first is the valid default.
    Choice(&'static [&'static str]),
    AccountId,
    /// An account not in the custom group yet.
    NonMemberId,
    GroupId,
    GroupIds,
    /// A group the product is granted to (Developers).
    GrantedGroupId,
    /// A product every developer can see.
    ProductId,
    /// The Add to group menu: a group's id or its name.
    GroupRef,
    Search,
    /// A console page to go back to.
    Back(&'static str),
    /// The portal sign-in's `next`.
    Next,
    /// An application's name nobody uses yet.
    AppName,
    /// The application form's redirect URIs, one per line.
    RedirectUris,
    /// One redirect URI, as an OpenID request names it (the sweep's
    /// applications register `SWEEP_REDIRECT`).
    RedirectUri,
    /// The confidential sweep application's client id.
    ClientId,
    /// Its client secret.
    ClientSecret,
    /// A live authorization code of it, for the developer.
    OidcCode,
    /// The PKCE verifier of that code.
    CodeVerifier,
    /// An S256 PKCE challenge.
    Challenge,
    /// A live refresh token of it, for the developer.
    RefreshToken,
    /// An OpenID `scope`.
    OidcScope,
    /// A live access token (userinfo).
    AccessToken,
    /// An ID token (end-session's hint).
    IdToken,
}

#[derive(Clone, Copy, Debug)]
struct Field {
    name: &'static str,
    kind: Kind,
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

struct Route {
    /// As registered, with the console's `/admin` scope in front.
    path: &'static str,
    family: &'static str,
    params: &'static [Param],
    fields: &'static [Field],
    /// Slow on every request whatever the input: runs argon2 (sign-in,
    /// password change) or makes RSA keys (key rotation). Their share of the
    /// random cases is kept small.
    slow: bool,
    /// Can sign the browser in or out: the sweep starts that role's browser
    /// afresh after such a request is answered with a redirect.
    session: bool,
}

const fn route(
    path: &'static str,
    family: &'static str,
    params: &'static [Param],
    fields: &'static [Field],
) -> Route {
    Route {
        path,
        family,
        params,
        fields,
        slow: false,
        session: false,
    }
}

const fn hashing(mut r: Route) -> Route {
    r.slow = true;
    r
}

const fn makes_keys(mut r: Route) -> Route {
    r.slow = true;
    r
}

const fn signs_in_or_out(mut r: Route) -> Route {
    r.session = true;
    r
}

use Kind::*;

const PRODUCT_SETTINGS: &[Field] = &[
    f("name", NewName),
    f("description", Text),
    f("terms", Text),
    f("subscription_required", Checkbox),
    f("approval_required", Checkbox),
    f("subscriptions_limit", Number),
    f("published", Checkbox),
];
const KEY: &[Field] = &[f("key", Choice(&["primary", "secondary"]))];
const PASSWORD_TWICE: &[Field] = &[f("password", NewPassword), f("confirm", SameAsPassword)];
const ACCOUNT: &[Param] = &[Param::Account];
const INVITATION: &[Param] = &[Param::Invitation];
const GROUP: &[Param] = &[Param::Group];
const PRODUCT: &[Param] = &[Param::Product];
const SUBSCRIPTION: &[Param] = &[Param::Subscription];
const TEMPLATE: &[Param] = &[Param::Template];
const APPLICATION: &[Param] = &[Param::Application];
const PROVIDER: &[Param] = &[Param::Provider];
/// An identity provider's issuer nothing listens on: loopback only, so no
/// form can make Test connection reach past this machine.
const SWEEP_ISSUER: &str = "http://127.0.0.1:9";
/// Add identity provider and a provider's settings.
const PROVIDER_SETTINGS: &[Field] = &[
    f("name", AppName),
    f(
        "issuer",
        Choice(&[
            SWEEP_ISSUER,
            "http://[::1]:9",
            "http://id.example.com",
            "https://u:p@127.0.0.1:9",
            "ftp://127.0.0.1",
            "",
            "http://127.0.0.1:9/?q=1",
        ]),
    ),
    f("client_id", Choice(&["portal", "", "two words", "\u{0}"])),
    f(
        "client_secret",
        Choice(&["sweep-secret", "", "with space", "x\ny"]),
    ),
    f(
        "scopes",
        Choice(&["openid email profile", "", "a\"b", "openid openid"]),
    ),
    f(
        "groups_claim",
        Choice(&["groups", "", "two words", "roles"]),
    ),
    f("create_accounts", Checkbox),
    f("enabled", Checkbox),
];
/// Add application and an application's settings (`trusted` is a checkbox,
/// the group ids ticked checkboxes: repeated fields).
const APPLICATION_SETTINGS: &[Field] = &[
    f("name", AppName),
    f("redirect_uris", RedirectUris),
    f(
        "kind",
        Choice(&["confidential", "public", "Confidential", ""]),
    ),
    f("trusted", Checkbox),
    f("alg", Choice(&["RS256", "ES256", "", "HS256", "none"])),
    f("token_groups", Choice(&["chosen", "all", "", "some"])),
    f("token_group_ids", GroupIds),
    f(
        "sign_in_groups",
        Choice(&["everyone", "chosen", "", "nobody"]),
    ),
    f("sign_in_group_ids", GroupIds),
];

/// The redirect URI the sweep's applications register: nothing listens on
/// port 9, and the redirect check lets the OpenID forms send the browser
/// there (see `Sweep::may_redirect_to`).
const SWEEP_REDIRECT: &str = "http://127.0.0.1:9/cb";
/// The RFC 7636 Appendix B verifier and its S256 challenge.
const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// What the sweep's codes and refresh tokens were granted.
const GRANTED_SCOPE: &str = "openid profile email groups offline_access";

/// Every POST route of the console, the portal and the OpenID provider, with
/// its form's fields (the handler's form struct, `csrf_token` aside).
const ROUTES: &[Route] = &[
    // ---- console: signing in and out
    signs_in_or_out(hashing(route(
        "/admin/sign-in",
        "console session",
        &[],
        &[f("email", ConsoleLogin), f("password", ConsolePassword)],
    ))),
    signs_in_or_out(route("/admin/sign-out", "console session", &[], &[])),
    // ---- console: users and invitations
    route(
        "/admin/users/invite",
        "console users",
        &[],
        &[
            f("email", NewEmail),
            f("first_name", PersonName),
            f("last_name", PersonName),
            f("groups", GroupIds),
        ],
    ),
    route(
        "/admin/users/pending/{id}/resend",
        "console users",
        INVITATION,
        &[],
    ),
    route(
        "/admin/users/pending/{id}/cancel",
        "console users",
        INVITATION,
        &[],
    ),
    route(
        "/admin/users/add",
        "console users",
        &[],
        &[
            f("email", NewEmail),
            f("password", NewPassword),
            f("first_name", PersonName),
            f("last_name", PersonName),
            f("notify", Checkbox),
        ],
    ),
    route("/admin/users/{id}/block", "console users", ACCOUNT, &[]),
    route(
        "/admin/users/{id}/activate",
        "console users",
        &[Param::BlockedAccount],
        &[],
    ),
    route("/admin/users/{id}/delete", "console users", ACCOUNT, &[]),
    route(
        "/admin/users/{id}/password",
        "console users",
        ACCOUNT,
        &[f("password", NewPassword)],
    ),
    route(
        "/admin/users/{id}/reset-password",
        "console users",
        ACCOUNT,
        &[],
    ),
    route(
        "/admin/users/toggle",
        "console users",
        &[],
        &[
            f("ids", AccountId),
            f("group", GroupRef),
            f("scope", Choice(&["", "matching"])),
            f("q", Search),
            f("state", Choice(&["", "active", "blocked", "pending"])),
            f("confirm", Choice(&["yes", ""])),
            f("back", Back("/admin/users")),
        ],
    ),
    // ---- console: groups
    route(
        "/admin/groups/add",
        "console groups",
        &[],
        &[
            f("name", NewName),
            f("description", Text),
            f("members", AccountId),
            f("find", Search),
            f("action", Choice(&["create", "find"])),
        ],
    ),
    route(
        "/admin/groups/{id}",
        "console groups",
        GROUP,
        &[f("name", NewName), f("description", Text)],
    ),
    route(
        "/admin/groups/{id}/members/add",
        "console groups",
        GROUP,
        &[f("ids", NonMemberId)],
    ),
    route(
        "/admin/groups/{id}/members/remove",
        "console groups",
        GROUP,
        &[f("ids", AccountId), f("remove_one", AccountId)],
    ),
    route("/admin/groups/{id}/delete", "console groups", GROUP, &[]),
    // ---- console: products
    route(
        "/admin/products/add",
        "console products",
        &[],
        PRODUCT_SETTINGS,
    ),
    route(
        "/admin/products/{id}",
        "console products",
        PRODUCT,
        PRODUCT_SETTINGS,
    ),
    route(
        "/admin/products/{id}/publish",
        "console products",
        &[Param::HiddenProduct],
        &[],
    ),
    route(
        "/admin/products/{id}/unpublish",
        "console products",
        PRODUCT,
        &[],
    ),
    route(
        "/admin/products/{id}/access",
        "console products",
        PRODUCT,
        // Untick Developers, tick the custom group (not shown: kept as is).
        &[f("groups", GroupIds), f("shown", GrantedGroupId)],
    ),
    route(
        "/admin/products/{id}/access/add",
        "console products",
        PRODUCT,
        &[f("group", GroupId)],
    ),
    route(
        "/admin/products/{id}/access/remove",
        "console products",
        PRODUCT,
        &[f("group", GrantedGroupId)],
    ),
    route(
        "/admin/products/{id}/delete",
        "console products",
        PRODUCT,
        &[],
    ),
    // ---- console: subscriptions
    route(
        "/admin/subscriptions/{id}/regenerate",
        "console subscriptions",
        SUBSCRIPTION,
        KEY,
    ),
    route(
        "/admin/subscriptions/{id}/{action}",
        "console subscriptions",
        &[Param::Subscription, Param::Action],
        &[f("back", Back("/admin/products"))],
    ),
    // ---- console: email
    route(
        "/admin/email/templates/{name}",
        "console email",
        TEMPLATE,
        &[
            f("subject", Subject),
            f("body", TemplateBody),
            f("action", Choice(&["save", "preview"])),
        ],
    ),
    route(
        "/admin/email/templates/{name}/restore",
        "console email",
        TEMPLATE,
        &[],
    ),
    route(
        "/admin/email/settings",
        "console email",
        &[],
        &[
            f("from_name", PersonName),
            f("from_address", Address),
            f("portal_name", PersonName),
        ],
    ),
    route(
        "/admin/email/log/{id}/retry",
        "console email",
        &[Param::Outbox],
        &[f("back", Back("/admin/email/log"))],
    ),
    // ---- console: Add subscription
    route(
        "/admin/users/{id}/subscriptions/add",
        "console subscriptions",
        ACCOUNT,
        &[
            f("product", ProductId),
            f("name", Text),
            f("state", Choice(&["active", "submitted"])),
        ],
    ),
    route(
        "/admin/products/{id}/subscriptions/add",
        "console subscriptions",
        PRODUCT,
        &[
            f("email", ActiveEmail),
            f("name", Text),
            f("state", Choice(&["active", "submitted"])),
        ],
    ),
    // ---- console: management API tokens
    route(
        "/admin/api/tokens",
        "console api",
        &[],
        &[f("name", PersonName), f("days", Number)],
    ),
    route(
        "/admin/api/tokens/{id}/revoke",
        "console api",
        &[Param::ApiToken],
        &[],
    ),
    // ---- console: OpenID applications and signing keys
    route(
        "/admin/applications/add",
        "console applications",
        &[],
        APPLICATION_SETTINGS,
    ),
    makes_keys(route(
        "/admin/applications/rotate-keys",
        "console applications",
        &[],
        &[],
    )),
    route(
        "/admin/applications/{id}",
        "console applications",
        APPLICATION,
        APPLICATION_SETTINGS,
    ),
    route(
        "/admin/applications/{id}/secret",
        "console applications",
        APPLICATION,
        &[],
    ),
    route(
        "/admin/applications/{id}/delete",
        "console applications",
        APPLICATION,
        &[],
    ),
    // ---- console: who is notified by email (R5)
    route(
        "/admin/notifications",
        "console notifications",
        &[],
        &[
            f("subscription_requested", AccountId),
            f("signed_up", AccountId),
        ],
    ),
    // ---- console: outside identity providers (X1) and linked identities
    route(
        "/admin/identity-providers/add",
        "console identity providers",
        &[],
        PROVIDER_SETTINGS,
    ),
    route(
        "/admin/identity-providers/{id}",
        "console identity providers",
        PROVIDER,
        PROVIDER_SETTINGS,
    ),
    route(
        "/admin/identity-providers/{id}/test",
        "console identity providers",
        PROVIDER,
        &[],
    ),
    route(
        "/admin/identity-providers/{id}/delete",
        "console identity providers",
        PROVIDER,
        &[],
    ),
    route(
        "/admin/users/{id}/unlink",
        "console identity providers",
        &[Param::Account],
        &[f("provider", Text), f("subject", Text)],
    ),
    // ---- OpenID provider: the browser's forms. The consent form signs the
    // developer out when the request asks for a fresh sign-in (prompt=login,
    // max_age): `Sweep::run` starts that browser afresh then.
    route(
        "/oidc/authorize",
        "oidc browser",
        &[],
        &[
            f("client_id", ClientId),
            f("redirect_uri", RedirectUri),
            f(
                "response_type",
                Choice(&["code", "token", "id_token", "code id_token", ""]),
            ),
            f("scope", OidcScope),
            f("state", Text),
            f("nonce", Text),
            f("code_challenge", Challenge),
            f(
                "code_challenge_method",
                Choice(&["S256", "plain", "s256", ""]),
            ),
            f(
                "prompt",
                Choice(&["", "none", "login", "consent", "none login"]),
            ),
            f("max_age", Choice(&["", "3600", "0", "-1", "1.5"])),
            f("fresh_since", Number),
            f("decision", Choice(&["allow", "deny", "ALLOW", ""])),
        ],
    ),
    signs_in_or_out(route(
        "/oidc/end-session",
        "oidc browser",
        &[],
        &[
            f("post_logout_redirect_uri", RedirectUri),
            f("state", Text),
            f("client_id", ClientId),
            f("id_token_hint", IdToken),
        ],
    )),
    // ---- OpenID provider: what applications call (no CSRF token, cookies
    // ignored: the sweep's `csrf_token` is one more field they do not know).
    route(
        "/oidc/token",
        "oidc machine",
        &[],
        &[
            f(
                "grant_type",
                Choice(&[
                    "authorization_code",
                    "refresh_token",
                    "",
                    "client_credentials",
                    "password",
                ]),
            ),
            f("code", OidcCode),
            f("redirect_uri", RedirectUri),
            f("code_verifier", CodeVerifier),
            f("refresh_token", RefreshToken),
            f("scope", OidcScope),
            f("client_id", ClientId),
            f("client_secret", ClientSecret),
        ],
    ),
    route(
        "/oidc/userinfo",
        "oidc machine",
        &[],
        &[f("access_token", AccessToken)],
    ),
    // ---- portal: products and subscriptions
    route(
        "/products/{id}/subscribe",
        "portal subscriptions",
        PRODUCT,
        &[f("name", Text)],
    ),
    route(
        "/subscriptions/{id}/regenerate",
        "portal subscriptions",
        SUBSCRIPTION,
        KEY,
    ),
    route(
        "/subscriptions/{id}/cancel",
        "portal subscriptions",
        SUBSCRIPTION,
        &[],
    ),
    // ---- portal: the account
    signs_in_or_out(hashing(route(
        "/sign-in",
        "portal account",
        &[],
        &[
            f("email", PortalLogin),
            f("password", PortalPassword),
            f("next", Next),
        ],
    ))),
    signs_in_or_out(route("/sign-out", "portal account", &[], &[])),
    route(
        "/sign-up",
        "portal account",
        &[],
        &[
            f("email", NewEmail),
            f("first_name", PersonName),
            f("last_name", PersonName),
            f("password", NewPassword),
            f("confirm", SameAsPassword),
        ],
    ),
    route(
        "/sign-up/resend",
        "portal account",
        &[],
        &[f("email", PendingEmail)],
    ),
    route(
        "/forgot-password",
        "portal account",
        &[],
        &[f("email", ActiveEmail)],
    ),
    route(
        "/profile",
        "portal account",
        &[],
        &[f("first_name", PersonName), f("last_name", PersonName)],
    ),
    hashing(route(
        "/profile/password",
        "portal account",
        &[],
        &[
            f("current_password", CurrentPassword),
            f("password", NewPassword),
            f("confirm", SameAsPassword),
        ],
    )),
    // Closing one's account ends the session with it.
    signs_in_or_out(hashing(route(
        "/profile/close",
        "portal account",
        &[],
        &[f("confirm", CurrentPassword)],
    ))),
    // ---- portal: pages behind emailed links
    route(
        "/confirm/{token}",
        "portal links",
        &[Param::Token(Tok::Confirm)],
        &[],
    ),
    signs_in_or_out(route(
        "/invitations/{token}",
        "portal links",
        &[Param::Token(Tok::Invitation)],
        PASSWORD_TWICE,
    )),
    route(
        "/reset-password/{token}",
        "portal links",
        &[Param::Token(Tok::Reset)],
        PASSWORD_TWICE,
    ),
];

/// The POST routes the three route files register, read from their source:
/// every `.route("<path>", web::post().to(…))`, the console's under `/admin`;
/// the OpenID endpoints name their paths by the constants of
/// `src/web/paths/oidc.rs` (`.route(paths::TOKEN, …)`), read from there.
fn registered_post_routes() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |file: &str| std::fs::read_to_string(root.join(file)).unwrap();
    // `pub const NAME: &str = "/path";`
    let oidc_paths: BTreeMap<String, String> = read("src/web/paths/oidc.rs")
        .lines()
        .filter_map(|l| {
            let (name, value) = l
                .trim()
                .strip_prefix("pub const ")?
                .split_once(": &str = ")?;
            let value = value.trim().strip_suffix(';')?;
            let value = value.strip_prefix('"')?.strip_suffix('"')?;
            Some((format!("paths::{name}"), value.to_owned()))
        })
        .collect();
    let mut out = Vec::new();
    for (file, prefix, consts) in [
        ("src/web/admin/mod.rs", "/admin", None),
        ("src/web/portal/mod.rs", "", None),
        ("src/web/oidc/mod.rs", "", Some(&oidc_paths)),
    ] {
        let src = read(file);
        if !prefix.is_empty() {
            assert!(
                src.contains(&format!("web::scope(\"{prefix}\")")),
                "{file} no longer puts its routes under {prefix}: teach the sweep where they are"
            );
        }
        if consts.is_some() {
            assert!(
                src.contains("use crate::web::paths::oidc as paths;"),
                "{file} no longer names its paths by `paths::oidc`: teach the sweep where they are"
            );
        }
        let mut found = 0;
        for chunk in src.split(".route(").skip(1) {
            let chunk = chunk.trim_start();
            let (path, rest) = if let Some(rest) = chunk.strip_prefix('"') {
                let end = rest.find('"').unwrap();
                (rest[..end].to_owned(), &rest[end + 1..])
            } else {
                // A path constant: resolved, or left for the count below.
                let end = chunk.find(',').unwrap_or(chunk.len());
                let Some(path) = consts.and_then(|c| c.get(chunk[..end].trim())) else {
                    continue;
                };
                (path.clone(), &chunk[end..])
            };
            let after = rest.trim_start();
            let after = after.strip_prefix(',').unwrap_or("").trim_start();
            if after.starts_with("web::post().to(") {
                out.push(format!("{prefix}{path}"));
                found += 1;
            }
        }
        // A registration of another shape (a resource, `web::route()
        // .method(…)`) would escape the count above: refuse to guess.
        let total = src.matches("web::post()").count() + src.matches("Method::POST").count();
        assert_eq!(
            found, total,
            "{file} registers a POST route in a shape the sweep cannot read; extend registered_post_routes()"
        );
    }
    out
}

#[test]
fn sweep_covers_every_post_route() {
    check_route_table();
}

fn check_route_table() {
    let registered = registered_post_routes();
    let table: Vec<&str> = ROUTES.iter().map(|r| r.path).collect();
    let missing: Vec<&String> = registered
        .iter()
        .filter(|p| !table.contains(&p.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "POST routes the sweep does not know: {missing:?}. Describe each in ROUTES \
         (tests/api/sweep.rs): its path ids and its form's fields."
    );
    let stale: Vec<&&str> = table
        .iter()
        .filter(|p| !registered.iter().any(|r| r == *p))
        .collect();
    assert!(
        stale.is_empty(),
        "ROUTES lists routes no longer registered: {stale:?}"
    );
    let unique: BTreeSet<&str> = table.iter().copied().collect();
    assert_eq!(
        unique.len(),
        table.len(),
        "a route is listed twice in ROUTES"
    );
    for r in ROUTES {
        let holes = r.path.matches('{').count();
        assert_eq!(holes, r.params.len(), "{}: one Param per {{…}}", r.path);
    }
}

// ---- generated values -------------------------------------------------------

/// A tiny xorshift: the same seed, the same cases.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let s = seed ^ 0x9E37_79B9_7F4A_7C15;
        Self(if s == 0 { 1 } else { s })
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// A bad value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bad {
    Empty,
    Blank,
    /// 10,000 ASCII characters.
    Long,
    /// 10,000 two-byte characters (60,000 bytes once form-encoded).
    LongWide,
    Nul,
    /// Percent-encoded bytes that are not UTF-8.
    InvalidUtf8,
    /// Bytes that are not UTF-8, not encoded at all.
    RawBytes,
    CrLf,
    Rtl,
    ZeroWidth,
    Emoji,
    Html,
    Attribute,
    Sql,
    SqlDrop,
    Jinja,
    JinjaBlock,
    Braces,
    Negative,
    Zero,
    Huge,
    Overflow,
    NaN,
    Infinity,
    Hex,
    Traversal,
    Absolute,
    SchemeRelative,
    Backslash,
    /// An id of the right shape that nothing has.
    Missing,
}

const BADS: &[Bad] = &[
    Bad::Empty,
    Bad::Blank,
    Bad::Long,
    Bad::LongWide,
    Bad::Nul,
    Bad::InvalidUtf8,
    Bad::RawBytes,
    Bad::CrLf,
    Bad::Rtl,
    Bad::ZeroWidth,
    Bad::Emoji,
    Bad::Html,
    Bad::Attribute,
    Bad::Sql,
    Bad::SqlDrop,
    Bad::Jinja,
    Bad::JinjaBlock,
    Bad::Braces,
    Bad::Negative,
    Bad::Zero,
    Bad::Huge,
    Bad::Overflow,
    Bad::NaN,
    Bad::Infinity,
    Bad::Hex,
    Bad::Traversal,
    Bad::Absolute,
    Bad::SchemeRelative,
    Bad::Backslash,
    Bad::Missing,
];

/// What the sweep looks for, unescaped, in every answer.
const XSS_MARKERS: [&str; 2] = [
    "<script>sweep_xss()</script>",
    "<img src=x onerror=sweep_xss()>",
];
const MISSING_ID: &str = "00000000deadbeef";

/// A value: text to encode, or bytes already in the body's encoding.
#[derive(Clone, Debug)]
enum Val {
    Text(String),
    Raw(Vec<u8>),
}

impl Bad {
    fn val(self) -> Val {
        let s = match self {
            Bad::Empty => String::new(),
            Bad::Blank => " \t  ".into(),
            Bad::Long => "x".repeat(10_000),
            Bad::LongWide => "Ω".repeat(10_000),
            Bad::Nul => "a\u{0}b".into(),
            Bad::InvalidUtf8 => return Val::Raw(b"%FF%FE%C3%28a".to_vec()),
            Bad::RawBytes => return Val::Raw(vec![0xFF, 0xFE, 0xC3, 0x28, b'a']),
            Bad::CrLf => "a\r\nBcc: evil@example.org\r\n".into(),
            Bad::Rtl => "\u{202E}fdp.exe".into(),
            Bad::ZeroWidth => "a\u{200B}\u{200D}\u{FEFF}b".into(),
            Bad::Emoji => "😀👩‍💻🇺🇳".into(),
            Bad::Html => XSS_MARKERS[0].into(),
            Bad::Attribute => format!("\"'>{}", XSS_MARKERS[1]),
            Bad::Sql => "' OR 1=1 --".into(),
            Bad::SqlDrop => "x'); DROP TABLE accounts; --".into(),
            Bad::Jinja => "{{ x }}".into(),
            Bad::JinjaBlock => "{% x %}".into(),
            Bad::Braces => "{first_name} {nope} {".into(),
            Bad::Negative => "-1".into(),
            Bad::Zero => "0".into(),
            Bad::Huge => "99999999999999999999".into(),
            Bad::Overflow => "1e309".into(),
            Bad::NaN => "NaN".into(),
            Bad::Infinity => "inf".into(),
            Bad::Hex => "0x10".into(),
            Bad::Traversal => "../../etc/passwd".into(),
            Bad::Absolute => "https://evil.example/".into(),
            Bad::SchemeRelative => "//evil.example/".into(),
            Bad::Backslash => "/\\evil.example".into(),
            Bad::Missing => MISSING_ID.into(),
        };
        Val::Text(s)
    }

    fn big(self) -> bool {
        matches!(self, Bad::Long | Bad::LongWide)
    }
}

#[derive(Clone, Copy, Debug)]
enum FieldMut {
    Drop,
    /// The field twice: its value, then another.
    Repeat,
    Set(Bad),
    /// The valid value with the bad one after it.
    Append(Bad),
    /// Another value of the field's kind: someone else's id, a taken name…
    Alt(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyMut {
    Empty,
    NoCsrf,
    WrongCsrf,
    EmptyCsrf,
    CsrfTwice,
    CsrfWrongFirst,
    Garbage,
    /// Fields the form does not have (is_admin=1 …).
    Extra,
    /// A key that is not UTF-8.
    BadKey,
    /// One field up to 2,500 times (60,000 bytes at most).
    ManyRepeats,
    Json,
    NoContentType,
    Semicolons,
}

const BODY_MUTS: &[BodyMut] = &[
    BodyMut::Empty,
    BodyMut::NoCsrf,
    BodyMut::WrongCsrf,
    BodyMut::EmptyCsrf,
    BodyMut::CsrfTwice,
    BodyMut::CsrfWrongFirst,
    BodyMut::Garbage,
    BodyMut::Extra,
    BodyMut::BadKey,
    BodyMut::ManyRepeats,
    BodyMut::Json,
    BodyMut::NoContentType,
    BodyMut::Semicolons,
];

#[derive(Clone, Copy, Debug)]
enum Mutation {
    Field(usize, FieldMut),
    Body(BodyMut),
}

impl Mutation {
    fn big(self) -> bool {
        match self {
            Mutation::Field(_, FieldMut::Set(b) | FieldMut::Append(b)) => b.big(),
            Mutation::Body(BodyMut::ManyRepeats) => true,
            _ => false,
        }
    }
}

/// Which value a path's `{…}` gets: the n-th of its kind's ids (0 is the
/// one that works), or a bad value.
#[derive(Clone, Copy, Debug)]
enum PathChoice {
    Index(usize),
    Bad(Bad),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Role {
    Admin,
    Developer,
    Visitor,
}

const ROLES: [Role; 3] = [Role::Admin, Role::Developer, Role::Visitor];

#[derive(Clone, Debug)]
struct Case {
    role: Role,
    route: usize,
    path: Vec<PathChoice>,
    muts: Vec<Mutation>,
}

impl Case {
    fn route(&self) -> &'static Route {
        &ROUTES[self.route]
    }

    /// For the table of answers by kind of input.
    fn label(&self) -> String {
        if let Some(m) = self.muts.first() {
            return match m {
                Mutation::Field(_, FieldMut::Drop) => "field dropped".into(),
                Mutation::Field(_, FieldMut::Repeat) => "field repeated".into(),
                Mutation::Field(_, FieldMut::Set(b)) => format!("field = {b:?}"),
                Mutation::Field(_, FieldMut::Append(b)) => format!("field + {b:?}"),
                Mutation::Field(_, FieldMut::Alt(_)) => "field: other value".into(),
                Mutation::Body(b) => format!("body: {b:?}"),
            };
        }
        for p in &self.path {
            match p {
                PathChoice::Bad(b) => return format!("path id = {b:?}"),
                PathChoice::Index(i) if *i > 0 => return "path: other id".into(),
                _ => {}
            }
        }
        "valid form".into()
    }
}

/// How many ids each path parameter offers (see `Sweep::choices`).
fn n_choices(p: Param) -> usize {
    match p {
        Param::Account | Param::BlockedAccount => 7,
        Param::Invitation => 3,
        Param::Group => 5,
        Param::Product | Param::HiddenProduct => 4,
        Param::Subscription => 6,
        Param::Action => 8,
        Param::Template => 8,
        Param::Outbox => 8,
        Param::ApiToken => 3,
        Param::Application => 4,
        Param::Provider => 3,
        Param::Token(_) => 5,
    }
}

/// The normal suite's sweep: for each route, its valid form; as its main
/// role(s), every field made 10,000 characters long, given a CR/LF after
/// its valid value, and mutated once more (that mutation turns through the
/// list), every other id for each path
/// parameter and one bad one, one whole-body mutation; and the valid form
/// once as each other role.
fn short_cases() -> Vec<Case> {
    let field_muts = |k: usize| -> FieldMut {
        let bad = BADS[(k * 7) % BADS.len()];
        match k % 5 {
            0 => FieldMut::Drop,
            1 => FieldMut::Repeat,
            2 => FieldMut::Set(bad),
            3 => FieldMut::Append(bad),
            _ => FieldMut::Alt(k / 5),
        }
    };
    let mut out = Vec::new();
    let mut k = 0usize;
    for (ri, r) in ROUTES.iter().enumerate() {
        let console = r.path.starts_with("/admin");
        let links = r.family == "portal links";
        let main: &[Role] = if console {
            &[Role::Admin]
        } else {
            &[Role::Developer, Role::Visitor]
        };
        let primary = vec![PathChoice::Index(0); r.params.len()];
        let case = |role, path: Vec<PathChoice>, muts: Vec<Mutation>| Case {
            role,
            route: ri,
            path,
            muts,
        };
        for role in ROLES {
            out.push(case(role, primary.clone(), vec![]));
            if !main.contains(&role) {
                continue;
            }
            // A visitor is sent to sign in before any field or id is read,
            // except by the pages behind emailed links and the self-service
            // forms.
            let reads_input = role != Role::Visitor || links || r.params.is_empty();
            if !reads_input {
                out.push(case(
                    role,
                    primary.clone(),
                    vec![Mutation::Body(BODY_MUTS[k % BODY_MUTS.len()])],
                ));
                k += 1;
                continue;
            }
            for fi in 0..r.fields.len() {
                for m in [
                    FieldMut::Set(Bad::Long),
                    FieldMut::Append(Bad::CrLf),
                    field_muts(k),
                ] {
                    out.push(case(role, primary.clone(), vec![Mutation::Field(fi, m)]));
                }
                k += 1;
            }
            for (pi, p) in r.params.iter().enumerate() {
                for alt in 1..n_choices(*p) {
                    let mut path = primary.clone();
                    path[pi] = PathChoice::Index(alt);
                    out.push(case(role, path, vec![]));
                }
                let mut path = primary.clone();
                path[pi] = PathChoice::Bad(BADS[(k * 11) % BADS.len()]);
                out.push(case(role, path, vec![]));
                k += 1;
            }
            out.push(case(
                role,
                primary.clone(),
                vec![Mutation::Body(BODY_MUTS[k % BODY_MUTS.len()])],
            ));
            k += 1;
        }
    }
    out
}

/// A random case: mostly the console as the administrator and the portal as
/// the others; argon2 forms a quarter as often as the rest.
fn random_case(rng: &mut Rng) -> Case {
    loop {
        let role = match rng.below(100) {
            0..45 => Role::Admin,
            45..80 => Role::Developer,
            _ => Role::Visitor,
        };
        let console = rng.chance(if role == Role::Admin { 75 } else { 20 });
        let candidates: Vec<usize> = (0..ROUTES.len())
            .filter(|&i| ROUTES[i].path.starts_with("/admin") == console)
            .collect();
        let ri = rng.pick(&candidates);
        let r = &ROUTES[ri];
        if r.slow && !rng.chance(25) {
            continue;
        }
        let path = r
            .params
            .iter()
            .map(|p| match rng.below(100) {
                0..75 => PathChoice::Index(0),
                75..94 => PathChoice::Index(1 + rng.below(n_choices(*p) - 1)),
                _ => PathChoice::Bad(rng.pick(BADS)),
            })
            .collect();
        let mut muts = Vec::new();
        if !rng.chance(8) {
            let n = if rng.chance(30) { 2 } else { 1 };
            while muts.len() < n {
                let m = if r.fields.is_empty() || rng.chance(15) {
                    Mutation::Body(rng.pick(BODY_MUTS))
                } else {
                    let fi = rng.below(r.fields.len());
                    Mutation::Field(
                        fi,
                        match rng.below(100) {
                            0..10 => FieldMut::Drop,
                            10..20 => FieldMut::Repeat,
                            20..75 => FieldMut::Set(rng.pick(BADS)),
                            75..90 => FieldMut::Append(rng.pick(BADS)),
                            _ => FieldMut::Alt(rng.below(8)),
                        },
                    )
                };
                // Bodies stay under 64 KiB: one big value per case.
                if m.big() && muts.iter().any(|x: &Mutation| x.big()) {
                    continue;
                }
                muts.push(m);
            }
        }
        return Case {
            role,
            route: ri,
            path,
            muts,
        };
    }
}

// ---- form encoding ----------------------------------------------------------

fn form_encode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b),
            b' ' => out.push(b'+'),
            _ => out.extend_from_slice(format!("%{b:02X}").as_bytes()),
        }
    }
    out
}

fn path_encode(v: &Val) -> String {
    let bytes = match v {
        Val::Text(s) => s.as_bytes().to_vec(),
        // Already encoded (ASCII) stays; raw bytes are encoded.
        Val::Raw(b) if b.is_ascii() => return String::from_utf8(b.clone()).unwrap(),
        Val::Raw(b) => b.clone(),
    };
    let mut out = String::new();
    for b in bytes {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn encode_val(v: &Val) -> Vec<u8> {
    match v {
        Val::Text(s) => form_encode(s),
        Val::Raw(b) => b.clone(),
    }
}

/// A short, readable description of a value for reports.
fn describe(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let n = s.chars().count();
    if n <= 40 {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(16).collect();
        format!("{head:?}… ({} bytes)", bytes.len())
    }
}

// ---- what the database holds -----------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Table {
    Accounts,
    Groups,
    Memberships,
    Products,
    ProductGroups,
    Subscriptions,
    Invitations,
    InvitationGroups,
    Templates,
    Settings,
    Tokens,
    FailedMail,
    ApiTokens,
    Applications,
    ApplicationGroups,
    SigningKeys,
    IdentityProviders,
    Identities,
    NotificationRecipients,
}

/// The user-visible data, one query per table: (key, account, group,
/// product, invitation it belongs to, everything else as text, and, if the
/// query has a seventh column, the application it belongs to).
///
/// Left out, as bookkeeping that changes without an audit record by design:
/// - `accounts.failed_signins`, `locked_until` (S-3 counts of failed
///   sign-ins: every wrong password changes them);
/// - `groups.member_count` and `memberships.sort_name`, `state` (copies kept
///   by triggers: the rows they copy are compared themselves);
/// - `revoked_sessions` (sign-out), `account_counts` (trigger-kept counts),
///   `accounts_fts` (the search index), `audit_log`/`audit_subjects` (counted
///   separately);
/// - `tokens` of self-service links (`self_reset`, `signup_confirmation`) and
///   the `outbox` rows they queue: the portal's sign-up, resend and forgotten
///   password forms answer the same whatever the address (S-4) and are not
///   audited; when and how often is S-8's per-account limit's business.
///   Links an administrator sends (`invitation`, `admin_reset`) are audited,
///   and compared here;
/// - the `outbox` otherwise, which the mail worker changes in the background
///   (queued → sent); only whether a message is `failed` is compared, which
///   only the console's Retry changes;
/// - the OpenID provider's `oidc_codes`, `oidc_refresh_tokens` and
///   `oidc_consents`: the protocol's own bookkeeping (a code issued, used, a
///   chain revoked, a consent remembered), not audited by design, and gone
///   with their application or account.
///
/// `signing_keys` is compared: only the console's Rotate (audited) changes
/// it once the sweep has begun (`Sweep::new` waits for the keys the server
/// makes in the background at its start).
///
/// SQLite's `quote()` is PostgreSQL's `quote_nullable()`.
static FINGERPRINT: [(Table, Sql); 19] = [
    (
        Table::Accounts,
        Sql::each(
            "SELECT id, id, NULL, NULL, NULL,
                    quote(email)||','||quote(first_name)||','||quote(last_name)||','||quote(sort_name)
                    ||','||quote(note)||','||quote(password_hash)||','||state||','||registered_at
                    ||','||session_epoch||','||version
             FROM accounts",
            "SELECT id, id, NULL, NULL, NULL,
                    quote_nullable(email)||','||quote_nullable(first_name)||','||quote_nullable(last_name)
                    ||','||quote_nullable(sort_name)||','||quote_nullable(note)
                    ||','||quote_nullable(password_hash)||','||state||','||registered_at
                    ||','||session_epoch||','||version
             FROM accounts",
        ),
    ),
    (
        Table::Groups,
        Sql::each(
            "SELECT id, NULL, id, NULL, NULL,
                    quote(name)||','||quote(name_key)||','||quote(description)||','||kind
                    ||','||quote(external_id)||','||created_at||','||version
             FROM groups",
            "SELECT id, NULL, id, NULL, NULL,
                    quote_nullable(name)||','||quote_nullable(name_key)||','||quote_nullable(description)
                    ||','||kind||','||quote_nullable(external_id)||','||created_at||','||version
             FROM groups",
        ),
    ),
    (
        Table::Memberships,
        Sql::common(
            "SELECT group_id||' '||account_id, account_id, group_id, NULL, NULL, ''||created_at
             FROM memberships",
        ),
    ),
    (
        Table::Products,
        Sql::each(
            "SELECT id, NULL, NULL, id, NULL,
                    quote(name)||','||quote(name_key)||','||quote(description)||','||quote(terms)
                    ||','||subscription_required||','||approval_required||','||quote(subscriptions_limit)
                    ||','||state||','||created_at||','||version
             FROM products",
            "SELECT id, NULL, NULL, id, NULL,
                    quote_nullable(name)||','||quote_nullable(name_key)||','||quote_nullable(description)
                    ||','||quote_nullable(terms)||','||subscription_required||','||approval_required
                    ||','||quote_nullable(subscriptions_limit)||','||state||','||created_at
                    ||','||version
             FROM products",
        ),
    ),
    (
        Table::ProductGroups,
        Sql::common(
            "SELECT product_id||' '||group_id, NULL, group_id, product_id, NULL, ''
             FROM product_groups",
        ),
    ),
    (
        Table::Subscriptions,
        Sql::each(
            "SELECT id, account_id, NULL, product_id, NULL,
                    quote(display_name)||','||primary_key||','||secondary_key||','||quote(primary_key_hash)
                    ||','||quote(secondary_key_hash)||','||state||','||created_at||','||updated_at
                    ||','||version
             FROM subscriptions",
            "SELECT id, account_id, NULL, product_id, NULL,
                    quote_nullable(display_name)||','||primary_key||','||secondary_key
                    ||','||quote_nullable(primary_key_hash)||','||quote_nullable(secondary_key_hash)
                    ||','||state||','||created_at||','||updated_at||','||version
             FROM subscriptions",
        ),
    ),
    (
        Table::Invitations,
        Sql::each(
            "SELECT id, invited_by, NULL, NULL, id,
                    quote(email)||','||quote(email_key)||','||quote(first_name)||','||quote(last_name)
                    ||','||quote(invited_by)||','||state||','||created_at||','||sent_at||','||expires_at
                    ||','||version
             FROM invitations",
            "SELECT id, invited_by, NULL, NULL, id,
                    quote_nullable(email)||','||quote_nullable(email_key)||','||quote_nullable(first_name)
                    ||','||quote_nullable(last_name)||','||quote_nullable(invited_by)||','||state
                    ||','||created_at||','||sent_at||','||expires_at||','||version
             FROM invitations",
        ),
    ),
    (
        Table::InvitationGroups,
        Sql::common(
            "SELECT invitation_id||' '||group_id, NULL, group_id, NULL, invitation_id, ''
             FROM invitation_groups",
        ),
    ),
    (
        Table::Templates,
        Sql::each(
            "SELECT name, NULL, NULL, NULL, NULL,
                    quote(subject)||','||quote(body)||','||updated_at||','||version
             FROM email_templates",
            "SELECT name, NULL, NULL, NULL, NULL,
                    quote_nullable(subject)||','||quote_nullable(body)||','||updated_at||','||version
             FROM email_templates",
        ),
    ),
    (
        Table::Settings,
        Sql::each(
            "SELECT key, NULL, NULL, NULL, NULL, quote(value) FROM settings",
            "SELECT key, NULL, NULL, NULL, NULL, quote_nullable(value) FROM settings",
        ),
    ),
    (
        Table::Tokens,
        Sql::each(
            "SELECT hex(hash), account_id, NULL, NULL, invitation_id, purpose
             FROM tokens WHERE purpose IN ('invitation', 'admin_reset')",
            "SELECT upper(encode(hash, 'hex')), account_id, NULL, NULL, invitation_id, purpose
             FROM tokens WHERE purpose IN ('invitation', 'admin_reset')",
        ),
    ),
    (
        Table::FailedMail,
        Sql::common(
            "SELECT CAST(id AS TEXT), account_id, NULL, NULL, NULL, '' FROM outbox WHERE state = 'failed'",
        ),
    ),
    // last_used_at is bookkeeping, as the sign-in counters are.
    (
        Table::ApiTokens,
        Sql::each(
            "SELECT id, NULL, NULL, NULL, NULL,
                    quote(name)||','||expires_at||','||coalesce(revoked_at, '-')
             FROM api_tokens",
            "SELECT id, NULL, NULL, NULL, NULL,
                    quote_nullable(name)||','||expires_at||','||coalesce(revoked_at::text, '-')
             FROM api_tokens",
        ),
    ),
    (
        Table::Applications,
        Sql::each(
            "SELECT id, NULL, NULL, NULL, NULL,
                    quote(name)||','||quote(name_key)||','||quote(redirect_uris)||','||kind
                    ||','||trusted||','||signing_alg||','||token_groups||','||sign_in_groups
                    ||','||quote(secret_hash)||','||created_at||','||version,
                    id
             FROM applications",
            "SELECT id, NULL, NULL, NULL, NULL,
                    quote_nullable(name)||','||quote_nullable(name_key)||','||quote_nullable(redirect_uris)
                    ||','||kind||','||trusted||','||signing_alg||','||token_groups||','||sign_in_groups
                    ||','||quote_nullable(secret_hash)||','||created_at||','||version,
                    id
             FROM applications",
        ),
    ),
    (
        Table::ApplicationGroups,
        Sql::common(
            "SELECT application_id||' '||role||' '||group_id, NULL, group_id, NULL, NULL, role,
                    application_id
             FROM application_groups",
        ),
    ),
    (
        Table::SigningKeys,
        Sql::each(
            "SELECT kid, NULL, NULL, NULL, NULL,
                    alg||','||hex(private_der)||','||public_jwk||','||created_at
                    ||','||coalesce(retired_at, '-')
             FROM signing_keys",
            "SELECT kid, NULL, NULL, NULL, NULL,
                    alg||','||upper(encode(private_der, 'hex'))||','||public_jwk||','||created_at
                    ||','||coalesce(retired_at::text, '-')
             FROM signing_keys",
        ),
    ),
    (
        Table::IdentityProviders,
        Sql::each(
            "SELECT id, NULL, NULL, NULL, NULL,
                    quote(name)||','||quote(issuer)||','||quote(client_id)||','||quote(client_secret)
                    ||','||quote(scopes)||','||quote(groups_claim)||','||create_accounts||','||enabled
                    ||','||version
             FROM identity_providers",
            "SELECT id, NULL, NULL, NULL, NULL,
                    quote_nullable(name)||','||quote_nullable(issuer)||','||quote_nullable(client_id)
                    ||','||quote_nullable(client_secret)||','||quote_nullable(scopes)
                    ||','||quote_nullable(groups_claim)||','||create_accounts||','||enabled
                    ||','||version
             FROM identity_providers",
        ),
    ),
    (
        Table::Identities,
        Sql::common(
            "SELECT provider_id||' '||subject, account_id, NULL, NULL, NULL, provider_id
             FROM identities",
        ),
    ),
    (
        Table::NotificationRecipients,
        Sql::common(
            "SELECT event||' '||account_id, account_id, NULL, NULL, NULL, event
             FROM notification_recipients",
        ),
    ),
];

#[derive(Clone, Debug, PartialEq, Eq)]
struct RowFp {
    account: Option<String>,
    group: Option<String>,
    product: Option<String>,
    invitation: Option<String>,
    application: Option<String>,
    value: u64,
}

#[derive(Clone, Debug)]
struct Snapshot {
    rows: BTreeMap<(Table, String), RowFp>,
    audit: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Added,
    Removed,
    Modified,
}

#[derive(Debug)]
struct Change {
    table: Table,
    key: String,
    op: Op,
    /// The row after the change (before it, for a removal).
    row: RowFp,
    /// The row before the change, if it existed.
    was: Option<RowFp>,
}

fn diff(before: &Snapshot, after: &Snapshot) -> Vec<Change> {
    let mut out = Vec::new();
    for ((t, k), b) in &before.rows {
        match after.rows.get(&(*t, k.clone())) {
            None => out.push(Change {
                table: *t,
                key: k.clone(),
                op: Op::Removed,
                row: b.clone(),
                was: Some(b.clone()),
            }),
            Some(a) if a != b => out.push(Change {
                table: *t,
                key: k.clone(),
                op: Op::Modified,
                row: a.clone(),
                was: Some(b.clone()),
            }),
            _ => {}
        }
    }
    for ((t, k), a) in &after.rows {
        if !before.rows.contains_key(&(*t, k.clone())) {
            out.push(Change {
                table: *t,
                key: k.clone(),
                op: Op::Added,
                row: a.clone(),
                was: None,
            });
        }
    }
    out
}

const SYSTEM_GROUPS: [&str; 3] = ["administrators", "developers", "guests"];

fn is_system(g: Option<&str>) -> bool {
    g.is_some_and(|g| SYSTEM_GROUPS.contains(&g))
}

/// What one request was: who, where, with which ids.
struct Resolved {
    role: Role,
    route: &'static Route,
    /// The path's values, in order (as the handler decodes them, when valid).
    ids: Vec<String>,
    /// The account signed in to the portal in this browser, if any.
    actor: Option<String>,
    /// Whom a valid link of the right kind belongs to: (account, invitation).
    token_owner: Option<(Option<String>, Option<String>)>,
}

/// Whether `ch` is a change the request may make. Besides this, system
/// groups never change and at least one active administrator remains
/// (checked by the caller).
fn allowed(c: &Resolved, ch: &Change, before: &Snapshot) -> bool {
    use Op::*;
    use Table::*;
    let path = c.route.path;
    if path.starts_with("/admin") && c.role != Role::Admin {
        return false;
    }
    let id = c.ids.first().map(String::as_str).unwrap_or("");
    let is = |v: &Option<String>, want: &str| v.as_deref() == Some(want);
    let actor = c.actor.as_deref().unwrap_or("\u{0}nobody");
    let existed_group = |g: &Option<String>| {
        g.as_ref()
            .is_some_and(|g| before.rows.contains_key(&(Groups, g.clone())))
    };
    let existed_account = |a: &Option<String>| {
        a.as_ref()
            .is_some_and(|a| before.rows.contains_key(&(Accounts, a.clone())))
    };
    let existed_application = |a: &Option<String>| {
        a.as_ref()
            .is_some_and(|a| before.rows.contains_key(&(Applications, a.clone())))
    };
    let t = ch.table;
    let op = ch.op;
    let r = &ch.row;
    match path {
        "/admin/users/invite" => {
            matches!(t, Invitations | Tokens) && op == Added
                || t == InvitationGroups && op == Added && !is_system(r.group.as_deref())
        }
        "/admin/users/pending/{id}/resend" => {
            t == Invitations && op == Modified && ch.key == id
                || t == Tokens && op == Added && is(&r.invitation, id)
        }
        "/admin/users/pending/{id}/cancel" => t == Invitations && op == Modified && ch.key == id,
        "/admin/users/add" => t == Accounts && op == Added,
        "/admin/users/{id}/block" | "/admin/users/{id}/activate" | "/admin/users/{id}/password" => {
            t == Accounts && op == Modified && ch.key == id
        }
        "/admin/users/{id}/delete" => {
            t == Accounts && op == Removed && ch.key == id
                || matches!(t, NotificationRecipients | Identities)
                    && op == Removed
                    && is(&r.account, id)
                || matches!(t, Memberships | Subscriptions | Tokens)
                    && op == Removed
                    && is(&r.account, id)
                // Its invitations' invited_by becomes NULL.
                || t == Invitations
                    && op == Modified
                    && ch.was.as_ref().is_some_and(|w| is(&w.account, id))
        }
        "/admin/users/{id}/reset-password" => t == Tokens && op == Added && is(&r.account, id),
        "/admin/users/toggle" => {
            t == Memberships && op != Modified && !is_system(r.group.as_deref())
        }
        "/admin/groups/add" => {
            t == Groups && op == Added
                || t == Memberships && op == Added && !existed_group(&r.group)
        }
        "/admin/groups/{id}" => t == Groups && op == Modified && ch.key == id,
        "/admin/groups/{id}/members/add" => t == Memberships && op == Added && is(&r.group, id),
        "/admin/groups/{id}/members/remove" => {
            t == Memberships && op == Removed && is(&r.group, id)
        }
        "/admin/groups/{id}/delete" => {
            t == Groups && op == Removed && ch.key == id
                || matches!(
                    t,
                    Memberships | ProductGroups | InvitationGroups | ApplicationGroups
                ) && op == Removed
                    && is(&r.group, id)
        }
        "/admin/products/add" => t == Products && op == Added,
        "/admin/products/{id}"
        | "/admin/products/{id}/publish"
        | "/admin/products/{id}/unpublish" => t == Products && op == Modified && ch.key == id,
        "/admin/products/{id}/access"
        | "/admin/products/{id}/access/add"
        | "/admin/products/{id}/access/remove" => {
            t == ProductGroups && op != Modified && is(&r.product, id)
        }
        "/admin/products/{id}/delete" => {
            t == Products && op == Removed && ch.key == id
                || matches!(t, ProductGroups | Subscriptions) && op == Removed && is(&r.product, id)
        }
        "/admin/subscriptions/{id}/regenerate" | "/admin/subscriptions/{id}/{action}" => {
            t == Subscriptions && op == Modified && ch.key == id
        }
        "/admin/email/templates/{name}" | "/admin/email/templates/{name}/restore" => {
            t == Templates && ch.key == id
        }
        "/admin/email/settings" => t == Settings,
        "/admin/email/log/{id}/retry" => t == FailedMail && op == Removed && ch.key == id,
        "/admin/api/tokens" => t == ApiTokens && op == Added,
        "/admin/users/{id}/subscriptions/add" => {
            t == Subscriptions && op == Added && is(&r.account, id)
        }
        "/admin/products/{id}/subscriptions/add" => {
            t == Subscriptions && op == Added && is(&r.product, id)
        }
        "/admin/api/tokens/{id}/revoke" => t == ApiTokens && op == Modified && ch.key == id,
        "/admin/applications/add" => {
            t == Applications && op == Added
                || t == ApplicationGroups && op == Added && !existed_application(&r.application)
        }
        // New keys in use, the old ones retired, long-retired ones forgotten.
        "/admin/applications/rotate-keys" => t == SigningKeys,
        "/admin/applications/{id}" => {
            t == Applications && op == Modified && ch.key == id
                || t == ApplicationGroups && op != Modified && is(&r.application, id)
        }
        "/admin/applications/{id}/secret" => t == Applications && op == Modified && ch.key == id,
        "/admin/applications/{id}/delete" => {
            t == Applications && op == Removed && ch.key == id
                || t == ApplicationGroups && op == Removed && is(&r.application, id)
        }
        "/admin/notifications" => t == NotificationRecipients,
        "/admin/identity-providers/add" => t == IdentityProviders && op == Added,
        "/admin/identity-providers/{id}" => {
            t == IdentityProviders && op == Modified && ch.key == id
        }
        // Its links and external groups go with it (none in the sweep).
        "/admin/identity-providers/{id}/delete" => {
            t == IdentityProviders && op == Removed && ch.key == id
                || t == Identities && op == Removed && ch.key.starts_with(&format!("{id} "))
        }
        "/admin/users/{id}/unlink" => t == Identities && op == Removed && is(&r.account, id),
        "/products/{id}/subscribe" => {
            t == Subscriptions && op == Added && is(&r.account, actor) && is(&r.product, id)
        }
        "/subscriptions/{id}/regenerate" | "/subscriptions/{id}/cancel" => {
            t == Subscriptions && op == Modified && ch.key == id && is(&r.account, actor)
        }
        "/sign-up" => t == Accounts && op == Added,
        "/profile" | "/profile/password" => t == Accounts && op == Modified && ch.key == actor,
        // As an administrator's delete, of the actor's own account.
        "/profile/close" => {
            t == Accounts && op == Removed && ch.key == actor
                || matches!(
                    t,
                    NotificationRecipients | Identities | Memberships | Subscriptions | Tokens
                ) && op == Removed
                    && is(&r.account, actor)
                || t == Invitations
                    && op == Modified
                    && ch.was.as_ref().is_some_and(|w| is(&w.account, actor))
        }
        "/confirm/{token}" | "/reset-password/{token}" => {
            let owner = c.token_owner.as_ref().and_then(|o| o.0.clone());
            t == Accounts && op == Modified && owner.as_deref() == Some(ch.key.as_str())
        }
        "/invitations/{token}" => {
            let inv = c.token_owner.as_ref().and_then(|o| o.1.clone());
            c.token_owner.is_some()
                && (t == Accounts && op == Added
                    || t == Memberships
                        && op == Added
                        && !existed_account(&r.account)
                        && !is_system(r.group.as_deref())
                    || t == Invitations
                        && op == Modified
                        && inv.as_deref() == Some(ch.key.as_str()))
        }
        // Signing in and out, the self-service emails, and the OpenID
        // endpoints (codes, tokens, consents): bookkeeping only.
        _ => false,
    }
}

// ---- the fixtures -------------------------------------------------------------

/// What the path ids point at. `repair` puts back, straight in the database
/// and between cases, whatever a case used up (a deleted product, a spent
/// link, a blocked developer), so the sweep keeps reaching the handlers'
/// interesting paths.
#[derive(Default)]
struct Fx {
    root: String,
    root_hash: String,
    root_epoch: i64,
    dev1: String,
    dev1_email: String,
    dev_hash: String,
    dev1_epoch: i64,
    dev2: String,
    dev2_email: String,
    victim: String,
    pending: String,
    pending_email: String,
    blocked: String,
    blocked_email: String,
    group: String,
    group_name: String,
    p_open: String,
    p_open_name: String,
    p_approval: String,
    p_hidden: String,
    /// dev1's active subscription (a developer's own).
    s_own: String,
    /// dev2's active subscription (someone else's).
    s_other: String,
    s_submitted: String,
    s_suspended: String,
    s_cancelled: String,
    inv_open: String,
    invitee_email: String,
    inv_closed: String,
    failed_mail: i64,
    sent_mail: Option<i64>,
    /// A management API token that works (revoked ones are made anew).
    api_token: String,
    /// The sweep's OpenID applications, both registering `SWEEP_REDIRECT`
    /// and letting everyone sign in: a confidential one that asks for
    /// consent (its secret `SWEEP_SECRET`), and a public, trusted one.
    app_conf: String,
    app_conf_name: String,
    /// The sweep's outside identity provider (its issuer on a closed
    /// loopback port: Test connection fails at once).
    provider: String,
    app_pub: String,
    app_pub_name: String,
    /// A live code of the confidential application for dev1 (PKCE:
    /// `PKCE_CHALLENGE`), and one that was used.
    oidc_code: String,
    oidc_code_used: String,
    /// A live refresh token of it for dev1, and a used one of its chain.
    refresh: String,
    refresh_used: String,
    /// Tokens of it for dev1 from a real exchange, and (application, dev1's
    /// session epoch, when) they were made for.
    access_token: String,
    id_token: String,
    tokens_for: (String, i64, i64),
    /// Link secrets: a live one of each kind, and one already used.
    tok_invitation: String,
    tok_reset: String,
    tok_confirm: String,
    tok_used: String,
}

struct AccountRow {
    state: String,
    hash: Option<String>,
    epoch: i64,
    failed: i64,
    locked: i64,
    admin: bool,
}

/// The client secret of the sweep's confidential application.
const SWEEP_SECRET: &str = "portal_cs_sweep-fixture-secret-0123456789";

const PASSWORDS: [&str; 3] = [
    "quartz meadow lantern 42",
    "amber falcon river 8812",
    "violet harbour cinnamon 7",
];

/// A browser of one role, with its session's CSRF token.
struct Browser {
    c: Client,
    csrf: String,
}

#[derive(Default, Clone)]
struct Counts {
    cases: u64,
    /// [no answer, 1xx, 2xx, 3xx, 4xx, 5xx]
    by_class: [u64; 6],
    too_many: u64,
    /// Cases after which user-visible data had changed.
    changed: u64,
}

impl Counts {
    fn add(&mut self, status: u16) {
        self.cases += 1;
        self.by_class[((status / 100) as usize).min(5)] += 1;
        if status == 429 {
            self.too_many += 1;
        }
    }

    fn row(&self, name: &str) -> String {
        let c = &self.by_class;
        format!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            self.cases,
            c[2],
            c[3],
            c[4],
            self.too_many,
            c[5] + c[0],
            self.changed
        )
    }
}

struct Violation {
    kind: &'static str,
    what: String,
}

/// One request as sent.
struct Request {
    path: String,
    body: Vec<u8>,
    content_type: Option<&'static str>,
    desc: String,
}

struct Sweep<'a> {
    app: &'a TestApp,
    fx: Fx,
    browsers: BTreeMap<Role, Browser>,
    /// Roles whose browser must start afresh (signed in or out, session ended).
    stale: BTreeSet<Role>,
    /// The last octet of the visitor's address: a new one whenever the
    /// self-service limit (20 requests per address per 15 minutes, 429)
    /// answers, so that sign-up and friends keep being tried beyond it.
    visitor_octet: u8,
    serial: u32,
    snap: Option<Snapshot>,
    by_family: BTreeMap<&'static str, Counts>,
    by_route: BTreeMap<&'static str, Counts>,
    by_label: BTreeMap<String, Counts>,
    by_role: BTreeMap<Role, Counts>,
    violations: Vec<Violation>,
    /// Odd but not failing, by kind: count, first examples, routes.
    notes: BTreeMap<String, (u64, Vec<String>, BTreeSet<&'static str>)>,
    /// `SWEEP_TRACE=1`: every case on stderr as it is answered.
    trace: bool,
    cases_run: u64,
    rebuilds: u64,
    repairs: u64,
    started: Instant,
}

fn now() -> i64 {
    portal::clock::Clock::default().now()
}

fn client_at(octet: u8) -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, octet)))
        .build()
        .unwrap()
}

impl<'a> Sweep<'a> {
    async fn new(app: &'a TestApp) -> Sweep<'a> {
        let root = app
            .id_of(ADMIN_EMAIL)
            .await
            .expect("the first administrator");
        let mut s = Sweep {
            app,
            fx: Fx {
                root,
                dev1_email: "sweep.dev1@example.org".into(),
                dev2_email: "sweep.dev2@example.org".into(),
                ..Fx::default()
            },
            browsers: BTreeMap::new(),
            stale: ROLES.into_iter().collect(),
            visitor_octet: 10,
            serial: 0,
            snap: None,
            by_family: BTreeMap::new(),
            by_route: BTreeMap::new(),
            by_label: BTreeMap::new(),
            by_role: BTreeMap::new(),
            violations: Vec::new(),
            notes: BTreeMap::new(),
            rebuilds: 0,
            repairs: 0,
            started: Instant::now(),
            trace: std::env::var("SWEEP_TRACE").is_ok_and(|v| v == "1"),
            cases_run: 0,
        };
        let a = s.account_row(&s.fx.root.clone()).await.unwrap();
        s.fx.root_hash = a.hash.unwrap();
        s.fx.root_epoch = a.epoch;
        // A link that has been used, to try again.
        let dev_placeholder = None;
        s.fx.tok_used = s.new_token("admin_reset", dev_placeholder, None).await;
        // The server makes its signing keys in the background at its start,
        // unaudited by design: the snapshots begin once they are there.
        let deadline = Instant::now() + std::time::Duration::from_secs(120);
        let algs = portal::domain::application::SigningAlg::ALL.len() as i64;
        loop {
            let in_use: i64 = db_one!(
                &s.app.db,
                "SELECT count(*) FROM signing_keys WHERE retired_at IS NULL"
            );
            if in_use >= algs {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the server made no signing keys in 120 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        db_exec!(
            &s.app.db,
            "UPDATE tokens SET used_at = ? WHERE hash = ?",
            now(),
            &portal::domain::link::hash_of(&s.fx.tok_used)[..]
        );
        s.repair().await;
        s.repairs = 0;
        s
    }

    fn next_serial(&mut self) -> u32 {
        self.serial += 1;
        self.serial
    }

    fn note(&mut self, kind: String, route: &'static str, example: String) {
        let e = self.notes.entry(kind).or_default();
        e.0 += 1;
        if e.1.len() < 3 {
            e.1.push(example);
        }
        e.2.insert(route);
    }

    // ---- making fixtures (straight SQL, between cases) ----------------------

    async fn account_row(&self, id: &str) -> Option<AccountRow> {
        let row: Option<(String, Option<String>, i64, i64, i64, bool)> = db_row_opt!(
            &self.app.db,
            "SELECT state, password_hash, session_epoch, failed_signins, locked_until,
                    EXISTS (SELECT 1 FROM memberships
                            WHERE group_id = 'administrators' AND account_id = a.id)
             FROM accounts a WHERE id = ?",
            id
        );
        row.map(|(state, hash, epoch, failed, locked, admin)| AccountRow {
            state,
            hash,
            epoch,
            failed,
            locked,
            admin,
        })
    }

    async fn sql(&self, sql: &'static Sql, binds: &[&str]) {
        portal::run!(&self.app.db, sql, |x, q| {
            let mut q = sqlx::query(q);
            for b in binds {
                q = q.bind(*b);
            }
            q.execute(x).await.unwrap();
        })
    }

    async fn email_free(&self, email: &str) -> bool {
        let taken: bool = db_one!(
            &self.app.db,
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE email_key = lower(?))",
            email
        );
        !taken
    }

    /// A new account of `state` (password `USER_PASSWORD`): (id, email).
    async fn new_account(&mut self, what: &str, state: &str) -> (String, String) {
        let n = self.next_serial();
        let email = format!("sweep.{what}.{n}@example.org");
        let id = self
            .app
            .insert_account(&email, "Fixture", what, state)
            .await;
        (id, email)
    }

    async fn new_group(&mut self) {
        let n = self.next_serial();
        let id = format!("sweep-group-{n}");
        let name = format!("Sweep group {n}");
        db_exec!(
            &self.app.db,
            "INSERT INTO groups (id, name, name_key, description, kind, created_at)
             VALUES (?, ?, lower(?), 'Sweep fixture', 'custom', ?)",
            &id,
            &name,
            &name,
            now()
        );
        for member in [self.fx.dev2.clone(), self.fx.victim.clone()] {
            db_exec!(
                &self.app.db,
                "INSERT INTO memberships (group_id, account_id, created_at, sort_name, state)
                 SELECT ?, id, ?, sort_name, state FROM accounts WHERE id = ?
                 ON CONFLICT DO NOTHING",
                &id,
                now(),
                &member
            );
        }
        self.fx.group = id;
        self.fx.group_name = name;
    }

    /// A product, published and granted to Developers unless `hidden`: (id, name).
    async fn new_product(&mut self, approval: bool, hidden: bool) -> (String, String) {
        let n = self.next_serial();
        let id = format!("sweep-product-{n}");
        let name = format!("Sweep API {n}");
        db_exec!(
            &self.app.db,
            "INSERT INTO products (id, name, name_key, description, terms, subscription_required,
                                   approval_required, subscriptions_limit, state, created_at)
             VALUES (?, ?, lower(?), 'Sweep fixture', '', true, ?, NULL, ?, ?)",
            &id,
            &name,
            &name,
            approval,
            if hidden { "not_published" } else { "published" },
            now()
        );
        if !hidden {
            self.sql(
                portal::sql!(
                    "INSERT INTO product_groups (product_id, group_id) VALUES (?, 'developers')
                 ON CONFLICT DO NOTHING"
                ),
                &[&id],
            )
            .await;
        }
        (id, name)
    }

    /// Makes the open (or the approval) product again what a developer can
    /// subscribe to: published, no limit, granted to Developers only.
    async fn keep_product(&mut self, approval: bool) -> bool {
        let id = if approval {
            self.fx.p_approval.clone()
        } else {
            self.fx.p_open.clone()
        };
        let row: Option<(bool, String)> = db_row_opt!(
            &self.app.db,
            "SELECT state = 'published' AND subscription_required = true AND approval_required = ?
                    AND subscriptions_limit IS NULL
                    AND EXISTS (SELECT 1 FROM product_groups
                                WHERE product_id = p.id AND group_id = 'developers')
                    AND NOT EXISTS (SELECT 1 FROM product_groups
                                    WHERE product_id = p.id AND group_id <> 'developers'),
                    name
             FROM products p WHERE id = ?",
            approval,
            &id
        );
        match row {
            None => {
                let (id, name) = self.new_product(approval, false).await;
                if approval {
                    self.fx.p_approval = id;
                } else {
                    self.fx.p_open = id;
                    self.fx.p_open_name = name;
                }
                true
            }
            Some((kept, name)) => {
                if !approval {
                    self.fx.p_open_name = name;
                }
                if kept {
                    false
                } else {
                    db_exec!(
                        &self.app.db,
                        "UPDATE products SET state = 'published', subscription_required = true,
                                approval_required = ?, subscriptions_limit = NULL WHERE id = ?",
                        approval,
                        &id
                    );
                    self.sql(
                        portal::sql!("DELETE FROM product_groups WHERE product_id = ? AND group_id <> 'developers'"),
                        &[&id],
                    )
                    .await;
                    self.sql(
                        portal::sql!("INSERT INTO product_groups (product_id, group_id) VALUES (?, 'developers')
                 ON CONFLICT DO NOTHING"),
                        &[&id],
                    )
                    .await;
                    true
                }
            }
        }
    }

    async fn new_subscription(&mut self, account: &str, product: &str, state: &str) -> String {
        let id = portal::domain::ids::new_id();
        let (primary, secondary) = (
            portal::domain::subscription::new_key(),
            portal::domain::subscription::new_key(),
        );
        let mut tx = self.app.db.begin_write().await.unwrap();
        portal::store::subscriptions::insert(
            &mut tx,
            &portal::store::subscriptions::NewSubscription {
                id: &id.as_str().into(),
                account_id: &account.into(),
                product_id: &product.into(),
                display_name: "Sweep fixture",
                primary_key: &primary,
                secondary_key: &secondary,
                state,
                now: now(),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// A subscription still in `state` and `account`'s, or a new one.
    async fn keep_subscription(
        &mut self,
        id: String,
        account: String,
        product: String,
        state: &str,
        any_state: bool,
    ) -> Option<String> {
        let row: Option<(String, String)> = db_row_opt!(
            &self.app.db,
            "SELECT state, account_id FROM subscriptions WHERE id = ?",
            &id
        );
        match row {
            Some((s, a)) if (any_state || s == state) && a == account => None,
            _ => Some(self.new_subscription(&account, &product, state).await),
        }
    }

    async fn new_token(
        &mut self,
        purpose: &str,
        account: Option<&str>,
        invitation: Option<&str>,
    ) -> String {
        let s = portal::domain::link::LinkSecret::new();
        db_exec!(
            &self.app.db,
            "INSERT INTO tokens (hash, purpose, account_id, invitation_id, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?)",
            &s.hash[..],
            purpose,
            account,
            invitation,
            now(),
            now() + 86_400
        );
        s.secret
    }

    async fn token_live(
        &self,
        secret: &str,
        purpose: &str,
        account: Option<&str>,
        invitation: Option<&str>,
    ) -> bool {
        if secret.is_empty() {
            return false;
        }
        let live: Option<bool> = db_opt!(
            &self.app.db,
            "SELECT used_at IS NULL AND voided_at IS NULL AND expires_at > ? AND purpose = ?
                    AND coalesce(account_id, '') = ? AND coalesce(invitation_id, '') = ?
             FROM tokens WHERE hash = ?",
            now(),
            purpose,
            account.unwrap_or(""),
            invitation.unwrap_or(""),
            &portal::domain::link::hash_of(secret)[..]
        );
        live == Some(true)
    }

    async fn new_invitation(&mut self, state: &str) -> (String, String) {
        let n = self.next_serial();
        let id = portal::domain::ids::new_id();
        let email = format!("sweep.invitee.{n}@example.org");
        db_exec!(
            &self.app.db,
            "INSERT INTO invitations (id, email, email_key, first_name, last_name, invited_by,
                                      state, created_at, sent_at, expires_at)
             VALUES (?, ?, lower(?), 'In', 'Vitee', ?, ?, ?, ?, ?)",
            &id,
            &email,
            &email,
            &self.fx.root,
            state,
            now(),
            now(),
            now() + 86_400
        );
        (id, email)
    }

    async fn new_failed_mail(&mut self) -> i64 {
        db_one!(
            &self.app.db,
            "INSERT INTO outbox (template, to_address, to_name, account_id, subject, text_body,
                                 html_body, state, attempts, next_attempt_at, last_error, created_at)
             VALUES ('password_reset', ?, 'Dev Two', ?, 'Reset', 'text', '<p>html</p>',
                     'failed', 5, ?, 'refused by the sweep''s fixture', ?)
             RETURNING id",
            &self.fx.dev2_email,
            &self.fx.dev2,
            now(),
            now()
        )
    }

    /// The sweep's two applications as the OpenID forms need them: there,
    /// of their kind, with their secret (or none), trusted or not, registering
    /// `SWEEP_REDIRECT` only, letting everyone sign in. What else the console
    /// changed (name, algorithm, groups in tokens) stays. True when it wrote.
    async fn keep_applications(&mut self) -> bool {
        let mut fixed = false;
        for public in [false, true] {
            let id = if public {
                self.fx.app_pub.clone()
            } else {
                self.fx.app_conf.clone()
            };
            let kind = if public { "public" } else { "confidential" };
            // The confidential one asks for consent; the public one does not.
            let trusted = public;
            let secret: Option<Vec<u8>> =
                (!public).then(|| portal::domain::oidc::hash_of(SWEEP_SECRET).to_vec());
            let row: Option<(String, bool)> = db_row_opt!(
                &self.app.db,
                portal::sql!(
                    sqlite: "SELECT name, kind = ? AND trusted = ? AND redirect_uris = ?
                                  AND sign_in_groups = 'everyone' AND secret_hash IS ?
                             FROM applications WHERE id = ?",
                    pg: "SELECT name, kind = $1 AND trusted = $2 AND redirect_uris = $3
                              AND sign_in_groups = 'everyone'
                              AND secret_hash IS NOT DISTINCT FROM $4
                         FROM applications WHERE id = $5"
                ),
                kind,
                trusted,
                SWEEP_REDIRECT,
                &secret,
                &id
            );
            let (id, name) = match row {
                Some((name, true)) => (id, name),
                Some((name, false)) => {
                    db_exec!(
                        &self.app.db,
                        "UPDATE applications SET kind = ?, trusted = ?, redirect_uris = ?,
                                sign_in_groups = 'everyone', secret_hash = ?
                         WHERE id = ?",
                        kind,
                        trusted,
                        SWEEP_REDIRECT,
                        &secret,
                        &id
                    );
                    self.sql(
                        portal::sql!("DELETE FROM application_groups WHERE application_id = ? AND role = 'sign_in'"),
                        &[&id],
                    )
                    .await;
                    fixed = true;
                    (id, name)
                }
                None => {
                    let id = portal::domain::ids::new_id();
                    let name = format!("Sweep {kind} app {}", self.next_serial());
                    db_exec!(
                        &self.app.db,
                        "INSERT INTO applications (id, name, name_key, redirect_uris, kind, trusted,
                                                   signing_alg, token_groups, sign_in_groups,
                                                   secret_hash, created_at)
                         VALUES (?, ?, lower(?), ?, ?, ?, 'RS256', 'all', 'everyone', ?, ?)",
                        &id,
                        &name,
                        &name,
                        SWEEP_REDIRECT,
                        kind,
                        trusted,
                        &secret,
                        now()
                    );
                    fixed = true;
                    (id, name)
                }
            };
            if public {
                (self.fx.app_pub, self.fx.app_pub_name) = (id, name);
            } else {
                (self.fx.app_conf, self.fx.app_conf_name) = (id, name);
            }
        }
        fixed
    }

    /// The sweep's identity provider, there, on a loopback issuer (a form
    /// may have pointed it elsewhere, which Test connection would fetch).
    async fn keep_provider(&mut self) -> bool {
        let ok: bool = db_one!(
            &self.app.db,
            "SELECT EXISTS (SELECT 1 FROM identity_providers WHERE id = ? AND issuer = ?)",
            &self.fx.provider,
            SWEEP_ISSUER
        );
        if ok {
            return false;
        }
        let id = portal::domain::ids::new_id();
        let name = format!("Sweep provider {}", self.next_serial());
        db_exec!(
            &self.app.db,
            "INSERT INTO identity_providers (id, name, name_key, issuer, client_id, client_secret,
                                             scopes, groups_claim, create_accounts, enabled, created_at)
             VALUES (?, ?, lower(?), ?, 'portal', 'sweep-secret', 'openid email', 'groups', ?, ?, ?)",
            &id,
            &name,
            &name,
            SWEEP_ISSUER,
            true,
            true,
            now()
        );
        self.fx.provider = id;
        true
    }

    /// A code of the confidential application for dev1, bound to
    /// `SWEEP_REDIRECT` and `PKCE_CHALLENGE`, live or already used.
    async fn new_code(&mut self, epoch: i64, used: bool) -> String {
        let code = portal::domain::ids::new_secret();
        db_exec!(
            &self.app.db,
            "INSERT INTO oidc_codes (code_hash, application_id, account_id, redirect_uri,
                                     code_challenge, nonce, scope, auth_time, session_epoch,
                                     family, expires_at, used_at)
             VALUES (?, ?, ?, ?, ?, 'sweep-nonce', ?, ?, ?, ?, ?, ?)",
            &portal::domain::oidc::hash_of(&code)[..],
            &self.fx.app_conf,
            &self.fx.dev1,
            SWEEP_REDIRECT,
            PKCE_CHALLENGE,
            GRANTED_SCOPE,
            now(),
            epoch,
            portal::domain::ids::new_secret(),
            now() + 86_400,
            used.then(now)
        );
        code
    }

    async fn new_refresh(&mut self, epoch: i64, family: &str, used: bool) -> String {
        let token = portal::domain::ids::new_secret();
        db_exec!(
            &self.app.db,
            "INSERT INTO oidc_refresh_tokens (token_hash, family, application_id, account_id,
                                              scope, auth_time, session_epoch, expires_at, used_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &portal::domain::oidc::hash_of(&token)[..],
            family,
            &self.fx.app_conf,
            &self.fx.dev1,
            GRANTED_SCOPE,
            now(),
            epoch,
            now() + 86_400,
            used.then(now)
        );
        token
    }

    /// Whether a code or refresh token (by its table) is still good for the
    /// confidential application and dev1 at `epoch`, and whether it was used.
    async fn grant_state(&self, table: &str, secret: &str, epoch: i64) -> (bool, bool) {
        if secret.is_empty() {
            return (false, false);
        }
        let sql = match table {
            "code" => portal::sql!(
                "SELECT used_at IS NULL AND expires_at > ? AND application_id = ?
                        AND account_id = ? AND session_epoch = ?, used_at IS NOT NULL
                 FROM oidc_codes WHERE code_hash = ?"
            ),
            _ => portal::sql!(
                "SELECT used_at IS NULL AND expires_at > ? AND application_id = ?
                        AND account_id = ? AND session_epoch = ?, used_at IS NOT NULL
                 FROM oidc_refresh_tokens WHERE token_hash = ?"
            ),
        };
        let state: Option<(bool, bool)> = db_row_opt!(
            &self.app.db,
            sql,
            now(),
            &self.fx.app_conf,
            &self.fx.dev1,
            epoch,
            &portal::domain::oidc::hash_of(secret)[..]
        );
        state.unwrap_or((false, false))
    }

    /// A live code, a live refresh token (and a used one of its chain), and
    /// an access and ID token less than five minutes old, all of the
    /// confidential application for dev1 as dev1 is now. True when it wrote.
    async fn keep_grants(&mut self) -> bool {
        let mut fixed = false;
        let Some(dev1) = self.account_row(&self.fx.dev1.clone()).await else {
            self.fatal("dev1 is gone after its repair");
        };
        let epoch = dev1.epoch;
        // A used code of this application (its last one went with it).
        let used_there: bool = db_one!(
            &self.app.db,
            "SELECT EXISTS (SELECT 1 FROM oidc_codes
                            WHERE code_hash = ? AND used_at IS NOT NULL AND application_id = ?)",
            &portal::domain::oidc::hash_of(&self.fx.oidc_code_used)[..],
            &self.fx.app_conf
        );
        if !used_there {
            self.fx.oidc_code_used = self.new_code(epoch, true).await;
            fixed = true;
        }
        let (live, used) = self
            .grant_state("code", &self.fx.oidc_code.clone(), epoch)
            .await;
        if !live {
            if used {
                self.fx.oidc_code_used = self.fx.oidc_code.clone();
            }
            self.fx.oidc_code = self.new_code(epoch, false).await;
            fixed = true;
        }
        let (live, _) = self
            .grant_state("refresh", &self.fx.refresh.clone(), epoch)
            .await;
        if !live {
            let family = portal::domain::ids::new_secret();
            self.fx.refresh_used = self.new_refresh(epoch, &family, true).await;
            self.fx.refresh = self.new_refresh(epoch, &family, false).await;
            fixed = true;
        }
        let (app, made_for, made_at) = self.fx.tokens_for.clone();
        if app != self.fx.app_conf || made_for != epoch || now() - made_at > 300 {
            // A real exchange, as the application's server would make it.
            let code = self.new_code(epoch, false).await;
            let r = client_at(1)
                .post(self.app.url("/oidc/token"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", SWEEP_REDIRECT),
                    ("code_verifier", PKCE_VERIFIER),
                    ("client_id", &self.fx.app_conf),
                    ("client_secret", SWEEP_SECRET),
                ])
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            match (json["access_token"].as_str(), json["id_token"].as_str()) {
                (Some(a), Some(i)) if status == 200 => {
                    self.fx.access_token = a.to_owned();
                    self.fx.id_token = i.to_owned();
                }
                _ => self.fatal(&format!(
                    "the sweep cannot get tokens for its application: {status} {body}"
                )),
            }
            self.fx.tokens_for = (self.fx.app_conf.clone(), epoch, now());
            fixed = true;
        }
        fixed
    }

    /// Puts back every fixture a case used up; true when it wrote anything.
    async fn repair(&mut self) -> bool {
        let mut fixed = false;
        // The first (and only) administrator: nothing through the web may
        // block or delete it, but a password, a lockout or a session can go.
        let root = self.fx.root.clone();
        let Some(a) = self.account_row(&root).await else {
            self.fatal("the first administrator's account is gone");
        };
        if a.failed != 0 || a.locked != 0 {
            self.sql(
                portal::sql!(
                    "UPDATE accounts SET failed_signins = 0, locked_until = 0 WHERE id = ?"
                ),
                &[&root],
            )
            .await;
        }
        if a.state != "active" || !a.admin {
            self.fatal("the first administrator is blocked or no longer an administrator");
        }
        if a.hash.as_deref() != Some(self.fx.root_hash.as_str()) {
            let h = self.fx.root_hash.clone();
            self.sql(
                portal::sql!("UPDATE accounts SET password_hash = ? WHERE id = ?"),
                &[&h, &root],
            )
            .await;
            fixed = true;
        }
        if a.epoch != self.fx.root_epoch {
            self.fx.root_epoch = a.epoch;
            self.stale.insert(Role::Admin);
        }
        // The developer who signs in.
        let dev1 = self.fx.dev1.clone();
        match self.account_row(&dev1).await {
            None => {
                if !self.email_free(&self.fx.dev1_email.clone()).await {
                    let n = self.next_serial();
                    self.fx.dev1_email = format!("sweep.dev1.{n}@example.org");
                }
                let email = self.fx.dev1_email.clone();
                self.fx.dev1 = self
                    .app
                    .insert_account(&email, "Dev", "One", "active")
                    .await;
                let a = self.account_row(&self.fx.dev1.clone()).await.unwrap();
                self.fx.dev_hash = a.hash.unwrap();
                self.fx.dev1_epoch = a.epoch;
                self.stale.insert(Role::Developer);
                fixed = true;
            }
            Some(a) => {
                if a.failed != 0 || a.locked != 0 {
                    self.sql(
                        portal::sql!(
                            "UPDATE accounts SET failed_signins = 0, locked_until = 0 WHERE id = ?"
                        ),
                        &[&dev1],
                    )
                    .await;
                }
                if a.state != "active" {
                    self.sql(
                        portal::sql!("UPDATE accounts SET state = 'active' WHERE id = ?"),
                        &[&dev1],
                    )
                    .await;
                    fixed = true;
                }
                if a.hash.as_deref() != Some(self.fx.dev_hash.as_str()) {
                    let h = self.fx.dev_hash.clone();
                    self.sql(
                        portal::sql!("UPDATE accounts SET password_hash = ? WHERE id = ?"),
                        &[&h, &dev1],
                    )
                    .await;
                    fixed = true;
                }
                if a.epoch != self.fx.dev1_epoch {
                    self.fx.dev1_epoch = a.epoch;
                    self.stale.insert(Role::Developer);
                }
            }
        }
        // Someone else.
        let dev2 = self.fx.dev2.clone();
        match self.account_row(&dev2).await {
            None => {
                if !self.email_free(&self.fx.dev2_email.clone()).await {
                    let n = self.next_serial();
                    self.fx.dev2_email = format!("sweep.dev2.{n}@example.org");
                }
                let email = self.fx.dev2_email.clone();
                self.fx.dev2 = self
                    .app
                    .insert_account(&email, "Dev", "Two", "active")
                    .await;
                fixed = true;
            }
            Some(a) if a.state != "active" => {
                self.sql(
                    portal::sql!("UPDATE accounts SET state = 'active' WHERE id = ?"),
                    &[&dev2],
                )
                .await;
                fixed = true;
            }
            Some(_) => {}
        }
        // Accounts to block, delete, activate and confirm.
        if self.account_row(&self.fx.victim.clone()).await.is_none() {
            self.fx.victim = self.new_account("victim", "active").await.0;
            fixed = true;
        }
        if self
            .account_row(&self.fx.pending.clone())
            .await
            .is_none_or(|a| a.state != "pending")
        {
            (self.fx.pending, self.fx.pending_email) = self.new_account("pending", "pending").await;
            fixed = true;
        }
        if self
            .account_row(&self.fx.blocked.clone())
            .await
            .is_none_or(|a| a.state != "blocked")
        {
            (self.fx.blocked, self.fx.blocked_email) = self.new_account("blocked", "blocked").await;
            fixed = true;
        }
        // A custom group.
        let group: Option<String> = db_opt!(
            &self.app.db,
            "SELECT name FROM groups WHERE id = ?",
            &self.fx.group
        );
        match group {
            Some(name) => {
                self.fx.group_name = name;
                // Its members: exactly dev2 and the victim.
                let mut want = vec![self.fx.dev2.clone(), self.fx.victim.clone()];
                want.sort();
                let have: Vec<String> = db_all!(
                    &self.app.db,
                    "SELECT account_id FROM memberships WHERE group_id = ? ORDER BY account_id",
                    &self.fx.group
                );
                if have != want {
                    let g = self.fx.group.clone();
                    self.sql(
                        portal::sql!("DELETE FROM memberships WHERE group_id = ?"),
                        &[&g],
                    )
                    .await;
                    for member in &want {
                        db_exec!(
                            &self.app.db,
                            "INSERT INTO memberships (group_id, account_id, created_at, sort_name, state)
                             SELECT ?, id, ?, sort_name, state FROM accounts WHERE id = ?",
                            &g,
                            now(),
                            member
                        );
                    }
                    fixed = true;
                }
            }
            None => {
                self.new_group().await;
                fixed = true;
            }
        }
        // Products: one open to subscribe to, one that needs approval, one hidden.
        fixed |= self.keep_product(false).await;
        fixed |= self.keep_product(true).await;
        let hidden: Option<String> = db_opt!(
            &self.app.db,
            "SELECT state FROM products WHERE id = ?",
            &self.fx.p_hidden
        );
        match hidden.as_deref() {
            None => {
                self.fx.p_hidden = self.new_product(false, true).await.0;
                fixed = true;
            }
            Some("published") => {
                let id = self.fx.p_hidden.clone();
                self.sql(
                    portal::sql!("UPDATE products SET state = 'not_published' WHERE id = ?"),
                    &[&id],
                )
                .await;
                fixed = true;
            }
            Some(_) => {}
        }
        // Subscriptions: own, someone else's, waiting, suspended, over.
        let (dev1, dev2) = (self.fx.dev1.clone(), self.fx.dev2.clone());
        let (open, approval) = (self.fx.p_open.clone(), self.fx.p_approval.clone());
        for (slot, account, product, state, any) in [
            (0, &dev1, &open, "active", false),
            (1, &dev2, &open, "active", false),
            (2, &dev2, &approval, "submitted", false),
            (3, &dev1, &open, "suspended", false),
            (4, &dev1, &open, "cancelled", true),
        ] {
            let id = match slot {
                0 => self.fx.s_own.clone(),
                1 => self.fx.s_other.clone(),
                2 => self.fx.s_submitted.clone(),
                3 => self.fx.s_suspended.clone(),
                _ => self.fx.s_cancelled.clone(),
            };
            if let Some(new) = self
                .keep_subscription(id, account.clone(), product.clone(), state, any)
                .await
            {
                match slot {
                    0 => self.fx.s_own = new,
                    1 => self.fx.s_other = new,
                    2 => self.fx.s_submitted = new,
                    3 => self.fx.s_suspended = new,
                    _ => self.fx.s_cancelled = new,
                }
                fixed = true;
            }
        }
        // Invitations: an open one with a live link, and a cancelled one.
        let open: Option<String> = db_opt!(
            &self.app.db,
            "SELECT state FROM invitations WHERE id = ?",
            &self.fx.inv_open
        );
        if open.as_deref() != Some("open") {
            (self.fx.inv_open, self.fx.invitee_email) = self.new_invitation("open").await;
            fixed = true;
        }
        let inv = self.fx.inv_open.clone();
        if !self
            .token_live(
                &self.fx.tok_invitation.clone(),
                "invitation",
                None,
                Some(&inv),
            )
            .await
        {
            self.fx.tok_invitation = self.new_token("invitation", None, Some(&inv)).await;
            fixed = true;
        }
        let closed: bool = db_one!(
            &self.app.db,
            "SELECT EXISTS (SELECT 1 FROM invitations WHERE id = ? AND state <> 'open')",
            &self.fx.inv_closed
        );
        if !closed {
            self.fx.inv_closed = self.new_invitation("cancelled").await.0;
            fixed = true;
        }
        // Live links: a reset for the victim, a confirmation for the pending account.
        let victim = self.fx.victim.clone();
        if !self
            .token_live(
                &self.fx.tok_reset.clone(),
                "admin_reset",
                Some(&victim),
                None,
            )
            .await
        {
            self.fx.tok_reset = self.new_token("admin_reset", Some(&victim), None).await;
            fixed = true;
        }
        let pending = self.fx.pending.clone();
        if !self
            .token_live(
                &self.fx.tok_confirm.clone(),
                "signup_confirmation",
                Some(&pending),
                None,
            )
            .await
        {
            self.fx.tok_confirm = self
                .new_token("signup_confirmation", Some(&pending), None)
                .await;
            fixed = true;
        }
        // A token to revoke.
        let usable: bool = db_one!(
            &self.app.db,
            "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = ? AND revoked_at IS NULL)",
            &self.fx.api_token
        );
        if !usable {
            let id = format!("sweep-token-{}", self.next_serial());
            db_exec!(
                &self.app.db,
                portal::sql!(
                    sqlite: "INSERT INTO api_tokens (id, name, token_hash, created_at, expires_at)
                             VALUES (?, 'Sweep token', randomblob(32), ?, ?)",
                    pg: "INSERT INTO api_tokens (id, name, token_hash, created_at, expires_at)
                         VALUES ($1, 'Sweep token',
                                 decode(md5(random()::text) || md5(random()::text), 'hex'), $2, $3)"
                ),
                &id,
                now(),
                now() + 86_400
            );
            self.fx.api_token = id;
            fixed = true;
        }
        // The OpenID applications, and what their forms and endpoints take.
        fixed |= self.keep_applications().await;
        fixed |= self.keep_provider().await;
        fixed |= self.keep_grants().await;
        // A failed email to retry, and one that is not.
        let failed: bool = db_one!(
            &self.app.db,
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = ? AND state = 'failed')",
            self.fx.failed_mail
        );
        if !failed {
            self.fx.failed_mail = self.new_failed_mail().await;
            fixed = true;
        }
        self.fx.sent_mail = db_one!(
            &self.app.db,
            "SELECT max(id) FROM outbox WHERE state <> 'failed'"
        );
        // Browsers last: they sign in with the accounts above.
        let stale = std::mem::take(&mut self.stale);
        for role in stale {
            self.rebuild(role).await;
        }
        if fixed {
            self.repairs += 1;
        }
        fixed
    }

    /// A fresh browser for `role`, signed in as that role's account.
    async fn rebuild(&mut self, role: Role) {
        self.rebuilds += 1;
        let octet = match role {
            Role::Admin => 1,
            Role::Developer => 2,
            Role::Visitor => self.visitor_octet,
        };
        let c = client_at(octet);
        match role {
            Role::Admin => {
                let r = self.app.sign_in(&c, ADMIN_EMAIL, ADMIN_PASSWORD).await;
                if r.status() != 303 {
                    self.fatal(&format!(
                        "the administrator cannot sign in again: {}",
                        r.status()
                    ));
                }
            }
            Role::Developer => {
                let email = self.fx.dev1_email.clone();
                let r = self.app.portal_sign_in(&c, &email, USER_PASSWORD).await;
                if r.status() != 303 {
                    self.fatal(&format!(
                        "the developer cannot sign in again: {}",
                        r.status()
                    ));
                }
            }
            Role::Visitor => {}
        }
        let csrf = self.app.csrf(&c).await;
        self.browsers.insert(role, Browser { c, csrf });
    }

    fn fatal(&self, why: &str) -> ! {
        eprintln!("{}", self.report());
        panic!("the sweep cannot go on: {why}");
    }

    // ---- ids and values ---------------------------------------------------------

    /// The ids a path parameter takes: the first is the one that works.
    fn choices(&self, p: Param) -> Vec<String> {
        let fx = &self.fx;
        let v: Vec<String> = match p {
            Param::Account => vec![
                fx.victim.clone(),
                fx.dev2.clone(),
                fx.root.clone(),
                fx.dev1.clone(),
                fx.pending.clone(),
                fx.blocked.clone(),
                MISSING_ID.into(),
            ],
            Param::BlockedAccount => vec![
                fx.blocked.clone(),
                fx.dev2.clone(),
                fx.root.clone(),
                fx.dev1.clone(),
                fx.pending.clone(),
                fx.victim.clone(),
                MISSING_ID.into(),
            ],
            Param::Invitation => vec![
                fx.inv_open.clone(),
                fx.inv_closed.clone(),
                MISSING_ID.into(),
            ],
            Param::Group => vec![
                fx.group.clone(),
                "administrators".into(),
                "developers".into(),
                "guests".into(),
                MISSING_ID.into(),
            ],
            Param::Product => vec![
                fx.p_open.clone(),
                fx.p_approval.clone(),
                fx.p_hidden.clone(),
                MISSING_ID.into(),
            ],
            Param::HiddenProduct => vec![
                fx.p_hidden.clone(),
                fx.p_approval.clone(),
                fx.p_open.clone(),
                MISSING_ID.into(),
            ],
            Param::Subscription => vec![
                fx.s_own.clone(),
                fx.s_other.clone(),
                fx.s_submitted.clone(),
                fx.s_suspended.clone(),
                fx.s_cancelled.clone(),
                MISSING_ID.into(),
            ],
            Param::Action => [
                "suspend", "activate", "approve", "reject", "cancel", "delete", "APPROVE", "expire",
            ]
            .map(String::from)
            .to_vec(),
            Param::Template => [
                "invitation",
                "password_reset",
                "signup_confirmation",
                "account_created",
                "subscription_approved",
                "subscription_rejected",
                "nope",
                "Invitation",
            ]
            .map(String::from)
            .to_vec(),
            Param::ApiToken => vec![
                fx.api_token.clone(),
                "0000000000000000".into(),
                "../tokens".into(),
            ],
            Param::Provider => vec![
                fx.provider.clone(),
                "0000000000000000".into(),
                "../identity-providers".into(),
            ],
            Param::Application => vec![
                fx.app_conf.clone(),
                fx.app_pub.clone(),
                "0000000000000000".into(),
                "../applications".into(),
            ],
            Param::Outbox => vec![
                fx.failed_mail.to_string(),
                fx.sent_mail.unwrap_or(1).to_string(),
                "999999999".into(),
                "-1".into(),
                "99999999999999999999".into(),
                "1e309".into(),
                "NaN".into(),
                "0x10".into(),
            ],
            Param::Token(t) => {
                let (mine, other) = match t {
                    Tok::Invitation => (&fx.tok_invitation, &fx.tok_reset),
                    Tok::Reset => (&fx.tok_reset, &fx.tok_confirm),
                    Tok::Confirm => (&fx.tok_confirm, &fx.tok_invitation),
                };
                vec![
                    mine.clone(),
                    fx.tok_used.clone(),
                    "A".repeat(43),
                    "short".into(),
                    other.clone(),
                ]
            }
        };
        debug_assert_eq!(v.len(), n_choices(p));
        v
    }

    fn valid(&mut self, kind: Kind, so_far: &[(&str, String)]) -> String {
        let fx = &self.fx;
        match kind {
            ConsoleLogin => ADMIN_EMAIL.into(),
            ConsolePassword => ADMIN_PASSWORD.into(),
            PortalLogin => fx.dev1_email.clone(),
            PortalPassword | CurrentPassword => USER_PASSWORD.into(),
            NewEmail => format!("sweep.new.{}@example.org", self.next_serial()),
            PendingEmail => fx.pending_email.clone(),
            ActiveEmail => fx.dev2_email.clone(),
            Address => "portal@example.org".into(),
            NewPassword => PASSWORDS[self.serial as usize % PASSWORDS.len()].into(),
            SameAsPassword => so_far
                .iter()
                .rev()
                .find(|(n, _)| *n == "password")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            PersonName => ["Ada", "Grace", "Linus"][self.serial as usize % 3].into(),
            NewName => format!("Sweep {}", self.next_serial()),
            Text => "A plain description.".into(),
            Subject => "Hello {first_name}".into(),
            TemplateBody => "Hi {first_name}, open {link} please.".into(),
            Checkbox => "on".into(),
            Number => "3".into(),
            Choice(xs) => xs[0].into(),
            AccountId => fx.victim.clone(),
            NonMemberId => fx.dev1.clone(),
            GroupId | GroupIds | GroupRef => fx.group.clone(),
            GrantedGroupId => "developers".into(),
            ProductId => fx.p_open.clone(),
            Search => "sweep".into(),
            Back(p) => p.into(),
            Next => "/subscriptions".into(),
            AppName => format!("Sweep app {}", self.next_serial()),
            RedirectUris | RedirectUri => SWEEP_REDIRECT.into(),
            ClientId => fx.app_conf.clone(),
            ClientSecret => SWEEP_SECRET.into(),
            OidcCode => fx.oidc_code.clone(),
            CodeVerifier => PKCE_VERIFIER.into(),
            Challenge => PKCE_CHALLENGE.into(),
            RefreshToken => fx.refresh.clone(),
            OidcScope => "openid profile email groups".into(),
            AccessToken => fx.access_token.clone(),
            IdToken => fx.id_token.clone(),
        }
    }

    /// Other values of a kind: taken names, someone else's ids, refusals.
    fn alternatives(&self, kind: Kind) -> Vec<String> {
        let fx = &self.fx;
        let s = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        match kind {
            ConsoleLogin => vec![
                fx.dev1_email.clone(),
                ADMIN_EMAIL.to_uppercase(),
                fx.blocked_email.clone(),
                fx.pending_email.clone(),
                "nobody@example.org".into(),
            ],
            ConsolePassword => vec![
                USER_PASSWORD.into(),
                ADMIN_PASSWORD.to_uppercase(),
                format!("{ADMIN_PASSWORD} "),
            ],
            PortalLogin => vec![
                fx.dev2_email.clone(),
                ADMIN_EMAIL.into(),
                fx.blocked_email.clone(),
                fx.pending_email.clone(),
                "nobody@example.org".into(),
            ],
            PortalPassword | CurrentPassword => {
                vec![ADMIN_PASSWORD.into(), "not the password at all".into()]
            }
            NewEmail => vec![
                ADMIN_EMAIL.into(),
                fx.dev2_email.to_uppercase(),
                fx.invitee_email.clone(),
                "not-an-email".into(),
                "a@b".into(),
                "sweep@localhost".into(),
            ],
            PendingEmail | ActiveEmail => vec![
                fx.dev1_email.clone(),
                fx.blocked_email.clone(),
                fx.pending_email.to_uppercase(),
                "nobody@example.org".into(),
                ADMIN_EMAIL.into(),
            ],
            Address => s(&["x", "a@b", "Portal <p@example.org>"]),
            NewPassword => vec![
                "short".into(),
                "password1234".into(),
                fx.dev1_email.clone(),
                "🔑".repeat(12),
                "x".repeat(129),
            ],
            SameAsPassword => s(&["a different passphrase 99", ""]),
            PersonName => vec![
                "Zoë".into(),
                "O'Brien".into(),
                "李小龍".into(),
                "Jean-Luc".into(),
                "a".repeat(101),
            ],
            NewName => vec![
                fx.group_name.clone(),
                fx.p_open_name.clone(),
                "Administrators".into(),
                "developers".into(),
                "GUESTS".into(),
            ],
            Text => s(&["", "Line one\nLine two", "\t"]),
            Subject | TemplateBody => s(&[
                "{unknown}",
                "{{literal}}",
                "Your {product} link expires in {expires}",
                "{",
                "{link}",
            ]),
            Checkbox => s(&["off", "", "1", "true"]),
            Number => s(&["", "1", "1000000", "2147483648"]),
            Choice(xs) => xs[1..].iter().map(|x| x.to_string()).collect(),
            AccountId | NonMemberId => vec![
                fx.dev2.clone(),
                fx.root.clone(),
                fx.dev1.clone(),
                fx.pending.clone(),
                fx.blocked.clone(),
                MISSING_ID.into(),
            ],
            GroupId | GroupIds => s(&["developers", "guests", "administrators", MISSING_ID]),
            ProductId => vec![
                fx.p_hidden.clone(),
                fx.p_approval.clone(),
                MISSING_ID.into(),
            ],
            GrantedGroupId => vec![
                fx.group.clone(),
                "guests".into(),
                "administrators".into(),
                MISSING_ID.into(),
            ],
            GroupRef => vec![
                fx.group_name.clone(),
                fx.group_name.to_uppercase(),
                "administrators".into(),
                "Developers".into(),
                "guests".into(),
                MISSING_ID.into(),
            ],
            Search => vec![
                String::new(),
                "%".into(),
                "\"".into(),
                "*".into(),
                fx.dev1_email.clone(),
            ],
            Back(_) => s(&[
                "https://evil.example/",
                "//evil.example/",
                "/admin/users/x",
                "/\\evil.example",
                "/admin/../x",
            ]),
            Next => s(&[
                "https://evil.example/",
                "//evil.example/",
                "/\\evil.example",
                "javascript:alert(1)",
            ]),
            AppName => vec![
                fx.app_pub_name.clone(),
                fx.app_conf_name.to_uppercase(),
                "a".repeat(101),
                "Two\nlines".into(),
            ],
            RedirectUris => {
                let eleven: Vec<String> = (0..11)
                    .map(|i| format!("https://app.example.com/cb{i}"))
                    .collect();
                let mut v = s(&[
                    "https://app.example.com/cb\nhttp://127.0.0.1:9/cb",
                    "http://localhost:9/cb",
                    "http://app.example.com/cb",
                    "https://app.example.com/cb#x",
                    "javascript:alert(1)",
                    "/relative",
                    "https://user:pw@app.example.com/cb",
                    "http://[::1]:9/cb",
                ]);
                v.push(eleven.join("\n"));
                v
            }
            RedirectUri => s(&[
                "http://127.0.0.1:9/cb/",
                "http://127.0.0.1:9/cb?x=1",
                "https://evil.example/cb",
                "//evil.example/cb",
                "HTTP://127.0.0.1:9/cb",
                "http://127.0.0.1:9/cb#x",
                "javascript:alert(1)",
                "",
            ]),
            ClientId => vec![
                fx.app_pub.clone(),
                MISSING_ID.into(),
                String::new(),
                fx.app_conf.to_uppercase(),
            ],
            ClientSecret => vec![
                String::new(),
                "portal_cs_wrong".into(),
                format!("{SWEEP_SECRET} "),
                SWEEP_SECRET.to_uppercase(),
            ],
            OidcCode => vec![
                fx.oidc_code_used.clone(),
                String::new(),
                "A".repeat(43),
                fx.refresh.clone(),
            ],
            CodeVerifier => vec![
                String::new(),
                "short".into(),
                "A".repeat(43),
                "a".repeat(129),
            ],
            Challenge => vec![
                String::new(),
                "short".into(),
                format!("{}+", &PKCE_CHALLENGE[..42]),
            ],
            RefreshToken => vec![
                fx.refresh_used.clone(),
                String::new(),
                fx.oidc_code.clone(),
                "x".into(),
            ],
            OidcScope => s(&[
                "",
                "profile email",
                "openid unknown",
                "OPENID",
                "openid offline_access",
                "openid  openid",
            ]),
            AccessToken => vec![
                fx.id_token.clone(),
                String::new(),
                "a.b.c".into(),
                format!("{}x", fx.access_token),
            ],
            IdToken => vec![fx.access_token.clone(), String::new(), "a.b.c".into()],
        }
    }

    // ---- one request ---------------------------------------------------------------

    fn build(&mut self, case: &Case) -> (Request, Resolved) {
        let r = case.route();
        let mut desc = Vec::new();
        // The path.
        let mut ids = Vec::new();
        let mut path = String::new();
        let mut rest = r.path;
        let mut token_owner = None;
        for (pi, p) in r.params.iter().enumerate() {
            let open = rest.find('{').unwrap();
            let close = rest.find('}').unwrap();
            path.push_str(&rest[..open]);
            let name = &rest[open + 1..close];
            let v = match case.path[pi] {
                PathChoice::Index(i) => {
                    let cs = self.choices(*p);
                    let v = cs[i % cs.len()].clone();
                    if i > 0 {
                        desc.push(format!("{name}=#{i} {}", describe(v.as_bytes())));
                    }
                    if let (Param::Token(t), 0) = (p, i) {
                        let fx = &self.fx;
                        token_owner = Some(match t {
                            Tok::Invitation => (None, Some(fx.inv_open.clone())),
                            Tok::Reset => (Some(fx.victim.clone()), None),
                            Tok::Confirm => (Some(fx.pending.clone()), None),
                        });
                    }
                    ids.push(v.clone());
                    Val::Text(v)
                }
                PathChoice::Bad(b) => {
                    desc.push(format!("{name}={b:?}"));
                    let v = b.val();
                    ids.push(match &v {
                        Val::Text(s) => s.clone(),
                        Val::Raw(_) => "\u{0}not utf-8".into(),
                    });
                    v
                }
            };
            path.push_str(&path_encode(&v));
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        // The valid form.
        let browser = &self.browsers[&case.role];
        let csrf = browser.csrf.clone();
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = vec![(b"csrf_token".to_vec(), form_encode(&csrf))];
        let mut so_far: Vec<(&str, String)> = Vec::new();
        for fld in r.fields {
            let v = self.valid(fld.kind, &so_far);
            pairs.push((form_encode(fld.name), form_encode(&v)));
            so_far.push((fld.name, v));
        }
        // Its mutations.
        // The first `key` gets `v` (a repeated field keeps its second value).
        let set = |pairs: &mut Vec<(Vec<u8>, Vec<u8>)>, key: &[u8], v: Vec<u8>| match pairs
            .iter_mut()
            .find(|(k, _)| k == key)
        {
            Some((_, old)) => *old = v,
            None => pairs.push((key.to_vec(), v)),
        };
        let mut content_type = Some("application/x-www-form-urlencoded");
        let mut sep = b'&';
        let mut json = false;
        for m in &case.muts {
            match *m {
                Mutation::Field(fi, fm) => {
                    let fld = r.fields[fi];
                    let key = form_encode(fld.name);
                    match fm {
                        FieldMut::Drop => pairs.retain(|(k, _)| *k != key),
                        FieldMut::Repeat => {
                            let other = self
                                .alternatives(fld.kind)
                                .into_iter()
                                .next()
                                .unwrap_or_default();
                            let at = pairs
                                .iter()
                                .position(|(k, _)| *k == key)
                                .map_or(pairs.len(), |p| p + 1);
                            pairs.insert(at, (key.clone(), form_encode(&other)));
                        }
                        FieldMut::Set(b) => set(&mut pairs, &key, encode_val(&b.val())),
                        FieldMut::Append(b) => {
                            let mut v = form_encode(&so_far[fi].1);
                            v.extend(encode_val(&b.val()));
                            set(&mut pairs, &key, v);
                        }
                        FieldMut::Alt(k) => {
                            let alts = self.alternatives(fld.kind);
                            if !alts.is_empty() {
                                set(&mut pairs, &key, form_encode(&alts[k % alts.len()]));
                            }
                        }
                    }
                    let shown: Vec<String> = pairs
                        .iter()
                        .filter(|(k, _)| *k == key)
                        .map(|(_, v)| describe(v))
                        .collect();
                    let what = match fm {
                        FieldMut::Set(b) => format!("={b:?}"),
                        FieldMut::Append(b) => format!("+={b:?}"),
                        FieldMut::Drop => " dropped".into(),
                        FieldMut::Repeat => " twice".into(),
                        FieldMut::Alt(_) => " other".into(),
                    };
                    desc.push(format!("{}{what} {}", fld.name, shown.join(" & ")));
                }
                Mutation::Body(bm) => {
                    desc.push(format!("body {bm:?}"));
                    let wrong = b"A".repeat(43);
                    match bm {
                        BodyMut::Empty => pairs.clear(),
                        BodyMut::NoCsrf => pairs.retain(|(k, _)| k != b"csrf_token"),
                        BodyMut::WrongCsrf => set(&mut pairs, b"csrf_token", wrong),
                        BodyMut::EmptyCsrf => set(&mut pairs, b"csrf_token", Vec::new()),
                        BodyMut::CsrfTwice => {
                            pairs.insert(pairs.len().min(1), (b"csrf_token".to_vec(), wrong))
                        }
                        BodyMut::CsrfWrongFirst => pairs.insert(0, (b"csrf_token".to_vec(), wrong)),
                        BodyMut::Garbage => pairs.push((b"%%%".to_vec(), b"%G0&&==&=".to_vec())),
                        BodyMut::Extra => {
                            for (k, v) in [
                                ("is_admin", "1"),
                                ("state", "active"),
                                ("id", self.fx.root.as_str()),
                                ("account_id", self.fx.dev2.as_str()),
                                ("group", "administrators"),
                                ("kind", "system"),
                            ] {
                                pairs.push((form_encode(k), form_encode(v)));
                            }
                        }
                        BodyMut::BadKey => pairs.push((b"%FF%FE".to_vec(), b"1".to_vec())),
                        BodyMut::ManyRepeats => {
                            let key = r.fields.first().map_or("ids", |f| f.name);
                            let v = form_encode(&self.fx.victim);
                            // As many as fit in 60,000 bytes (2,500 `ids`).
                            let each = key.len() + v.len() + 2;
                            for _ in 0..(60_000 / each).min(2_500) {
                                pairs.push((form_encode(key), v.clone()));
                            }
                        }
                        BodyMut::Json => json = true,
                        BodyMut::NoContentType => content_type = None,
                        BodyMut::Semicolons => sep = b';',
                    }
                }
            }
        }
        let body = if json {
            content_type = Some("application/json");
            let mut m = serde_json::Map::new();
            m.insert("csrf_token".into(), csrf.clone().into());
            for (k, v) in &so_far {
                m.insert(k.to_string(), v.clone().into());
            }
            serde_json::to_vec(&m).unwrap()
        } else {
            let mut b = Vec::new();
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    b.push(sep);
                }
                b.extend_from_slice(k);
                b.push(b'=');
                b.extend_from_slice(v);
            }
            b
        };
        assert!(
            body.len() < 64 * 1024,
            "the sweep made a body of {} bytes: {desc:?}",
            body.len()
        );
        let actor = match case.role {
            Role::Developer => Some(self.fx.dev1.clone()),
            _ => None,
        };
        let desc = if desc.is_empty() {
            "valid form".to_owned()
        } else {
            desc.join("; ")
        };
        (
            Request {
                path,
                body,
                content_type,
                desc,
            },
            Resolved {
                role: case.role,
                route: r,
                ids,
                actor,
                token_owner,
            },
        )
    }

    async fn snapshot(&self) -> Snapshot {
        let mut rows = BTreeMap::new();
        for (t, sql) in &FINGERPRINT {
            let table: Vec<(String, RowFp)> = portal::run!(&self.app.db, sql, |x, q| {
                let found = sqlx::query(q).fetch_all(x).await.unwrap();
                found
                    .iter()
                    .map(|r| {
                        let value: String = r.get(5);
                        let mut h = std::collections::hash_map::DefaultHasher::new();
                        value.hash(&mut h);
                        let fp = RowFp {
                            account: r.get(1),
                            group: r.get(2),
                            product: r.get(3),
                            invitation: r.get(4),
                            application: if r.len() > 6 { r.get(6) } else { None },
                            value: h.finish(),
                        };
                        (r.get(0), fp)
                    })
                    .collect()
            });
            for (key, fp) in table {
                rows.insert((*t, key), fp);
            }
        }
        let audit = db_one!(&self.app.db, "SELECT count(*) FROM audit_log");
        Snapshot { rows, audit }
    }

    async fn run(&mut self, case: &Case) {
        let before = match self.snap.take() {
            Some(s) => s,
            None => self.snapshot().await,
        };
        let (req, res) = self.build(case);
        let r = case.route();
        let who = format!("{:?} POST {}", case.role, r.path);
        let mut rb = self.browsers[&case.role]
            .c
            .post(self.app.url(&req.path))
            .body(req.body.clone());
        if let Some(ct) = req.content_type {
            rb = rb.header("content-type", ct);
        }
        let (status, location, body, json) = match rb.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                // JSON no browser will read as a page (userinfo's claims
                // carry names as people typed them, markup and all).
                let header = |name: &str| {
                    resp.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_ascii_lowercase()
                };
                let json = header("content-type").starts_with("application/json")
                    && header("x-content-type-options") == "nosniff";
                let location = resp
                    .headers()
                    .get("location")
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default();
                if resp
                    .headers()
                    .get("location")
                    .is_some_and(|v| v.to_str().is_err())
                {
                    self.note(
                        "a Location header that is not visible ASCII".into(),
                        r.path,
                        format!("{who} [{}]: {location:?}", req.desc),
                    );
                }
                let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                (
                    status,
                    location,
                    String::from_utf8_lossy(&body).into_owned(),
                    json,
                )
            }
            Err(e) => {
                self.violations.push(Violation {
                    kind: "no answer",
                    what: format!("{who} [{}]: {e}", req.desc),
                });
                self.stale.insert(case.role);
                (0, String::new(), String::new(), false)
            }
        };
        let after = self.snapshot().await;
        let changes = diff(&before, &after);
        // Counts.
        let changed = u64::from(!changes.is_empty());
        for c in [
            self.by_family.entry(r.family).or_default(),
            self.by_route.entry(r.path).or_default(),
            self.by_label.entry(case.label()).or_default(),
            self.by_role.entry(case.role).or_default(),
        ] {
            c.add(status);
            c.changed += changed;
        }
        let case_line = format!("{who} [{}] -> {status}", req.desc);
        self.cases_run += 1;
        if self.trace {
            eprintln!(
                "#{} {case_line} {location} changes={} audit+{}",
                self.cases_run,
                changes.len(),
                after.audit - before.audit
            );
        }
        // 1. No 5xx.
        if status >= 500 {
            self.violations.push(Violation {
                kind: "5xx",
                what: format!("{case_line}; body {}", describe(body.as_bytes())),
            });
        }
        // 2. A change has exactly one audit record; no change has none.
        let audited = after.audit - before.audit;
        if (changes.is_empty() && audited != 0) || (!changes.is_empty() && audited != 1) {
            let actions: Vec<String> = db_all!(
                &self.app.db,
                "SELECT action FROM audit_log ORDER BY id DESC LIMIT ?",
                audited.max(0)
            );
            self.violations.push(Violation {
                kind: match (changes.is_empty(), audited) {
                    (true, _) => "audit record without a change",
                    (false, 0) => "change without an audit record",
                    _ => "change with several audit records",
                },
                what: format!(
                    "{case_line}: {} change(s) {}, {audited} audit record(s) {actions:?}",
                    changes.len(),
                    summary(&changes)
                ),
            });
        }
        // 3. Only what the route may change, never a system group.
        for ch in &changes {
            let system = (ch.table == Table::Groups && is_system(Some(&ch.key)))
                || (matches!(ch.table, Table::Memberships | Table::InvitationGroups)
                    && is_system(ch.row.group.as_deref()));
            let ok = allowed(&res, ch, &before);
            if system && !ok || ch.table == Table::Groups && is_system(Some(&ch.key)) {
                self.violations.push(Violation {
                    kind: "system group changed",
                    what: format!("{case_line}: {}", summary(std::slice::from_ref(ch))),
                });
            } else if !ok {
                let kind = if ch.table == Table::Accounts {
                    "account changed out of scope"
                } else {
                    "change out of scope"
                };
                self.violations.push(Violation {
                    kind,
                    what: format!("{case_line}: {}", summary(std::slice::from_ref(ch))),
                });
            }
        }
        // 4. An active administrator remains.
        let admins: i64 = db_one!(
            &self.app.db,
            "SELECT count(*) FROM memberships m JOIN accounts a ON a.id = m.account_id
             WHERE m.group_id = 'administrators' AND a.state = 'active'"
        );
        if admins == 0 {
            self.violations.push(Violation {
                kind: "no active administrator",
                what: case_line.clone(),
            });
        }
        // 5. Redirects stay here (or go back to the application that asked);
        // markup never comes back unescaped.
        if (300..400).contains(&status)
            && !(location.starts_with('/')
                && !location.starts_with("//")
                && !location.contains('\\'))
            && !self.may_redirect_to(r, &req.body, &location).await
        {
            self.violations.push(Violation {
                kind: "redirect off the site",
                what: format!("{case_line}: Location {location:?}"),
            });
        }
        if let Some(m) = XSS_MARKERS.iter().find(|m| !json && body.contains(**m)) {
            self.violations.push(Violation {
                kind: "unescaped markup",
                what: format!("{case_line}: the answer contains {m}"),
            });
        }
        // Oddities worth a look (not failures).
        // Body mutations that lose or spoil the token (`;` or JSON hide it).
        let csrf_mutated = case.muts.iter().any(|m| {
            matches!(
                m,
                Mutation::Body(
                    BodyMut::Empty
                        | BodyMut::NoCsrf
                        | BodyMut::WrongCsrf
                        | BodyMut::EmptyCsrf
                        | BodyMut::CsrfTwice
                        | BodyMut::CsrfWrongFirst
                        | BodyMut::Json
                        | BodyMut::Semicolons
                )
            )
        });
        // (The OpenID endpoints answer 400 for what their protocols refuse.)
        if status == 400
            && !r.path.starts_with("/oidc/")
            && !case.muts.iter().any(|m| matches!(m, Mutation::Body(_)))
        {
            let repeated = case
                .muts
                .iter()
                .any(|m| matches!(m, Mutation::Field(_, FieldMut::Repeat)));
            let kind = if repeated {
                "400 'The form could not be read' for a one-value field sent twice".to_owned()
            } else {
                format!("400 'The form could not be read' on {}", r.path)
            };
            self.note(kind, r.path, case_line.clone());
        }
        if status == 403 && body.contains("Form expired") && !csrf_mutated {
            self.note(
                format!("'Form expired' with the right token: {}", case.label()),
                r.path,
                case_line.clone(),
            );
            self.stale.insert(case.role);
        }
        // (What applications call answers JSON or a bare 401, as specified.)
        if status >= 400
            && r.family != "oidc machine"
            && !body.to_ascii_lowercase().contains("<html")
        {
            self.note(
                format!("{status} without the portal's error page"),
                r.path,
                format!("{case_line}; body {}", describe(body.as_bytes())),
            );
        }
        // Keep the browsers what they are meant to be.
        // A 5xx may have changed the session all the same (a sign-in with a
        // bad `next` signs in, then fails to answer).
        if r.session && (300..400).contains(&status) || status >= 500 || status == 0 {
            self.stale.insert(case.role);
        }
        if case.role == Role::Admin
            && r.path.starts_with("/admin")
            && r.path != "/admin/sign-out"
            && location.starts_with("/admin/sign-in")
        {
            self.note(
                "the administrator's console session ended".into(),
                r.path,
                case_line.clone(),
            );
            self.stale.insert(Role::Admin);
        }
        // The consent form signs the developer out for a fresh sign-in when
        // the request asks for one (prompt=login, max_age): expected then.
        let asked_fresh_sign_in = r.path == "/oidc/authorize"
            && case.muts.iter().any(|m| match m {
                Mutation::Field(fi, _) => {
                    matches!(r.fields[*fi].name, "prompt" | "max_age" | "fresh_since")
                }
                Mutation::Body(_) => false,
            });
        if case.role == Role::Developer && !r.session && location.starts_with("/sign-in?next=") {
            if !asked_fresh_sign_in {
                self.note(
                    "the developer's portal session ended".into(),
                    r.path,
                    case_line.clone(),
                );
            }
            self.stale.insert(Role::Developer);
        }
        if case.role == Role::Visitor && status == 429 {
            self.visitor_octet = if self.visitor_octet >= 250 {
                10
            } else {
                self.visitor_octet + 1
            };
            self.stale.insert(Role::Visitor);
        }
        if self.repair().await {
            self.snap = None;
        } else {
            self.snap = Some(after);
        }
    }

    /// Whether an off-site `location` is where the request may send the
    /// browser: only the OpenID consent and end-session forms may, and only
    /// back to a redirect URI registered for a `client_id` the form sent
    /// (the parameters they add to its query aside).
    async fn may_redirect_to(&self, r: &Route, body: &[u8], location: &str) -> bool {
        if !matches!(r.path, "/oidc/authorize" | "/oidc/end-session") {
            return false;
        }
        let Ok(to) = url::Url::parse(location) else {
            return false;
        };
        let clients: Vec<String> = url::form_urlencoded::parse(body)
            .filter(|(k, _)| k == "client_id")
            .map(|(_, v)| v.into_owned())
            .collect();
        for client in clients {
            let uris: Option<String> = db_opt!(
                &self.app.db,
                "SELECT redirect_uris FROM applications WHERE id = ?",
                &client
            );
            for uri in uris.iter().flat_map(|u| u.lines()) {
                let Ok(registered) = url::Url::parse(uri) else {
                    continue;
                };
                let same_path =
                    registered[..url::Position::AfterPath] == to[..url::Position::AfterPath];
                let same_query = registered.query().is_none_or(|q| {
                    to.query()
                        .is_some_and(|t| t == q || t.starts_with(&format!("{q}&")))
                });
                if same_path && same_query && to.fragment().is_none() {
                    return true;
                }
            }
        }
        false
    }

    fn report(&self) -> String {
        let mut out = String::new();
        let total: Counts = self.by_family.values().fold(Counts::default(), |mut t, c| {
            t.cases += c.cases;
            t.too_many += c.too_many;
            t.changed += c.changed;
            for i in 0..6 {
                t.by_class[i] += c.by_class[i];
            }
            t
        });
        let _ = writeln!(
            out,
            "\n{} cases in {:.0} s; browsers started afresh {} times, fixtures repaired after {} cases\n",
            total.cases,
            self.started.elapsed().as_secs_f64(),
            self.rebuilds,
            self.repairs
        );
        let header = "| {} | cases | 2xx | 3xx | 4xx | of which 429 | 5xx | changed data |\n|---|---:|---:|---:|---:|---:|---:|---:|";
        let _ = writeln!(out, "{}", header.replace("{}", "route family"));
        for (f, c) in &self.by_family {
            let _ = writeln!(out, "{}", c.row(f));
        }
        let _ = writeln!(out, "{}\n", total.row("**total**"));
        let _ = writeln!(out, "{}", header.replace("{}", "role"));
        for (r, c) in &self.by_role {
            let _ = writeln!(out, "{}", c.row(&format!("{r:?}")));
        }
        let _ = writeln!(out, "\n{}", header.replace("{}", "route"));
        for (r, c) in &self.by_route {
            let _ = writeln!(out, "{}", c.row(&format!("`{r}`")));
        }
        let _ = writeln!(out, "\n{}", header.replace("{}", "input"));
        for (l, c) in &self.by_label {
            let _ = writeln!(out, "{}", c.row(l));
        }
        let mut kinds: BTreeMap<&str, Vec<&Violation>> = BTreeMap::new();
        for v in &self.violations {
            kinds.entry(v.kind).or_default().push(v);
        }
        let _ = writeln!(out, "\nViolations: {}", self.violations.len());
        for (k, vs) in &kinds {
            let _ = writeln!(out, "- {k}: {}", vs.len());
            // Every 5xx; of the others, the first 60.
            let shown = if *k == "5xx" { vs.len() } else { 60 };
            for v in vs.iter().take(shown) {
                let _ = writeln!(out, "    {}", v.what);
            }
            if vs.len() > shown {
                let _ = writeln!(out, "    … and {} more", vs.len() - shown);
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nNotes (not failures):");
            for (k, (n, examples, routes)) in &self.notes {
                let routes: Vec<&str> = routes.iter().copied().collect();
                let _ = writeln!(out, "- {n} × {k}\n    on {}", routes.join(", "));
                for e in examples {
                    let _ = writeln!(out, "    e.g. {e}");
                }
            }
        }
        out
    }

    async fn finish(mut self) {
        // The database file is whole. PostgreSQL has no such check to ask
        // for, and checks every foreign key as it writes.
        let checked = match self.app.db.backend() {
            portal::store::Backend::Sqlite(pool) => {
                let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(pool)
                    .await
                    .unwrap();
                if integrity != ["ok"] {
                    self.violations.push(Violation {
                        kind: "integrity_check",
                        what: integrity.join("; "),
                    });
                }
                let dangling = sqlx::query("PRAGMA foreign_key_check")
                    .fetch_all(pool)
                    .await
                    .unwrap();
                if !dangling.is_empty() {
                    self.violations.push(Violation {
                        kind: "foreign_key_check",
                        what: format!("{} row(s) point at nothing", dangling.len()),
                    });
                }
                integrity.join("; ")
            }
            portal::store::Backend::Postgres(_) => "not checked on PostgreSQL".to_owned(),
        };
        let report = self.report();
        println!("{report}");
        println!("PRAGMA integrity_check: {checked}");
        assert!(
            self.violations.is_empty(),
            "the sweep found {} violation(s); see the report above",
            self.violations.len()
        );
    }
}

fn summary(changes: &[Change]) -> String {
    let parts: Vec<String> = changes
        .iter()
        .take(6)
        .map(|c| format!("{:?} {:?} {}", c.op, c.table, c.key))
        .collect();
    let more = if changes.len() > 6 {
        format!(" … +{}", changes.len() - 6)
    } else {
        String::new()
    };
    format!("[{}{more}]", parts.join(", "))
}

// ---- the tests --------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_short() {
    check_route_table();
    let app = spawn_app().await;
    let mut s = Sweep::new(&app).await;
    let cases = short_cases();
    for c in &cases {
        s.run(c).await;
    }
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the full sweep, about 2 minutes: benches/sweep.sh"]
async fn sweep_full() {
    check_route_table();
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(d)
    };
    let cases = env("SWEEP_CASES", 10_000);
    let seed = env("SWEEP_SEED", 1);
    println!("sweep: {cases} cases, seed {seed}");
    let app = spawn_app().await;
    let mut s = Sweep::new(&app).await;
    let mut rng = Rng::new(seed);
    for i in 0..cases {
        let c = random_case(&mut rng);
        s.run(&c).await;
        if (i + 1) % 1000 == 0 {
            eprintln!(
                "sweep: {} cases, {:.0} s, {} violation(s) so far",
                i + 1,
                s.started.elapsed().as_secs_f64(),
                s.violations.len()
            );
        }
    }
    s.finish().await;
}
