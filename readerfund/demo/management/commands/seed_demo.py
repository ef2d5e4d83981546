from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from readerfund.demo.seed import demo_seed


class Command(BaseCommand):
    help = "Create (or refresh) the demo newsroom 'demo' with a live campaign."

    def handle(self, *args: Any, **options: Any) -> None:
        newsroom = demo_seed(site_url=settings.SITE_URL)
        self.stdout.write(f"Seeded newsroom '{newsroom.slug}'.")
