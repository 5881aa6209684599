"""Exchange rates in the deal facts, and contacts, chat contacts and rates in the change log.

* DealFact.rate: the rate a deal's value was converted at (METRICS.md §3); empty: base currency.
* Contacts and chat contacts log their customer (kind "customer") when anything but identity's
  own columns changes, however it changes (admin, import, QuerySet.update(), SQL), so the next
  rebuild re-resolves that customer's attributes. Identity's own writes (customer_id and the
  resolved keys) log nothing: otherwise every rebuild would leave work for the next one. These
  are row triggers with a WHEN condition, so identity's bulk UPDATEs never call a function;
  a new contact has no customer yet and is found by identity's dirty-record query.
* Exchange rates log their currency's code as a number (kind "rate"): the next rebuild
  recomputes the deals in that currency (insights.incremental).
"""

from django.db import migrations, models

LOG = "insights_changedrecord"
# Every column but the id, updated_at and identity's own (customer_id, resolved_*_key).
RECORD_COLUMNS = {
    "customers_contact": (
        "external_id", "email", "phone", "email_key", "phone_key", "first_name", "last_name",
        "company_id", "source", "country", "city", "owner_id", "created_at",
    ),
    "chats_chatcontact": (
        "external_id", "email", "phone", "email_key", "phone_key", "channel", "name",
        "created_at",
    ),
}
RATE_TABLE = "deals_exchangerate"


def currency_code_sql(column: str, vendor: str) -> str:
    """A currency code (trimmed, upper-cased) as a number: 65536 * c1 + 256 * c2 + c3."""
    code = f"UPPER(TRIM({column}))"
    if vendor == "postgresql":
        chars = [f"ASCII(SUBSTR({code}, {i}, 1))" for i in (1, 2, 3)]
    else:
        chars = [f"COALESCE(UNICODE(SUBSTR({code}, {i}, 1)), 0)" for i in (1, 2, 3)]
    return f"({chars[0]} * 65536 + {chars[1]} * 256 + {chars[2]})"


PG_CUSTOMER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION insights_log_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO {LOG} (kind, record_id) VALUES ('customer', NULL);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.customer_id IS NOT NULL THEN
        INSERT INTO {LOG} (kind, record_id) VALUES ('customer', OLD.customer_id);
    END IF;
    IF TG_OP = 'INSERT' AND NEW.customer_id IS NOT NULL THEN
        INSERT INTO {LOG} (kind, record_id) VALUES ('customer', NEW.customer_id);
    END IF;
    RETURN NULL;
END $$;
"""

PG_RATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION insights_log_rate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO {LOG} (kind, record_id) VALUES ('rate', NULL);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO {LOG} (kind, record_id)
        SELECT DISTINCT 'rate', {currency_code_sql("currency", "postgresql")} FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {LOG} (kind, record_id)
        SELECT DISTINCT 'rate', {currency_code_sql("currency", "postgresql")} FROM old_rows;
    ELSE
        INSERT INTO {LOG} (kind, record_id)
        SELECT 'rate', {currency_code_sql("currency", "postgresql")} FROM new_rows
        UNION SELECT 'rate', {currency_code_sql("currency", "postgresql")} FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
"""


def _changed(columns: tuple[str, ...], vendor: str) -> str:
    if vendor == "postgresql":
        old = ", ".join(f"OLD.{c}" for c in columns)
        new = ", ".join(f"NEW.{c}" for c in columns)
        return f"(ROW({old}) IS DISTINCT FROM ROW({new}))"
    return "(" + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns) + ")"


