from django.apps import AppConfig


class SupportersConfig(AppConfig):
    name = "readerfund.supporters"
    label = "supporters"

    def ready(self) -> None:
        # The purge claims each newsroom's day on its row, so it runs once a day however many workers scan.
        from readerfund.core.periodic import periodic_jobs_register
        from readerfund.supporters.retention import supporters_lapsed_purge_due
        from readerfund.supporters.session import supporter_sessions_prune
        from readerfund.supporters.signin import signin_deliver_due, signin_requests_prune

        periodic_jobs_register(signin_deliver_due, signin_requests_prune, supporter_sessions_prune)
        periodic_jobs_register(supporters_lapsed_purge_due)
