from django.contrib import admin

from readerfund.newsrooms.models import Membership, Newsroom


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Newsroom)
class NewsroomAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "default_locale", "default_currency")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]
