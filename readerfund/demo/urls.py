from django.urls import path

from readerfund.demo import outbox, views

urlpatterns = [
    path("", views.home, name="home"),
    path("demo/outbox/", outbox.outbox, name="demo-outbox"),
    path("<slug:slug>/", views.article, {"number": 1}, name="demo-article-1"),
    path("<slug:slug>/<int:number>/", views.article, name="demo-article"),
]
