# The deal history's triggers (CONTRACT §1 "every change of a deal ... is kept in the deal's
# history"; METRICS.md §P backtest), written by hand.
#
# A row goes to deals_dealchange whenever a deal is inserted, or its stage, win probability,
# amount, currency or expected close date changes, however the change is made (the admin, the
# API, an import's COPY, a bulk QuerySet.update, raw SQL). The row holds the deal's state from
# that moment on (source 'recorded'); the stage is kept by name, so a stage renamed or deleted
# later still reads as it was.

from django.db import migrations

DEAL = "deals_deal"
STAGE = "deals_pipelinestage"
HISTORY = "deals_dealchange"
COLUMNS = (
    "deal_id, changed_at, stage_name, win_probability, amount, currency, expected_close_at, source"
)
TRACKED = ("stage_id", "win_probability", "amount", "currency", "expected_close_at")

# PostgreSQL: statement-level triggers with transition tables, so a COPY or an UPDATE of a
# million deals writes their history in one INSERT ... SELECT. now() is the transaction's start.
PG_INSERT = f"""
CREATE OR REPLACE FUNCTION deals_history_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {HISTORY} ({COLUMNS})
    SELECT n.id, now(), s.name, n.win_probability, n.amount, n.currency, n.expected_close_at,
           'recorded'
    FROM new_rows n JOIN {STAGE} s ON s.id = n.stage_id;
    RETURN NULL;
END $$;
"""
PG_UPDATE = f"""
CREATE OR REPLACE FUNCTION deals_history_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {HISTORY} ({COLUMNS})
    SELECT n.id, now(), s.name, n.win_probability, n.amount, n.currency, n.expected_close_at,
           'recorded'
    FROM new_rows n
    JOIN old_rows o ON o.id = n.id
    JOIN {STAGE} s ON s.id = n.stage_id
    WHERE {" OR ".join(f"n.{c} IS DISTINCT FROM o.{c}" for c in TRACKED)};
    RETURN NULL;
END $$;
"""
PG_TRIGGERS = (
    f"CREATE TRIGGER deals_history_ins AFTER INSERT ON {DEAL} REFERENCING NEW TABLE AS new_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION deals_history_insert()",
    f"CREATE TRIGGER deals_history_upd AFTER UPDATE ON {DEAL} REFERENCING OLD TABLE AS old_rows "
    f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deals_history_update()",
)

# SQLite: row triggers. Django stores an aware datetime as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'.
_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_VALUES = (
    f"SELECT NEW.id, {_NOW}, s.name, NEW.win_probability, NEW.amount, NEW.currency, "
    f"NEW.expected_close_at, 'recorded' FROM {STAGE} s WHERE s.id = NEW.stage_id"
)
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER deals_history_ins AFTER INSERT ON {DEAL} "
    f"BEGIN INSERT INTO {HISTORY} ({COLUMNS}) {_VALUES}; END",
    f"CREATE TRIGGER deals_history_upd AFTER UPDATE ON {DEAL} "
    f"WHEN {' OR '.join(f'NEW.{c} IS NOT OLD.{c}' for c in TRACKED)} "
    f"BEGIN INSERT INTO {HISTORY} ({COLUMNS}) {_VALUES}; END",
)


def triggers_create(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = (PG_INSERT, PG_UPDATE, *PG_TRIGGERS)
    elif vendor == "sqlite":
        statements = SQLITE_TRIGGERS
    else:
        statements = ()
    for sql in statements:
        schema_editor.execute(sql, params=None)


def triggers_drop(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for name in ("deals_history_ins", "deals_history_upd"):
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {DEAL}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS deals_history_insert()")
        schema_editor.execute("DROP FUNCTION IF EXISTS deals_history_update()")


def history_start(apps, schema_editor) -> None:
    """Deals that exist before the history starts get one row: their state now."""
    connection = schema_editor.connection
    now = "now()" if connection.vendor == "postgresql" else _NOW
    schema_editor.execute(
        f"INSERT INTO {HISTORY} ({COLUMNS}) "
        f"SELECT d.id, {now}, s.name, d.win_probability, d.amount, d.currency, "
        f"d.expected_close_at, 'recorded' FROM {DEAL} d JOIN {STAGE} s ON s.id = d.stage_id "
        f"WHERE NOT EXISTS (SELECT 1 FROM {HISTORY} h WHERE h.deal_id = d.id)",
        params=None,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0004_history_rates_targets"),
    ]

    operations = [
        migrations.RunPython(history_start, migrations.RunPython.noop),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
