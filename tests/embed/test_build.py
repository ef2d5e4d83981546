"""The built embed: small enough for every article page, and talking to no one but our server."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from readerfund.embed.build import MODULES, SRC, embed_bundle, embed_gzipped_size

MAX_GZIPPED_BYTES = 6 * 1024


def test_bundle_is_at_most_6_kb_gzipped() -> None:
    size = embed_gzipped_size()
    assert size <= MAX_GZIPPED_BYTES, f"embed.js is {size} bytes gzipped; the budget is {MAX_GZIPPED_BYTES}"


def test_bundle_names_no_other_host() -> None:
    body = embed_bundle()[0].decode()
    # Our own origin is read from the script tag at run time, so no absolute URL belongs in the bundle.
    assert re.findall(r"https?://[^\s'\"`]+", body) == []
    assert "document.cookie" not in body


def test_bundle_carries_every_module_once() -> None:
    body = embed_bundle()[0].decode()
    assert body.count("var ReaderfundDecide=") == 1
    assert set(MODULES) == {path.name for path in SRC.glob("*.js")}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_bundle_parses_as_javascript(tmp_path: Path) -> None:
    bundle = tmp_path / "embed.js"
    bundle.write_bytes(embed_bundle()[0])
    result = subprocess.run(["node", "--check", str(bundle)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_embed_js_is_served_with_an_etag(client: Client) -> None:
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response.content == embed_bundle()[0]
    again = client.get("/embed.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
