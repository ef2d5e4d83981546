"""The API's one ETag check (core/http.py etag_matches), used by appeals.json and embed.js."""

import pytest

from readerfund.core.http import etag_matches

TAG = '"abc123"'


@pytest.mark.parametrize(
    ("if_none_match", "matches"),
    [
        ("", False),
        (TAG, True),
        (f"W/{TAG}", True),
        (f'"other", {TAG}', True),
        ("*", True),
        ('"other"', False),
        # A longer tag that holds ours is another tag, not ours.
        ('"abc123-and-more"', False),
        ('"xabc123"', False),
    ],
)
def test_etag_matches_by_the_weak_comparison(if_none_match: str, matches: bool) -> None:
    assert etag_matches(TAG, if_none_match) is matches


@pytest.mark.django_db
def test_embed_js_answers_304_to_its_weak_etag_and_200_to_a_lookalike(client) -> None:
    first = client.get("/embed.js")
    etag = first["ETag"]
    assert client.get("/embed.js", HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    lookalike = etag[:-1] + 'x"'
    assert client.get("/embed.js", HTTP_IF_NONE_MATCH=lookalike).status_code == 200
