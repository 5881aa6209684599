from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

from accounts.permission_preload import user_permissions_preload

if TYPE_CHECKING:  # rest_framework.views imports this module through the settings: no cycle
    from rest_framework.request import Request
    from rest_framework.views import APIView

VIEW_INSIGHTS_PERMISSION = "insights.view_insights"


class CanViewInsights(BasePermission):
    """An authenticated user holding insights.view_insights (CONTRACT.md section 4).

    Anonymous requests fail the check before the permission lookup, so DRF answers 401 (or 403
    for a session-only client); an authenticated user without the permission gets 403.
    """

    message = "You need the insights.view_insights permission."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        user_permissions_preload(user=user)  # one query instead of two; masking reuses it
        return user.has_perm(VIEW_INSIGHTS_PERMISSION)
