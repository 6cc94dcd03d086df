//! A relying party for the OpenID provider's tests: registers applications
//! through the console, runs the code flow as a browser and a server would,
//! and checks ID tokens against the JWKS itself, with ring.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Client, Response, StatusCode};
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use scraper::{Html, Selector};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::helpers::*;

pub const REDIRECT_URI: &str = "https://client.example.com/cb";
pub const SCOPE: &str = "openid email profile groups";

/// The Add application form, as an administrator fills it in.
pub struct NewApp<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a str,
    pub kind: &'a str,
    pub trusted: bool,
    pub alg: &'a str,
    /// Group ids ticked under "Groups in tokens"; none: all groups.
    pub token_groups: &'a [&'a str],
    /// Group ids ticked under "Who may sign in"; none: everyone.
    pub sign_in_groups: &'a [&'a str],
}

impl<'a> NewApp<'a> {
    pub fn confidential(name: &'a str) -> Self {
        NewApp {
            name,
            redirect_uris: REDIRECT_URI,
            kind: "confidential",
            trusted: false,
            alg: "RS256",
            token_groups: &[],
            sign_in_groups: &[],
        }
    }

    pub fn public(name: &'a str) -> Self {
        NewApp {
            kind: "public",
            ..Self::confidential(name)
        }
    }

    pub fn fields(&self) -> Vec<(&'a str, &'a str)> {
        let mut f = vec![
            ("name", self.name),
            ("redirect_uris", self.redirect_uris),
            ("kind", self.kind),
            ("alg", self.alg),
        ];
        if self.trusted {
            f.push(("trusted", "on"));
        }
        if self.token_groups.is_empty() {
            f.push(("token_groups", "all"));
        } else {
            f.push(("token_groups", "chosen"));
            f.extend(self.token_groups.iter().map(|g| ("token_group_ids", *g)));
        }
        if self.sign_in_groups.is_empty() {
            f.push(("sign_in_groups", "everyone"));
        } else {
            f.push(("sign_in_groups", "chosen"));
            f.extend(
                self.sign_in_groups
                    .iter()
                    .map(|g| ("sign_in_group_ids", *g)),
            );
        }
        f
    }
}

/// An application as the console answered its creation.
#[derive(Clone, Debug)]
pub struct Registered {
    pub client_id: String,
    pub secret: Option<String>,
}

/// The Client ID shown on an application page.
pub fn client_id_on(html: &str) -> Option<String> {
    text_of(html, "#client-id").into_iter().next()
}

/// Adds an application through the console and reads its credentials.
pub async fn register(app: &TestApp, admin: &Client, new: &NewApp<'_>) -> Registered {
    let r = app
        .post(admin, "/admin/applications/add", &new.fields())
        .await;
    let status = r.status();
    let html = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "application added:\n{html}");
    let client_id = client_id_on(&html).expect("the Client ID in #client-id");
    assert_eq!(client_id.len(), 16, "a Client ID of 16 hex digits");
    assert!(client_id.chars().all(|c| c.is_ascii_hexdigit()));
    let secret = input_value(&html, "#client-secret");
    if new.kind == "confidential" {
        let s = secret.as_deref().expect("the secret in #client-secret");
        assert!(s.starts_with("portal_cs_"), "{s}");
    } else {
        assert_eq!(secret, None, "a public application has no secret");
    }
    Registered { client_id, secret }
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn random(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).unwrap();
    URL_SAFE_NO_PAD.encode(b)
}

