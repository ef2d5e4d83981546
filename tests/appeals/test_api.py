"""The public API through Django's test client: headers, caching, CORS, events and every bad input."""

from __future__ import annotations

import io
import json
from typing import Any

import jsonschema
import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openapi_spec_validator import validate as validate_openapi

from readerfund.appeals import counters, selectors
from readerfund.appeals.models import Campaign, Variant, VariantDailyCount
from readerfund.appeals.services import appeals_publish
from readerfund.config.openapi import SCHEMAS
from readerfund.core import cors
from readerfund.demo.seed import COPY_EN

APPEALS = "/api/v1/newsrooms/demo/appeals.json"
EVENTS = "/api/v1/events"
OTHER_ORIGIN = "https://not-the-newsroom.example"

pytestmark = pytest.mark.django_db


@pytest.fixture
def origin(demo_newsroom: Any) -> str:
    return demo_newsroom.origins[0]


@pytest.fixture
def variant(demo_newsroom: Any) -> Variant:
    return Variant.objects.get(campaign__newsroom=demo_newsroom, key="a")


def schema(name: str) -> dict[str, Any]:
    # $refs point at #/components/schemas/…, so resolve them against a document that has that shape.
    return {**SCHEMAS[name], "components": {"schemas": SCHEMAS}}


def assert_api_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    jsonschema.validate(body, schema("Error"))
    assert body["error"]["code"] == code
    assert len(body["error"]["message"]) > 10
    return body["error"]


def event(variant: Variant, /, **changes: Any) -> dict[str, Any]:
    return {"newsroom": "demo", "campaign": variant.campaign_id, "variant": variant.id, "event": "view", **changes}


def post_event(client: Client, body: Any, **extra: Any) -> Any:
    raw = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(EVENTS, raw, content_type="text/plain;charset=UTF-8", **extra)


# --- appeals.json ------------------------------------------------------------------------------------


