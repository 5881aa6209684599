"""GET /api/v1/insights/owners/ (CONTRACT.md section 4): sales by owner (METRICS.md O).

A user who may see every record (accounts.view_all_records) gets every owner's row and the
team row; anyone else only its own row and `team` null. A sales rep holds
insights.view_own_sales, which opens this endpoint (and "My sales") but no other insights.
"""

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from rest_framework import serializers
from rest_framework.permissions import BasePermission

from accounts.admin_scoping import sees_all_records
from accounts.permission_preload import user_permissions_preload
from accounts.roles import VIEW_OWN_SALES
from insights.figures import figure_help
from insights.owners import sales_by_owner

from . import params as p
from .permissions import VIEW_INSIGHTS_PERMISSION
from .serializers import Count, InsightsResponse, Money
from .views import InsightsApi, _insights_schema

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

MONEY_FIELDS = {"revenue", "win_rate_pct", "avg_won_value", "open_value", "weighted_value"}
COUNT_FIELDS = ("won_deals", "lost_deals", "median_cycle_days", "new_buyers", "open_deals")


class CanViewOwnSales(BasePermission):
    """An authenticated user holding insights.view_insights or insights.view_own_sales."""

    message = "You need the insights.view_insights or insights.view_own_sales permission."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        user_permissions_preload(user=user)
        return user.has_perm(VIEW_INSIGHTS_PERMISSION) or user.has_perm(VIEW_OWN_SALES)


def _row_fields() -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {
        "owner": serializers.CharField(
            help_text="The owner's username; deals without an owner: `Unassigned`."
        )
    }
    for name in (*COUNT_FIELDS, *MONEY_FIELDS):
        help_text = figure_help(f"owner_{name}")
        fields[name] = Money(help_text) if name in MONEY_FIELDS else Count(help_text)
    fields["target"] = Money(figure_help("owner_target"), allow_null=True)
    fields["attainment_pct"] = Money(figure_help("owner_attainment_pct"), allow_null=True)
    order = ["owner", "won_deals", "revenue", "lost_deals", "win_rate_pct", "avg_won_value",
             "median_cycle_days", "new_buyers", "open_deals", "open_value", "weighted_value",
             "target", "attainment_pct"]  # fmt: skip
    return {name: fields[name] for name in order}


OwnerRowSerializer = type("OwnerRowSerializer", (serializers.Serializer,), _row_fields())


class TeamSerializer(serializers.Serializer):
    won_deals = Count("Won deals of every owner (and of none) closed in P.")
    revenue = Money("The sum of their values.")
    target = Money(figure_help("team_target"), allow_null=True)
    attainment_pct = Money("100 × revenue / target; null without a target.", allow_null=True)


class OwnersSerializer(InsightsResponse):
    owners = OwnerRowSerializer(many=True, help_text="A row per owner; revenue desc, then owner.")
    team = TeamSerializer(
        allow_null=True, help_text="The whole team; null for a user who sees only its own deals."
    )


@_insights_schema(p.PeriodParams, OwnersSerializer, "owners")
class OwnersApi(InsightsApi):
    permission_classes = [CanViewOwnSales]
    output_class = OwnersSerializer

    def figures(self, *, period) -> dict[str, Any]:
        user = self.request.user
        only = None if sees_all_records(user) else user.pk
        return asdict(sales_by_owner(period=period, only_owner=only))
