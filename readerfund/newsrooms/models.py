"""The newsroom and its staff memberships. Its Stripe secrets are encrypted at rest (core/privacy.py)."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from readerfund.core.privacy import EncryptedTextField
from readerfund.newsrooms.colours import accessible_brand_colour

country_list_validator = RegexValidator(
    r"^\s*([A-Za-z]{2}\s*(,\s*[A-Za-z]{2}\s*)*)?$",
    _("List two-letter country codes separated by commas, e.g. RU, BY."),
)
hex_colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour such as #1a5fb4."))


class Newsroom(models.Model):
    """An outlet. Every other object belongs to exactly one newsroom."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    site_url = models.URLField(blank=True, help_text=_("The newsroom's own site, where articles live."))
    allowed_origins = models.TextField(
        blank=True,
        help_text=_("Origins allowed to use the embed and API, one per line, e.g. https://example.org."),
    )
    default_locale = models.CharField(max_length=8, default="en")
    default_currency = models.CharField(max_length=3, default="USD")
    brand_colour = models.CharField(max_length=7, default="#1a5fb4", validators=[hex_colour_validator])
    # Supporting some outlets is prosecuted in some countries; cards issued there are refused.
    risk_countries = models.CharField(max_length=300, blank=True, validators=[country_list_validator])
    safer_options = models.TextField(
        blank=True, help_text=_("Shown to readers whose card is refused: safer ways to support.")
    )
    statement_descriptor = models.CharField(
        max_length=22, default="READER SUPPORT", help_text=_("Neutral text on the card statement.")
    )
    sender_name = models.CharField(max_length=80, default="Reader support", help_text=_("Neutral e-mail sender."))
    # A reader's inbox may be read by someone else: by default no subject line names the outlet.
    neutral_emails = models.BooleanField(
        default=True,
        help_text=_("E-mail subjects never name the newsroom (the sender is the neutral sender name)."),
    )
    # The newsroom's own Stripe account: its money, customers, refunds and disputes never mix with another
    # newsroom's. Empty: the deployment's STRIPE_* settings (a deployment serving one newsroom).
    stripe_secret_key = EncryptedTextField(blank=True, help_text=_("Secret key of the newsroom's Stripe account."))
    stripe_publishable_key = EncryptedTextField(blank=True, help_text=_("Publishable key of the same account."))
    stripe_webhook_secret = EncryptedTextField(
        blank=True, help_text=_("Signing secret of the account's webhook endpoint /webhooks/stripe/<newsroom>.")
    )
    # Where that account's API answers; empty is Stripe. Only the demo and the tests point it at an emulator,
    # so it is not editable in forms: a typed URL would have our server send the secret key anywhere.
    stripe_api_base = models.CharField(max_length=200, blank=True, editable=False)
    # A supporter with nothing running and nothing newer than this is erased (`readerfund purge`, daily).
    retention_months = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Months after a supporter's last contribution or payment before their address and name are erased."
        ),
    )
    # When the worker's daily purge last ran for this newsroom: it claims the day by writing it.
    retention_purged_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Failed renewals: Stripe's Smart Retries (set in the Stripe dashboard; we then only follow its webhooks),
    # or our own schedule (RENEWAL_RETRY_DAYS) run by the worker. payments/dunning.py.
    stripe_smart_retries = models.BooleanField(
        default=False,
        help_text=_(
            "Stripe retries failed renewals (Smart Retries, set in Stripe's dashboard). Off: readerfund retries "
            "them itself on the days of RENEWAL_RETRY_DAYS and cancels the plan after the last."
        ),
    )
    # When the worker's daily look for cards about to expire last ran for this newsroom (claimed like the purge).
    cards_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def brand_colour_on_white_text(self) -> str:
        """What our pages and e-mails paint behind white text: the brand colour, if readable."""
        return accessible_brand_colour(self.brand_colour)

    @property
    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]

    @property
    def risk_country_codes(self) -> set[str]:
        return {code.strip().upper() for code in self.risk_countries.split(",") if code.strip()}


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        EDITOR = "editor", _("Editor")
        VIEWER = "viewer", _("Viewer")

    newsroom = models.ForeignKey(Newsroom, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["newsroom", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.newsroom} ({self.role})"
