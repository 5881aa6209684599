"""The benchmark results as plain-text tables (the command prints them; BENCHMARKS.md copies)."""

from __future__ import annotations

from typing import Any


def _table(header: list[str], rows: list[list[Any]]) -> str:
    cells = [header, *[["" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _status(section: dict[str, Any] | None) -> str:
    if not section:
        return "not run"
    return section.get("status", "")


def results_table(results: dict[str, Any]) -> str:
    """Steps, API latencies and targets of one run, as aligned text tables."""
    out = [f"people: {results['people']:,}  seed: {results['seed']}  machine: {results['machine']}"]
    steps = []
    gen = results.get("generation")
    if gen:
        steps.append(["generation (COPY)", gen.get("seconds"), "", ""])
    for key, label in (
        ("identity_full", "identity resolution, full"),
        ("rebuild_full", "full rebuild (subprocess)"),
        ("identity_incremental", "identity, incremental after 1%"),
        ("rebuild_incremental", "rebuild, incremental after 1%"),
    ):
        section = results.get(key) or {}
        extra = ""
        if section.get("timings"):
            extra = ", ".join(f"{k} {v}" for k, v in section["timings"].items())
        steps.append(
            [label, section.get("seconds", _status(section)), section.get("peak_rss_mb", ""), extra]
        )
    out.append(_table(["step", "seconds", "peak RSS MB", "phases (s)"], steps))
    imported = results.get("import") or {}
    if "ratio" in imported:
        out.append(
            _table(
                ["import 100k deals", "seconds", "rows/s"],
                [
                    ["import_records", imported["import_seconds"], imported["import_rows_per_s"]],
                    ["COPY (bare table)", imported["copy_seconds"], imported["copy_rows_per_s"]],
                    ["ratio import/COPY", imported["ratio"], ""],
                ],
            )
        )
    else:
        out.append(f"import: {_status(imported)}")
    api = (results.get("api") or {}).get("rows", [])
    if api:
        out.append(
            _table(
                [
                    "endpoint",
                    "preset",
                    "API p50",
                    "API p95",
                    "SQL p50",
                    "SQL p95",
                    "x p50",
                    "x p95",
                    "agree",
                ],
                [
                    [
                        r["endpoint"],
                        r.get("preset", ""),
                        r.get("api_p50_ms", r.get("status")),
                        r.get("api_p95_ms"),
                        r.get("sql_p50_ms"),
                        r.get("sql_p95_ms"),
                        r.get("speedup_p50"),
                        r.get("speedup_p95"),
                        r.get("agree"),
                    ]
                    for r in api
                ],  # fmt: skip
            )
        )
    else:
        out.append(f"api: {_status(results.get('api'))}")
    out.append(
        _table(
            ["target (issue 7)", "limit", "measured", "verdict"],
            [
                [t["target"], t["limit"], t["value"], t["verdict"]]
                for t in results.get("targets", [])
            ],
        )
    )
    return "\n\n".join(out)
