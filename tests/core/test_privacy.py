from typing import Any

import pytest
from django.db import connection

from readerfund.core.privacy import decrypt, encrypt, lookup_hash


def test_encryption_round_trips_and_is_randomised() -> None:
    a, b = encrypt("reader@example.org"), encrypt("reader@example.org")
    assert a != b
    assert "reader" not in a
    assert decrypt(a) == decrypt(b) == "reader@example.org"


def test_tampered_ciphertext_is_refused() -> None:
    token = encrypt("reader@example.org")
    broken = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Exception):  # noqa: B017 - cryptography's InvalidTag or a decoding error
        decrypt(broken)


def test_lookup_hash_is_keyed_and_scoped() -> None:
    assert lookup_hash("a@b.c", scope="x") == lookup_hash("a@b.c", scope="x")
    assert lookup_hash("a@b.c", scope="x") != lookup_hash("a@b.c", scope="y")
    assert len(lookup_hash("a@b.c")) == 64


@pytest.mark.django_db
def test_rate_limit_stores_only_hashes() -> None:
    from readerfund.core.ratelimit import RateLimited, rate_limit_hit

    for _ in range(3):
        rate_limit_hit(scope="test", key="203.0.113.9", limit=3, window_seconds=60)
    with pytest.raises(RateLimited) as raised:
        rate_limit_hit(scope="test", key="203.0.113.9", limit=3, window_seconds=60)
    assert 1 <= raised.value.retry_after <= 60
    with connection.cursor() as cursor:
        cursor.execute("SELECT key_hash FROM core_ratelimitwindow")
        rows = [r[0] for r in cursor.fetchall()]
    assert rows and all("203.0.113.9" not in r for r in rows)


# --- key ids and rotation ------------------------------------------------------------------------------

OLD_KEY = "b2xkLW9sZC1vbGQtb2xkLW9sZC1vbGQtb2xkLW9sZCE="  # 32 bytes, urlsafe base64
NEW_KEY = "bmV3LW5ldy1uZXctbmV3LW5ldy1uZXctbmV3LW5ldyE="


def _v1_encrypt(plaintext: str, key: bytes) -> str:
    """A value as readerfund wrote it before key ids."""
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    return "v1:" + base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), None)).decode()


def test_ciphertext_names_its_key_and_not_the_key(settings: Any) -> None:
    from readerfund.core.privacy import key_id, keyring

    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    token = encrypt("reader@example.org")
    version, kid, _ = token.split(":")
    assert (version, kid) == ("v2", key_id(keyring().current)) and len(kid) == 8
    assert NEW_KEY.rstrip("=") not in token


def test_relabelled_value_is_refused(settings: Any) -> None:
    from readerfund.core.privacy import UndecryptableValue

    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    settings.LOOKUP_HASH_KEY = OLD_KEY
    settings.FIELD_ENCRYPTION_KEYS_OLD = OLD_KEY
    token = encrypt("reader@example.org")
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_KEYS_OLD = OLD_KEY, NEW_KEY
    other = encrypt("x").split(":")[1]
    with pytest.raises(UndecryptableValue):
        decrypt(":".join(["v2", other, token.split(":")[2]]))


def test_old_keys_still_decrypt_and_v1_values_are_read(settings: Any) -> None:
    from readerfund.core.privacy import UndecryptableValue, _derived_key

    settings.FIELD_ENCRYPTION_KEY = ""
    v1 = _v1_encrypt("reader@example.org", _derived_key())
    assert decrypt(v1) == "reader@example.org"  # an existing database keeps working
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    under_old = encrypt("ann@example.org")
    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    with pytest.raises(UndecryptableValue):
        decrypt(under_old)
    settings.LOOKUP_HASH_KEY = OLD_KEY
    settings.FIELD_ENCRYPTION_KEYS_OLD = f" {OLD_KEY} , "
    assert decrypt(under_old) == "ann@example.org"
    assert decrypt(encrypt("bo@example.org")) == "bo@example.org"


def test_old_keys_without_a_pinned_lookup_key_are_refused(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    settings.FIELD_ENCRYPTION_KEYS_OLD = OLD_KEY
    with pytest.raises(ImproperlyConfigured, match="LOOKUP_HASH_KEY"):
        encrypt("x")


def test_lookup_hash_survives_a_rotation_pinned_to_the_old_key(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    before = lookup_hash("reader@example.org", scope="supporter:1")
    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    settings.FIELD_ENCRYPTION_KEYS_OLD = OLD_KEY
    settings.LOOKUP_HASH_KEY = OLD_KEY
    assert lookup_hash("reader@example.org", scope="supporter:1") == before
    settings.FIELD_ENCRYPTION_KEYS_OLD = ""  # the rotation is over; the pin stays
    assert lookup_hash("reader@example.org", scope="supporter:1") == before


def test_a_bad_key_is_refused(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEY = "dG9vLXNob3J0"
    with pytest.raises(ImproperlyConfigured):
        encrypt("x")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Reader@Example.ORG ", "reader@example.org"), ("a+b@example.org", "a+b@example.org")],
)
def test_email_checked_normalises_what_it_takes(raw: str, expected: str) -> None:
    from readerfund.core.privacy import email_checked

    assert email_checked(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "not an address", "a@b", "@example.org", "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "org", "a\ud800@x.org"]
)
def test_email_checked_refuses_what_no_one_can_mail(raw: str) -> None:
    from django.core.exceptions import ValidationError

    from readerfund.core.privacy import email_checked

    with pytest.raises(ValidationError):
        email_checked(raw)
