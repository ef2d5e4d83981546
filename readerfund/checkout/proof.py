"""The proof of work a checkout start needs past the card-testing thresholds: the ALTCHA scheme (version 1).

The server signs a challenge (`altcha` from PyPI): SHA-256(salt + n) for a secret n up to `maxnumber`, the
salt carrying its expiry, HMAC-signed with a key derived from SECRET_KEY. The reader's browser finds n
(readerfund/checkout/static/checkout/proof.js, served by us: no third-party captcha, which would tell
another company who supports this newsroom) and sends the payload back with the start. A solution is good
once (the challenge is marked used, as a keyed hash, until it expires) and for CHECKOUT_PROOF_LIFETIME
seconds.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import timedelta
from typing import Any, cast

import altcha
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from readerfund.core.ratelimit import rate_limit_first

MAX_PAYLOAD_CHARS = 2000


def _key() -> str:
    return salted_hmac("readerfund.checkout.proof", "altcha", algorithm="sha256").hexdigest()


def challenge_new(*, newsroom_id: int) -> dict[str, Any]:
    """A fresh challenge for the page, as the ALTCHA widget expects it (algorithm, challenge, maxnumber,
    salt, signature). The newsroom is in the salt: a solution for one newsroom starts nothing at another."""
    expires = timezone.now() + timedelta(seconds=settings.CHECKOUT_PROOF_LIFETIME)
    options = altcha.ChallengeOptionsV1(
        algorithm="SHA-256",
        hmac_key=_key(),
        max_number=settings.CHECKOUT_PROOF_DIFFICULTY,
        expires=expires,
        params={"newsroom": str(newsroom_id)},
    )
    challenge = altcha.create_challenge_v1(options)
    return {
        "algorithm": challenge.algorithm,
        "challenge": challenge.challenge,
        "maxnumber": challenge.max_number,
        "salt": challenge.salt,
        "signature": challenge.signature,
    }


def _decoded(payload: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.b64decode(payload, validate=True).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def proof_check(*, newsroom_id: int, payload: Any) -> str:
    """ "ok", or why not: "missing", "invalid", "expired", "other_newsroom", "replayed". Marks an ok one used."""
    if not payload:
        return "missing"
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD_CHARS or not payload.isascii():
        return "invalid"
    data = _decoded(payload)
    if data is None or not isinstance(data.get("salt"), str) or not isinstance(data.get("challenge"), str):
        return "invalid"
    params = altcha.extract_params_v1(cast(Any, data))
    if params.get("newsroom") != [str(newsroom_id)]:
        return "other_newsroom"
    ok, error = altcha.verify_solution_v1(cast(Any, data), _key(), check_expires=True)
    if not ok:
        return "expired" if error and "expired" in error else "invalid"
    # Marked until well after it expires: a replay inside its lifetime always meets the mark.
    keep = timezone.now() + timedelta(seconds=2 * settings.CHECKOUT_PROOF_LIFETIME)
    if not rate_limit_first(scope="checkout:proof-used", key=data["challenge"], keep_until=keep):
        return "replayed"
    return "ok"
