"""The records the figures read, in one list: it lays the change-log triggers, names the
change-log kinds and connects the after-save hook.

Design note
-----------
* WATCHED lists every table whose rows a rebuild reads, with how a change of it reaches the
  next rebuild:
  - LOG_ID: database triggers log the row's id, or another id column (a deal item logs its
    deal), under a kind of ChangedRecord. Triggers, not signals: the CSV importer's COPY, a
    QuerySet.update() and hand-written SQL are seen as the admin is. On PostgreSQL they are
    statement triggers with transition tables (a COPY of a million rows logs them in one
    INSERT ... SELECT); on SQLite row triggers.
  - LOG_CUSTOMER: a CRM or chat contact logs its customer (kind "customer") when anything but
    identity's own columns changes, so identity re-resolves that customer; identity's own
    writes log nothing, or every rebuild would leave work for the next. Row triggers with a
    WHEN condition, so identity's bulk UPDATEs never call a function.
  - LOG_CURRENCY: an exchange rate logs its currency's code as a number (kind "rate";
    insights.incremental.currency_code_sql reads it back), and the deals in it are rewritten.
  - NOT_LOGGED: no trigger; the rebuild finds the change another way (named in `found_by`).
* The after-save hook (insights.freshness) queues a rebuild after a save or delete of every
  watched model; the kinds of the change log are ChangeKind, which must be exactly the kinds
  the list logs (checked when this module loads).
* Triggers live in the database, laid by migrations: triggers_lay() drops and lays again the
  change-log triggers of every watched table that exists. A migration that changes the list,
  or rebuilds a watched table on SQLite (SQLite drops a table's triggers with it), runs it;
  tests/insights/test_families.py compares the list with the triggers the database has.
* Domain apps never import insights (pyproject's import contracts): they do not need this
  list, since everything that reads it (triggers, change log, hook) is the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from chats.models import ChatContact, ChatRoom, Holiday, ServiceTarget, SurveyResponse
from customers.models import Company, Contact, MatchRule
from deals.models import Deal, DealItem, ExchangeRate, LostReason, PipelineStage, Product

LOG_TABLE = "insights_changedrecord"
TRIGGER_PREFIX = "insights_log_"


class ChangeKind(models.TextChoices):
    """What a change-log row names (ChangedRecord.kind)."""

    DEAL = "deal"  # deals_deal.id, and deals_dealitem.deal_id
    ROOM = "room"  # chats_chatroom.id
    STAGE = "stage"
    REASON = "reason"
    PRODUCT = "product"
    COMPANY = "company"
    SURVEY = "survey"
    # A CRM or chat contact's customer (customer_id): its attributes may have changed.
    CUSTOMER = "customer"
    # deals_exchangerate: the currency's code as a number (insights.incremental).
    RATE = "rate"


LOG_ID = "id"
LOG_CUSTOMER = "customer"
LOG_CURRENCY = "currency"
NOT_LOGGED = "not logged"


@dataclass(frozen=True)
class Watched:
    model: type[models.Model]
    how: str  # LOG_ID, LOG_CUSTOMER, LOG_CURRENCY or NOT_LOGGED
    kind: str = ""  # the ChangeKind logged
    column: str = "id"  # LOG_ID: the column whose value is logged
    found_by: str = ""  # NOT_LOGGED: how the rebuild finds the change

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def logged(self) -> bool:
        return self.how != NOT_LOGGED

    def record_columns(self) -> tuple[str, ...]:
        """LOG_CUSTOMER: the columns whose change is logged, every one but the id, updated_at
        and identity's own (the customer link and the resolved keys)."""
        own: frozenset[str] = getattr(self.model, "RESOLUTION_FIELDS")  # noqa: B009
        return tuple(
            str(field.column)
            for field in self.model._meta.concrete_fields
            if field.name not in own and field.column not in ("id", "updated_at")
        )


WATCHED: tuple[Watched, ...] = (
    Watched(Deal, LOG_ID, ChangeKind.DEAL),
    Watched(DealItem, LOG_ID, ChangeKind.DEAL, column="deal_id"),
    Watched(ChatRoom, LOG_ID, ChangeKind.ROOM),
    Watched(PipelineStage, LOG_ID, ChangeKind.STAGE),
    Watched(LostReason, LOG_ID, ChangeKind.REASON),
    Watched(Product, LOG_ID, ChangeKind.PRODUCT),
    Watched(Company, LOG_ID, ChangeKind.COMPANY),
    Watched(SurveyResponse, LOG_ID, ChangeKind.SURVEY),
    Watched(Contact, LOG_CUSTOMER, ChangeKind.CUSTOMER),
    Watched(ChatContact, LOG_CUSTOMER, ChangeKind.CUSTOMER),
    Watched(ExchangeRate, LOG_CURRENCY, ChangeKind.RATE),
    Watched(MatchRule, NOT_LOGGED, found_by="customers.identity_signals (IdentityChange)"),
    Watched(ServiceTarget, NOT_LOGGED, found_by="insights.service.calendar_key"),
    Watched(Holiday, NOT_LOGGED, found_by="insights.service.calendar_key"),
)

