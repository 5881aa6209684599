import json
from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.admin_scoping import OwnerScopedAdminMixin, ReadOnlyListAdmin, sees_all_records

from . import rules
from .admin_filters import CloseDateFilter
from .currency import NO_EXCHANGE_RATE, currency_code_valid, currency_normalize, deals_without_rate
from .entry import deal_amount_display, deal_amount_mismatch, deal_items_total, item_unit_price
from .models import (
    Deal,
    DealItem,
    DealWithoutRate,
    ExchangeRate,
    LostReason,
    PipelineStage,
    Product,
    SalesTarget,
)
from .pipeline import expected_close_suggestions
from .services import DealError, deal_closed_at, deal_status, lost_reason_clashing


@admin.register(PipelineStage)
class PipelineStageAdmin(admin.ModelAdmin):
    list_display = ["name", "outcome", "default_win_probability", "order"]
    list_editable = ["order"]
    list_filter = ["outcome"]
    search_fields = ["name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "sku", "price", "external_id"]
    search_fields = ["name", "sku", "external_id"]


class LostReasonForm(forms.ModelForm):
    class Meta:
        model = LostReason
        fields = ["name"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = lost_reason_clashing(name=name, exclude_pk=self.instance.pk)
        if clash is not None:
            raise forms.ValidationError(
                _("“%(existing)s” is already in the catalogue; names ignore letter case."),
                params={"existing": clash.name},
                code="duplicate",
            )
        return name


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    form = LostReasonForm
    list_display = ["name", "deal_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(deal_count=Count("deals"))

    @admin.display(description=_("deals"), ordering="deal_count")
    def deal_count(self, obj: LostReason) -> int:
        return obj.deal_count


def _currency_clean(value: str, *, blank: bool) -> str:
    """A currency code as stored: trimmed and upper-cased; ISO 4217's shape (three letters)."""
    code = currency_normalize(value)
    if blank and code == "":
        return code
    if not currency_code_valid(code):
        raise forms.ValidationError(
            _("“%(value)s” is not a currency code: three letters (ISO 4217), such as IDR or USD."),
            params={"value": value},
            code="currency",
        )
    return code


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ["currency", "date", "rate"]

    def clean_currency(self) -> str:
        return _currency_clean(self.cleaned_data.get("currency", ""), blank=False)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Units of the base currency per unit of another, from a date on (METRICS.md §3)."""

    form = ExchangeRateForm
    list_display = ["currency", "date", "rate"]
    list_filter = ["currency"]
    search_fields = ["currency"]
    date_hierarchy = "date"
    ordering = ["currency", "-date"]


@admin.register(DealWithoutRate)
class DealWithoutRateAdmin(ReadOnlyListAdmin):
    """A read-only list of the deals left out of every figure for want of an exchange rate."""

    list_display = ["id", "__str__", "currency", "amount", "closed_at", "owner", "problem", "fix"]
    list_select_related = ["owner"]
    search_fields = ["name", "external_id", "currency"]
    view_permission = "deals.view_dealwithoutrate"

    def get_queryset(self, request):
        queryset = deals_without_rate(super().get_queryset(request), today=timezone.localdate())
        if not sees_all_records(request.user):
            queryset = queryset.filter(owner=request.user)  # a rep: their own deals
        return queryset

    @admin.display(description=_("problem"))
    def problem(self, obj: Deal) -> str:
        return str(NO_EXCHANGE_RATE)

    @admin.display(description=_("fix"))
    def fix(self, obj: Deal) -> str:
        links = [(reverse("admin:deals_exchangerate_changelist"), _("exchange rates"))]
        links.insert(0, (reverse("admin:deals_deal_change", args=[obj.pk]), _("edit deal")))
        return format_html_join(" · ", "<a href='{}'>{}</a>", links)


class DealItemForm(forms.ModelForm):
    """A line item; the unit price may be left empty to take the product's price."""

    class Meta:
        model = DealItem
        fields = ["product", "quantity", "unit_price"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit_price"].required = False
        self.fields["unit_price"].help_text = _("Empty: the product's price.")

    def clean(self):
        cleaned = super().clean()
        price = item_unit_price(
            product=cleaned.get("product"), unit_price=cleaned.get("unit_price")
        )
        if price is None and cleaned.get("product") is not None:
            self.add_error("unit_price", _("The product has no price: enter the unit price."))
        cleaned["unit_price"] = price
        self.instance.unit_price = price
        return cleaned


class DealItemInline(admin.TabularInline):
    model = DealItem
    form = DealItemForm
    extra = 1
    autocomplete_fields = ["product"]


class DealForm(forms.ModelForm):
    class Meta:
        model = Deal
        fields = [
            "name",
            "external_id",
            "contact",
            "company",
            "owner",
            "stage",
            "win_probability",
            "lost_reason",
            "created_at",
            "closed_at",
            "expected_close_at",
            "amount",
            "currency",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "expected_close_at" in self.fields:
            self._expected_close_placeholder()
        if "amount" in self.fields:
            self.fields["amount"].required = False
            self.fields["amount"].help_text = _(
                "Empty: the total of the line items below (quantity × unit price)."
            )
            # Labels for static/deals/deal_form.js, in the reader's language.
            self.fields["amount"].widget.attrs.update(
                {
                    "data-use-label": _("Use the items' total"),
                    "data-total-label": _("Items' total:"),
                    "data-differs-label": _("Differs from the items' total:"),
                }
            )

    def _expected_close_placeholder(self) -> None:
        """Suggest a date from the stage's typical cycle as a placeholder, never as a value:
        static/deals/deal_form.js follows the stage chosen; empty stays empty (undated)."""
        field = self.fields["expected_close_at"]
        field.help_text = _(
            "When you expect this deal to close. Empty: undated. The grey date is only a "
            "suggestion from the stage's typical cycle; it is not saved unless you type it."
        )
        suggestions = expected_close_suggestions(now=timezone.now(), today=timezone.localdate())
        widgets = getattr(field.widget, "widgets", [field.widget])
        attrs = {"data-suggestions": json.dumps({str(k): v for k, v in suggestions.items()})}
        stage_id = self.initial.get("stage") or self.instance.stage_id
        if stage_id in suggestions:
            attrs["placeholder"] = suggestions[stage_id]
        widgets[0].attrs.update(attrs)

    def clean_currency(self) -> str:
        return _currency_clean(self.cleaned_data.get("currency", ""), blank=True)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("amount") is None and "amount" in self.fields:
            # Filled from the items once they are saved (DealAdmin.save_related).
            cleaned["amount"] = Decimal("0.00")
            self.instance.amount = Decimal("0.00")
            self.amount_from_items = True
        stage = cleaned.get("stage")
        if stage is None:
            return cleaned
        previous = None
        if self.instance.pk is not None and self.instance.stage_id is not None:
            original = Deal.objects.select_related("stage").get(pk=self.instance.pk)
            previous = deal_status(stage=original.stage, win_probability=original.win_probability)
        try:
            cleaned["closed_at"] = deal_closed_at(
                stage=stage,
                win_probability=cleaned.get("win_probability"),
                lost_reason=cleaned.get("lost_reason"),
                closed_at=cleaned.get("closed_at"),
                previous_status=previous,
                at=timezone.now(),
            )
        except DealError as error:
            self.add_error(error.field, error.message)
        return cleaned


CLOSED = "closed"  # won or lost


class DealStatusFilter(admin.SimpleListFilter):
    """Won, lost or open as METRICS.md §3 defines it (deals/rules.py)."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            (rules.OPEN, _("Open")),
            (rules.WON, _("Won")),
            (rules.LOST, _("Lost")),
            (CLOSED, _("Won or lost")),
        ]

    def queryset(self, request, queryset):
        q = {
            rules.OPEN: rules.open_q,
            rules.WON: rules.won_q,
            rules.LOST: rules.lost_q,
            CLOSED: lambda: ~rules.open_q(),  # a win rate's deals (METRICS.md O)
        }
        return queryset.filter(q[self.value()]()) if self.value() in q else queryset


class ExpectedCloseFilter(admin.SimpleListFilter):
    """Where the expected close date stands against today (local dates, METRICS.md §P).

    A range of expected close dates is `expected_from` / `expected_to` (YYYY-MM-DD, both
    included): the forecast's drill-downs use it with `status=open` and the stage.
    """

    title = _("expected close")
    parameter_name = "expected"

    def __init__(self, request, params, model, model_admin):
        self.range = {
            name: _date_param(params.pop(name, None)) for name in ("expected_from", "expected_to")
        }
        super().__init__(request, params, model, model_admin)

    def has_output(self) -> bool:
        return True

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue")), ("undated", _("Undated"))]

    def expected_parameters(self):
        return [self.parameter_name, "expected_from", "expected_to"]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            queryset = queryset.filter(expected_close_at__date__lt=today)
        elif self.value() == "undated":
            queryset = queryset.filter(expected_close_at__isnull=True)
        if self.range["expected_from"]:
            queryset = queryset.filter(expected_close_at__date__gte=self.range["expected_from"])
        if self.range["expected_to"]:
            queryset = queryset.filter(expected_close_at__date__lte=self.range["expected_to"])
        return queryset


def _date_param(value) -> date | None:
    if isinstance(value, list):
        value = value[-1] if value else None
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@admin.register(Deal)
class DealAdmin(OwnerScopedAdminMixin, admin.ModelAdmin):
    form = DealForm
    owner_scoped_relations = ("contact",)
    inlines = [DealItemInline]
    list_display = [
        "__str__",
        "contact",
        "company",
        "stage",
        "amount_shown",
        "created_at",
        "closed_at",
        "expected_close_at",
        "lost_reason",
        "owner",
    ]
    # Status, close date and expected close: the drill-downs of the forecast and of sales by
    # owner (METRICS.md P, O).
    list_filter = [
        DealStatusFilter,
        ExpectedCloseFilter,
        "stage",
        "stage__outcome",
        "owner",
        "created_at",
        "expected_close_at",
        "lost_reason",
        CloseDateFilter,
    ]
    list_select_related = ["contact", "company", "stage", "lost_reason", "owner"]
    search_fields = [
        "name",
        "external_id",
        "contact__first_name",
        "contact__last_name",
        "contact__email",
        "company__name",
    ]
    autocomplete_fields = ["contact", "company", "stage", "lost_reason", "owner"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["name", "external_id", "contact", "company", "owner"]}),
        (
            _("Pipeline"),
            {
                "fields": [
                    "stage",
                    "win_probability",
                    "expected_close_at",
                    "lost_reason",
                    "created_at",
                    "closed_at",
                ]
            },
        ),
        (_("Value"), {"fields": ["amount", "currency"]}),
    ]

    class Media:
        js = ["deals/deal_form.js"]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_shown(self, obj: Deal) -> str:
        return deal_amount_display(obj.amount, obj.currency)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        deal = form.instance
        if getattr(form, "amount_from_items", False):
            total = deal_items_total(deal=deal)
            if total is not None:
                deal.amount = total
                deal.save(update_fields=["amount"])
                messages.info(
                    request,
                    _("The amount was taken from the line items: %(total)s.")
                    % {"total": deal_amount_display(total, deal.currency)},
                )
                return
            messages.warning(request, _("No amount and no line items: the amount is 0."))
            return
        mismatch = deal_amount_mismatch(deal=deal)
        if mismatch is not None:
            amount, total = mismatch
            messages.warning(
                request,
                _(
                    "The amount (%(amount)s) differs from the total of the line items "
                    "(%(total)s). Check which is right."
                )
                % {
                    "amount": deal_amount_display(amount, deal.currency),
                    "total": deal_amount_display(total, deal.currency),
                },
            )


class SalesTargetForm(forms.ModelForm):
    class Meta:
        model = SalesTarget
        fields = ["owner", "month", "amount"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].help_text = _("Empty: the target of the whole team.")

    def clean_month(self):
        # Any day picks its month: a target is per calendar month (METRICS.md O).
        month = self.cleaned_data["month"]
        return month.replace(day=1) if month else month


@admin.register(SalesTarget)
class SalesTargetAdmin(admin.ModelAdmin):
    """Monthly revenue targets: sales managers edit them; a sales rep reads its own."""

    form = SalesTargetForm
    list_display = ["owner_shown", "month", "amount"]
    list_filter = ["month", "owner"]
    list_select_related = ["owner"]
    date_hierarchy = "month"
    search_fields = ["owner__username"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_all_records(request.user):
            return queryset
        return queryset.filter(owner=request.user)

    def get_list_filter(self, request):
        return self.list_filter if sees_all_records(request.user) else ["month"]

    @admin.display(description=_("owner"), ordering="owner__username")
    def owner_shown(self, obj: SalesTarget) -> str:
        return obj.owner.get_username() if obj.owner_id else str(_("Team"))
