from typing import Any

from django.apps import AppConfig


def _republish(newsroom: Any) -> None:
    from readerfund.appeals.services import appeals_publish

    appeals_publish(newsroom=newsroom)


class AppealsConfig(AppConfig):
    name = "readerfund.appeals"
    label = "appeals"

    def ready(self) -> None:
        # The published document carries the newsroom's name and colours: an edit republishes it.
        from readerfund.newsrooms.edits import newsroom_after_save_register

        newsroom_after_save_register(_republish)
