from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Loads CSV files into the CRM, deals and chats: it spans the three, so it sits above them."""

    name = "imports"
    verbose_name = _("Import")
