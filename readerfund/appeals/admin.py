"""Campaigns are edited in Django's admin until the newsroom dashboard replaces it.

Saving a campaign or its variants republishes the newsroom's appeals document.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from readerfund.appeals import rules
from readerfund.appeals.models import Campaign, Variant
from readerfund.appeals.services import appeals_publish
from readerfund.core.amounts import SUPPORTED_CURRENCIES, minimums_problems
from readerfund.newsrooms.models import Newsroom


class VariantInlineFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        weights = [
            form.cleaned_data.get("weight", 0)
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        errors = rules.weights_errors(weights)
        if errors:
            raise ValidationError(errors)


class VariantForm(forms.ModelForm):
    class Meta:
        model = Variant
        fields = ["key", "weight", "default_frequency", "copy", "amounts", "minimums"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        minimums = data.get("minimums") or {}
        problems = minimums_problems(minimums)
        if problems:
            # Beside the field the editor must change; amounts_errors, given none, won't repeat them.
            self.add_error("minimums", problems)
            minimums = {}
        errors = rules.copy_errors(data.get("copy") or {})
        errors += rules.amounts_errors(
            data.get("amounts") or {},
            minimums,
            # The checkout's currencies, not all Money knows: it ignores the others' amounts.
            set(SUPPORTED_CURRENCIES),
            data.get("default_frequency") or "",
        )
        if errors:
            raise ValidationError(errors)
        return data


class VariantInline(admin.StackedInline):
    model = Variant
    form = VariantForm
    formset = VariantInlineFormSet
    extra = 0


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        errors = rules.schedule_errors(data.get("starts_at"), data.get("ends_at"))
        choices = data.get("remind_choices")
        if choices is not None and (
            not isinstance(choices, list)
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 365 for d in choices)
        ):
            errors.append("Reminder choices must be a list of days between 1 and 365, e.g. [14, 30, 90].")
        if errors:
            raise ValidationError(errors)
        return data


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("name", "newsroom", "status", "priority", "starts_at", "ends_at")
    list_filter = ("newsroom", "status")
    inlines = [VariantInline]

    def save_related(self, request: Any, form: Any, formsets: Any, change: bool) -> None:
        # After the variants are saved, so the document carries the edited ones.
        super().save_related(request, form, formsets, change)
        newsrooms = {form.instance.newsroom}
        if "newsroom" in form.changed_data and form.initial.get("newsroom"):
            # Moved to another newsroom: the old one must stop showing it too.
            newsrooms.add(Newsroom.objects.get(pk=form.initial["newsroom"]))
        for newsroom in newsrooms:
            appeals_publish(newsroom=newsroom)

    def delete_model(self, request: Any, obj: Campaign) -> None:
        newsroom = obj.newsroom
        super().delete_model(request, obj)
        appeals_publish(newsroom=newsroom)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        # The changelist's bulk "delete selected" bypasses delete_model.
        newsrooms = list(Newsroom.objects.filter(campaigns__in=queryset).distinct())
        super().delete_queryset(request, queryset)
        for newsroom in newsrooms:
            appeals_publish(newsroom=newsroom)
