from django.http import Http404

from readerfund.newsrooms.models import Newsroom


def newsroom_get(*, slug: str) -> Newsroom:
    try:
        return Newsroom.objects.get(slug=slug)
    except Newsroom.DoesNotExist:
        raise Http404(f"No newsroom '{slug}'.") from None
