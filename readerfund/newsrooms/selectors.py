"""Reads of newsrooms for the other apps."""

from django.http import Http404

from readerfund.newsrooms.models import Newsroom


def newsroom_get(*, slug: str) -> Newsroom:
    try:
        return Newsroom.objects.get(slug=slug)
    except Newsroom.DoesNotExist:
        raise Http404(f"No newsroom '{slug}'.") from None


def origins_by_slug() -> dict[str, frozenset[str]]:
    """Every newsroom's allowed origins, by slug: what the core's CORS answers from."""
    return {n.slug: frozenset(n.origins) for n in Newsroom.objects.only("slug", "allowed_origins")}
