"""Build embed.js from src/: concatenate the modules in order, wrap them, minify."""

from __future__ import annotations

import functools
import gzip
import hashlib
from pathlib import Path

import rjsmin

SRC = Path(__file__).resolve().parent / "src"
# decide.js is the only implementation of the appeal's rules; node's tests import the same file.
MODULES = ["decide.js", "strings.js", "store.js", "calendar.js", "appeal.js", "remind.js", "main.js"]


@functools.cache
def embed_bundle() -> tuple[bytes, str]:
    parts = [(SRC / name).read_text(encoding="utf-8") for name in MODULES]
    source = "(function(){\n'use strict';\nvar module;\n" + "\n".join(parts) + "\n})();\n"
    body = rjsmin.jsmin(source).encode()
    return body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def embed_gzipped_size() -> int:
    return len(gzip.compress(embed_bundle()[0], compresslevel=9))