if {entry.kind for entry in WATCHED if entry.logged} != set(ChangeKind):  # pragma: no cover
    raise RuntimeError("every change-log kind is logged by a watched table, and only those")


def watched_models() -> tuple[type[models.Model], ...]:
    """The models whose saves and deletes queue a rebuild (insights.freshness)."""
    return tuple(entry.model for entry in WATCHED)


def logged_tables() -> tuple[str, ...]:
    """The tables that have change-log triggers."""
    return tuple(entry.table for entry in WATCHED if entry.logged)


# --- Triggers --------------------------------------------------------------------------------


def currency_code_sql(column: str, vendor: str) -> str:
    """A currency code (trimmed, upper-cased) as a number: 65536 * c1 + 256 * c2 + c3."""
    code = f"UPPER(TRIM({column}))"
    if vendor == "postgresql":
        chars = [f"ASCII(SUBSTR({code}, {i}, 1))" for i in (1, 2, 3)]
    else:
        chars = [f"COALESCE(UNICODE(SUBSTR({code}, {i}, 1)), 0)" for i in (1, 2, 3)]
    return f"({chars[0]} * 65536 + {chars[1]} * 256 + {chars[2]})"


PG_FUNCTIONS = (
    f"""
CREATE OR REPLACE FUNCTION insights_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO {LOG_TABLE} (kind, record_id) VALUES (TG_ARGV[0], NULL);
    ELSIF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO {LOG_TABLE} (kind, record_id) SELECT DISTINCT %L, %I '
                       'FROM new_rows WHERE %I IS NOT NULL', TG_ARGV[0], TG_ARGV[1], TG_ARGV[1]);
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format('INSERT INTO {LOG_TABLE} (kind, record_id) SELECT DISTINCT %L, %I '
                       'FROM old_rows WHERE %I IS NOT NULL', TG_ARGV[0], TG_ARGV[1], TG_ARGV[1]);
    ELSE
        EXECUTE format('INSERT INTO {LOG_TABLE} (kind, record_id) SELECT %L, %I FROM new_rows '
                       'WHERE %I IS NOT NULL UNION SELECT %L, %I FROM old_rows '
                       'WHERE %I IS NOT NULL', TG_ARGV[0], TG_ARGV[1], TG_ARGV[1],
                       TG_ARGV[0], TG_ARGV[1], TG_ARGV[1]);
    END IF;
    RETURN NULL;
END $$;
""",
    f"""
CREATE OR REPLACE FUNCTION insights_log_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO {LOG_TABLE} (kind, record_id) VALUES ('customer', NULL);
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.customer_id IS NOT NULL THEN
        INSERT INTO {LOG_TABLE} (kind, record_id) VALUES ('customer', OLD.customer_id);
    END IF;
    IF TG_OP = 'INSERT' AND NEW.customer_id IS NOT NULL THEN
        INSERT INTO {LOG_TABLE} (kind, record_id) VALUES ('customer', NEW.customer_id);
    END IF;
    RETURN NULL;
END $$;
""",
    f"""
CREATE OR REPLACE FUNCTION insights_log_rate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO {LOG_TABLE} (kind, record_id) VALUES ('rate', NULL);
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO {LOG_TABLE} (kind, record_id)
        SELECT DISTINCT 'rate', {currency_code_sql("currency", "postgresql")} FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO {LOG_TABLE} (kind, record_id)
        SELECT DISTINCT 'rate', {currency_code_sql("currency", "postgresql")} FROM old_rows;
    ELSE
        INSERT INTO {LOG_TABLE} (kind, record_id)
        SELECT 'rate', {currency_code_sql("currency", "postgresql")} FROM new_rows
        UNION SELECT 'rate', {currency_code_sql("currency", "postgresql")} FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
""",
)


def _changed(columns: tuple[str, ...], vendor: str) -> str:
    if vendor == "postgresql":
        old = ", ".join(f"OLD.{c}" for c in columns)
        new = ", ".join(f"NEW.{c}" for c in columns)
        return f"(ROW({old}) IS DISTINCT FROM ROW({new}))"
    return "(" + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns) + ")"


