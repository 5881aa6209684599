"""Admin URLs of the Import CSV page, mounted in config/urls.py before admin.site.urls."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", admin.site.admin_view(views.import_view), name="imports_import"),
    path(
        "template/<slug:kind>.csv",
        admin.site.admin_view(views.import_template_view),
        name="imports_import_template",
    ),
    path(
        "<int:job_id>/",
        admin.site.admin_view(views.import_job_view),
        name="imports_import_job",
    ),
    path(
        "<int:job_id>/confirm/",
        admin.site.admin_view(views.import_confirm_view),
        name="imports_import_confirm",
    ),
    path(
        "<int:job_id>/rejected.csv",
        admin.site.admin_view(views.import_rejected_view),
        name="imports_import_rejected",
    ),
]
