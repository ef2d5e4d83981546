"""Personal data at rest: AES-GCM encrypted fields and a keyed hash for look-ups.

Only this module touches the key. E-mail addresses and names are stored as EncryptedTextField;
look-ups go through `lookup_hash`, so the plaintext is never needed to find a row.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import models

_PREFIX = "v1:"


@functools.cache
def _key() -> bytes:
    configured = settings.FIELD_ENCRYPTION_KEY
    if configured:
        key = base64.urlsafe_b64decode(configured + "=" * (-len(configured) % 4))
        if len(key) != 32:
            raise ValueError("FIELD_ENCRYPTION_KEY must be 32 bytes, urlsafe base64")
        return key
    return hashlib.sha256(b"readerfund-field-encryption:" + settings.SECRET_KEY.encode()).digest()


@functools.cache
def _hash_key() -> bytes:
    return hmac.new(_key(), b"readerfund-lookup-hash", hashlib.sha256).digest()


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, plaintext.encode(), None)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token.startswith(_PREFIX):
        raise ValueError("not an encrypted value")
    raw = base64.urlsafe_b64decode(token[len(_PREFIX) :])
    return AESGCM(_key()).decrypt(raw[:12], raw[12:], None).decode()


def normalize_email(address: str) -> str:
    return (address or "").strip().lower()


def lookup_hash(value: str, *, scope: str = "") -> str:
    """Keyed hash for finding a row by a personal value without storing it in the clear."""
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
