from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "insights"
    verbose_name = _("Customer Insights")

    def ready(self) -> None:
        # privacy never imports insights: an erasure announces itself, and the figures follow.
        from privacy.erasure import person_erased, person_erasing

        from .enqueue import erasure_follow_up
        from .erasure_traces import segment_traces_redact

        person_erased.connect(erasure_follow_up, dispatch_uid="insights.erasure_follow_up")
        # Inside the erasure's transaction: saved segments that name the person.
        person_erasing.connect(segment_traces_redact, dispatch_uid="insights.segment_traces")

        # Edits in the admin queue a debounced rebuild once they commit (with a broker).
        from .freshness import changes_watch

        changes_watch()

        # SQLite gets the engine's SQL functions on every connection, before its first query.
        from django.db.backends.signals import connection_created

        from .sqlite_functions import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="insights.sqlite_functions")
