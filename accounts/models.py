from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessPolicy(models.Model):
    """Holds the cross-cutting permissions of issue 8; no rows are ever stored.

    Django ties every permission to a content type, and a content type to a model. Neither
    permission belongs to one CRM model (personal data spans contacts, chat contacts and
    customers; "every rep's records" spans contacts and deals), so they hang off this
    holder (an empty table). `default_permissions = ()` keeps the pointless add/change/
    delete/view permissions of the holder itself out of the admin's permission list.
    """

    class Meta:
        verbose_name = _("access policy")
        default_permissions = ()
        permissions = [
            ("view_personal_data", _("Can see names, emails and phones")),
            ("view_all_records", _("Can see every rep's records")),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
