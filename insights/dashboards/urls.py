"""Admin URLs of the Customer Insights pages, mounted in config/urls.py before admin.site.urls.

`admin.site.admin_view` gives them the admin's login redirect and staff check; the views add
the insights permissions on top.
"""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path(
        "dashboard/",
        admin.site.admin_view(views.dashboard_view),
        name="insights_dashboard",
    ),
    path(
        "dashboard/xlsx/",
        admin.site.admin_view(views.dashboard_xlsx_view),
        name="insights_dashboard_xlsx",
    ),
    path(
        "dashboard/print/",
        admin.site.admin_view(views.print_view),
        name="insights_print",
    ),
    path(
        "dashboard/recompute/",
        admin.site.admin_view(views.recompute_view),
        name="insights_recompute",
    ),
    path(
        "my-sales/",
        admin.site.admin_view(views.my_sales_view),
        name="insights_my_sales",
    ),
    path(
        "customer360/<int:customer_id>/",
        admin.site.admin_view(views.customer360_view),
        name="insights_customer360",
    ),
]
