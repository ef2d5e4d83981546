"""Campaigns, their variants (copy, amounts, weights), the published document and the daily aggregate counts."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from readerfund.core.amounts import FREQUENCIES
from readerfund.newsrooms.models import Newsroom, country_list_validator


def default_remind_choices() -> list[int]:
    return [14, 30, 90]


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    class Placement(models.TextChoices):
        ARTICLE_END = "article-end", _("End of article")

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    placement = models.CharField(max_length=20, choices=Placement.choices, default=Placement.ARTICLE_END)
    min_articles = models.PositiveIntegerField(
        default=0, help_text=_("Show only from this many articles read (0 shows to everyone).")
    )
    countries_include = models.CharField(max_length=300, blank=True, validators=[country_list_validator])
    countries_exclude = models.CharField(max_length=300, blank=True, validators=[country_list_validator])
    locales = models.CharField(max_length=100, blank=True, help_text=_("e.g. en, ru; empty for all."))
    sections = models.CharField(max_length=300, blank=True, help_text=_("e.g. politics, culture; empty for all."))
    skip_supporters = models.BooleanField(default=True)
    snooze_days = models.PositiveIntegerField(default=7, help_text=_("How long 'Not now' hides the campaign."))
    max_views_per_30_days = models.PositiveIntegerField(default=0, help_text=_("0 means no cap."))
    priority = models.IntegerField(default=0, help_text=_("Higher wins when several campaigns apply."))
    remind_choices = models.JSONField(
        default=default_remind_choices,
        help_text=_("Days ahead a reader can pick for a reminder, e.g. [14, 30, 90]."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "id"]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """One copy of the appeal. Copy is per locale:

    {"en": {"heading": str, "paragraphs": [str], "highlight": str, "cta": str, "not_now": str,
            "remind": str}}
    amounts: {"USD": {"one_off": [500, 1000], "monthly": [200, 500], "annual": [5000]}}
    minimums: {"USD": {"one_off": 200, "monthly": 200, "annual": 2000}}   (minor units)
    Neither goes below what Stripe can charge (core.amounts.PROVIDER_MINIMUMS): the admin refuses
    it, and the checkout raises an older row's minimum to that floor.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=40, help_text=_("Short name shown in A/B results, e.g. 'a'."))
    weight = models.PositiveIntegerField(default=1)
    copy = models.JSONField(default=dict)
    amounts = models.JSONField(default=dict)
    minimums = models.JSONField(default=dict)
    default_frequency = models.CharField(
        max_length=10, default="monthly", choices=[(f, f.replace("_", "-")) for f in FREQUENCIES]
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "key"], name="variant_unique_key")]

    def __str__(self) -> str:
        return f"{self.campaign} / {self.key}"


class PublishedAppeals(models.Model):
    """The compiled document for a newsroom, rebuilt when an editor saves, served from memory."""

    newsroom = models.OneToOneField(Newsroom, on_delete=models.CASCADE, related_name="published_appeals")
    document = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(auto_now=True)


class VariantDailyCount(models.Model):
    """Aggregate appeal events: counts per variant per day. No reader identifier, ever."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="daily_counts")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    dismissals = models.PositiveIntegerField(default=0)
    reminds = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["variant", "day"], name="variant_daily_unique")]