def test_appeals_are_public_cacheable_and_cookie_free(client: Client, demo_newsroom: Any) -> None:
    from django.contrib.auth.models import User

    # An editor reading their own site is signed in: session and CSRF cookies come along, untouched.
    client.force_login(User.objects.create(username="editor", is_staff=True, is_superuser=True))
    client.cookies["csrftoken"] = "x" * 32
    response = client.get(APPEALS, {"locale": "en"}, headers={"CF-IPCountry": "DE"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response["Vary"] == "CF-IPCountry, Origin"
    assert not response.cookies
    assert "Set-Cookie" not in response
    body = response.json()
    jsonschema.validate(body, schema("Appeals"))
    assert body["newsroom"]["slug"] == "demo"
    assert body["campaigns"][0]["variants"][0]["copy"]["heading"] == COPY_EN["heading"]


def test_if_none_match_gets_304_with_the_same_caching_headers(client: Client, demo_newsroom: Any) -> None:
    etag = client.get(APPEALS)["ETag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(APPEALS, headers={"If-None-Match": sent})
        assert response.status_code == 304, sent
        assert response.content == b""
        assert response["ETag"] == etag
        assert response["Cache-Control"] == "public, max-age=60"
    assert client.get(APPEALS, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_etag_changes_when_the_campaign_is_republished(
    client: Client, demo_newsroom: Any, variant: Variant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "_RECHECK_SECONDS", 0)
    before = client.get(APPEALS)
    variant.copy = {**variant.copy, "en": {**variant.copy["en"], "heading": "A new heading"}}
    variant.save()
    appeals_publish(newsroom=demo_newsroom)
    after = client.get(APPEALS, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert after.json()["campaigns"][0]["variants"][0]["copy"]["heading"] == "A new heading"


@pytest.fixture
def targeted(demo_newsroom: Any) -> dict[str, int]:
    """Besides the demo's worldwide campaign: one only for Russia, one for everywhere but Germany."""
    made = {}
    for name, include, exclude, priority in (("russia", "RU", "", 20), ("not-germany", "", "de", 15)):
        campaign = Campaign.objects.create(
            newsroom=demo_newsroom,
            name=name,
            status=Campaign.Status.LIVE,
            priority=priority,
            countries_include=include,
            countries_exclude=exclude,
        )
        Variant.objects.create(campaign=campaign, key="a", copy={"en": {"heading": name, "cta": "Go"}})
        made[name] = campaign.id
    made["worldwide"] = Campaign.objects.get(newsroom=demo_newsroom, name="Monthly appeal").id
    appeals_publish(newsroom=demo_newsroom)
    return made


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("RU", ["russia", "not-germany", "worldwide"]),
        ("ru", ["russia", "not-germany", "worldwide"]),
        ("DE", ["worldwide"]),
        ("FR", ["not-germany", "worldwide"]),
        # Unknown (no header, Cloudflare's XX and Tor's T1, junk): no include list can match.
        (None, ["not-germany", "worldwide"]),
        ("XX", ["not-germany", "worldwide"]),
        ("T1", ["not-germany", "worldwide"]),
        ("Russia", ["not-germany", "worldwide"]),
    ],
)
def test_campaigns_follow_the_country_header(
    client: Client, targeted: dict[str, int], country: str | None, expected: list[str]
) -> None:
    headers = {"CF-IPCountry": country} if country else {}
    served = [c["id"] for c in client.get(APPEALS, headers=headers).json()["campaigns"]]
    assert served == [targeted[name] for name in expected]


def test_the_country_header_is_configurable(client: Client, targeted: dict[str, int], settings: Any) -> None:
    settings.COUNTRY_HEADER = "X-Country"
    response = client.get(APPEALS, headers={"X-Country": "RU", "CF-IPCountry": "DE"})
    assert response["Vary"] == "X-Country, Origin"
    assert response.json()["campaigns"][0]["id"] == targeted["russia"]


@pytest.mark.parametrize(
    ("locale", "served", "heading"),
    [
        ("ru", "ru", "Поддержите"),
        ("ru-RU", "ru", "Поддержите"),
        ("RU", "ru", "Поддержите"),
        ("en", "en", "Please support"),
        (None, "en", "Please support"),
        # No Ukrainian copy is written: the newsroom's default, and it says so.
        ("uk", "en", "Please support"),
    ],
)
def test_locale_from_the_query(
    client: Client, demo_newsroom: Any, locale: str | None, served: str, heading: str
) -> None:
    body = client.get(APPEALS, {"locale": locale} if locale else {}).json()
    assert body["locale"] == served
    assert body["campaigns"][0]["variants"][0]["copy"]["heading"].startswith(heading)


def test_requests_never_touch_the_database(
    client: Client,
    demo_newsroom: Any,
    django_assert_num_queries: Any,
    variant: Variant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each process re-checks the published version every couple of seconds; not within this test.
    monkeypatch.setattr(selectors, "_RECHECK_SECONDS", 3600)
    monkeypatch.setattr(cors, "_REFRESH_SECONDS", 3600)
    client.get(APPEALS)  # loads the process's copy
    post_event(client, event(variant))
    with django_assert_num_queries(0):
        assert client.get(APPEALS, headers={"CF-IPCountry": "RU"}).status_code == 200
        assert post_event(client, event(variant)).status_code == 204


def test_made_up_newsrooms_do_not_each_cost_a_query(
    client: Client, demo_newsroom: Any, django_assert_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "_RECHECK_SECONDS", 3600)
    assert client.get("/api/v1/newsrooms/nobody/appeals.json").status_code == 404
    with django_assert_num_queries(0):
        assert client.get("/api/v1/newsrooms/nobody/appeals.json").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "query", "status", "code"),
    [
        ("get", "/api/v1/newsrooms/nobody/appeals.json", {}, 404, "unknown_newsroom"),
        ("get", APPEALS, {"locale": "english!"}, 400, "invalid_locale"),
        ("get", APPEALS, {"locale": "e"}, 400, "invalid_locale"),
        ("post", APPEALS, {}, 405, "method_not_allowed"),
        ("delete", APPEALS, {}, 405, "method_not_allowed"),
        ("get", EVENTS, {}, 405, "method_not_allowed"),
        ("put", EVENTS, {}, 405, "method_not_allowed"),
        ("post", "/api/v1/openapi.json", {}, 405, "method_not_allowed"),
        ("get", "/api/v1/nothing-here", {}, 404, "unknown_endpoint"),
        ("get", "/api/v1/events/", {}, 404, "unknown_endpoint"),
    ],
)
def test_bad_requests_get_json_errors(
    client: Client, demo_newsroom: Any, method: str, path: str, query: dict, status: int, code: str
) -> None:
    response = getattr(client, method)(path, query)
    assert_api_error(response, status, code)
    if status == 405:
        assert response["Allow"]


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=30), st.text(max_size=4))
def test_no_locale_or_country_gets_a_500(client: Client, demo_newsroom: Any, locale: str, country: str) -> None:
    try:
        headers = {"CF-IPCountry": country.encode("latin-1").decode("latin-1")}
    except UnicodeEncodeError:
        headers = {}
    response = client.get(APPEALS, {"locale": locale}, headers=headers)
    assert response.status_code in {200, 400}
    if response.status_code == 400:
        assert response.json()["error"]["code"] == "invalid_locale"


