"""The platform administers tenants and keys over the API (``admin`` scope); no other key
can, and no answer shows a key's secret after the one that made it."""

from __future__ import annotations

import typing

import pytest

from parcelnet_service.api.schemas import Scope
from parcelnet_service.keys import ALLOWED_SCOPES, DEFAULT_SCOPES, SCOPES


def test_the_bodys_scopes_are_the_keys_scopes():
    assert set(typing.get_args(Scope)) == set(SCOPES)


def test_the_platform_makes_a_carrier_and_its_key_and_revokes_it(service):
    r = service.post("/v1/admin/tenants", {"name": "yto", "kind": "carrier"}, as_="platform")
    assert r.status_code == 201 and r.json()["name"] == "yto" and r.json()["kind"] == "carrier", r.text
    again = service.post("/v1/admin/tenants", {"name": " yto ", "kind": "merchant"}, as_="platform")
    assert again.status_code == 409 and "exists already" in again.json()["detail"]
    names = [t["name"] for t in service.get("/v1/admin/tenants", as_="platform").json()["tenants"]]
    assert names == ["shop", "other-shop", "sf", "zto", "platform", "yto"]
    k = service.post("/v1/admin/keys", {"tenant": "yto", "name": "depot scanners"}, as_="platform")
    assert k.status_code == 201, k.text
    made = k.json()
    assert made["scopes"] == list(DEFAULT_SCOPES["carrier"]) and made["key"].startswith(f"pn_{made['prefix']}_")
    auth = {"Authorization": f"Bearer {made['key']}"}
    me = service.client.get("/v1/me", headers=auth).json()
    assert (me["tenant"], me["kind"]) == ("yto", "carrier")
    listed = service.get("/v1/admin/keys?tenant=yto", as_="platform").json()["keys"]
    assert [x["prefix"] for x in listed] == [made["prefix"]] and listed[0]["name"] == "depot scanners"
    assert all("key" not in x and "secret_hash" not in x for x in listed)
    assert {x["tenant"] for x in service.get("/v1/admin/keys", as_="platform").json()["keys"]} == \
        {"shop", "other-shop", "sf", "zto", "platform", "yto"}
    gone = service.post(f"/v1/admin/keys/{made['prefix']}/revoke", {}, as_="platform")
    assert gone.status_code == 200 and gone.json()["revoked_at"] is not None
    r = service.client.get("/v1/me", headers=auth)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_what_the_platform_is_refused(service):
    p = "platform"
    r = service.post("/v1/admin/keys", {"tenant": "sf", "scopes": ["shipments:write"]}, as_=p)
    assert r.status_code == 422 and "shipments:write" in r.json()["detail"], r.text
    assert "shipments:write" not in ALLOWED_SCOPES["carrier"]
    assert service.post("/v1/admin/keys", {"tenant": "nobody"}, as_=p).status_code == 404
    assert service.get("/v1/admin/keys?tenant=nobody", as_=p).status_code == 404
    assert service.get("/v1/admin/keys?tenant=%00", as_=p).status_code == 422
    assert service.post("/v1/admin/keys", {"tenant": "sf", "scopes": ["root"]}, as_=p).status_code == 422
    assert service.post("/v1/admin/tenants", {"name": "x", "kind": "bank"}, as_=p).status_code == 422
    assert service.post("/v1/admin/tenants", {"name": "a\x00b", "kind": "merchant"}, as_=p).status_code == 422
    assert service.post("/v1/admin/tenants", {"name": "", "kind": "merchant"}, as_=p).status_code == 422
    assert service.post("/v1/admin/keys/00000000/revoke", {}, as_=p).status_code == 404
    assert service.post("/v1/admin/keys/NOTAKEY!/revoke", {}, as_=p).status_code == 422


@pytest.mark.parametrize("who", ["shop", "sf"])
def test_no_other_key_administers(service, who):
    for method, path, body in (("get", "/v1/admin/tenants", None),
                               ("post", "/v1/admin/tenants", {"name": "mine", "kind": "platform"}),
                               ("get", "/v1/admin/keys", None),
                               ("post", "/v1/admin/keys", {"tenant": who, "scopes": ["admin"]}),
                               ("post", "/v1/admin/keys/00000000/revoke", {})):
        r = service.get(path, as_=who) if method == "get" else service.post(path, body, as_=who)
        assert r.status_code == 403 and "'admin'" in r.json()["detail"], (path, r.text)
    names = [t["name"] for t in service.get("/v1/admin/tenants", as_="platform").json()["tenants"]]
    assert "mine" not in names
