from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from common.timestamps import timestamp_in_range
from customers.records import ExternalIdModel, ResolvedRecord, customer_link


class ChatContact(ResolvedRecord):
    """One identity on one chat channel (a WhatsApp number, an Instagram handle...)."""

    class Channel(models.TextChoices):
        WHATSAPP = "WhatsApp", "WhatsApp"
        INSTAGRAM = "Instagram", "Instagram"
        FACEBOOK = "Facebook", "Facebook"
        LIVE_CHAT = "Live chat", _("Live chat")
        TELEGRAM = "Telegram", "Telegram"
        LINE = "LINE", "LINE"
        EMAIL = "Email", _("Email")

    # Free text with suggestions: inboxes add channels faster than we ship releases.
    channel = models.CharField(_("channel"), max_length=50, db_index=True)
    name = models.CharField(_("name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    customer = customer_link(related_name="chat_contacts")

    class Meta:
        verbose_name = _("chat contact")
        verbose_name_plural = _("chat contacts")
        ordering = ["-created_at", "id"]
        constraints = [
            timestamp_in_range("created_at", name="chatcontact_created_at_in_range"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"{self.channel} {self.pk}"


class ChatContactToFix(ChatContact):
    """Chat contacts with an identity-key problem, listed for reps in the data-quality admin."""

    class Meta:
        proxy = True
        verbose_name = _("chat contact to fix")
        verbose_name_plural = _("data quality: chat contacts to fix")


class ChatRoom(ExternalIdModel):
    chat_contact = models.ForeignKey(
        ChatContact,
        verbose_name=_("chat contact"),
        on_delete=models.CASCADE,
        related_name="rooms",
    )
    created_at = models.DateTimeField(_("opened at"), db_index=True)
    first_response_at = models.DateTimeField(
        _("first response at"),
        null=True,
        blank=True,
        help_text=_("When an agent first answered; not before the room was opened."),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    agent = models.CharField(_("agent"), max_length=150, blank=True)
    csat_score = models.PositiveSmallIntegerField(
        _("CSAT score"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )

    class Meta:
        verbose_name = _("chat room")
        verbose_name_plural = _("chat rooms")
        ordering = ["-created_at", "id"]
        constraints = [
            timestamp_in_range("created_at", name="chatroom_created_at_in_range"),
            timestamp_in_range(
                "first_response_at", name="chatroom_first_response_at_in_range", nullable=True
            ),
            timestamp_in_range("resolved_at", name="chatroom_resolved_at_in_range", nullable=True),
            models.CheckConstraint(
                condition=models.Q(csat_score__isnull=True)
                | models.Q(csat_score__gte=1, csat_score__lte=5),
                name="chatroom_csat_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or f"Room {self.pk}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        for name in ("first_response_at", "resolved_at"):
            value = getattr(self, name)
            if value is not None and self.created_at is not None and value < self.created_at:
                errors[name] = _("Must not be before the time the room was opened.")
        if errors:
            raise ValidationError(errors)


# Score range of each survey kind (CONTRACT.md section 1): NPS 0-10, CES 1-7.
SURVEY_SCORE_RANGES: dict[str, tuple[int, int]] = {"nps": (0, 10), "ces": (1, 7)}


class SurveyResponse(ExternalIdModel):
    """One answer to an NPS or CES survey, given through a CRM contact OR a chat contact.

    It belongs to a customer through that record (METRICS.md section 2), so identity
    resolution, erasure (the records' cascade) and the 360° page include it. It lives in chats,
    which already sits above customers: customers never imports it.
    """

    class Kind(models.TextChoices):
        NPS = "nps", _("NPS (0–10)")
        CES = "ces", _("Customer effort (1–7)")

    kind = models.CharField(_("kind"), max_length=3, choices=Kind.choices, db_index=True)
    score = models.PositiveSmallIntegerField(
        _("score"), help_text=_("NPS 0–10 (likely to recommend); CES 1–7 (effort).")
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("answered at"), db_index=True)
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="survey_responses",
    )
    chat_contact = models.ForeignKey(
        ChatContact,
        verbose_name=_("chat contact"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="survey_responses",
    )
    # The conversation the answer rates (optional): its channel and agent then carry the
    # answer (METRICS.md §L).
    chat_room = models.ForeignKey(
        ChatRoom,
        verbose_name=_("chat room"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-created_at", "id"]
        constraints = [
            timestamp_in_range("created_at", name="surveyresponse_created_at_in_range"),
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False, chat_contact__isnull=True)
                | models.Q(contact__isnull=True, chat_contact__isnull=False),
                name="surveyresponse_one_record",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="nps", score__gte=0, score__lte=10)
                | models.Q(kind="ces", score__gte=1, score__lte=7),
                name="surveyresponse_score_in_kind_range",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or f"{self.kind.upper()} {self.score}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, object] = {}
        if (self.contact_id is None) == (self.chat_contact_id is None):
            errors["contact"] = _("Give exactly one of contact and chat contact.")
        bounds = SURVEY_SCORE_RANGES.get(self.kind)
        if bounds and self.score is not None and not bounds[0] <= self.score <= bounds[1]:
            errors["score"] = _("A %(kind)s score must be between %(low)s and %(high)s.") % {
                "kind": self.kind.upper(),
                "low": bounds[0],
                "high": bounds[1],
            }
        if errors:
            raise ValidationError(errors)

    @property
    def customer_id(self) -> int | None:
        record = self.contact if self.contact_id else self.chat_contact
        return record.customer_id if record is not None else None


class ServiceTarget(models.Model):
    """A service promise per channel, or for every channel without its own (METRICS.md §L)."""

    class Clock(models.TextChoices):
        CALENDAR = "calendar", _("Calendar time")
        BUSINESS = "business", _("Business hours")

    channel = models.CharField(
        _("channel"),
        max_length=50,
        blank=True,
        unique=True,
        help_text=_("As written on the chat contacts; empty: every channel without its own."),
    )
    first_response_s = models.PositiveIntegerField(
        _("first response target (seconds)"), null=True, blank=True
    )
    resolution_s = models.PositiveIntegerField(
        _("resolution target (seconds)"), null=True, blank=True
    )
    clock = models.CharField(
        _("clock"), max_length=8, choices=Clock.choices, default=Clock.CALENDAR
    )

    class Meta:
        verbose_name = _("service target")
        verbose_name_plural = _("service targets")
        ordering = ["channel"]

    def __str__(self) -> str:
        return self.channel or str(_("Every other channel"))


class Holiday(models.Model):
    """A day without business hours (METRICS.md §L)."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()
