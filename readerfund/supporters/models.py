"""Signing a supporter in without a password: a one-time link or code by e-mail, then a short session.

Only keyed hashes of the secrets are stored (core/privacy.py lookup_hash): a copy of the database opens
no one's page. Models hold fields only; the rules are in supporters/signin.py and supporters/session.py.
"""

from __future__ import annotations

from django.db import models

from readerfund.core.privacy import EncryptedTextField
from readerfund.newsrooms.models import Newsroom
from readerfund.payments.models import Supporter


class SignInRequest(models.Model):
    """One sign-in e-mail: a link and the same secret as a short code, usable once, for 15 minutes.

    Every request writes the same row; the worker then sets the supporter, or finds none and sends
    nothing. A row without a supporter can never sign anyone in.
    """

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="signin_requests")
    supporter = models.ForeignKey(
        Supporter, null=True, blank=True, on_delete=models.CASCADE, related_name="signin_requests"
    )
    # The typed address's keyed hash, as Supporter.email_hash: the worker finds the supporter by it, and
    # a code is checked against every request for the address, a supporter's or not, at the same cost.
    email_hash = models.CharField(max_length=64, blank=True, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64)
    # The link's token and code, encrypted, until the worker has e-mailed them (or found no supporter):
    # then blank, and only the hashes remain.
    undelivered = EncryptedTextField(blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Wrong codes typed against this request; at the limit its code is locked (the link still works).
    code_failures = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["supporter", "expires_at"], name="signin_supporter_expires")]

    def __str__(self) -> str:
        return f"sign-in {self.pk}"


class SupporterSession(models.Model):
    """A signed-in supporter, for an hour at most. Its own cookie: never Django's staff session."""

    supporter = models.ForeignKey(Supporter, on_delete=models.CASCADE, related_name="sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"supporter session {self.pk}"
