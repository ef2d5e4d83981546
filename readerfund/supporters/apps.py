from django.apps import AppConfig


class SupportersConfig(AppConfig):
    name = "readerfund.supporters"
    label = "supporters"

    def ready(self) -> None:
        from readerfund.core.periodic import periodic_jobs_register
        from readerfund.supporters.session import supporter_sessions_prune
        from readerfund.supporters.signin import signin_requests_prune

        periodic_jobs_register(signin_requests_prune, supporter_sessions_prune)
