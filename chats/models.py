from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

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
            models.CheckConstraint(
                condition=models.Q(csat_score__isnull=True)
                | models.Q(csat_score__gte=1, csat_score__lte=5),
                name="chatroom_csat_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return self.external_id or f"Room {self.pk}"
