from django.contrib import admin

from customers.admin import IdentitySearchMixin
from customers.admin_snapshot import RecordsToFixAdmin

from .models import ChatContact, ChatContactToFix, ChatRoom


@admin.register(ChatContact)
class ChatContactAdmin(IdentitySearchMixin, admin.ModelAdmin):
    list_display = ["__str__", "channel", "email", "phone", "created_at", "external_id"]
    list_filter = ["channel", "created_at"]
    search_fields = ["name", "email", "phone", "external_id"]
    readonly_fields = ["email_key", "phone_key"]


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    list_display = ["__str__", "chat_contact", "created_at", "resolved_at", "agent", "csat_score"]
    list_filter = ["csat_score", "chat_contact__channel", "created_at"]
    list_select_related = ["chat_contact"]
    search_fields = ["external_id", "agent", "chat_contact__name", "chat_contact__phone"]
    autocomplete_fields = ["chat_contact"]


@admin.register(ChatContactToFix)
class ChatContactToFixAdmin(RecordsToFixAdmin):
    """Moved from customers/admin_snapshot.py with its proxy model (customers imports no chats)."""

    list_display = ["id", "__str__", "channel", "email", "phone", "problems", "customer", "fix"]
    search_fields = ["name", "email", "phone", "external_id"]
    edit_url_name = "chats_chatcontact_change"
    # Its own permission: seeing chat contacts is not seeing every record's key problems.
    view_permission = "chats.view_chatcontacttofix"
