from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "readerfund.core"
    label = "core"

    def ready(self) -> None:
        from readerfund.core.periodic import periodic_jobs_register
        from readerfund.core.ratelimit import rate_limit_prune
        from readerfund.core.tasks import task_results_prune

        periodic_jobs_register(rate_limit_prune, task_results_prune)
