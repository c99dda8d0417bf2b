from django.apps import AppConfig


class LocksConfig(AppConfig):
    name = "locks"
    verbose_name = "Locks"

    def ready(self) -> None:
        """Hand the v2 claiming start its concurrency limits (tasks may not import locks)."""
        from locks.services_v2 import limits_for_start
        from tasks.v2.services import set_limit_provider

        set_limit_provider(limits_for_start)
