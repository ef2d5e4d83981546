"""`readerfund rotate-key`: every value moves to the current key, resumably."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from readerfund.core import rotation
from readerfund.core.privacy import UndecryptableValue, _derived_key, decrypt, encrypt, keyring
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Supporter
from tests.core.test_privacy import NEW_KEY, OLD_KEY, _v1_encrypt

pytestmark = pytest.mark.django_db


def _raw(model: Any, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} ORDER BY id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def _all_raw() -> list[str]:
    values = []
    for model, fields in rotation.encrypted_fields():
        for f in fields:
            values.extend(v for v in _raw(model, f.column) if v)
    return values


@pytest.fixture
def under_old_key(settings: Any) -> Newsroom:
    """Supporters under OLD_KEY (some written as v1), a newsroom's Stripe keys, then the keys rotated."""
    settings.FIELD_ENCRYPTION_KEY = OLD_KEY
    newsroom = Newsroom.objects.create(slug="free-voice", name="Free Voice", stripe_secret_key="sk_test_old")
    for number in range(7):
        Supporter.objects.create(newsroom=newsroom, email=f"reader{number}@example.org", name=f"Reader {number}")
    # Two rows as a database from before key ids holds them.
    old = keyring().current
    with connection.cursor() as cursor:
        for pk in Supporter.objects.order_by("id").values_list("id", flat=True)[:2]:
            cursor.execute(
                "UPDATE payments_supporter SET email = %s WHERE id = %s", [_v1_encrypt(f"v1-{pk}@example.org", old), pk]
            )
    settings.FIELD_ENCRYPTION_KEY = NEW_KEY
    settings.FIELD_ENCRYPTION_KEYS_OLD = OLD_KEY
    settings.LOOKUP_HASH_KEY = OLD_KEY
    return newsroom


def _readable_with_only(settings: Any, key: str) -> list[str]:
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_KEYS_OLD = key, ""
    opened = []
    for value in _all_raw():
        with contextlib.suppress(UndecryptableValue):
            opened.append(decrypt(value))
    return opened


def test_every_model_with_encrypted_fields_is_found() -> None:
    found = {model._meta.label_lower: {f.name for f in fields} for model, fields in rotation.encrypted_fields()}
    assert found["payments.supporter"] == {"email", "name"}
    assert found["newsrooms.newsroom"] == {"stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret"}
    assert "reminders.reminder" in found and "notifications.outboxmessage" in found


def test_rotation_leaves_everything_readable_and_nothing_under_the_old_key(
    under_old_key: Newsroom, settings: Any
) -> None:
    before = sorted((s.email, s.name) for s in Supporter.objects.all())
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_key", "--batch-size", "3", stdout=out, stderr=err)
    assert sorted((s.email, s.name) for s in Supporter.objects.all()) == before
    assert Newsroom.objects.get().stripe_secret_key == "sk_test_old"
    assert "payments.supporter: 14 value(s) re-encrypted" in out.getvalue()
    assert "payments.supporter: 3/7" in err.getvalue() and "payments.supporter: 7/7" in err.getvalue()
    assert "@" not in out.getvalue() + err.getvalue()
    assert all(value.startswith(f"v2:{keyring().current_id}:") for value in _all_raw())
    assert _readable_with_only(settings, OLD_KEY) == []
    assert len(_readable_with_only(settings, NEW_KEY)) == 15


def test_a_killed_run_finishes_when_run_again(under_old_key: Newsroom, monkeypatch: pytest.MonkeyPatch) -> None:
    before = sorted((s.email, s.name) for s in Supporter.objects.all())
    calls = {"n": 0}

    def dies_after_five(plaintext: str) -> str:
        calls["n"] += 1
        if calls["n"] > 5:
            raise KeyboardInterrupt("killed")
        return encrypt(plaintext)

    monkeypatch.setattr(rotation, "encrypt", dies_after_five)
    with pytest.raises(KeyboardInterrupt):
        call_command("rotate_key", "--batch-size", "2", stdout=io.StringIO(), stderr=io.StringIO())
    current = f"v2:{keyring().current_id}:"
    moved = [v for v in _raw(Supporter, "email") + _raw(Supporter, "name") if v.startswith(current)]
    assert len(moved) == 4  # two whole batches committed, the third rolled back
    monkeypatch.setattr(rotation, "encrypt", encrypt)
    out = io.StringIO()
    call_command("rotate_key", "--batch-size", "2", stdout=out, stderr=io.StringIO())
    assert "payments.supporter: 10 value(s) re-encrypted, 4 already under key" in out.getvalue()
    assert all(v.startswith(current) for v in _all_raw())
    assert sorted((s.email, s.name) for s in Supporter.objects.all()) == before


def test_a_value_no_key_opens_is_reported_and_fails_the_run(under_old_key: Newsroom, settings: Any) -> None:
    from django.core.management.base import CommandError

    settings.FIELD_ENCRYPTION_KEYS_OLD = ""  # the operator forgot the old key
    err = io.StringIO()
    with pytest.raises(CommandError, match="FIELD_ENCRYPTION_KEYS_OLD"):
        call_command("rotate_key", stdout=io.StringIO(), stderr=err)
    settings.FIELD_ENCRYPTION_KEYS_OLD = OLD_KEY
    call_command("rotate_key", stdout=io.StringIO(), stderr=io.StringIO())
    assert len(Supporter.objects.all()) == 7


def test_v1_values_of_a_derived_key_deployment_rotate(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEY = ""
    derived = _derived_key()
    out = io.StringIO()
    call_command("rotate_key", "--print-current-key", stdout=out)
    derived_b64 = out.getvalue().strip()
    newsroom = Newsroom.objects.create(slug="n", name="N")
    supporter = Supporter.objects.create(newsroom=newsroom)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_supporter SET email = %s WHERE id = %s",
            [_v1_encrypt("a@example.org", derived), supporter.id],
        )
    settings.FIELD_ENCRYPTION_KEY, settings.FIELD_ENCRYPTION_KEYS_OLD = NEW_KEY, derived_b64
    settings.LOOKUP_HASH_KEY = derived_b64
    call_command("rotate_key", stdout=io.StringIO(), stderr=io.StringIO())
    assert _raw(Supporter, "email")[0].startswith(f"v2:{keyring().current_id}:")
    assert Supporter.objects.get().email == "a@example.org"


def test_progress_bar_draws_eighths() -> None:
    from readerfund.core.management.commands.rotate_key import progress_bar

    assert progress_bar(0, 10, width=4) == "▏    ▏"
    assert progress_bar(10, 10, width=4) == "▏████▏"
    assert progress_bar(45, 100, width=4) == "▏█▊  ▏"
