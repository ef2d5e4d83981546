"""`readerfund payment-scripts`: the inventory of the scripts on our payment pages (PCI DSS 4.0 6.4.3).

Each of our scripts with the page it runs on, why it is there and the sha384 the pages require of it
(Subresource Integrity), read from the files served now; then Stripe.js, admitted by origin. Keep the
output with the review of each release: a hash that changed without a reviewed change to the script is
the alarm.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from readerfund.checkout.scripts import OUR_SCRIPTS, STRIPE_JS_PURPOSE


class Command(BaseCommand):
    help = "List the scripts of the payment pages, why each is there, and the integrity hash pages require."

    def handle(self, *args: Any, **options: Any) -> None:
        for name, script in OUR_SCRIPTS.items():
            self.stdout.write(f"{reverse(name)}\n  pages:     {', '.join(script.pages)}")
            self.stdout.write(f"  purpose:   {script.purpose}\n  integrity: {script.integrity()}\n")
        self.stdout.write(f"{settings.STRIPE_JS_URL} (or a newsroom's emulator's stand-in)")
        self.stdout.write(f"  pages:     every payment page above\n  purpose:   {STRIPE_JS_PURPOSE}")
        self.stdout.write("  integrity: none (admitted by origin in the payment pages' Content-Security-Policy)")
        self.stdout.write(
            "Inline scripts: none on payment pages; elsewhere only with the request's CSP nonce "
            "(the thank-you page's, the receipt's print button)."
        )
