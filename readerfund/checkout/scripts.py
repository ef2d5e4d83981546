"""The scripts of our payment pages and their integrity: the inventory PCI DSS 4.0 requirement 6.4.3 asks
for (every script on a payment page authorised, its purpose written down, its integrity assured).

Our own scripts are served from these files and carry Subresource Integrity (sha384 of the bytes
served), so a changed file is refused by the browser until the page names its new hash; the page's CSP
admits scripts only from us, inline ones only with the request's nonce. The one third-party script is
Stripe.js, on payment pages only, from its own origin: Stripe serves it unversioned and changes it, and
says not to pin it with SRI, so it is admitted by origin in the CSP. `readerfund payment-scripts` prints
the inventory with each hash; docs/payment-scripts.md says how to review it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.http import HttpResponse

_PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageScript:
    url_name: str
    path: Path
    purpose: str
    pages: tuple[str, ...]

    def body(self) -> bytes:
        return _read(self.path, self.path.stat().st_mtime_ns)[0]

    def integrity(self) -> str:
        return _read(self.path, self.path.stat().st_mtime_ns)[1]


OUR_SCRIPTS: dict[str, PageScript] = {
    script.url_name: script
    for script in (
        PageScript(
            "checkout-js",
            _PACKAGE / "checkout" / "static" / "checkout" / "checkout.js",
            "The checkout: amount and frequency, the card or IBAN field of Stripe.js, start and pay.",
            ("/support/<newsroom>/",),
        ),
        PageScript(
            "checkout-proof-js",
            _PACKAGE / "checkout" / "static" / "checkout" / "proof.js",
            "The checkout's proof of work (the ALTCHA scheme), solved in the browser when card testing is suspected.",
            ("/support/<newsroom>/",),
        ),
        PageScript(
            "checkout-authenticate-js",
            _PACKAGE / "checkout" / "static" / "checkout" / "authenticate.js",
            "A renewal's 3-D Secure step through Stripe.js, then the form posts for our server to read the result.",
            ("/support/<newsroom>/authenticate/<token>/",),
        ),
        PageScript(
            "supporters-card-js",
            _PACKAGE / "supporters" / "static" / "supporters" / "card.js",
            "A supporter's new card: Stripe.js's card field and its SetupIntent.",
            ("/account/<newsroom>/contribution/<id>/card/",),
        ),
    )
}

STRIPE_JS_PURPOSE = (
    "Stripe.js (the newsroom's Stripe account, or the emulator's stand-in in the demo and tests): the card and "
    "IBAN fields and 3-D Secure. Required by Stripe; no SRI (Stripe changes it unversioned); admitted by origin."
)


@functools.lru_cache(maxsize=16)
def _read(path: Path, _mtime_ns: int) -> tuple[bytes, str]:
    body = path.read_bytes()
    digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
    return body, f"sha384-{digest}"


def script_response(url_name: str) -> HttpResponse:
    """One of our payment pages' scripts: the very bytes whose hash the pages name."""
    response = HttpResponse(OUR_SCRIPTS[url_name].body(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
