"""An index of only the records identity must re-resolve (customers.identity's dirty query).

The incremental run starts by finding the records with no customer or with keys that changed
since they were resolved. At 1M people that was a scan of a million contacts (about 1.5 s) even
when nothing had changed; a partial index holds just those rows, usually none. Its predicate is
the query's WHERE, word for word, so both PostgreSQL and SQLite use it.
"""

from django.db import migrations

DIRTY = "customer_id IS NULL OR email_key <> resolved_email_key OR phone_key <> resolved_phone_key"


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_filter_indexes_with_id")]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX contact_dirty ON customers_contact (id) WHERE {DIRTY}",
            "DROP INDEX contact_dirty",
        ),
    ]
