"""Mounted in config/urls.py at admin/customers/customer/, before admin.site.urls."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path(
        "<int:customer_id>/erase/",
        admin.site.admin_view(views.erase_view),
        name="privacy_customer_erase",
    ),
]
