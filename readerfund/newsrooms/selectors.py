"""Reads of newsrooms for the other apps."""

from readerfund.newsrooms.models import Newsroom


def origins_by_slug() -> dict[str, frozenset[str]]:
    """Every newsroom's allowed origins, by slug: what the core's CORS answers from."""
    return {n.slug: frozenset(n.origins) for n in Newsroom.objects.only("slug", "allowed_origins")}
