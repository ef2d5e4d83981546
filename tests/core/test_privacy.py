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