# --- CORS --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [APPEALS, EVENTS])
def test_preflight_allows_only_the_newsrooms_origins(client: Client, origin: str, path: str) -> None:
    allowed = client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == origin
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in allowed
    refused = client.options(path, headers={"Origin": OTHER_ORIGIN, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Methods" not in refused


def test_cors_on_responses_and_errors(client: Client, origin: str, variant: Variant) -> None:
    assert client.get(APPEALS, headers={"Origin": origin})["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Origin" not in client.get(APPEALS, headers={"Origin": OTHER_ORIGIN})
    assert post_event(client, event(variant), headers={"Origin": origin})["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Origin" not in post_event(client, event(variant), headers={"Origin": OTHER_ORIGIN})
    # The developer's browser can read why a request failed.
    bad = post_event(client, {"newsroom": "demo"}, headers={"Origin": origin})
    assert bad.status_code == 400 and bad["Access-Control-Allow-Origin"] == origin


def test_one_newsrooms_origin_is_not_allowed_for_another(client: Client, origin: str, demo_newsroom: Any) -> None:
    from readerfund.newsrooms.models import Newsroom

    other = Newsroom.objects.create(slug="other", name="Other", allowed_origins="https://other.example")
    appeals_publish(newsroom=other)
    response = client.get("/api/v1/newsrooms/other/appeals.json", headers={"Origin": origin})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


# --- events --------------------------------------------------------------------------------------------


def test_events_are_counted_per_variant_per_day_after_a_flush(client: Client, variant: Variant) -> None:
    other = Variant.objects.get(campaign=variant.campaign, key="b")
    for kind in ("view", "view", "view", "click", "dismiss", "remind"):
        assert post_event(client, event(variant, event=kind)).status_code == 204
    assert post_event(client, event(other)).status_code == 204
    assert VariantDailyCount.objects.count() == 0  # buffered, not written per request
    assert counters.events_flush() == 2
    row = VariantDailyCount.objects.get(variant=variant)
    assert (row.views, row.clicks, row.dismissals, row.reminds) == (3, 1, 1, 1)
    assert VariantDailyCount.objects.get(variant=other).views == 1
    post_event(client, event(variant))
    counters.events_flush()
    row.refresh_from_db()
    assert row.views == 4
    assert VariantDailyCount.objects.count() == 2


def _huge(variant: Variant) -> bytes:
    return json.dumps(event(variant, padding="x" * 17_000)).encode()


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (b"", 400, "empty_body", None),
        (b"   ", 400, "empty_body", None),
        (b"{", 400, "malformed_json", None),
        (b"\xff\xfe", 400, "malformed_json", None),
        (b"[1, 2]", 400, "malformed_json", None),
        (b'"view"', 400, "malformed_json", None),
        (b'{"campaign": 1' + b"1" * 5000 + b"}", 400, "malformed_json", None),
        (b"[" * 8000 + b"]" * 8000, 400, "malformed_json", None),
        ({"campaign": 1, "variant": 1, "event": "view"}, 400, "missing_field", "newsroom"),
        ({"newsroom": "demo", "variant": 1, "event": "view"}, 400, "missing_field", "campaign"),
        ({"newsroom": "demo", "campaign": 1, "event": "view"}, 400, "missing_field", "variant"),
        ({"newsroom": "demo", "campaign": 1, "variant": 1}, 400, "missing_field", "event"),
        ({"newsroom": "demo", "campaign": None, "variant": 1, "event": "view"}, 400, "missing_field", "campaign"),
        ({"newsroom": "demo", "campaign": "1", "variant": 1, "event": "view"}, 400, "invalid_field", "campaign"),
        ({"newsroom": "demo", "campaign": 1.5, "variant": 1, "event": "view"}, 400, "invalid_field", "campaign"),
        ({"newsroom": "demo", "campaign": True, "variant": 1, "event": "view"}, 400, "invalid_field", "campaign"),
        ({"newsroom": 7, "campaign": 1, "variant": 1, "event": "view"}, 400, "invalid_field", "newsroom"),
        ({"newsroom": "demo", "campaign": 1, "variant": 1, "event": ["view"]}, 400, "invalid_field", "event"),
    ],
)
def test_bad_event_bodies(
    client: Client, demo_newsroom: Any, body: Any, status: int, code: str, field: str | None
) -> None:
    error = assert_api_error(post_event(client, body), status, code)
    assert error.get("field") == field


def test_unknown_event_names_the_ones_that_exist(client: Client, variant: Variant) -> None:
    error = assert_api_error(post_event(client, event(variant, event="purchase")), 400, "unknown_event")
    assert "view, click, dismiss, remind" in error["message"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"newsroom": "nobody"}, "unknown_newsroom"),
        ({"campaign": 987654}, "unknown_campaign"),
        ({"variant": 987654}, "unknown_variant"),
    ],
)
def test_unknown_newsroom_campaign_or_variant(client: Client, variant: Variant, changes: dict, code: str) -> None:
    assert_api_error(post_event(client, event(variant, **changes)), 404, code)


