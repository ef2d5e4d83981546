from typing import Any

from django.contrib import admin
from django.db import models

from readerfund.newsrooms.models import Membership, Newsroom


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Newsroom)
class NewsroomAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "default_locale", "default_currency")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]
    # A newsroom's site is https; say so rather than rely on Django 5's http default.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request: Any, obj: Newsroom, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The published document carries the newsroom's name and colours.
        from readerfund.appeals.services import appeals_publish

        appeals_publish(newsroom=obj)
