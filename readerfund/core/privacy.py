"""Personal data at rest: AES-GCM encrypted fields and a keyed hash for look-ups.

Only this module touches the keys. E-mail addresses and names are stored as EncryptedTextField;
look-ups go through `lookup_hash`, so the plaintext is never needed to find a row.

Ciphertext names its key, so keys can rotate:

    v2:<key id>:<urlsafe base64 of nonce + sealed>   key id: 8 hex digits of a SHA-256 of the key

New values are written under the current key (FIELD_ENCRYPTION_KEY, or one derived from SECRET_KEY);
FIELD_ENCRYPTION_KEYS_OLD lists the keys a value may still be under while `readerfund rotate-key`
moves every value to the current one. "v1:<payload>" values (written before key ids) are tried
under every known key: AES-GCM's tag tells the right one from the wrong ones.

The look-up hashes (Supporter.email_hash, reminders, rate limits) are not re-encrypted but found:
their key must outlive a rotation, or no supporter is found by address afterwards. So it is a key
of its own, LOOKUP_HASH_KEY, fixed for the life of the deployment. Unset, it is the current
encryption key, which is what every hash was made with before there were two settings; a rotation
therefore first pins LOOKUP_HASH_KEY to the key being retired, and with FIELD_ENCRYPTION_KEYS_OLD
set and LOOKUP_HASH_KEY unset this module refuses to work rather than silently change every hash.
Re-hashing instead would need every row's plaintext and scope, and look-ups would miss the rows
not yet re-hashed while it ran: pinning is the simpler sound choice. The cost, documented in the
README: a retired key that leaked still lets its holder test guessed addresses against the hashes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models

_V1 = "v1:"
_V2 = "v2:"
_KEY_SETTINGS = {"FIELD_ENCRYPTION_KEY", "FIELD_ENCRYPTION_KEYS_OLD", "LOOKUP_HASH_KEY", "SECRET_KEY"}


class UndecryptableValue(ValueError):
    """No key we hold opens this value (a key missing from FIELD_ENCRYPTION_KEYS_OLD, or tampering)."""


@dataclass(frozen=True)
class Keyring:
    current: bytes
    # Every key a value may be under, the current one first: key id -> key.
    by_id: dict[str, bytes]

    @property
    def current_id(self) -> str:
        return key_id(self.current)


def key_id(key: bytes) -> str:
    """Names a key in the ciphertext without revealing it: 32 bits of a hash, enough among a few keys."""
    return hashlib.sha256(b"readerfund-key-id:" + key).hexdigest()[:8]


def _decode_key(value: str, *, setting: str) -> bytes:
    value = value.strip()
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(f"{setting} must hold 32-byte keys, urlsafe base64")
    return key


def _derived_key() -> bytes:
    return hashlib.sha256(b"readerfund-field-encryption:" + settings.SECRET_KEY.encode()).digest()


@functools.cache
def keyring() -> Keyring:
    configured = settings.FIELD_ENCRYPTION_KEY
    current = _decode_key(configured, setting="FIELD_ENCRYPTION_KEY") if configured else _derived_key()
    old_values = [item for item in settings.FIELD_ENCRYPTION_KEYS_OLD.split(",") if item.strip()]
    if old_values and not settings.LOOKUP_HASH_KEY:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS_OLD is set but LOOKUP_HASH_KEY is not: set LOOKUP_HASH_KEY to the key the "
            "look-up hashes were made with (the key being retired), or no supporter is found by address."
        )
    by_id: dict[str, bytes] = {}
    for key in [current, *(_decode_key(v, setting="FIELD_ENCRYPTION_KEYS_OLD") for v in old_values)]:
        if by_id.get(key_id(key), key) != key:
            raise ImproperlyConfigured("two encryption keys share a key id: generate a new key")
        by_id.setdefault(key_id(key), key)
    return Keyring(current=current, by_id=by_id)


@functools.cache
def _hash_key() -> bytes:
    pinned = settings.LOOKUP_HASH_KEY
    base = _decode_key(pinned, setting="LOOKUP_HASH_KEY") if pinned else keyring().current
    return hmac.new(base, b"readerfund-lookup-hash", hashlib.sha256).digest()


def _keys_forget(*, setting: str, **kwargs: Any) -> None:
    # Tests change the keys with `settings`; a process never does.
    if setting in _KEY_SETTINGS:
        keyring.cache_clear()
        _hash_key.cache_clear()


setting_changed.connect(_keys_forget)


def encrypt(plaintext: str) -> str:
    ring = keyring()
    kid = ring.current_id
    nonce = os.urandom(12)
    # The key id is authenticated too: a value cannot be relabelled.
    sealed = AESGCM(ring.current).encrypt(nonce, plaintext.encode(), (_V2 + kid).encode())
    return f"{_V2}{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def _open(key: bytes, payload: str, associated: bytes | None) -> str:
    raw = base64.urlsafe_b64decode(payload)
    return AESGCM(key).decrypt(raw[:12], raw[12:], associated).decode()


def decrypt(token: str) -> str:
    ring = keyring()
    if token.startswith(_V2):
        kid, _, payload = token[len(_V2) :].partition(":")
        key = ring.by_id.get(kid)
        if key is None:
            raise UndecryptableValue(f"encrypted under key {kid}, which is not configured")
        try:
            return _open(key, payload, (_V2 + kid).encode())
        except InvalidTag:
            raise UndecryptableValue(f"a value under key {kid} does not authenticate") from None
    if token.startswith(_V1):
        for key in ring.by_id.values():
            try:
                return _open(key, token[len(_V1) :], None)
            except InvalidTag:
                continue
        raise UndecryptableValue("a v1 value opens under none of the configured keys")
    raise ValueError("not an encrypted value")


def is_current(token: str) -> bool:
    """True when the value is already under the current key (what `rotate-key` skips)."""
    return token.startswith(f"{_V2}{keyring().current_id}:")


def normalize_email(address: str) -> str:
    return (address or "").strip().lower()


# RFC 5321's limit on a forward path; Django's validator does not count the whole address.
EMAIL_MAX_LENGTH = 254


def email_checked(address: str) -> str:
    """The address normalised, if it is one we can mail; else django's ValidationError.

    The one e-mail check of readerfund: the checkout, "Remind me later", the supporter's sign-in and
    the outbox all use it, so an address one of them takes is never refused by another."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    normalized = normalize_email(address)
    if len(normalized) > EMAIL_MAX_LENGTH:
        raise ValidationError(f"An e-mail address has at most {EMAIL_MAX_LENGTH} characters.", code="invalid")
    validate_email(normalized)
    return normalized


def lookup_hash(value: str, *, scope: str = "") -> str:
    """Keyed hash for finding a row by a personal value without storing it in the clear.

    Its key is LOOKUP_HASH_KEY (or, unset, the current encryption key) and never rotates: see the
    module's docstring."""
    message = f"{scope}\x00{value}".encode()
    return hmac.new(_hash_key(), message, hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A TextField stored as AES-GCM ciphertext. Empty strings and None stay as they are."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(str(value))
