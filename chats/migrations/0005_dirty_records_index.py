"""An index of only the chat contacts identity must re-resolve (as customers 0009 for contacts)."""

from django.db import migrations

DIRTY = "customer_id IS NULL OR email_key <> resolved_email_key OR phone_key <> resolved_phone_key"


class Migration(migrations.Migration):
    dependencies = [("chats", "0004_timestamps_in_range")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX chatcontact_dirty ON chats_chatcontact (id) WHERE {DIRTY}",
            "DROP INDEX chatcontact_dirty",
        ),
    ]
