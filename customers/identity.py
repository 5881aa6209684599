"""Identity resolution: CRM contacts and chat contacts become one Customer per person.

METRICS.md section 2, and the rules this module adds where the definition is silent:

* Records are graph nodes without a mapping table: CRM contact id → 2*id, chat contact id →
  2*id+1. Two records are linked when they carry the same usable key (a key is usable unless
  more than INSIGHTS_MAX_KEY_FANOUT records carry it; exactly at the limit it is used) or an
  "always merge" rule names them. A customer is a connected component.
* "Never merge A, B": a component holding both A and B is re-resolved on its own with a
  union-find that takes links in a fixed, data-defined order and skips any union that would put
  a never-pair together: first the "always merge" links (ordered by record order), then each
  key in key order, each record of the key joined with the earlier records of that key in
  record order. A never rule therefore wins over an always rule for the same pair.
* Record order is (created_at, CRM before chat, id). It gives: first seen = the first record's
  created_at; source = the first record with a non-blank source (a CRM contact's source, a chat
  contact's channel), else "Other"; company = the first CRM contact with a company, else none;
  display name, primary email (the email key) and primary phone (the E.164 key) = from the
  first record that has one. first_seen_date is first_seen_at's local date in TIME_ZONE.
* Stable ids: each old customer's heir is the new component holding its oldest remaining
  record. A component that is the heir of several old customers (a merge) keeps the smallest
  (oldest) id and the others become CustomerAlias rows pointing at it (aliases of the merged
  ids are re-pointed too); a component that is nobody's heir (the other part of a split, or new
  records) gets a new id. A customer left with no records is deleted.
* Incremental runs re-resolve only the affected part of the graph with the same code path: the
  dirty records (no customer yet, or keys differing from resolved_*_key, or named by a changed
  rule), every record of their old customers and of the customers they now share a usable key
  with, the customers of deleted records (IdentityChange log), and the records of any key whose
  placeholder status flipped. Every link of a record in that set stays inside it, so resolving
  it alone gives the same partition as a full run.

Memory: records are handled as a few numpy int64 arrays (node, old customer, flags), edges are
streamed from one SQL query, components come from scipy's connected_components; no Python
object per record. Writes go through temporary tables (PostgreSQL: binary COPY) and set-based
UPDATE/INSERT statements that touch only rows whose value changed.
"""

from __future__ import annotations

import struct
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from common.bulk_write import deferred_checks_run, foreign_keys_of

from .keys import phone_key_region, single_region_codes
from .models import (
    Customer,
    CustomerAlias,
    IdentityChange,
    MatchRule,
    PlaceholderKey,
    node_label,
)

Progress = Callable[[str, int, int], None]

# Flag bits of a record, read in SQL: which attributes it can give its customer.
F_SOURCE, F_COMPANY, F_NAME, F_EMAIL, F_PHONE = 1, 2, 4, 8, 16
F_COUNTRY, F_CITY = 64, 128  # a CRM contact's country / city (R_FIRST takes 32)
# Above this share of all records dirty (and this many), an incremental run would do a full
# run's work anyway.
FULL_RUN_SHARE = 0.3
FULL_RUN_MIN_DIRTY = 10_000
FETCH_CHUNK = 100_000
# Writing more rows than this (and this share of a table) rebuilds its indexes afterwards.
BULK_INDEX_MIN_ROWS = 50_000
BULK_INDEX_SHARE = 0.2

CRM_TABLE = "customers_contact"
CHAT_TABLE = "chats_chatcontact"
CUSTOMER_TABLE = "customers_customer"
T_WORK = "identity_tmp_work"  # (kind, id): the records of this run (incremental only)
T_KEYS = "identity_tmp_keys"  # (k): keys whose fan-out must be re-counted
T_IDS = "identity_tmp_ids"  # (id): customer ids
T_PICK = "identity_tmp_pick"  # records that give their customer an attribute, and which
T_VALUES = "identity_tmp_values"
T_MOVE = "identity_tmp_move"  # (kind, id, customer_id): records that change customer
T_ALIAS = "identity_tmp_alias"  # (alias_id, customer_id): ids merged away in this run
T_REGION = "identity_tmp_region"  # (cc, region): calling codes of a single region
T_PHONE_COUNTRY = "identity_tmp_phone_country"  # (customer_id, region) answered in Python

PICK_COLUMNS = ("kind", "id", "customer_id", "roles", "is_new", "record_count")
# Role bits in T_PICK: the first record gives first_seen_at, then one bit per flag above.
R_FIRST = 32


