"""The erasure page of the admin: what will go, a confirm button, then the erasure.

Mounted in config/urls.py under the customer's admin URL (admin/customers/customer/<id>/erase/)
before admin.site.urls. Who may erase is the customer admin's rule (`has_erase_permission`), so
the "Erase this person" action, the change-page link and this page agree.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from customers.models import Customer

from .erasure import ErasureBusy, customer_erase


def erase_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET: what will go, with a confirm button; POST: erase and record the audit entry."""
    customer_admin = admin.site.get_model_admin(Customer)
    if not customer_admin.has_erase_permission(request):
        raise PermissionDenied
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise Http404(_("No such customer."))
    if request.method == "POST":
        try:
            erasure = customer_erase(customer=customer, erased_by=request.user)
        except ErasureBusy:
            messages.error(
                request,
                _(
                    "A rebuild is rewriting this customer right now; nothing was erased. "
                    "Try again in a minute."
                ),
            )
            return HttpResponseRedirect(request.path)
        record = erasure.record
        messages.success(
            request,
            _("Customer %(id)s was erased: %(contacts)s CRM and %(chats)s chat records.")
            % {
                "id": customer_id,
                "contacts": record.counts["contacts"],
                "chats": record.counts["chat_contacts"],
            },
        )
        for sentence in erasure.follow_up:  # from insights: what happens to the figures
            messages.info(request, sentence)
        return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))
    context = {
        **admin.site.each_context(request),
        "opts": Customer._meta,
        "title": _("Erase this person"),
        "customer": customer,
        "contacts": customer.contacts.count(),
        "chat_contacts": customer.chat_contacts.count(),
    }
    return TemplateResponse(request, "admin/privacy/erase_confirm.html", context)
