from django.apps import AppConfig


class NewsroomsConfig(AppConfig):
    name = "readerfund.newsrooms"
    label = "newsrooms"
