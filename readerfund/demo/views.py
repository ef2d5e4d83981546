from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from readerfund.core.locales import locale_or
from readerfund.demo.articles import ARTICLES
from readerfund.newsrooms.models import Newsroom


def demo_only() -> None:
    if not settings.DEMO:
        raise Http404("The demo site is off (set READERFUND_DEMO=1, or run `make demo`).")


def home(request: HttpRequest) -> HttpResponse:
    demo_only()
    return redirect("demo-article-1", slug="demo")


def article(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    demo_only()
    newsroom = Newsroom.objects.filter(slug=slug).first()
    if newsroom is None or number not in ARTICLES:
        raise Http404("No such article.")
    lang = locale_or(request.GET.get("lang"))
    context = {
        "newsroom": newsroom,
        "article": ARTICLES[number],
        "number": number,
        "others": [n for n in ARTICLES if n != number],
        "lang": lang,
    }
    return render(request, "demo/article.html", context)
