"""What must follow an edit of a newsroom in the admin, named by the apps that depend on it.

The newsrooms app imports none of them: each registers its follow-up once at start-up, in its
AppConfig.ready (appeals/apps.py: republish the appeals document, which carries the newsroom's name
and colours). The admin calls every one after saving.
"""

from __future__ import annotations

from collections.abc import Callable

from readerfund.newsrooms.models import Newsroom

_after_save: list[Callable[[Newsroom], object]] = []


def newsroom_after_save_register(follow_up: Callable[[Newsroom], object]) -> None:
    if follow_up not in _after_save:
        _after_save.append(follow_up)


def newsroom_saved(*, newsroom: Newsroom) -> None:
    """Run every follow-up registered for a newsroom that was just saved."""
    for follow_up in _after_save:
        follow_up(newsroom)
