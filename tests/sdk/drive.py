"""Drives a running Portal through the unmodified official SDK
(azure-mgmt-apimanagement) with nothing changed but the base URL and the
credential: users, groups and their members, products and their groups,
subscriptions and their keys, email templates, paging, ETags and errors.

Environment: PORTAL_URL (http://127.0.0.1:PORT), PORTAL_TOKEN (a token from
the console's Management API page). With the argument `revoked`, only
checks that the (now revoked) token is refused.
Exits non-zero, with the reason, at the first thing that is not as expected.
"""
import os
import sys
import urllib.request

from azure.core.credentials import AccessToken
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.apimanagement import ApiManagementClient
from azure.mgmt.apimanagement import models as m

URL = os.environ["PORTAL_URL"]
TOKEN = os.environ["PORTAL_TOKEN"]
RG, SVC = "programme", "portal"


class PortalToken:
    """A credential whose token is one made on the Management API page."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken(TOKEN, 4102444800)


class AllowHttpBearer(SansIOHTTPPolicy):
    """Portal on plain http on loopback: let the bearer token go over it."""

    def on_request(self, request):
        request.context["enforce_https"] = False


client = ApiManagementClient(
    PortalToken(),
    "00000000-0000-0000-0000-000000000000",
    base_url=URL,
    per_call_policies=[AllowHttpBearer()],
    retry_total=0,
)


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def etag_of(get):
    return get(cls=lambda resp, obj, headers: headers["ETag"])


def gateway(key):
    req = urllib.request.Request(f"{URL}/gateway/check", headers={"Ocp-Apim-Subscription-Key": key})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


if len(sys.argv) > 1 and sys.argv[1] == "revoked":
    try:
        client.user.get(RG, SVC, "sdk-user-0")
        check(False, "a revoked token is refused")
    except ClientAuthenticationError as e:
        check(e.status_code == 401, "a revoked token gets 401")
    sys.exit(0)

# ---- users: create, get, list across nextLink pages, update, delete
for i in range(5):
    u = client.user.create_or_update(
        RG, SVC, f"sdk-user-{i}",
        m.UserCreateParameters(email=f"sdk{i}@example.org", first_name="Sdk", last_name=f"User{i}"),
    )
    check(u.name == f"sdk-user-{i}" and u.state == "active", f"create user {i}")
got = client.user.get(RG, SVC, "sdk-user-0")
check(got.email == "sdk0@example.org" and got.registration_date is not None, "get user")
names = [u.name for u in client.user.list_by_service(RG, SVC, top=2)]
check(all(f"sdk-user-{i}" in names for i in range(5)), f"list users over several pages: {names}")
son = [u.name for u in client.user.list_by_service(RG, SVC, filter="startswith(email,'sdk1')")]
check(son == ["sdk-user-1"], f"$filter: {son}")
tag = etag_of(lambda **kw: client.user.get_entity_tag(RG, SVC, "sdk-user-0", **kw))
u = client.user.update(RG, SVC, "sdk-user-0", tag, m.UserUpdateParameters(first_name="Renamed", note="from the SDK"))
check(u.first_name == "Renamed" and u.note == "from the SDK", "update user with its ETag")
try:
    client.user.update(RG, SVC, "sdk-user-0", tag, m.UserUpdateParameters(first_name="Again"))
    check(False, "a stale ETag is refused")
except HttpResponseError as e:
    check(e.status_code == 412, f"a stale ETag raises the precondition error ({e.status_code})")
u = client.user.update(RG, SVC, "sdk-user-4", "*", m.UserUpdateParameters(state="blocked"))
check(u.state == "blocked", "block a user")
client.user_confirmation_password.send(RG, SVC, "sdk-user-1")
check(True, "send a password reset")
client.user.begin_delete(RG, SVC, "sdk-user-3", "*", polling_interval=0).result()
try:
    client.user.get(RG, SVC, "sdk-user-3")
    check(False, "a deleted user is gone")
except ResourceNotFoundError:
    check(True, "delete user")

# ---- groups and members
g = client.group.create_or_update(RG, SVC, "sdk-partners", m.GroupCreateParameters(display_name="SDK partners"))
check(g.display_name == "SDK partners" and g.type_properties_type == "custom", "create group")
client.group_user.create(RG, SVC, "sdk-partners", "sdk-user-0")
check(client.group_user.check_entity_exists(RG, SVC, "sdk-partners", "sdk-user-0"), "add a member")
check(not client.group_user.check_entity_exists(RG, SVC, "sdk-partners", "sdk-user-1"), "not a member")
members = [u.name for u in client.group_user.list(RG, SVC, "sdk-partners")]
check(members == ["sdk-user-0"], f"list members: {members}")
groups = [x.name for x in client.user_group.list(RG, SVC, "sdk-user-0")]
check("sdk-partners" in groups and "developers" in groups, f"a user's groups: {groups}")
g = client.group.update(RG, SVC, "sdk-partners", "*", m.GroupUpdateParameters(description="Partners of the SDK test"))
check(g.description == "Partners of the SDK test", "update group")
try:
    client.group.delete(RG, SVC, "developers", "*")
    check(False, "a system group cannot be deleted")
except HttpResponseError as e:
    check(400 <= e.status_code < 500, f"a system group cannot be deleted ({e.status_code})")
check(client.group.get(RG, SVC, "developers").built_in, "Developers is still there")

# ---- products and who may see them
p = client.product.create_or_update(
    RG, SVC, "sdk-weather",
    m.ProductContract(display_name="SDK Weather", description="Forecasts", subscription_required=True, state="published"),
)
check(p.state == "published" and p.subscription_required, "create product")
client.product_group.create_or_update(RG, SVC, "sdk-weather", "sdk-partners")
check(client.product_group.check_entity_exists(RG, SVC, "sdk-weather", "sdk-partners"), "grant a group")
p = client.product.update(RG, SVC, "sdk-weather", "*", m.ProductUpdateParameters(terms="Be nice."))
check(p.terms == "Be nice.", "update product")
prods = [x.name for x in client.product.list_by_service(RG, SVC, filter="state eq 'published'")]
check("sdk-weather" in prods, f"list products: {prods}")

# ---- subscriptions and keys
s = client.subscription.create_or_update(
    RG, SVC, "sdk-sub",
    m.SubscriptionCreateParameters(owner_id="/users/sdk-user-0", scope="/products/sdk-weather", display_name="SDK key", state="active"),
)
check(s.state == "active" and s.owner_id.endswith("/users/sdk-user-0"), "create subscription")
keys = client.subscription.list_secrets(RG, SVC, "sdk-sub")
check(gateway(keys.primary_key) == 200, "the key passes the gateway check")
client.subscription.regenerate_primary_key(RG, SVC, "sdk-sub")
check(gateway(keys.primary_key) == 403, "the old key is refused at once")
new = client.subscription.list_secrets(RG, SVC, "sdk-sub")
check(new.primary_key != keys.primary_key and gateway(new.primary_key) == 200, "the new key passes")
client.subscription.regenerate_secondary_key(RG, SVC, "sdk-sub")
s = client.subscription.update(RG, SVC, "sdk-sub", "*", m.SubscriptionUpdateParameters(state="suspended"))
check(s.state == "suspended" and gateway(new.primary_key) == 403, "suspend a subscription")
subs = [x.name for x in client.product_subscriptions.list(RG, SVC, "sdk-weather")]
check(subs == ["sdk-sub"], f"a product's subscriptions: {subs}")
subs = [x.name for x in client.user_subscription.list(RG, SVC, "sdk-user-0")]
check(subs == ["sdk-sub"], f"a user's subscriptions: {subs}")
client.subscription.delete(RG, SVC, "sdk-sub", "*")
check([x.name for x in client.subscription.list(RG, SVC)] == [], "delete subscription")
client.product.delete(RG, SVC, "sdk-weather", "*", delete_subscriptions=True)
client.group.delete(RG, SVC, "sdk-partners", "*")
check(True, "delete product and group")

# ---- email templates: edit and restore
t = client.email_template.create_or_update(
    RG, SVC, "inviteUserNotificationMessage",
    m.EmailTemplateUpdateParameters(subject="Join us on {portal_name}"),
)
check(t.subject == "Join us on {portal_name}" and not t.is_default, f"edit a template: {t.subject!r} {t.is_default!r}")
client.email_template.delete(RG, SVC, "inviteUserNotificationMessage", "*")
check(client.email_template.get(RG, SVC, "inviteUserNotificationMessage").is_default, "restore its default")
print("all SDK checks passed")
