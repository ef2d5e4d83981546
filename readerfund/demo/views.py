from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from readerfund.demo.articles import ARTICLES
from readerfund.newsrooms.models import Newsroom


def home(request: HttpRequest) -> HttpResponse:
    return redirect("demo-article-1", slug="demo")


def article(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    newsroom = Newsroom.objects.filter(slug=slug).first()
    if newsroom is None or number not in ARTICLES:
        raise Http404("No such article.")
    lang = request.GET.get("lang", "en") if request.GET.get("lang") in ("en", "ru") else "en"
    context = {
        "newsroom": newsroom,
        "article": ARTICLES[number],
        "number": number,
        "others": [n for n in ARTICLES if n != number],
        "lang": lang,
    }
    return render(request, "demo/article.html", context)
