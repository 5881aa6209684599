from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Holds the seed_demo and ensure_demo_admin commands; no models."""

    name = "demo"
    verbose_name = _("Demo")