# --- Public interface ---------------------------------------------------------------------------
@dataclass
class ResolvedScope:
    """Which customers a run re-resolved, for callers that follow it with work of their own.

    full: every record was resolved. Otherwise old_ids are the existing customers whose
    records were re-resolved (each may have changed, merged away or been deleted) and new_ids
    the customers those records belong to afterwards (old ids kept, and new ones).
    """

    full: bool = True
    old_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    new_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def snapshot_rebuild(
    *,
    full: bool = False,
    progress: Progress | None = None,
    scope: ResolvedScope | None = None,
    before_write: Callable[[np.ndarray], None] | None = None,
) -> dict[str, int]:
    """Resolve records into customers; incremental unless full. Runs in the caller's transaction.

    Returns counts: customers (total after the run), records (re-resolved), changed (records
    that changed customer), created, merged (ids turned into aliases), deleted, updated
    (customer rows whose attributes changed), full (1 when a full pass ran). `scope`, when
    given, is filled in; `before_write(old_ids)` is called by an incremental run just before
    it writes anything, while the customers still hold their old attributes.
    """
    report = progress or (lambda stage, done, total: None)
    limit = settings.INSIGHTS_MAX_KEY_FANOUT
    with connection.cursor() as cur:
        _drop_temp_tables(cur)
        _create_temp_tables(cur)
        last_change = IdentityChange.objects.order_by("-id").values_list("id", flat=True).first()
        old_ids: np.ndarray | None = None
        if not full:
            old_ids = _incremental_scope(cur, limit=limit)
            full = old_ids is None
        if full:
            report("placeholders", 0, 1)
            _placeholders_full(cur, limit=limit)
            old_ids = _fetch_ints(cur, f"SELECT id FROM {CUSTOMER_TABLE}")
        scoped = not full
        report("records", 0, 1)
        nodes, old, flags = _fetch_records(cur, scoped=scoped)
        report("components", 0, len(nodes))
        labels = _components(cur, nodes=nodes, scoped=scoped)
        labels = _apply_never_rules(cur, nodes=nodes, labels=labels)
        report("ids", 0, len(nodes))
        assert old_ids is not None  # set by the incremental scope, else by the full pass
        if scoped and before_write is not None:
            before_write(old_ids)
        counts, final = _write(
            cur, nodes=nodes, old=old, flags=flags, labels=labels, old_ids=old_ids
        )
        if scope is not None:
            scope.full = full
            scope.old_ids = old_ids
            scope.new_ids = np.unique(final)
        _mark_resolved(cur, scoped=scoped)
        if last_change is not None:
            IdentityChange.objects.filter(id__lte=last_change).delete()
        _drop_temp_tables(cur)
    counts["full"] = int(full)
    counts["records"] = len(nodes)
    counts["customers"] = Customer.objects.count()
    report("done", 1, 1)
    return counts


@dataclass(frozen=True)
class ExplanationEdge:
    """One link of a customer's explanation: `target` joined the customer through `source`."""

    source: str  # "CRM contact 12"
    target: str  # "chat contact 7"
    via: str  # "phone" | "email" | "always-merge rule"
    key: str  # the shared key; "" for a rule
    source_node: int
    target_node: int

    def __str__(self) -> str:
        label = f"{self.via} {self.key}".strip()
        return f"{self.source} —{label}→ {self.target}"


def customer_explanation(*, customer: Customer) -> list[ExplanationEdge]:
    """Why the customer's records are together: a spanning tree from its first record.

    Breadth-first from the first record in record order, over the shared usable keys (phone
    before email, both as stored) and the "always merge" rules between its records. Reads the
    keys as stored now, so right after an edit it explains the next rebuild's view.
    """
    records = _customer_records(customer_id=customer.pk)
    if not records:
        return []
    members = {node for node, *_ in records}
    placeholders = set(
        PlaceholderKey.objects.filter(
            key__in={k for _, _, email, phone in records for k in (email, phone) if k}
        ).values_list("key", flat=True)
    )
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    links: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for node, _, email, phone in records:  # records come in record order
        for via, key in (("phone", phone), ("email", email)):
            if key and key not in placeholders:
                by_key[(via, key)].append(node)
    for (via, key), group in by_key.items():
        for node in group:
            links[node].extend((via, key, other) for other in group if other != node)
    for rule in _rules(MatchRule.Kind.ALWAYS, nodes=members):
        links[rule[0]].append(("always-merge rule", "", rule[1]))
        links[rule[1]].append(("always-merge rule", "", rule[0]))
    start = records[0][0]
    seen, queue, edges = {start}, deque([start]), []
    while queue:
        node = queue.popleft()
        for via, key, other in links[node]:
            if other not in seen:
                seen.add(other)
                queue.append(other)
                edges.append(
                    ExplanationEdge(node_label(node), node_label(other), via, key, node, other)
                )
    return edges


def customer_resolve_id(*, customer_id: int) -> int | None:
    """The id a customer has now: itself if it exists, the survivor of a merge, else None."""
    if Customer.objects.filter(pk=customer_id).exists():
        return customer_id
    return (
        CustomerAlias.objects.filter(alias_id=customer_id)
        .values_list("customer_id", flat=True)
        .first()
    )


