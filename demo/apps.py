from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Holds the seed_demo and ensure_demo_admin commands; no models, so never shown in admin."""

    name = "demo"
    verbose_name = "Demo"
