from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Registers the OpenAPI descriptions of the authentication classes (drf-spectacular).
        from stardag_site.api import schema  # noqa: F401