# --- Scope ---------------------------------------------------------------------------------------
def _incremental_scope(cur, *, limit: int) -> np.ndarray | None:
    """Fill T_WORK with the records to re-resolve; return their old customer ids.

    None when so much is dirty that a full run is the better plan.
    """
    # The partial indexes contact_dirty / chatcontact_dirty have this WHERE word for word.
    dirty_sql = (
        "SELECT {node}, customer_id, email_key, phone_key, resolved_email_key, "
        "resolved_phone_key FROM {table} WHERE customer_id IS NULL "
        "OR email_key <> resolved_email_key OR phone_key <> resolved_phone_key"
    )
    dirty = []
    for node, table in (("2*id", CRM_TABLE), ("2*id+1", CHAT_TABLE)):
        cur.execute(dirty_sql.format(node=node, table=table))
        dirty.extend(cur.fetchall())
    changes = list(
        IdentityChange.objects.values_list("customer_id", "node", "email_key", "phone_key")
    )
    total = _count_records(cur)
    if len(dirty) + len(changes) > max(FULL_RUN_SHARE * total, FULL_RUN_MIN_DIRTY):
        return None
    if not dirty and not changes:
        return np.zeros(0, dtype=np.int64)

    dirty_nodes = {row[0] for row in dirty}
    customers = {row[1] for row in dirty if row[1]} | {row[0] for row in changes if row[0]}
    rule_nodes = {row[1] for row in changes if row[1] is not None}
    candidate_keys = {k for row in dirty for k in row[2:6] if k}
    candidate_keys |= {k for row in changes for k in row[2:4] if k}
    flipped = _placeholders_refresh(cur, keys=candidate_keys, limit=limit)
    usable_now = {k for row in dirty for k in row[2:4] if k} - _placeholder_set(candidate_keys)
    spread = usable_now | flipped
    if spread:
        _fill(cur, T_KEYS, ("k",), [(k,) for k in sorted(spread)], text=True)
        for kind, table in ((0, CRM_TABLE), (1, CHAT_TABLE)):
            # One query per key column: an OR of two IN lists defeats the key indexes.
            cur.execute(
                " UNION ".join(
                    f"SELECT 2*id+{kind}, customer_id FROM {table} "
                    f"WHERE {col} IN (SELECT k FROM {T_KEYS})"
                    for col in ("email_key", "phone_key")
                )
            )
            for node, customer_id in cur.fetchall():
                if customer_id is None:
                    dirty_nodes.add(node)
                else:
                    customers.add(customer_id)
    if rule_nodes:
        for kind, table in ((0, CRM_TABLE), (1, CHAT_TABLE)):
            ids = [n // 2 for n in rule_nodes if n % 2 == kind]
            for chunk in _chunks(ids, 500):
                marks = ",".join(["%s"] * len(chunk))
                cur.execute(
                    f"SELECT id, customer_id FROM {table} WHERE id IN ({marks})", list(chunk)
                )
                for rid, cid in cur.fetchall():
                    dirty_nodes.add(2 * rid + kind)
                    if cid:
                        customers.add(cid)
    work = {(n % 2, n // 2) for n in dirty_nodes}
    if customers:
        _fill(cur, T_IDS, ("id",), [(c,) for c in sorted(customers)])
        for kind, table in ((0, CRM_TABLE), (1, CHAT_TABLE)):
            cur.execute(f"SELECT id FROM {table} WHERE customer_id IN (SELECT id FROM {T_IDS})")
            work.update((kind, row[0]) for row in cur.fetchall())
    _fill(cur, T_WORK, ("kind", "id"), sorted(work))
    # Only ids that still exist can be heirs, aliases or deleted.
    return _fetch_ints(cur, f"SELECT id FROM {CUSTOMER_TABLE} WHERE id IN (SELECT id FROM {T_IDS})")


def _placeholders_full(cur, *, limit: int) -> None:
    """Recount every key's fan-out (CRM and chat together) and rewrite the placeholder list."""
    cur.execute(f"DELETE FROM {PlaceholderKey._meta.db_table}")
    cur.execute(
        f"INSERT INTO {PlaceholderKey._meta.db_table} (key, fanout) "
        f"SELECT k, COUNT(*) FROM ({_keys_sql(scoped=False)}) x GROUP BY k HAVING COUNT(*) > %s",
        [limit],
    )


def _placeholders_refresh(cur, *, keys: set[str], limit: int) -> set[str]:
    """Recount the fan-out of `keys`, update the placeholder list, return the keys that flipped."""
    if not keys:
        return set()
    _fill(cur, T_KEYS, ("k",), [(k,) for k in sorted(keys)], text=True)
    parts = " UNION ALL ".join(
        f"SELECT {col} AS k FROM {table} WHERE {col} IN (SELECT k FROM {T_KEYS})"
        for table in (CRM_TABLE, CHAT_TABLE)
        for col in ("email_key", "phone_key")
    )
    cur.execute(f"SELECT k, COUNT(*) FROM ({parts}) x GROUP BY k")
    now = {k: n for k, n in cur.fetchall() if n > limit}
    before = dict(PlaceholderKey.objects.filter(key__in=keys).values_list("key", "fanout"))
    PlaceholderKey.objects.filter(key__in=set(before) - set(now)).delete()
    PlaceholderKey.objects.bulk_create(
        [PlaceholderKey(key=k, fanout=n) for k, n in now.items()],
        update_conflicts=True,
        unique_fields=["key"],
        update_fields=["fanout"],
    )
    return set(before) ^ set(now)


def _placeholder_set(keys: set[str]) -> set[str]:
    return set(PlaceholderKey.objects.filter(key__in=keys).values_list("key", flat=True))


# --- Reading the graph ---------------------------------------------------------------------------
def _scope_filter(kind: int, scoped: bool, alias: str = "") -> str:
    if not scoped:
        return "1=1"
    return f"{alias}id IN (SELECT id FROM {T_WORK} WHERE kind = {kind})"


def _keys_sql(*, scoped: bool) -> str:
    """(node, k) for every non-blank key of the records in scope."""
    parts = []
    for kind, table in ((0, CRM_TABLE), (1, CHAT_TABLE)):
        for col in ("email_key", "phone_key"):
            parts.append(
                f"SELECT 2*id+{kind} AS node, {col} AS k FROM {table} "
                f"WHERE {col} <> '' AND {_scope_filter(kind, scoped)}"
            )
    return " UNION ALL ".join(parts)


def _fetch_records(cur, *, scoped: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node, old customer (0 = none) and flag bits of every record in scope, in record order."""
    crm_flags = (
        f"(CASE WHEN source <> '' THEN {F_SOURCE} ELSE 0 END)"
        f" + (CASE WHEN company_id IS NOT NULL THEN {F_COMPANY} ELSE 0 END)"
        f" + (CASE WHEN first_name <> '' OR last_name <> '' THEN {F_NAME} ELSE 0 END)"
        f" + (CASE WHEN email_key <> '' THEN {F_EMAIL} ELSE 0 END)"
        f" + (CASE WHEN phone_key <> '' THEN {F_PHONE} ELSE 0 END)"
        f" + (CASE WHEN country <> '' THEN {F_COUNTRY} ELSE 0 END)"
        f" + (CASE WHEN city <> '' THEN {F_CITY} ELSE 0 END)"
    )
    chat_flags = (
        f"(CASE WHEN channel <> '' THEN {F_SOURCE} ELSE 0 END)"
        f" + (CASE WHEN name <> '' THEN {F_NAME} ELSE 0 END)"
        f" + (CASE WHEN email_key <> '' THEN {F_EMAIL} ELSE 0 END)"
        f" + (CASE WHEN phone_key <> '' THEN {F_PHONE} ELSE 0 END)"
    )
    sql = (
        "SELECT node, cust, flags FROM ("
        f"SELECT 2*id AS node, COALESCE(customer_id, 0) AS cust, {crm_flags} AS flags, "
        f"created_at, 0 AS kind, id FROM {CRM_TABLE} WHERE {_scope_filter(0, scoped)} "
        "UNION ALL "
        f"SELECT 2*id+1, COALESCE(customer_id, 0), {chat_flags}, created_at, 1, id "
        f"FROM {CHAT_TABLE} WHERE {_scope_filter(1, scoped)}"
        ") r ORDER BY created_at, kind, id"
    )
    rows = _fetch_array(cur, sql, columns=3)
    return rows[:, 0].copy(), rows[:, 1].copy(), rows[:, 2].copy()


def _components(cur, *, nodes: np.ndarray, scoped: bool) -> np.ndarray:
    """Component label of each record (positions as in `nodes`), labels 0..k-1."""
    n = len(nodes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # Each usable key links its records to the key's smallest node: a star per key.
    sql = (
        f"SELECT node, root FROM (SELECT node, MIN(node) OVER (PARTITION BY k) AS root "
        f"FROM ({_keys_sql(scoped=scoped)}) x "
        f"WHERE k NOT IN (SELECT key FROM {PlaceholderKey._meta.db_table})) y "
        "WHERE node <> root"
    )
    edges = _fetch_array(cur, sql, columns=2)
    rules = np.array(_rules(MatchRule.Kind.ALWAYS), dtype=np.int64).reshape(-1, 2)
    edges = np.concatenate([edges, rules])
    order = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[order]
    a = _positions(edges[:, 0], sorted_nodes, order)
    b = _positions(edges[:, 1], sorted_nodes, order)
    keep = (a >= 0) & (b >= 0)  # rules may name records outside an incremental scope
    graph = coo_matrix((np.ones(int(keep.sum()), dtype=np.int8), (a[keep], b[keep])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _positions(values: np.ndarray, sorted_nodes: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Position in record order of each node in `values`; -1 for nodes not in scope."""
    idx = np.searchsorted(sorted_nodes, values)
    idx = np.minimum(idx, max(len(sorted_nodes) - 1, 0))
    found = sorted_nodes[idx] == values if len(sorted_nodes) else np.zeros(len(values), bool)
    return np.where(found, order[idx], -1)


def _rules(kind: str, *, nodes: Iterable[int] | None = None) -> list[tuple[int, int]]:
    pairs = [
        (rule.node_a, rule.node_b)
        for rule in MatchRule.objects.filter(kind=kind).only(
            "contact_a", "chat_contact_a", "contact_b", "chat_contact_b"
        )
    ]
    if nodes is not None:
        members = set(nodes)
        pairs = [p for p in pairs if p[0] in members and p[1] in members]
    return pairs


def _apply_never_rules(cur, *, nodes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Re-resolve each component holding a never-pair with the constrained union-find."""
    pairs = _rules(MatchRule.Kind.NEVER)
    if not pairs or len(nodes) == 0:
        return labels
    order = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[order]
    arr = np.array(pairs, dtype=np.int64)
    pa, pb = _positions(arr[:, 0], sorted_nodes, order), _positions(arr[:, 1], sorted_nodes, order)
    hit = (pa >= 0) & (pb >= 0) & (pa != pb)
    hit[hit] = labels[pa[hit]] == labels[pb[hit]]
    if not hit.any():
        return labels
    labels = labels.copy()
    next_label = int(labels.max()) + 1
    always = _rules(MatchRule.Kind.ALWAYS)
    for label in sorted({int(labels[p]) for p in pa[hit]}):
        members = np.flatnonzero(labels == label)  # positions, i.e. record order
        forbid = [
            (int(a), int(b)) for a, b in zip(pa[hit], pb[hit], strict=True) if labels[a] == label
        ]
        parts = _constrained_parts(cur, members=members, nodes=nodes, forbid=forbid, always=always)
        for i, part in enumerate(parts):
            if i:  # the part holding the first record keeps the label
                labels[part] = next_label
                next_label += 1
    return labels


def _constrained_parts(cur, *, members, nodes, forbid, always) -> list[list[int]]:
    node_pos = {int(nodes[p]): int(p) for p in members}
    parent = {p: p for p in node_pos.values()}

    def find(p: int) -> int:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        for x, y in forbid:
            if {find(x), find(y)} == {ra, rb}:
                return
        parent[max(ra, rb)] = min(ra, rb)

    links = sorted(
        tuple(sorted((node_pos[a], node_pos[b])))
        for a, b in always
        if a in node_pos and b in node_pos
    )
    for a, b in links:
        union(a, b)
    by_key: dict[str, list[int]] = defaultdict(list)
    placeholders = set(PlaceholderKey.objects.values_list("key", flat=True))
    for chunk in _chunks(sorted(node_pos), 500):
        for kind, table in ((0, CRM_TABLE), (1, CHAT_TABLE)):
            ids = [n // 2 for n in chunk if n % 2 == kind]
            if not ids:
                continue
            marks = ",".join(["%s"] * len(ids))
            cur.execute(f"SELECT id, email_key, phone_key FROM {table} WHERE id IN ({marks})", ids)
            for rid, email, phone in cur.fetchall():
                for key in (email, phone):
                    if key and key not in placeholders:
                        by_key[key].append(node_pos[2 * rid + kind])
    for key in sorted(by_key):
        group = sorted(by_key[key])
        for i, p in enumerate(group):
            for q in group[:i]:
                union(q, p)
    parts: dict[int, list[int]] = defaultdict(list)
    for p in sorted(parent):
        parts[find(p)].append(p)
    return sorted(parts.values(), key=lambda part: part[0])


# --- Writing -------------------------------------------------------------------------------------
def _write(
    cur, *, nodes, old, flags, labels, old_ids: np.ndarray
) -> tuple[dict[str, int], np.ndarray]:
    """Assign stable ids to the components and write customers, records and aliases.

    Returns the counts and each record's customer id afterwards.
    """
    n = len(nodes)
    k = int(labels.max()) + 1 if n else 0
    # Heir of each old customer: the component of its first remaining record.
    has_old = old > 0
    olds, first = np.unique(old[has_old], return_index=True)
    heir = labels[np.flatnonzero(has_old)[first]]
    claim = np.full(k, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(claim, heir, olds)
    is_new = claim == np.iinfo(np.int64).max
    n_new = int(is_new.sum())
    # New ids follow the components' first records, so ids read in first-seen order.
    _, first_of_label = np.unique(labels, return_index=True)
    new_labels = np.flatnonzero(is_new)
    new_labels = new_labels[np.argsort(first_of_label[new_labels], kind="stable")]
    claim[new_labels] = _reserve_ids(cur, n_new)
    final = claim[labels]
    merged = olds != claim[heir]
    aliases = np.stack([olds[merged], claim[heir[merged]]], axis=1)
    dead = np.setdiff1d(old_ids, claim, assume_unique=False)
    dead = np.setdiff1d(dead, aliases[:, 0])

    # Which record gives each attribute: the first (in record order) with the flag. Most
    # customers get everything from one or two records, so T_PICK stays near one row each.
    roles = np.zeros(n, dtype=np.int64)
    for bit in (R_FIRST, F_SOURCE, F_COMPANY, F_NAME, F_EMAIL, F_PHONE, F_COUNTRY, F_CITY):
        pos = np.flatnonzero((flags & bit) > 0) if bit != R_FIRST else np.arange(n)
        _, first_idx = np.unique(labels[pos], return_index=True)
        roles[pos[first_idx]] |= bit
    picked = np.flatnonzero(roles)
    record_count = np.bincount(labels, minlength=k)
    pick = np.stack(
        [
            nodes[picked] % 2,
            nodes[picked] // 2,
            claim[labels[picked]],
            roles[picked],
            is_new[labels[picked]].astype(np.int64),
            record_count[labels[picked]],
        ],
        axis=1,
    )
    _fill(cur, T_PICK, PICK_COLUMNS, pick)
    phone_order = (nodes, labels, claim, flags)
    with _indexes_set_aside(cur, table=CUSTOMER_TABLE, rows=n_new):
        updated = _write_customers(cur, phone_order=phone_order)
    moved = np.flatnonzero(final != old)
    move = np.stack([nodes[moved] % 2, nodes[moved] // 2, final[moved]], axis=1)
    _fill(cur, T_MOVE, ("kind", "id", "customer_id"), move)
    kinds = nodes[moved] % 2
    for kind, table in ((0, CRM_TABLE), (1, CHAT_TABLE)):
        with _indexes_set_aside(cur, table=table, rows=int((kinds == kind).sum())):
            cur.execute(
                f"UPDATE {table} SET customer_id = m.customer_id, resolved_email_key = email_key, "
                f"resolved_phone_key = phone_key FROM {T_MOVE} m "
                f"WHERE m.kind = {kind} AND m.id = {table}.id"
            )
    if len(aliases):
        _fill(cur, T_ALIAS, ("alias_id", "customer_id"), aliases)
        alias_table = CustomerAlias._meta.db_table
        # Ids merged away earlier follow their survivor to the new one.
        cur.execute(
            f"UPDATE {alias_table} SET customer_id = a.customer_id FROM {T_ALIAS} a "
            f"WHERE {alias_table}.customer_id = a.alias_id"
        )
        cur.execute(
            f"INSERT INTO {alias_table} (alias_id, customer_id, merged_at) "
            f"SELECT alias_id, customer_id, %s FROM {T_ALIAS}",
            [connection.ops.adapt_datetimefield_value(timezone.now())],
        )
    gone = np.concatenate([aliases[:, 0], dead])
    for chunk in _chunks(gone.tolist(), 1000):
        # The ORM delete runs the cascades other apps declare (per-customer stats).
        Customer.objects.filter(id__in=chunk).delete()
    counts = {
        "changed": len(moved),
        "created": n_new,
        "merged": len(aliases),
        "deleted": len(dead),
        "updated": updated,
    }
    return counts, final


def _write_customers(cur, *, phone_order: tuple) -> int:
    """Insert the new customers and update the changed ones from T_PICK; return rows updated."""
    tz = settings.TIME_ZONE
    date_sql, date_params = connection.ops.datetime_cast_date_sql("first_seen_at", (), tz)
    crm_name = "TRIM(r.first_name || ' ' || r.last_name)"
    parts = []
    for kind, table, source, company, name, country, city in (
        (0, CRM_TABLE, "r.source", "r.company_id", crm_name, "r.country", "r.city"),
        (1, CHAT_TABLE, "r.channel", "NULL", "r.name", "NULL", "NULL"),
    ):
        parts.append(
            f"SELECT p.customer_id, p.roles, p.is_new, p.record_count, r.created_at, "
            f"{source} AS source, {company} AS company_id, {name} AS display_name, "
            f"r.email_key, r.phone_key, {country} AS country, {city} AS city "
            f"FROM {T_PICK} p JOIN {table} r ON r.id = p.id WHERE p.kind = {kind}"
        )

    def role(bit: int, column: str) -> str:
        return f"MAX(CASE WHEN roles & {bit} <> 0 THEN {column} END)"

    cur.execute(
        f"CREATE TEMP TABLE {T_VALUES} AS SELECT customer_id, MAX(is_new) AS is_new, "
        f"MAX(record_count) AS record_count, {role(R_FIRST, 'created_at')} AS first_seen_at, "
        f"COALESCE({role(F_SOURCE, 'source')}, 'Other') AS source, "
        f"{role(F_COMPANY, 'company_id')} AS company_id, "
        f"COALESCE({role(F_NAME, 'display_name')}, '') AS display_name, "
        f"COALESCE({role(F_EMAIL, 'email_key')}, '') AS primary_email, "
        f"COALESCE({role(F_PHONE, 'phone_key')}, '') AS primary_phone, "
        f"{role(F_COUNTRY, 'country')} AS country, "
        f"COALESCE({role(F_CITY, 'city')}, 'Other') AS city "
        f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY customer_id"
    )
    _phone_countries(cur, phone_order=phone_order)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    values = (
        "first_seen_at",
        "source",
        "company_id",
        "display_name",
        "primary_email",
        "primary_phone",
        "record_count",
        "country",
        "city",
    )
    v_date = date_sql.replace("first_seen_at", "v.first_seen_at")
    sets = ", ".join(f"{c} = v.{c}" for c in values)
    differs = " OR ".join(f"{CUSTOMER_TABLE}.{c} IS DISTINCT FROM v.{c}" for c in values)
    cur.execute(
        f"UPDATE {CUSTOMER_TABLE} SET {sets}, first_seen_date = {v_date}, updated_at = %s "
        f"FROM {T_VALUES} v WHERE v.is_new = 0 AND {CUSTOMER_TABLE}.id = v.customer_id "
        f"AND ({differs} OR {CUSTOMER_TABLE}.first_seen_date IS DISTINCT FROM {v_date})",
        [*date_params, now, *date_params],
    )
    updated = cur.rowcount
    cols = ", ".join(values)
    cur.execute(
        f"INSERT INTO {CUSTOMER_TABLE} (id, {cols}, first_seen_date, created_at, updated_at) "
        f"SELECT customer_id, {cols}, {date_sql}, %s, %s FROM {T_VALUES} WHERE is_new = 1",
        [*date_params, now, now],
    )
    return max(updated, 0)


def _phone_countries(cur, *, phone_order: tuple) -> None:
    """Fill T_VALUES.country where no CRM contact gave one (METRICS.md section 2).

    The region of the phone key of the first record, in record order, whose key has a region;
    else "Other". primary_phone is the first record's phone key (placeholders included, as the
    rule wants), so nearly every customer is answered from it: in SQL for calling codes that
    belong to one region (+62 is ID), in Python for shared codes (+1, +7, +44). Only customers
    whose first key has no region (+800, or a possible but invalid +1 number) look further.
    """
    regions = single_region_codes()
    cur.execute(f"CREATE TEMP TABLE {T_REGION} (cc VARCHAR(3) PRIMARY KEY, region VARCHAR(2))")
    _fill(cur, T_REGION, ("cc", "region"), sorted(regions.items()), text=True)
    # One equi-join per calling-code length (codes are prefix-free: a key matches one length at
    # most). A lookup per customer, `cc IN (three prefixes)`, was planned as a scan of the code
    # table per row once that table had statistics: 25.6 s of a 41.8 s full identity run at
    # 840,000 customers, against 0.6 s for the three joins (docs/BENCHMARKS.md, round nine).
    for length in (1, 2, 3):
        cur.execute(
            f"UPDATE {T_VALUES} SET country = g.region FROM {T_REGION} g "
            f"WHERE {T_VALUES}.country IS NULL AND {T_VALUES}.primary_phone <> '' "
            f"AND g.cc = SUBSTR({T_VALUES}.primary_phone, 2, {length})"
        )
    cur.execute(
        f"SELECT customer_id, primary_phone FROM {T_VALUES} "
        "WHERE country IS NULL AND primary_phone <> ''"
    )
    found: dict[int, str] = {}
    unanswered: set[int] = set()
    for customer_id, key in cur.fetchall():
        region = phone_key_region(key)
        if region:
            found[int(customer_id)] = region
        else:
            unanswered.add(int(customer_id))
    if unanswered:
        found.update(_later_phone_regions(cur, customers=unanswered, phone_order=phone_order))
    if found:
        cur.execute(
            f"CREATE TEMP TABLE {T_PHONE_COUNTRY} "
            "(customer_id BIGINT PRIMARY KEY, region VARCHAR(2))"
        )
        _fill(cur, T_PHONE_COUNTRY, ("customer_id", "region"), list(found.items()), text=True)
        cur.execute(
            f"UPDATE {T_VALUES} SET country = (SELECT g.region FROM {T_PHONE_COUNTRY} g "
            f"WHERE g.customer_id = {T_VALUES}.customer_id) "
            f"WHERE country IS NULL AND customer_id IN (SELECT customer_id FROM {T_PHONE_COUNTRY})"
        )
    cur.execute(f"UPDATE {T_VALUES} SET country = 'Other' WHERE country IS NULL")


def _later_phone_regions(cur, *, customers: set[int], phone_order: tuple) -> dict[int, str]:
    """For the few customers whose first phone key has no region: the first key that has one."""
    nodes, labels, claim, flags = phone_order
    owner = claim[labels]
    pos = np.flatnonzero(((flags & F_PHONE) > 0) & np.isin(owner, list(customers)))
    keys: dict[int, str] = {}
    for kind, table in ((0, CRM_TABLE), (1, CHAT_TABLE)):
        ids = [int(n) // 2 for n in nodes[pos] if n % 2 == kind]
        for chunk in _chunks(ids, 1000):
            marks = ", ".join(["%s"] * len(chunk))
            cur.execute(f"SELECT id, phone_key FROM {table} WHERE id IN ({marks})", chunk)
            keys.update({2 * int(i) + kind: k for i, k in cur.fetchall()})
    found: dict[int, str] = {}
    for p in pos:  # record order
        customer_id = int(owner[p])
        if customer_id not in found and (region := phone_key_region(keys.get(int(nodes[p]), ""))):
            found[customer_id] = region
    return found


@contextmanager
def _indexes_set_aside(cur, *, table: str, rows: int) -> Iterator[None]:
    """On PostgreSQL, drop a table's plain indexes around a write to a large share of its rows.

    Each changed row otherwise costs one random insert into every index (a record table has
    eleven); rebuilding them afterwards is a sort each, several times cheaper once the indexes
    outgrow shared buffers. It happens on the first full resolution and after mass edits. The
    indexes return with their own definitions in the same transaction (DDL is transactional), but
    the table stays locked against other sessions until the rebuild commits. Indexes behind
    constraints (primary key, unique) stay; the table's foreign keys are dropped and added back
    the same way (which also locks the tables they reference until the commit).
    """
    if connection.vendor != "postgresql" or rows < BULK_INDEX_MIN_ROWS:
        yield
        return
    cur.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
    if rows < BULK_INDEX_SHARE * max(cur.fetchone()[0], 1):
        yield
        return
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
        "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))"
        "::regclass)",
        [table],
    )
    indexes = cur.fetchall()
    # Its foreign keys too: a write to most rows queues one check per row and changed key, run
    # at the commit (15.4 s for the 2M record links of a first run at 1M records each); added
    # back, a key checks every reference in one query (as imports.fast's bulk load does).
    keys = foreign_keys_of(cur, table)
    deferred_checks_run(cur)  # ALTER TABLE refuses a table with queued checks
    for name, _ in keys:
        cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    yield
    deferred_checks_run(cur)  # CREATE INDEX refuses a table with queued checks too
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")  # sorts for the rebuilds below
    for _, definition in indexes:
        cur.execute(definition)
    for name, definition in keys:
        cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')


def _mark_resolved(cur, *, scoped: bool) -> None:
    for kind, table in ((0, CRM_TABLE), (1, CHAT_TABLE)):
        cur.execute(
            f"UPDATE {table} SET resolved_email_key = email_key, resolved_phone_key = phone_key "
            "WHERE (resolved_email_key <> email_key OR resolved_phone_key <> phone_key) "
            f"AND {_scope_filter(kind, scoped)}"
        )


def _reserve_ids(cur, n: int) -> np.ndarray:
    """n fresh customer ids, never reusing an id that existed (aliases keep old ids alive)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if connection.vendor == "postgresql":
        cur.execute(f"SELECT pg_get_serial_sequence('{CUSTOMER_TABLE}', 'id')")
        seq = cur.fetchone()[0]
        cur.execute("SELECT nextval(%s)", [seq])
        start = cur.fetchone()[0]
        if n > 1:
            cur.execute("SELECT setval(%s, %s)", [seq, start + n - 1])
    else:
        # AUTOINCREMENT keeps the highest id ever used in sqlite_sequence; explicit inserts
        # move it forward.
        cur.execute(
            "SELECT MAX(x) FROM (SELECT seq AS x FROM sqlite_sequence WHERE name = %s "
            f"UNION ALL SELECT MAX(id) FROM {CUSTOMER_TABLE} "
            f"UNION ALL SELECT MAX(alias_id) FROM {CustomerAlias._meta.db_table})",
            [CUSTOMER_TABLE],
        )
        start = (cur.fetchone()[0] or 0) + 1
    return np.arange(start, start + n, dtype=np.int64)


# --- Helpers -------------------------------------------------------------------------------------
def _customer_records(*, customer_id: int) -> list[tuple[int, str, str, str]]:
    """(node, created_at, email_key, phone_key) of a customer's records in record order."""
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT node, created_at, email_key, phone_key FROM ("
            f"SELECT 2*id AS node, created_at, 0 AS kind, id, email_key, phone_key "
            f"FROM {CRM_TABLE} WHERE customer_id = %s UNION ALL "
            f"SELECT 2*id+1, created_at, 1, id, email_key, phone_key "
            f"FROM {CHAT_TABLE} WHERE customer_id = %s) r ORDER BY created_at, kind, id",
            [customer_id, customer_id],
        )
        return [(row[0], row[1], row[2], row[3]) for row in cur.fetchall()]


def _count_records(cur) -> int:
    """Records in both tables; on PostgreSQL the planner's estimate (enough for a threshold)."""
    if connection.vendor == "postgresql":
        cur.execute(
            "SELECT COALESCE(SUM(GREATEST(reltuples, 0)), 0) FROM pg_class "
            "WHERE oid IN (%s::regclass, %s::regclass)",
            [CRM_TABLE, CHAT_TABLE],
        )
        estimate = int(cur.fetchone()[0])
        if estimate > 0:
            return estimate
    cur.execute(f"SELECT (SELECT COUNT(*) FROM {CRM_TABLE}) + (SELECT COUNT(*) FROM {CHAT_TABLE})")
    return cur.fetchone()[0]


def _fetch_ints(cur, sql: str) -> np.ndarray:
    return _fetch_array(cur, sql, columns=1)[:, 0].copy()


def _fetch_array(cur, sql: str, *, columns: int) -> np.ndarray:
    """Run sql and gather its integer rows into one int64 array, chunk by chunk."""
    chunks = []
    with connection.chunked_cursor() as stream:
        stream.execute(sql)
        while rows := stream.fetchmany(FETCH_CHUNK):
            chunks.append(np.array(rows, dtype=np.int64).reshape(-1, columns))
    if not chunks:
        return np.zeros((0, columns), dtype=np.int64)
    return np.concatenate(chunks)


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _create_temp_tables(cur) -> None:
    big = "BIGINT NOT NULL"
    cur.execute(f"CREATE TEMP TABLE {T_WORK} (kind {big}, id {big}, PRIMARY KEY (kind, id))")
    cur.execute(f"CREATE TEMP TABLE {T_KEYS} (k VARCHAR(254) PRIMARY KEY)")
    cur.execute(f"CREATE TEMP TABLE {T_IDS} (id {big} PRIMARY KEY)")
    cur.execute(f"CREATE TEMP TABLE {T_PICK} ({', '.join(f'{c} {big}' for c in PICK_COLUMNS)})")
    cur.execute(f"CREATE TEMP TABLE {T_MOVE} (kind {big}, id {big}, customer_id {big})")
    cur.execute(f"CREATE TEMP TABLE {T_ALIAS} (alias_id {big}, customer_id {big})")


def _drop_temp_tables(cur) -> None:
    for table in (
        T_WORK,
        T_KEYS,
        T_IDS,
        T_PICK,
        T_VALUES,
        T_MOVE,
        T_ALIAS,
        T_REGION,
        T_PHONE_COUNTRY,
    ):
        cur.execute(f"DROP TABLE IF EXISTS {table}")


def _fill(cur, table: str, columns: Iterable[str], rows, *, text: bool = False) -> None:
    """Replace a temp table's rows: binary COPY on PostgreSQL, executemany elsewhere."""
    columns = tuple(columns)
    cur.execute(f"DELETE FROM {table}")
    if len(rows) == 0:
        return
    if connection.vendor == "postgresql" and not text:
        arr = np.asarray(rows, dtype=np.int64).reshape(-1, len(columns))
        with cur.cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.write(PG_COPY_HEADER)
            for start in range(0, len(arr), FETCH_CHUNK):  # bounded buffers, not one big bytes
                copy.write(_pg_binary_rows(arr[start : start + FETCH_CHUNK]))
            copy.write(PG_COPY_TRAILER)
    else:
        marks = ", ".join(["%s"] * len(columns))
        data = rows.tolist() if isinstance(rows, np.ndarray) else rows
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", data)
    if connection.vendor == "postgresql":
        # Autovacuum never analyses temp tables; without statistics the planner guesses a
        # thousand rows and scans whole record tables instead of probing their key indexes.
        cur.execute(f"ANALYZE {table}")


PG_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
PG_COPY_TRAILER = struct.pack(">h", -1)


def _pg_binary_rows(arr: np.ndarray) -> bytes:
    """PostgreSQL binary COPY rows for an int64 matrix (all columns BIGINT NOT NULL)."""
    rows, cols = arr.shape
    fields = [("n", ">i2")]
    for c in range(cols):
        fields += [(f"l{c}", ">i4"), (f"v{c}", ">i8")]
    out = np.empty(rows, dtype=np.dtype(fields))
    out["n"] = cols
    for c in range(cols):
        out[f"l{c}"] = 8
        out[f"v{c}"] = arr[:, c]
    return out.tobytes()
