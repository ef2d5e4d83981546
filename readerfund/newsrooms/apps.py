from django.apps import AppConfig


class NewsroomsConfig(AppConfig):
    name = "readerfund.newsrooms"
    label = "newsrooms"

    def ready(self) -> None:
        # The core's CORS knows no newsroom: it asks this app for the origins.
        from readerfund.core.cors import cors_origins_source_set
        from readerfund.newsrooms.selectors import origins_by_slug

        cors_origins_source_set(origins_by_slug)
