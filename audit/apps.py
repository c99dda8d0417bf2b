from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from audit import admin_actions  # noqa: F401  (connects the admin LogEntry receiver)