def test_a_variant_of_another_campaign_is_refused(client: Client, variant: Variant, targeted: dict[str, int]) -> None:
    assert_api_error(post_event(client, event(variant, campaign=targeted["russia"])), 404, "unknown_variant")


def test_a_draft_campaigns_events_are_refused(
    client: Client, variant: Variant, demo_newsroom: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "_RECHECK_SECONDS", 0)
    Campaign.objects.filter(pk=variant.campaign_id).update(status=Campaign.Status.DRAFT)
    appeals_publish(newsroom=demo_newsroom)
    assert_api_error(post_event(client, event(variant)), 404, "unknown_campaign")


def test_body_over_16_kb_is_413_whatever_the_headers_say(client: Client, variant: Variant) -> None:
    huge = _huge(variant)
    assert_api_error(post_event(client, huge), 413, "body_too_large")
    # Declared too long: refused before reading.
    assert_api_error(post_event(client, b"{}", CONTENT_LENGTH=str(10**9)), 413, "body_too_large")
    # Chunked (no Content-Length): the stream itself is read, capped.
    chunked = {"CONTENT_LENGTH": "", "wsgi.input": io.BytesIO(huge), "wsgi.input_terminated": True}
    assert_api_error(post_event(client, b"", **chunked), 413, "body_too_large")
    small = {"CONTENT_LENGTH": "", "wsgi.input": io.BytesIO(json.dumps(event(variant)).encode())}
    assert post_event(client, b"", **small, **{"wsgi.input_terminated": True}).status_code == 204
    # 16 KB exactly is still accepted.
    body = json.dumps(event(variant, padding="")).encode()
    exact = json.dumps(event(variant, padding="x" * (16 * 1024 - len(body)))).encode()
    assert len(exact) == 16 * 1024
    assert post_event(client, exact).status_code == 204


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    st.dictionaries(
        st.sampled_from(["newsroom", "campaign", "variant", "event", "other"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda children: (
                st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
            ),
            max_leaves=5,
        ),
    )
    | st.binary(max_size=40)
)
def test_no_event_body_gets_a_500(client: Client, demo_newsroom: Any, body: Any) -> None:
    response = post_event(client, body)
    assert response.status_code in {204, 400, 404}
    if response.status_code != 204:
        jsonschema.validate(response.json(), schema("Error"))


# --- privacy -------------------------------------------------------------------------------------------

PROBE_AGENT = "ReaderProbe/7.3 (probe-agent-5f1c)"
PROBE_ADDRESS = "203.0.113.77"
PROBE_FORWARDED = "198.51.100.23"


def _every_stored_text() -> str:
    texts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            texts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(texts)


def test_nothing_about_the_reader_is_stored_or_logged(
    client: Client, variant: Variant, origin: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    reader = Client(
        HTTP_USER_AGENT=PROBE_AGENT,
        REMOTE_ADDR=PROBE_ADDRESS,
        HTTP_X_FORWARDED_FOR=PROBE_FORWARDED,
        HTTP_ORIGIN=origin,
        HTTP_CF_IPCOUNTRY="RU",
    )
    reader.get(APPEALS)
    for kind in counters.EVENT_FIELDS:
        assert post_event(reader, event(variant, event=kind)).status_code == 204
    post_event(reader, {"newsroom": "nobody", "campaign": 1, "variant": 1, "event": "view"})
    post_event(reader, b"{")
    counters.events_flush()
    assert VariantDailyCount.objects.get(variant=variant).views == 1
    stored = _every_stored_text()
    logged = caplog.text
    for probe in (PROBE_AGENT, "probe-agent-5f1c", PROBE_ADDRESS, PROBE_FORWARDED):
        assert probe not in stored
        assert probe not in logged


# --- OpenAPI -------------------------------------------------------------------------------------------


def test_openapi_document_is_valid_and_describes_both_endpoints(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate_openapi(document)
    assert document["openapi"].startswith("3.1")
    assert {"/api/v1/newsrooms/{slug}/appeals.json", "/api/v1/events"} <= set(document["paths"])
    assert "get" in document["paths"]["/api/v1/newsrooms/{slug}/appeals.json"]
    assert "post" in document["paths"]["/api/v1/events"]


def test_the_bare_baseline_is_the_size_asked_for(client: Client) -> None:
    for size in (100, 2345):
        response = client.get("/api/v1/bare", {"size": size})
        assert len(response.content) == size
        assert response.json()["padding"]


def test_the_bare_baseline_is_not_served_in_production(client: Client, settings) -> None:
    settings.DEMO = False
    response = client.get("/api/v1/bare")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
