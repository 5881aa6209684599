from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .watched import ChangeKind


class RebuildRun(models.Model):
    """One run of the snapshot + rollup rebuild, kept for the admin's run list."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (another rebuild was running)")
        UNCHANGED = "unchanged", _("Nothing changed (the figures stay current)")

    started_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True
    )
    trigger = models.CharField(_("started by"), max_length=100, blank=True)
    rows = models.JSONField(_("rows written"), default=dict, blank=True)
    timings = models.JSONField(_("phase timings (s)"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("rebuild run")
        verbose_name_plural = _("rebuild runs")
        ordering = ["-started_at"]
        permissions = [
            ("view_insights", _("Can view customer insights")),
            ("run_rebuild", _("Can start an insights rebuild")),
            # A sales rep's: its own sales figures (the owners endpoint, "My sales") and no
            # customer figures (README, "Who sees what").
            ("view_own_sales", _("Can view their own sales figures")),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        # A succeeded run's finished_at is its now (METRICS.md §L: the figures are as of it),
        # read while it runs; the time to its commit is recorded beside the phases.
        if "to_commit" in self.timings:
            return float(self.timings["to_commit"])
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CustomerStats(models.Model):
    """Per-customer totals for lists and filters, written by the rebuild (all time)."""

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="stats"
    )
    lifetime_revenue = models.DecimalField(
        _("lifetime revenue"), max_digits=20, decimal_places=2, default=0, db_index=True
    )
    won_deals = models.PositiveIntegerField(_("won deals"), default=0, db_index=True)
    deals = models.PositiveIntegerField(_("deals"), default=0, db_index=True)
    chat_rooms = models.PositiveIntegerField(_("chat rooms"), default=0)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    # Local close day (date ordinal) of its latest won deal, 0 for none (not NULL: NULLs sort
    # first on one database and last on the other, and "most recent first" must end with the
    # customers who never bought); indexed for the list's ordering.
    last_purchase_day = models.IntegerField(_("last purchase"), default=0, db_index=True)

    class Meta:
        verbose_name = _("customer totals")
        verbose_name_plural = _("customer totals")

    def __str__(self) -> str:
        return f"stats of customer {self.customer_id}"


# --- Rollups (written only by insights.rollup; see its docstring for the design) -------------
# Days are stored as proleptic ordinals (date.toordinal()) of local dates in settings.TIME_ZONE:
# plain integers compare, subtract and index the same on SQLite and PostgreSQL.
# Money is stored as integer cents (line revenue as 1/10000) so sums are exact on every database.


class DealFact(models.Model):
    """One row per deal with its resolved customer, local days, status and value (rebuild input)."""

    deal_id = models.BigIntegerField(primary_key=True)
    customer_id = models.BigIntegerField(null=True, db_index=True)
    first_seen_day = models.IntegerField(null=True)
    created_day = models.IntegerField(db_index=True)
    close_day = models.IntegerField(db_index=True)
    status = models.CharField(max_length=4)  # won | lost | open (METRICS.md section 3)
    amount_cents = models.BigIntegerField()  # in the base currency (METRICS.md §3)
    reason = models.CharField(max_length=255, blank=True)  # lost reason label, "Unspecified"
    # The pipeline (METRICS.md §P): the deal's stage, its win probability (its own, else the
    # stage's default) and the local day of its expected close (null: undated).
    stage_id = models.BigIntegerField(null=True)
    win_probability = models.SmallIntegerField(default=0)
    expected_close_day = models.IntegerField(null=True)
    # The exchange rate the value was converted at; empty: the deal is in the base currency.
    # A deal whose currency has no rate has no row (deals.currency).
    rate = models.DecimalField(max_digits=24, decimal_places=10, null=True)
    # The owner's user id (0: none, "Unassigned"; METRICS.md 3, O).
    owner_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("deal fact")
        indexes = [
            # The open deals with what OpenPipelineDay sums of them (insights.forecast): the
            # rebuild's one pass over them is index-only on PostgreSQL (SQLite ignores
            # INCLUDE). Readers of the pipeline read OpenPipelineDay since round eight; before,
            # they read this index (305 → 44 ms for 90 days at 1M people).
            models.Index(
                fields=["expected_close_day", "stage_id"],
                include=["amount_cents", "win_probability", "owner_id"],
                condition=models.Q(status="open"),
                name="dealfact_open_pipeline",
            ),
            # A saved segment's lost deals in P (insights.segment_figures), index-only.
            models.Index(
                fields=["customer_id", "close_day"],
                condition=models.Q(status="lost"),
                name="dealfact_lost_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"deal {self.deal_id} {self.status}"


class GapCell(models.Model):
    """Distinct-customer counts for any range ("gap encoding", see insights.rollup).

    `customers` customers have a `metric` event on `day` whose previous event of that kind was
    on `previous_day` (0: none). Metric names are in insights/metric_keys.py.
    """

    metric = models.CharField(max_length=32)
    dim = models.CharField(max_length=255, default="", blank=True)
    # The customer's previous event day of this metric (0: this is the first one).
    previous_day = models.IntegerField()
    day = models.IntegerField()
    # 0, or the customer's first-seen day when it is later than `day`; those rows are stored
    # under metric_keys.seen_later(metric) and count only when first seen by the period's end.
    first_seen_later = models.IntegerField(default=0)
    customers = models.BigIntegerField()
    # Running sum of `customers` over previous_day ascending within (metric, dim, day): the
    # customers of `day` whose previous event is before any s > previous_day, in one index seek.
    running_customers = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("distinct-customer cell")
        constraints = [
            # The grain, and the index of every read (metric, dim, day, previous_day < s).
            models.UniqueConstraint(
                fields=["metric", "dim", "day", "previous_day", "first_seen_later"],
                name="gapcell_grain",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.previous_day}->{self.day}: {self.customers}"


class DailySum(models.Model):
    """Additive figures per local day (and dimension); `first_seen_later` as in GapCell."""

    metric = models.CharField(max_length=32)
    dim = models.CharField(max_length=255, default="", blank=True)
    day = models.IntegerField()
    first_seen_later = models.IntegerField(default=0)
    count = models.BigIntegerField(default=0)
    # Cents; product revenue in 1/10000, which can pass bigint (10^6 x 10^12 on one line).
    amount = models.DecimalField(max_digits=38, decimal_places=0, default=0)
    quantity = models.BigIntegerField(default=0)  # hundredths

    class Meta:
        verbose_name = _("daily sum")
        indexes = [models.Index(fields=["metric", "day", "dim"], name="dailysum_lookup")]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "dim", "day", "first_seen_later"], name="dailysum_grain"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.dim} {self.day}"


class OwnerDaySum(models.Model):
    """The per-owner grain of the deal facts (METRICS.md O and P), summed per local day.

    kind won / lost: deals closed on `day` (won: per `cycle_days`, close day - created day);
    buyer: customers whose first buying day is `day` with a won deal of the owner closed then.
    The open pipeline per owner is read from DealFact itself (insights.forecast).
    owner_id 0 is "no owner" (a NULL would need nulls_distinct for the upsert's conflict key).
    """

    kind = models.CharField(max_length=8)
    owner_id = models.BigIntegerField()
    day = models.IntegerField()
    cycle_days = models.IntegerField(default=0)
    deals = models.BigIntegerField(default=0)  # deals, or customers for kind buyer
    amount = models.DecimalField(max_digits=38, decimal_places=0, default=0)  # cents

    class Meta:
        verbose_name = _("owner day sum")
        indexes = [models.Index(fields=["day", "kind"], name="ownerdaysum_lookup")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "owner_id", "day", "cycle_days"], name="ownerdaysum_grain"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.owner_id} {self.day}"


class RepeatCell(models.Model):
    """Customers by the close days of their first and second won deal."""

    first_won_day = models.IntegerField()
    second_won_day = models.IntegerField(null=True)  # NULL: no second won deal
    customers = models.BigIntegerField()

    class Meta:
        verbose_name = _("repeat-purchase cell")
        indexes = [
            models.Index(fields=["first_won_day", "second_won_day"], name="repeatcell_lookup")
        ]
        constraints = [
            # One row per pair; a NULL second day is one group too (GROUP BY), so it is compared
            # as 0, which no day ordinal is (NULLS NOT DISTINCT exists on PostgreSQL 15+ only).
            models.UniqueConstraint(
                F("first_won_day"),
                Coalesce(F("second_won_day"), Value(0)),
                name="repeatcell_grain",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_won_day}/{self.second_won_day}: {self.customers}"


class CustomerWonDay(models.Model):
    """Won deals of a customer per close day: the input of RFM and the top-20% share."""

    customer_id = models.BigIntegerField()
    day = models.IntegerField()
    won_deals = models.IntegerField()
    revenue_cents = models.BigIntegerField()

    class Meta:
        verbose_name = _("customer won day")
        constraints = [
            # The grain, and the index of every read (by day, then customer).
            models.UniqueConstraint(fields=["day", "customer_id"], name="customerwonday_grain"),
        ]
        indexes = [
            # A saved segment's figures merge-join its sorted customer ids to this index and
            # read only the index (insights.segment_figures).
            models.Index(
                fields=["customer_id", "day", "won_deals", "revenue_cents"],
                name="customerwonday_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} day {self.day}"


class FigureCache(models.Model):
    """Answers of insights.queries, keyed by version, time zone, run and parameters."""

    key = models.CharField(max_length=255, unique=True)
    payload = models.JSONField()

    class Meta:
        verbose_name = _("cached figure")

    def __str__(self) -> str:
        return self.key


# --- Predicted customer value (METRICS.md V; written by insights.customer_value) ---------------


class CustomerValueFit(models.Model):
    """The purchase model (the default, MBG/NBD) + Gamma-Gamma fit of the last rebuild: as of
    today, horizon 365 days.

    One row (replaced by each rebuild). Parameters are null when the model could not be fitted;
    `reason` then names why (insights.clv.ModelError.reason).
    """

    as_of_day = models.IntegerField()  # proleptic ordinal of the as-of date A
    horizon = models.IntegerField()
    model = models.CharField(max_length=8, default="mbgnbd")
    fitted = models.BooleanField(default=False)
    r = models.FloatField(null=True)
    alpha = models.FloatField(null=True)
    a = models.FloatField(null=True)
    b = models.FloatField(null=True)
    p = models.FloatField(null=True)
    q = models.FloatField(null=True)
    gamma = models.FloatField(null=True)
    log_likelihood = models.FloatField(null=True)
    message = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=16, blank=True)

    class Meta:
        verbose_name = _("customer value fit")

    def __str__(self) -> str:
        return f"customer value fit as of {self.as_of_day}: {self.fitted}"


class OpenPipelineDay(models.Model):
    """The open deals (METRICS.md §P) summed per expected close day, stage and owner: what a
    period's pipeline, the overdue and the undated deals read (insights.forecast), a few rows
    a day instead of every open deal. Rewritten whole from DealFact by every rebuild."""

    day = models.IntegerField(null=True)  # expected close day, proleptic ordinal; null: undated
    stage_id = models.BigIntegerField(null=True)
    owner_id = models.BigIntegerField()  # 0: none, as in DealFact
    deals = models.IntegerField()
    value_cents = models.BigIntegerField()  # in the base currency
    weighted = models.BigIntegerField()  # Σ cents × win probability (percent), exact

    class Meta:
        verbose_name = _("open pipeline day")
        indexes = [models.Index(fields=["day", "stage_id"], name="openpipelineday_day")]

    def __str__(self) -> str:
        return f"{self.day} stage {self.stage_id} owner {self.owner_id}: {self.deals}"


class ForecastBacktest(models.Model):
    """The forecast's backtest (METRICS.md §P) as of the rebuild's day, computed in the rebuild
    so that no reader pays the model fit as of today − 90 and the past pipeline from the deal
    history; a reader on another day computes its own (insights.forecast.backtest)."""

    day = models.DateField(unique=True)  # the rebuild's local today
    payload = models.JSONField()

    class Meta:
        verbose_name = _("forecast backtest")

    def __str__(self) -> str:
        return f"backtest of {self.day}"


class CustomerValueTriple(models.Model):
    """The purchase model's inputs as of a day the rebuild fits or backtests (METRICS.md V):
    each distinct (x, t_x, T) of the calibrated customers with their count, repeat revenue and
    revenue. A figure reads these few thousand rows instead of a pass over CustomerWonDay;
    a day without rows is computed from CustomerWonDay (insights.customer_value.model_inputs).
    Rewritten whole by every rebuild that refits."""

    as_of_day = models.IntegerField()  # proleptic ordinal of the as-of date A
    x = models.IntegerField()  # buying days − 1
    t_x = models.IntegerField()  # last buying day − first
    age = models.IntegerField()  # T = A − first buying day
    customers = models.IntegerField()
    repeat_cents = models.BigIntegerField()  # revenue of the days after the first
    revenue_cents = models.BigIntegerField()

    class Meta:
        verbose_name = _("customer value model input")
        constraints = [
            # The grain, and the index of the one read (a day's rows in order).
            models.UniqueConstraint(
                fields=["as_of_day", "x", "t_x", "age"], name="customervaluetriple_grain"
            ),
        ]

    def __str__(self) -> str:
        return f"as of {self.as_of_day}: ({self.x}, {self.t_x}, {self.age}) × {self.customers}"


class CustomerValueSpend(models.Model):
    """The Gamma-Gamma inputs as of a day the rebuild fits or backtests: each distinct
    (x, repeat revenue) of the customers with x > 0, with their count. Beside
    CustomerValueTriple, written and read with it."""

    as_of_day = models.IntegerField()
    x = models.IntegerField()
    repeat_cents = models.BigIntegerField()
    customers = models.IntegerField()

    class Meta:
        verbose_name = _("customer value spend input")
        constraints = [
            models.UniqueConstraint(
                fields=["as_of_day", "x", "repeat_cents"], name="customervaluespend_grain"
            ),
        ]

    def __str__(self) -> str:
        return f"as of {self.as_of_day}: ({self.x}, {self.repeat_cents}) × {self.customers}"


class CustomerValue(models.Model):
    """Each customer's predicted value as of today (horizon 365), for lists, filters and 360°.

    Only customers with a buying day on or before today have a row; no row means null.
    """

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="value"
    )
    p_alive = models.FloatField(_("P(alive)"), db_index=True)
    expected_purchases = models.FloatField(_("expected buying days"))
    expected_value = models.DecimalField(_("expected value of a buying day"), max_digits=20,
                                         decimal_places=2)  # fmt: skip
    predicted_clv = models.DecimalField(
        _("predicted value"), max_digits=20, decimal_places=2, db_index=True
    )

    class Meta:
        verbose_name = _("customer predicted value")
        verbose_name_plural = _("customer predicted values")

    def __str__(self) -> str:
        return f"value of customer {self.customer_id}"


class CustomerHealth(models.Model):
    """Each customer's health score as of today (METRICS.md Q), for lists, filters and 360°.

    Written by every rebuild (insights.health) for the customers with a buying day on or before
    today; no row means null. Components are 0-100; service and voice are null when absent.
    """

    class Band(models.TextChoices):
        HEALTHY = "healthy", _("Healthy")
        ATTENTION = "attention", _("Needs attention")
        AT_RISK = "at_risk", _("At risk")

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="health"
    )
    health = models.SmallIntegerField(_("health"), db_index=True)
    band = models.CharField(_("health band"), max_length=9, choices=Band.choices, db_index=True)
    purchase = models.FloatField(_("purchase"))
    recency = models.SmallIntegerField(_("recency"))
    service = models.FloatField(_("service"), null=True)
    voice = models.SmallIntegerField(_("voice"), null=True)

    class Meta:
        verbose_name = _("customer health")
        verbose_name_plural = _("customer health scores")

    def __str__(self) -> str:
        return f"health of customer {self.customer_id}"


class CustomerNpsDay(models.Model):
    """A customer's latest NPS answer of each local day (METRICS.md Q, voice): the per-customer
    survey table health reads for any as-of date. Rewritten by every rebuild."""

    customer_id = models.BigIntegerField()
    day = models.IntegerField()  # local date of the answer, proleptic ordinal
    score = models.SmallIntegerField()

    class Meta:
        verbose_name = _("customer NPS day")
        constraints = [
            models.UniqueConstraint(fields=["customer_id", "day"], name="customernpsday_grain")
        ]

    def __str__(self) -> str:
        return f"customer {self.customer_id} day {self.day}: NPS {self.score}"


class Segment(models.Model):
    """A saved customer list: a name and the customer-list filters it stands for.

    `filters` holds the list's querystring parameters ({"country": "ID", "product": "SKU-1"})
    as validated by insights.customer_filters; the count is computed when shown, never stored.
    """

    name = models.CharField(_("name"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="segments",
    )
    shared = models.BooleanField(
        _("shared"), default=False, help_text=_("Shared segments are visible to every user.")
    )
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


# --- Lifecycle and retention rollups (written by insights.lifecycle; design in its docstring) --


class LapseChain(models.Model):
    """Buying-day chains of customers for every lapse window W in [lo, hi).

    For W in [lo, hi), `customers` customers have a chain of buying days from `first_day` to
    `last_day`, each within W days of the one before, after which they buy nothing for more
    than W days (lost on last_day + W); `prev` is the buying day before `first_day` (0: none).
    """

    prev = models.IntegerField()
    first_day = models.IntegerField()
    last_day = models.IntegerField()
    lo = models.IntegerField()
    hi = models.IntegerField()
    customers = models.BigIntegerField()

    class Meta:
        verbose_name = _("lapse chain")
        # On PostgreSQL the migration adds INCLUDE (hi, prev, first_day, customers), so lost and
        # churned counts are index-only range scans (SQLite has no covering indexes).
        indexes = [models.Index(fields=["last_day", "lo"], name="lapsechain_lookup")]

    def __str__(self) -> str:
        return f"{self.first_day}..{self.last_day} W[{self.lo},{self.hi}): {self.customers}"


class RetentionCell(models.Model):
    """Customers of a monthly cohort with an event in month cohort + offset (-1: cohort size)."""

    event = models.CharField(max_length=8)  # purchase | activity
    cohort = models.IntegerField()  # year * 12 + month - 1
    months_after = models.IntegerField()
    customers = models.BigIntegerField()

    class Meta:
        verbose_name = _("retention cell")
        indexes = [
            models.Index(fields=["event", "cohort", "months_after"], name="retentioncell_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.cohort}+{self.months_after}: {self.customers}"


class ServiceRoomFact(models.Model):
    """One row per chat room for the service figures (METRICS.md S); see insights/service.py.

    Durations are whole seconds (rounded down); `fcr` is 1 when the room was resolved and its
    customer opened no other room in (resolved_at, resolved_at + 7 days], 0 when resolved
    otherwise, null when unresolved. Agent blank is stored as `Unassigned`.
    """

    room_id = models.BigIntegerField(primary_key=True)
    # The room's customer as of this rebuild (null: its chat contact had none yet): the next
    # incremental rebuild takes the room's old activity day off this customer's figures.
    customer_id = models.BigIntegerField(null=True)
    day = models.IntegerField()  # local created date, proleptic ordinal
    channel = models.CharField(max_length=50)
    agent = models.CharField(max_length=150)
    first_response_s = models.BigIntegerField(null=True)
    resolution_s = models.BigIntegerField(null=True)
    csat = models.SmallIntegerField(null=True)
    fcr = models.SmallIntegerField(null=True)
    # METRICS.md §L. The instants (microseconds since 1970), the business time up to the
    # opening from a fixed origin (chats.business_time) and the business durations; the room's
    # target (its channel's, else the default) and clock; and its status toward each target as
    # of the rebuild's now, on the target's clock and on the calendar: 1 met, 2 breached,
    # 3 pending, null without a target. Statuses that can still change (pending) are
    # recomputed by every rebuild.
    created_us = models.BigIntegerField(default=0)
    first_response_us = models.BigIntegerField(null=True)
    resolved_us = models.BigIntegerField(null=True)
    created_b_us = models.BigIntegerField(default=0)
    first_response_business_s = models.BigIntegerField(null=True)
    resolution_business_s = models.BigIntegerField(null=True)
    first_response_target_s = models.BigIntegerField(null=True)
    resolution_target_s = models.BigIntegerField(null=True)
    business = models.SmallIntegerField(default=0)  # 1: the target's clock is business time
    first_response_status = models.SmallIntegerField(null=True)
    resolution_status = models.SmallIntegerField(null=True)
    first_response_cal_status = models.SmallIntegerField(null=True)
    resolution_cal_status = models.SmallIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["customer_id", "day"], name="serviceroomfact_customer"),
        ]

    def __str__(self) -> str:
        return f"room {self.room_id} day {self.day}"


class ServiceGroup(models.Model):
    """The rooms of one span (a local created day, or a month) and one group: every room
    (`dim` all, label blank), a channel or an agent (METRICS.md S).

    The additive counts, and every duration of those rooms packed in `first_response` and
    `resolution` (big-endian signed integers of `width` bytes, sorted ascending; unresolved
    rooms and rooms without a response are absent); `first_response_business` on the `all`
    rows only (§L gives its percentiles for every room, not per label). Each packed run has an
    index: its values at every `step`-th position and its last one (insights.engine.ranks), so
    a read takes exact nearest-rank percentiles over a period's runs from their indexes and a
    few blocks of each run, not every duration (insights/service.py).
    """

    dim = models.CharField(max_length=7)  # all | channel | agent
    label = models.CharField(max_length=150)
    rooms = models.IntegerField()
    resolved = models.IntegerField()
    rated = models.IntegerField()
    csat_sum = models.BigIntegerField()
    csat_high = models.IntegerField()  # rated 4 or 5
    fcr = models.IntegerField()  # resolved at first contact
    width = models.SmallIntegerField()  # bytes per duration: 4, or 8 past 2**31 - 1 seconds
    step = models.SmallIntegerField(default=0)  # positions between two index entries
    first_response = models.BinaryField()
    resolution = models.BinaryField()
    first_response_index = models.BinaryField(default=b"")
    resolution_index = models.BinaryField(default=b"")
    # METRICS.md §L: rooms per status toward their targets (the target's clock, and the
    # calendar's met/breached for the side-by-side), and the business first response times.
    first_response_met = models.IntegerField(default=0)
    first_response_breached = models.IntegerField(default=0)
    first_response_pending = models.IntegerField(default=0)
    resolution_met = models.IntegerField(default=0)
    resolution_breached = models.IntegerField(default=0)
    resolution_pending = models.IntegerField(default=0)
    first_response_cal_met = models.IntegerField(default=0)
    first_response_cal_breached = models.IntegerField(default=0)
    resolution_cal_met = models.IntegerField(default=0)
    resolution_cal_breached = models.IntegerField(default=0)
    first_response_business = models.BinaryField(default=b"")
    first_response_business_index = models.BinaryField(default=b"")

    class Meta:
        abstract = True


class ServiceDayGroup(ServiceGroup):
    """A ServiceGroup of one local created day."""

    day = models.IntegerField()  # local created date, proleptic ordinal

    class Meta:
        verbose_name = _("service day group")
        constraints = [
            models.UniqueConstraint(fields=["day", "dim", "label"], name="servicedaygroup_grain")
        ]

    def __str__(self) -> str:
        return f"{self.dim} {self.label} day {self.day}"


class ServiceWeekGroup(ServiceGroup):
    """A ServiceGroup of one ISO week (Monday to Sunday) of local created days."""

    week = models.IntegerField()  # day ordinal of its Monday

    class Meta:
        verbose_name = _("service week group")
        constraints = [
            models.UniqueConstraint(fields=["week", "dim", "label"], name="serviceweekgroup_grain")
        ]

    def __str__(self) -> str:
        return f"{self.dim} {self.label} week {self.week}"


class ServiceMonthGroup(ServiceGroup):
    """A ServiceGroup of one calendar month of local created days. A period reads its whole
    months from these rows, the whole weeks of the rest from ServiceWeekGroup and only the
    days left from ServiceDayGroup, so a year is about 12 to 25 runs per group instead of 365
    (each run costs a few index blocks per percentile)."""

    month = models.IntegerField()  # year * 12 + month - 1

    class Meta:
        verbose_name = _("service month group")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "dim", "label"], name="servicemonthgroup_grain"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dim} {self.label} month {self.month}"


class SurveyDay(models.Model):
    """Survey responses per local created day, kind and score (METRICS.md S, surveys)."""

    day = models.IntegerField()
    kind = models.CharField(max_length=3)
    score = models.SmallIntegerField()
    responses = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "kind", "score"], name="surveyday_grain")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} day {self.day}: {self.responses}"


class SurveyRoomDay(models.Model):
    """Survey responses that name their chat room, per local day of the answer, the room's
    channel or agent (`dim`), kind and score (METRICS.md §L)."""

    day = models.IntegerField()
    dim = models.CharField(max_length=7)  # channel | agent
    label = models.CharField(max_length=150)
    kind = models.CharField(max_length=3)
    score = models.SmallIntegerField()
    responses = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "dim", "label", "kind", "score"], name="surveyroomday_grain"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dim} {self.label} {self.kind} {self.score} day {self.day}"


class ServiceState(models.Model):
    """The service figures that do not depend on the period (METRICS.md §L), one row per
    rebuild's state: its now, the fingerprint of the targets, business hours and holidays the
    facts were computed with, and the open rooms by age at now."""

    now_us = models.BigIntegerField()
    calendar_key = models.CharField(max_length=64)
    open_rooms = models.IntegerField()
    under_1h = models.IntegerField()
    from_1h_24h = models.IntegerField()
    from_1d_7d = models.IntegerField()
    over_7d = models.IntegerField()

    def __str__(self) -> str:
        return f"service state at {self.now_us}"


class ChangedRecord(models.Model):
    """A record the figures read was inserted, updated or deleted since the last rebuild.

    Written by database triggers (insights.watched lays them), not by Python: the admin, the
    API, the CSV importer, a bulk load and a hand-written UPDATE are all seen. The next rebuild
    takes the rows committed before it starts (one DELETE ... RETURNING) and recomputes only
    the customers and days they touch (insights/incremental.py); a rebuild that fails rolls the
    DELETE back with everything else, so nothing is lost.
    """

    # The kinds are the ones the watched tables log (insights.watched, with the triggers).
    Kind = ChangeKind

    kind = models.CharField(max_length=8, choices=Kind.choices)
    record_id = models.BigIntegerField(null=True)  # null: the whole table (TRUNCATE)

    class Meta:
        verbose_name = _("changed record")

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id}"
