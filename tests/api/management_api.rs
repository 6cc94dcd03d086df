//! The management API over HTTP (SPEC M1–M6, SECURITY S-20): tokens made on
//! the console's page, the wire shapes, ETags, `$filter`, paging, errors
//! and the audit trail. (tests/sdk drives it with the official SDK.)

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const PREFIX: &str =
    "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ApiManagement/service/portal-1";
const V: &str = "api-version=2024-05-01";

/// A token made on the Management API page, as an administrator would.
pub async fn api_token(app: &TestApp, admin: &Client, name: &str) -> String {
    let r = app
        .post(
            admin,
            "/admin/api/tokens",
            &[("name", name), ("days", "30")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    input_value(&html, "input#secret").expect("the new token is shown once")
}

pub struct Api<'a> {
    app: &'a TestApp,
    token: String,
    client: Client,
}

impl<'a> Api<'a> {
    pub async fn new(app: &'a TestApp) -> Api<'a> {
        let admin = app.admin().await;
        let token = api_token(app, &admin, "tests").await;
        Api {
            app,
            token,
            client: Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.app.url(&format!("{PREFIX}{path}{sep}{V}"))
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut r = self
            .client
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        if let Some(m) = if_match {
            r = r.header("If-Match", m);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, headers, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, v) = self.send(Method::GET, path, None, None).await;
        (s, v)
    }
}

fn etag(h: &reqwest::header::HeaderMap) -> String {
    h.get("etag").expect("an ETag").to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_token_is_needed_and_the_api_version_too() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let c = Client::new();
    for auth in [None, Some("Bearer nonsense"), Some("Basic abc")] {
        let mut r = c.get(api.url("/users"));
        if let Some(a) = auth {
            r = r.header("Authorization", a);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "AuthenticationFailed");
    }
    // No cookies: a signed-in console session is not a credential here.
    let admin = app.admin().await;
    let r = admin.get(api.url("/users")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = c
        .get(app.url(&format!("{PREFIX}/users")))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "MissingApiVersionParameter");
    let r = c
        .get(app.url(&format!("{PREFIX}/users?api-version=2019-01-01")))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (s, _) = api.get("/users").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_revoked_token_stops_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = api_token(&app, &admin, "short-lived").await;
    let url = app.url(&format!("{PREFIX}/users?{V}"));
    let c = Client::new();
    assert_eq!(
        c.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let html = app.get_html(&admin, "/admin/api").await;
    assert!(html.contains("short-lived"));
    assert!(!html.contains(&token), "the secret is never shown again");
    let id: String = db_one!(
        &app.db,
        "SELECT id FROM api_tokens WHERE name = 'short-lived'"
    );
    let r = app
        .post(&admin, &format!("/admin/api/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        c.get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let stored: Vec<u8> = db_one!(
        &app.db,
        "SELECT token_hash FROM api_tokens WHERE id = ?",
        &id
    );
    assert_eq!(stored.len(), 32, "only the SHA-256 is kept");
}

#[tokio::test]
async fn users_round_trip_with_etags_and_the_audit_log() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let body = json!({"properties": {"email": "ada@example.org", "firstName": "Ada", "lastName": "Lovelace"}});
    let (s, h, v) = api
        .send(Method::PUT, "/users/ada-1", Some(body.clone()), None)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["name"], "ada-1");
    assert_eq!(v["type"], "Microsoft.ApiManagement/service/users");
    assert_eq!(v["id"], format!("{PREFIX}/users/ada-1"));
    assert_eq!(v["properties"]["state"], "active");
    assert!(
        v["properties"]["registrationDate"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let tag = etag(&h);

    // The same PUT again replaces it: 200.
    let (s, _, _) = api
        .send(Method::PUT, "/users/ada-1", Some(body), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, h, _) = api.send(Method::HEAD, "/users/ada-1", None, None).await;
    let current = etag(&h);
    assert_ne!(current, "");

    // PATCH needs If-Match; a stale one is 412 and changes nothing.
    let patch = json!({"properties": {"firstName": "Augusta", "note": "VIP"}});
    let (s, _, _) = api
        .send(Method::PATCH, "/users/ada-1", Some(patch.clone()), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, v) = api
        .send(
            Method::PATCH,
            "/users/ada-1",
            Some(patch.clone()),
            Some("\"999\""),
        )
        .await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "{v}");
    assert_eq!(v["error"]["code"], "PreconditionFailed");
    let (s, h, v) = api
        .send(Method::PATCH, "/users/ada-1", Some(patch), Some(&current))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["properties"]["firstName"], "Augusta");
    assert_eq!(v["properties"]["note"], "VIP");
    assert_ne!(etag(&h), current, "every update changes the ETag");
    let _ = tag;

    // Block through the API: the account is blocked everywhere.
    let (s, _, v) = api
        .send(
            Method::PATCH,
            "/users/ada-1",
            Some(json!({"properties": {"state": "blocked"}})),
            Some("*"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["properties"]["state"], "blocked");
    assert_eq!(app.state_of("ada-1").await.as_deref(), Some("blocked"));

    // Audited as the API, by the token's name.
    let who: Vec<(String, String)> = db_rows!(
        &app.db,
        "SELECT channel, actor_label FROM audit_log WHERE action LIKE 'account.%' AND channel <> 'system'"
    );
    assert!(
        !who.is_empty()
            && who
                .iter()
                .all(|(c, l)| c == "api" && l == "API token tests"),
        "{who:?}"
    );
    let html = app.get_html(&app.admin().await, "/admin/audit").await;
    assert!(html.contains("API token tests"));

    // DELETE: 204, then 404.
    let (s, _, _) = api
        .send(Method::DELETE, "/users/ada-1", None, Some("*"))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = api.get("/users/ada-1").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "ResourceNotFound");
}

#[tokio::test]
async fn bad_bodies_get_the_error_envelope_with_a_detail_per_field() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let cases = [
        json!({"properties": {"email": "not an email", "firstName": "", "lastName": "L"}}),
        json!({"properties": {"email": "a@b.org", "firstName": "A", "lastName": "B", "colour": "red"}}),
        json!({"properties": {"email": 7, "firstName": "A", "lastName": "B"}}),
        json!({"props": {}}),
        json!("just a string"),
    ];
    for body in cases {
        let (s, _, v) = api
            .send(Method::PUT, "/users/x-1", Some(body.clone()), None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body} → {v}");
        assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "{v}"
        );
    }
    let (_, _, v) = api
        .send(
            Method::PUT,
            "/users/x-1",
            Some(
                json!({"properties": {"email": "not an email", "firstName": "", "lastName": "L"}}),
            ),
            None,
        )
        .await;
    let targets: Vec<&str> = v["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["target"].as_str().unwrap())
        .collect();
    assert!(
        targets.contains(&"email") && targets.contains(&"firstName"),
        "{v}"
    );
    // Raw invalid JSON.
    let r = Client::new()
        .put(api.url("/users/x-1"))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{\"properties\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Nothing half-done.
    assert_eq!(app.id_of("a@b.org").await, None);
    let (s, _) = api.get("/users/x-1").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn filters_and_paging() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    for (i, (first, last)) in [
        ("Ann", "Hudson"),
        ("Bob", "Smith"),
        ("Cleo", "Jackson"),
        ("Dan", "Ito"),
    ]
    .iter()
    .enumerate()
    {
        app.insert_account(&format!("u{i}@example.org"), first, last, "active")
            .await;
    }
    app.insert_account("blocked@example.org", "Eve", "Blocked", "blocked")
        .await;
    let names = |v: &Value| -> Vec<String> {
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["properties"]["lastName"].as_str().unwrap().to_owned())
            .collect()
    };
    let (s, v) = api.get("/users?$filter=contains(lastName,'son')").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut got = names(&v);
    got.sort();
    assert_eq!(got, ["Hudson", "Jackson"]);
    // A text search is answered a page at a time without counting every
    // match (the count is optional in the reference).
    assert!(v.get("count").is_none(), "{v}");
    let (_, v) = api.get("/users?$filter=state%20eq%20'blocked'").await;
    assert_eq!(names(&v), ["Blocked"]);
    let (_, v) = api
        .get("/users?$filter=startswith(firstName,'a')%20or%20endswith(email,'u3@example.org')")
        .await;
    let mut got = names(&v);
    got.sort();
    assert_eq!(got, ["Hudson", "Ito"]);

    // Paging: $top 2 over 6 accounts (the administrator too), by nextLink.
    let (_, v) = api.get("/users?$top=2").await;
    assert_eq!(v["count"], 6);
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    let mut next = v["nextLink"].as_str().unwrap().to_owned();
    let mut seen = 2;
    while !next.is_empty() {
        assert!(next.starts_with(&app.address), "{next}");
        let r: Value = Client::new()
            .get(&next)
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen += r["value"].as_array().unwrap().len();
        next = r["nextLink"].as_str().unwrap_or_default().to_owned();
    }
    assert_eq!(seen, 6);

    // Malformed filters and bad $top are 400 with a reason, never 500.
    for q in [
        "$filter=contains(lastName,'son'",
        "$filter=password%20eq%20'x'",
        "$filter=state%20gt%20'active'",
        "$filter=registrationDate%20ge%20'yesterday'",
        "$filter=lastName%20eq%20'x';DROP%20TABLE%20accounts",
        "$top=0",
        "$top=1001",
        "$top=abc",
        "$skip=-1",
    ] {
        let (s, v) = api.get(&format!("/users?{q}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert!(
            !v["error"]["details"].as_array().unwrap().is_empty(),
            "{q}: {v}"
        );
    }
    let (s, _) = api.get("/users?$top=1000").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn groups_products_subscriptions_and_templates() {
    let app = spawn_app().await;
    let api = Api::new(&app).await;
    let dev = app
        .insert_account("dev@example.org", "Dev", "Eloper", "active")
        .await;

    // A system group cannot be changed; a custom one can.
    let (s, _, v) = api
        .send(Method::DELETE, "/groups/developers", None, Some("*"))
        .await;
    assert!(s.is_client_error(), "{s} {v}");
    let (s, _, v) = api
        .send(
            Method::PUT,
            "/groups/partners",
            Some(json!({"properties": {"displayName": "Partners"}})),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["properties"]["type"], "custom");
    assert_eq!(v["properties"]["builtIn"], false);
    let (s, _, _) = api
        .send(
            Method::PUT,
            &format!("/groups/partners/users/{dev}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, _) = api
        .send(
            Method::PUT,
            &format!("/groups/partners/users/{dev}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = api
        .send(
            Method::HEAD,
            &format!("/groups/partners/users/{dev}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = api.get(&format!("/users/{dev}/groups")).await;
    let groups: Vec<&str> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["developers", "partners"]);

    // A product the group may see, and a subscription through the API.
    let (s, _, v) = api
        .send(
            Method::PUT,
            "/products/weather",
            Some(json!({"properties": {"displayName": "Weather", "state": "published"}})),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["properties"]["subscriptionRequired"], true);
    let (s, _, v) = api
        .send(
            Method::PUT,
            "/subscriptions/s-1",
            Some(json!({"properties": {"ownerId": format!("/users/{dev}"), "scope": "/products/weather", "displayName": "mine", "state": "active"}})),
            None,
        )
        .await;
    assert!(
        s.is_client_error(),
        "the product is not visible to the developer yet: {v}"
    );
    let (s, _, _) = api
        .send(Method::PUT, "/products/weather/groups/partners", None, None)
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _, v) = api
        .send(
            Method::PUT,
            "/subscriptions/s-1",
            Some(json!({"properties": {"ownerId": format!("{PREFIX}/users/{dev}"), "scope": format!("{PREFIX}/products/weather"), "displayName": "mine", "state": "active"}})),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(
        v["properties"].get("primaryKey").is_none(),
        "keys only through listSecrets"
    );
    let (s, _, keys) = api
        .send(Method::POST, "/subscriptions/s-1/listSecrets", None, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let old = keys["primaryKey"].as_str().unwrap().to_owned();
    assert_eq!(app.check_key(&old).await.status(), StatusCode::OK);
    let (s, _, _) = api
        .send(
            Method::POST,
            "/subscriptions/s-1/regeneratePrimaryKey",
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.check_key(&old).await.status(), StatusCode::FORBIDDEN);

    // State changes follow the lifecycle.
    let (s, _, v) = api
        .send(
            Method::PATCH,
            "/subscriptions/s-1",
            Some(json!({"properties": {"state": "submitted"}})),
            Some("*"),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, _, v) = api
        .send(
            Method::PATCH,
            "/subscriptions/s-1",
            Some(json!({"properties": {"state": "suspended"}})),
            Some("*"),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = api.get("/products/weather/subscriptions").await;
    assert_eq!(v["count"], 1);

    // A product with subscriptions is deleted only with them.
    let (s, _, _) = api
        .send(Method::DELETE, "/products/weather", None, Some("*"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _, _) = api
        .send(
            Method::DELETE,
            "/products/weather?deleteSubscriptions=true",
            None,
            Some("*"),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Templates under the commercial names; DELETE restores the default.
    let (s, v) = api.get("/templates/inviteUserNotificationMessage").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["name"], "InviteUserNotificationMessage");
    assert_eq!(v["properties"]["isDefault"], true);
    let (s, _, v) = api
        .send(
            Method::PUT,
            "/templates/inviteUserNotificationMessage",
            Some(json!({"properties": {"subject": "Welcome to {portal_name}"}})),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["properties"]["isDefault"], false);
    let (s, _, _) = api
        .send(
            Method::DELETE,
            "/templates/inviteUserNotificationMessage",
            None,
            Some("*"),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, v) = api.get("/templates/inviteUserNotificationMessage").await;
    assert_eq!(v["properties"]["isDefault"], true);
    let (_, v) = api.get("/templates").await;
    assert_eq!(v["count"], 6);
}
