"""Newsrooms and their staff in Django's admin; a newsroom's Stripe secrets are written, never shown."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models

from readerfund.newsrooms.edits import newsroom_saved
from readerfund.newsrooms.models import Membership, Newsroom

# Secrets are written, never shown again: the form's field is empty, and an empty field keeps what is stored.
_SECRETS = ("stripe_secret_key", "stripe_webhook_secret")


class NewsroomForm(forms.ModelForm):
    stripe_secret_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Secret key of the newsroom's own Stripe account (sk_live_…). Leave empty to keep the stored one.",
    )
    stripe_webhook_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Signing secret (whsec_…) of that account's endpoint /webhooks/stripe/<slug>. Empty keeps it.",
    )
    stripe_publishable_key = forms.CharField(required=False, strip=True, help_text="Publishable key (pk_live_…).")
    # A newsroom's site is https; say so rather than rely on Django 5's http default.
    site_url = forms.URLField(
        required=False, assume_scheme="https", help_text=Newsroom._meta.get_field("site_url").help_text
    )

    class Meta:
        model = Newsroom
        fields = "__all__"

    def clean_stripe_secret_key(self) -> str:
        value: str = self.cleaned_data.get("stripe_secret_key") or ""
        if value and not value.startswith(("sk_", "rk_")):
            raise forms.ValidationError("A Stripe secret key starts with sk_ (or rk_ for a restricted key).")
        return value

    def clean_stripe_webhook_secret(self) -> str:
        value: str = self.cleaned_data.get("stripe_webhook_secret") or ""
        if value and not value.startswith("whsec_"):
            raise forms.ValidationError("A Stripe webhook signing secret starts with whsec_.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        for name in _SECRETS:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        has_secret = bool(cleaned.get("stripe_secret_key"))
        if has_secret and not (cleaned.get("stripe_publishable_key") and cleaned.get("stripe_webhook_secret")):
            raise forms.ValidationError(
                "A newsroom with its own Stripe account needs all three: secret key, publishable key and "
                "webhook signing secret."
            )
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Newsroom)
class NewsroomAdmin(admin.ModelAdmin):
    form = NewsroomForm
    list_display = ("name", "slug", "default_locale", "default_currency")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]
    # A newsroom's site is https; say so rather than rely on Django 5's http default.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request: Any, obj: Newsroom, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # E.g. the published appeals carry the newsroom's name and colours (see newsrooms/edits.py).
        newsroom_saved(newsroom=obj)