impl Pkce {
    pub fn generate() -> Self {
        let verifier = random(32);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

/// An authorization request.
pub struct Authorize {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub nonce: String,
    pub pkce: Option<Pkce>,
    pub prompt: Option<String>,
    pub max_age: Option<i64>,
}

impl Authorize {
    pub fn new(reg: &Registered) -> Self {
        Authorize {
            client_id: reg.client_id.clone(),
            redirect_uri: REDIRECT_URI.into(),
            scope: SCOPE.into(),
            state: random(12),
            nonce: random(12),
            pkce: Some(Pkce::generate()),
            prompt: None,
            max_age: None,
        }
    }

    /// The path and query of GET /oidc/authorize.
    pub fn path(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", &self.scope)
            .append_pair("state", &self.state)
            .append_pair("nonce", &self.nonce);
        if let Some(p) = &self.pkce {
            q.append_pair("code_challenge", &p.challenge)
                .append_pair("code_challenge_method", "S256");
        }
        if let Some(p) = &self.prompt {
            q.append_pair("prompt", p);
        }
        if let Some(m) = self.max_age {
            q.append_pair("max_age", &m.to_string());
        }
        format!("/oidc/authorize?{}", q.finish())
    }

    pub fn verifier(&self) -> &str {
        self.pkce
            .as_ref()
            .map(|p| p.verifier.as_str())
            .unwrap_or("")
    }
}

/// The hidden fields of the page's form that posts to `action`.
pub fn hidden_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    let form = Selector::parse(&format!("form[action$=\"{action}\"]")).unwrap();
    let hidden = Selector::parse("input[type=hidden]").unwrap();
    let form = doc
        .select(&form)
        .next()
        .unwrap_or_else(|| panic!("a form posting to {action} in:\n{html}"));
    form.select(&hidden)
        .map(|i| {
            let a = i.value();
            (
                a.attr("name").unwrap_or("").to_owned(),
                a.attr("value").unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Answers the consent page `html` with `decision` (allow or deny), as the
/// browser posts its form.
pub async fn consent(app: &TestApp, browser: &Client, html: &str, decision: &str) -> Response {
    let mut fields = hidden_fields(html, "/oidc/authorize");
    fields.push(("decision".into(), decision.into()));
    browser
        .post(app.url("/oidc/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap()
}

/// Runs the authorization request in `browser` (signed in to the portal),
/// allowing on the consent page if one is shown; the redirect back to the
/// application.
pub async fn redirect_back(app: &TestApp, browser: &Client, req: &Authorize) -> Url {
    let mut r = app.get(browser, &req.path()).await;
    if r.status() == StatusCode::OK {
        let html = r.text().await.unwrap();
        r = consent(app, browser, &html, "allow").await;
    }
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "authorize answers 303");
    let to = Url::parse(&location(&r)).expect("an absolute redirect back");
    assert_eq!(
        to.as_str().split('?').next(),
        Some(req.redirect_uri.as_str()),
        "back at the redirect URI"
    );
    to
}

/// A query parameter of `url`.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The code the flow gives, after checking state and iss came back.
pub async fn code_for(app: &TestApp, browser: &Client, req: &Authorize) -> String {
    let to = redirect_back(app, browser, req).await;
    assert_eq!(param(&to, "error"), None, "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some(req.state.as_str()));
    assert_eq!(param(&to, "iss").as_deref(), Some(app.address.as_str()));
    param(&to, "code").expect("a code")
}

/// How a client authenticates at the token endpoint.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    Basic(&'a str, &'a str),
    Post(&'a str, &'a str),
    Public(&'a str),
}

/// The application's own way: Basic with its secret, or public.
pub fn auth_of(reg: &Registered) -> Auth<'_> {
    match &reg.secret {
        Some(s) => Auth::Basic(&reg.client_id, s),
        None => Auth::Public(&reg.client_id),
    }
}

/// What the token (or userinfo) endpoint answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub www_authenticate: Option<String>,
    pub body: Value,
}

impl Answer {
    async fn of(r: Response) -> Self {
        let status = r.status();
        let www_authenticate = r
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer {
            status,
            www_authenticate,
            body,
        }
    }

    pub fn str(&self, field: &str) -> &str {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {self:?}"))
    }

    /// Asserts a 400 with this OAuth error code.
    pub fn assert_error(&self, error: &str) {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "{self:?}");
        assert_eq!(self.body["error"], error, "{self:?}");
    }
}

/// POST /oidc/token with `fields`.
pub async fn token(app: &TestApp, auth: Auth<'_>, fields: &[(&str, &str)]) -> Answer {
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    let mut r = Client::new().post(app.url("/oidc/token"));
    match auth {
        Auth::Basic(id, secret) => r = r.basic_auth(id, Some(secret)),
        Auth::Post(id, secret) => form.extend([("client_id", id), ("client_secret", secret)]),
        Auth::Public(id) => form.push(("client_id", id)),
    }
    Answer::of(r.form(&form).send().await.unwrap()).await
}

/// Exchanges `code` from `req` for tokens.
pub async fn exchange(app: &TestApp, auth: Auth<'_>, req: &Authorize, code: &str) -> Answer {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", req.redirect_uri.as_str()),
    ];
    if req.pkce.is_some() {
        fields.push(("code_verifier", req.verifier()));
    }
    token(app, auth, &fields).await
}

pub async fn refresh(app: &TestApp, auth: Auth<'_>, refresh_token: &str) -> Answer {
    token(
        app,
        auth,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// The whole flow for `reg` in `browser`: the request and the tokens (200).
pub async fn sign_in(app: &TestApp, browser: &Client, reg: &Registered) -> (Authorize, Answer) {
    let req = Authorize::new(reg);
    let code = code_for(app, browser, &req).await;
    let t = exchange(app, auth_of(reg), &req, &code).await;
    assert_eq!(t.status, StatusCode::OK, "{t:?}");
    assert_eq!(t.body["token_type"], "Bearer", "{t:?}");
    (req, t)
}

/// GET /oidc/userinfo with a bearer token.
pub async fn userinfo(app: &TestApp, access_token: &str) -> Answer {
    let r = Client::new()
        .get(app.url("/oidc/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    Answer::of(r).await
}

/// Asserts the 401 that userinfo gives a token it no longer honours.
pub fn assert_invalid_token(a: &Answer) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{a:?}");
    let w = a.www_authenticate.as_deref().unwrap_or("");
    assert!(
        w.starts_with("Bearer") && w.contains("error=\"invalid_token\""),
        "WWW-Authenticate: {w}"
    );
}

pub async fn jwks(app: &TestApp) -> Vec<Value> {
    let r = Client::new()
        .get(app.url("/oidc/jwks"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["keys"].as_array().expect("a keys array").clone()
}

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(s)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {s}"))
}

/// Whether `sig` is the signature of the JWKS entry `key` over `message`.
fn signed_by(key: &Value, alg: &str, message: &str, sig: &[u8]) -> bool {
    let part = |name: &str| {
        b64(key[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {key}")))
    };
    match alg {
        "RS256" => {
            assert_eq!(key["kty"], "RSA", "{key}");
            let (n, e) = (part("n"), part("e"));
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&RSA_PKCS1_2048_8192_SHA256, message.as_bytes(), sig)
                .is_ok()
        }
        "ES256" => {
            assert_eq!(key["kty"], "EC", "{key}");
            assert_eq!(key["crv"], "P-256", "{key}");
            let mut point = vec![0x04];
            point.extend(part("x"));
            point.extend(part("y"));
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                .verify(message.as_bytes(), sig)
                .is_ok()
        }
        other => panic!("unexpected alg {other:?}"),
    }
}

/// A JWT whose signature was checked against the published keys.
#[derive(Debug)]
pub struct Verified {
    pub header: Value,
    pub claims: Value,
}

/// Checks `jwt`'s signature with the key its `kid` names in /oidc/jwks.
pub async fn verify(app: &TestApp, jwt: &str) -> Verified {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS: {jwt}");
    let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
    let kid = header["kid"].as_str().expect("a kid in the header");
    let keys = jwks(app).await;
    let key = keys
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} not in the JWKS {keys:?}"));
    let message = format!("{}.{}", parts[0], parts[1]);
    let sig = b64(parts[2]);
    let alg = header["alg"].as_str().unwrap_or("");
    assert!(
        signed_by(key, alg, &message, &sig),
        "the {alg} signature verifies with {key}"
    );
    // The check itself refuses a changed payload.
    let changed = format!("{}.{}", parts[0], URL_SAFE_NO_PAD.encode(b"{}"));
    assert!(
        !signed_by(key, alg, &changed, &sig),
        "a changed payload fails"
    );
    let claims = serde_json::from_slice(&b64(parts[1])).unwrap();
    Verified { header, claims }
}

/// Verifies an ID token and checks iss, aud, azp, iat/exp and nonce
/// (`None`: a refreshed token, which has none).
pub async fn id_token(app: &TestApp, jwt: &str, client_id: &str, nonce: Option<&str>) -> Verified {
    let v = verify(app, jwt).await;
    let c = &v.claims;
    assert_eq!(v.header["typ"], "JWT", "{v:?}");
    assert_eq!(c["iss"], app.address.as_str(), "{c}");
    match &c["aud"] {
        Value::String(a) => assert_eq!(a, client_id),
        Value::Array(a) => assert_eq!(a, &[Value::from(client_id)]),
        other => panic!("aud {other}"),
    }
    assert_eq!(c["azp"], client_id, "{c}");
    let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    assert!(iat < exp && exp - iat <= 3600, "iat {iat}, exp {exp}");
    assert!(exp > app.clock.now(), "not yet expired");
    assert!(c["auth_time"].as_i64().is_some(), "{c}");
    match nonce {
        Some(n) => assert_eq!(c["nonce"], n, "{c}"),
        None => assert_eq!(c.get("nonce"), None, "no nonce on refresh: {c}"),
    }
    v
}

/// The group names a token or userinfo answer carries.
pub fn groups(claims: &Value) -> Vec<String> {
    claims["groups"]
        .as_array()
        .unwrap_or_else(|| panic!("a groups array in {claims}"))
        .iter()
        .map(|g| g.as_str().unwrap().to_owned())
        .collect()
}