def _pg_statements() -> list[str]:
    statements = [PG_CUSTOMER_FUNCTION, PG_RATE_FUNCTION]
    call = "EXECUTE FUNCTION insights_log_customer()"
    for table, columns in RECORD_COLUMNS.items():
        name = f"insights_log_{table}"
        statements += [
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} FOR EACH ROW "
            f"WHEN (NEW.customer_id IS NOT NULL) {call}",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN (OLD.customer_id IS NOT NULL AND {_changed(columns, 'postgresql')}) {call}",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} FOR EACH ROW "
            f"WHEN (OLD.customer_id IS NOT NULL) {call}",
            f"CREATE TRIGGER {name}_trunc AFTER TRUNCATE ON {table} FOR EACH STATEMENT {call}",
        ]
    name = f"insights_log_{RATE_TABLE}"
    call = "FOR EACH STATEMENT EXECUTE FUNCTION insights_log_rate()"
    statements += [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {RATE_TABLE} "
        f"REFERENCING NEW TABLE AS new_rows {call}",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {RATE_TABLE} "
        f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {call}",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {RATE_TABLE} "
        f"REFERENCING OLD TABLE AS old_rows {call}",
        f"CREATE TRIGGER {name}_trunc AFTER TRUNCATE ON {RATE_TABLE} {call}",
    ]
    return statements


def _sqlite_statements() -> list[str]:
    insert = f"INSERT INTO {LOG} (kind, record_id)"
    statements = []
    for table, columns in RECORD_COLUMNS.items():
        name = f"insights_log_{table}"
        statements += [
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} WHEN NEW.customer_id IS NOT NULL "
            f"BEGIN {insert} VALUES ('customer', NEW.customer_id); END",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} "
            f"WHEN OLD.customer_id IS NOT NULL AND {_changed(columns, 'sqlite')} "
            f"BEGIN {insert} VALUES ('customer', OLD.customer_id); END",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} WHEN OLD.customer_id IS NOT NULL "
            f"BEGIN {insert} VALUES ('customer', OLD.customer_id); END",
        ]
    name = f"insights_log_{RATE_TABLE}"
    new, old = (currency_code_sql(f"{row}.currency", "sqlite") for row in ("NEW", "OLD"))
    statements += [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {RATE_TABLE} "
        f"BEGIN {insert} VALUES ('rate', {new}); END",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {RATE_TABLE} "
        f"BEGIN {insert} VALUES ('rate', {new}); "
        f"{insert} SELECT 'rate', {old} WHERE {old} <> {new}; END",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {RATE_TABLE} "
        f"BEGIN {insert} VALUES ('rate', {old}); END",
    ]
    return statements


def rollups_rebuild_whole(apps, schema_editor) -> None:
    """Facts written before the conversion hold unconverted values and no rate: log a
    whole-table change, so the next rebuild rewrites every rollup."""
    apps.get_model("insights", "ChangedRecord").objects.create(kind="deal", record_id=None)


def triggers_create(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = _pg_statements()
    elif vendor == "sqlite":
        statements = _sqlite_statements()
    else:
        statements = []
    for sql in statements:
        schema_editor.execute(sql, params=None)


def triggers_drop(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for table in (*RECORD_COLUMNS, RATE_TABLE):
        for suffix in ("ins", "upd", "del", "trunc"):
            if vendor == "postgresql":
                schema_editor.execute(
                    f"DROP TRIGGER IF EXISTS insights_log_{table}_{suffix} ON {table}"
                )
            elif vendor == "sqlite":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS insights_log_{table}_{suffix}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS insights_log_customer()")
        schema_editor.execute("DROP FUNCTION IF EXISTS insights_log_rate()")


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0018_service_levels"),
        ("deals", "0006_trust_surface_deal_without_rate"),
        ("chats", "0006_history_rates_targets"),
        ("customers", "0009_dirty_records_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="dealfact",
            name="rate",
            field=models.DecimalField(decimal_places=10, max_digits=24, null=True),
        ),
        migrations.AlterField(
            model_name="changedrecord",
            name="kind",
            field=models.CharField(
                choices=[
                    ("deal", "Deal"),
                    ("room", "Room"),
                    ("stage", "Stage"),
                    ("reason", "Reason"),
                    ("product", "Product"),
                    ("company", "Company"),
                    ("survey", "Survey"),
                    ("customer", "Customer"),
                    ("rate", "Rate"),
                ],
                max_length=8,
            ),
        ),
        migrations.RunPython(triggers_create, triggers_drop),
        migrations.RunPython(rollups_rebuild_whole, migrations.RunPython.noop),
    ]
