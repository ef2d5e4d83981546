from django.urls import path

from readerfund.demo import views

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:slug>/", views.article, {"number": 1}, name="demo-article-1"),
    path("<slug:slug>/<int:number>/", views.article, name="demo-article"),
]
