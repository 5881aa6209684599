from django.db import models
from django.utils.translation import gettext_lazy as _


class RebuildRun(models.Model):
    """One run of the snapshot + rollup rebuild, kept for the admin's run list."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (another rebuild was running)")

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
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
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
    amount_cents = models.BigIntegerField()
    reason = models.CharField(max_length=255, blank=True)  # lost reason label, "Unspecified"

    class Meta:
        verbose_name = _("deal fact")

    def __str__(self) -> str:
        return f"deal {self.deal_id} {self.status}"


class GapCell(models.Model):
    """Distinct-customer counts for any range ("gap encoding", see insights.rollup).

    `customers` customers have an event on `day` whose previous event day is `prev` (0: none);
    `fs` is 0, or the customer's first-seen day when it is later than `day` (those rows are
    stored under the metric name + "x").
    """

    metric = models.CharField(max_length=8)
    dim = models.CharField(max_length=255, default="", blank=True)
    prev = models.IntegerField()
    day = models.IntegerField()
    fs = models.IntegerField(default=0)
    customers = models.BigIntegerField()
    # Running sum of `customers` over prev ascending within (metric, dim, day): the customers
    # of `day` whose previous event is before any s > prev are read with one index seek.
    cum = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("distinct-customer cell")
        indexes = [models.Index(fields=["metric", "dim", "day", "prev"], name="gapcell_lookup")]

    def __str__(self) -> str:
        return f"{self.metric} {self.prev}->{self.day}: {self.customers}"


class DailySum(models.Model):
    """Additive figures per local day (and dimension); `fs` as in GapCell."""

    metric = models.CharField(max_length=8)
    dim = models.CharField(max_length=255, default="", blank=True)
    day = models.IntegerField()
    fs = models.IntegerField(default=0)
    count = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)  # cents; product revenue in 1/10000
    quantity = models.BigIntegerField(default=0)  # hundredths

    class Meta:
        verbose_name = _("daily sum")
        indexes = [models.Index(fields=["metric", "day", "dim"], name="dailysum_lookup")]

    def __str__(self) -> str:
        return f"{self.metric} {self.dim} {self.day}"


class RepeatCell(models.Model):
    """Customers by the close days of their first and second won deal (a2 NULL: none)."""

    a1 = models.IntegerField()
    a2 = models.IntegerField(null=True)
    customers = models.BigIntegerField()

    class Meta:
        verbose_name = _("repeat-purchase cell")
        indexes = [models.Index(fields=["a1", "a2"], name="repeatcell_lookup")]

    def __str__(self) -> str:
        return f"{self.a1}/{self.a2}: {self.customers}"


class CustomerWonDay(models.Model):
    """Won deals of a customer per close day: the input of RFM and the top-20% share."""

    customer_id = models.BigIntegerField()
    day = models.IntegerField()
    won_deals = models.IntegerField()
    revenue_cents = models.BigIntegerField()

    class Meta:
        verbose_name = _("customer won day")
        indexes = [models.Index(fields=["day", "customer_id"], name="customerwonday_lookup")]

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


class ServiceRoomFact(models.Model):
    """One row per chat room for the service figures (METRICS.md S); see insights/service.py.

    Durations are whole seconds (rounded down); `fcr` is 1 when the room was resolved and its
    customer opened no other room in (resolved_at, resolved_at + 7 days], 0 when resolved
    otherwise, null when unresolved. Agent blank is stored as `Unassigned`.
    """

    room_id = models.BigIntegerField(primary_key=True)
    day = models.IntegerField()  # local created date, proleptic ordinal
    channel = models.CharField(max_length=50)
    agent = models.CharField(max_length=150)
    first_response_s = models.BigIntegerField(null=True)
    resolution_s = models.BigIntegerField(null=True)
    csat = models.SmallIntegerField(null=True)
    fcr = models.SmallIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["day"], name="serviceroomfact_day")]

    def __str__(self) -> str:
        return f"room {self.room_id} day {self.day}"


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
