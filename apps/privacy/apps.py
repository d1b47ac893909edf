from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """A member's own data: download all of it, or delete the account while the
    community's ledger stays complete and verifiable. Each app says what it holds about a
    member in its ``personal_data.py`` (export) and ``erasure.py`` (cancel and erase),
    found here at start-up as the admin finds ``admin.py``."""

    name = "apps.privacy"
    label = "privacy"
    verbose_name = "Privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from . import kinds

        kinds.register()

        autodiscover_modules("personal_data")
        autodiscover_modules("erasure")