def _pg_triggers(entry: Watched) -> list[str]:
    table, name = entry.table, f"{TRIGGER_PREFIX}{entry.table}"
    if entry.how == LOG_ID:
        call = f"EXECUTE FUNCTION insights_log_change('{entry.kind}', '{entry.column}')"
        return [
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} "
            f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT {call}",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} REFERENCING OLD TABLE AS "
            f"old_rows NEW TABLE AS new_rows FOR EACH STATEMENT {call}",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT {call}",
            f"CREATE TRIGGER {name}_trunc AFTER TRUNCATE ON {table} FOR EACH STATEMENT {call}",
        ]
    if entry.how == LOG_CUSTOMER:
        call = "EXECUTE FUNCTION insights_log_customer()"
        changed = _changed(entry.record_columns(), "postgresql")
        return [
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} FOR EACH ROW "
            f"WHEN (NEW.customer_id IS NOT NULL) {call}",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN (OLD.customer_id IS NOT NULL AND {changed}) {call}",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} FOR EACH ROW "
            f"WHEN (OLD.customer_id IS NOT NULL) {call}",
            f"CREATE TRIGGER {name}_trunc AFTER TRUNCATE ON {table} FOR EACH STATEMENT {call}",
        ]
    assert entry.how == LOG_CURRENCY
    call = "FOR EACH STATEMENT EXECUTE FUNCTION insights_log_rate()"
    return [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows {call}",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {call}",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows {call}",
        f"CREATE TRIGGER {name}_trunc AFTER TRUNCATE ON {table} {call}",
    ]


def _sqlite_triggers(entry: Watched) -> list[str]:
    table, name = entry.table, f"{TRIGGER_PREFIX}{entry.table}"
    insert = f"INSERT INTO {LOG_TABLE} (kind, record_id)"
    if entry.how == LOG_ID:
        kind, column = entry.kind, entry.column
        return [
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} WHEN NEW.{column} IS NOT NULL "
            f"BEGIN {insert} VALUES ('{kind}', NEW.{column}); END",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} "
            f"BEGIN {insert} SELECT '{kind}', NEW.{column} WHERE NEW.{column} IS NOT NULL; "
            f"{insert} SELECT '{kind}', OLD.{column} WHERE OLD.{column} IS NOT NULL "
            f"AND OLD.{column} IS NOT NEW.{column}; END",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} WHEN OLD.{column} IS NOT NULL "
            f"BEGIN {insert} VALUES ('{kind}', OLD.{column}); END",
        ]
    if entry.how == LOG_CUSTOMER:
        changed = _changed(entry.record_columns(), "sqlite")
        return [
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} WHEN NEW.customer_id IS NOT NULL "
            f"BEGIN {insert} VALUES ('customer', NEW.customer_id); END",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} "
            f"WHEN OLD.customer_id IS NOT NULL AND {changed} "
            f"BEGIN {insert} VALUES ('customer', OLD.customer_id); END",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} WHEN OLD.customer_id IS NOT NULL "
            f"BEGIN {insert} VALUES ('customer', OLD.customer_id); END",
        ]
    assert entry.how == LOG_CURRENCY
    new, old = (currency_code_sql(f"{row}.currency", "sqlite") for row in ("NEW", "OLD"))
    return [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} "
        f"BEGIN {insert} VALUES ('rate', {new}); END",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} "
        f"BEGIN {insert} VALUES ('rate', {new}); "
        f"{insert} SELECT 'rate', {old} WHERE {old} <> {new}; END",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} "
        f"BEGIN {insert} VALUES ('rate', {old}); END",
    ]


def trigger_tables(connection) -> set[str]:
    """The tables that have a change-log trigger in the database (its catalog)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT event_object_table FROM information_schema.triggers "
                "WHERE trigger_name LIKE %s AND trigger_schema = current_schema()",
                [f"{TRIGGER_PREFIX}%"],
            )
        else:
            cursor.execute(
                "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE %s",
                [f"{TRIGGER_PREFIX}%"],
            )
        return {row[0] for row in cursor.fetchall()}


def triggers_lay(schema_editor) -> None:
    """Drop the change-log triggers and lay those of WATCHED again (from a migration).

    A watched table that does not exist yet (its migration comes later) is left out: the
    migration that creates it lays the triggers again.
    """
    connection = schema_editor.connection
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    existing = set(connection.introspection.table_names())
    for table in trigger_tables(connection):
        for suffix in ("ins", "upd", "del", "trunc"):
            name = f"{TRIGGER_PREFIX}{table}_{suffix}"
            on = f" ON {table}" if vendor == "postgresql" else ""
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
    statements: list[str] = list(PG_FUNCTIONS) if vendor == "postgresql" else []
    for entry in WATCHED:
        if entry.logged and entry.table in existing:
            statements += _pg_triggers(entry) if vendor == "postgresql" else _sqlite_triggers(entry)
    for sql in statements:
        schema_editor.execute(sql, params=None)
