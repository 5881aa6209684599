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
    if imported.get("ratio") is not None:
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


def _md(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _phases(section: dict[str, Any]) -> str:
    timings = section.get("timings") or {}
    return ", ".join(f"{k} {v:g}" for k, v in sorted(timings.items(), key=lambda kv: -kv[1]))


def _load(section: dict[str, Any]) -> str:
    """When a step ran and the 1/5/15-minute load average before and after it (shared machine)."""
    if "load_average_before" not in section:
        return ""
    before, after = section["load_average_before"], section.get("load_average_after")
    return f"{section.get('measured_at', '')[11:16]} UTC, {before} → {after}"


def _bound(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    return f">= {value}" if row.get("sql_lower_bound") else str(value)


def results_markdown(results: dict[str, Any]) -> str:
    """One run as the Markdown tables of docs/BENCHMARKS.md."""
    people = results["people"]
    out = [f"### {people:,} people", f"`{results.get('command', '')}`"]
    out.append(
        f"Started {results.get('started_at')}, finished {results.get('finished_at', '(running)')}; "
        f"load average at start {results['machine'].get('load_average')}, "
        f"at end {results.get('load_average_at_end')}."
    )
    for resumed in results.get("resumed", []):
        machine = resumed.get("machine", {})
        out.append(
            f"Resumed: `{resumed.get('command')}`, load average {machine.get('load_average')}"
            + (f", tree at `{machine['git_head'].split()[0]}`" if machine.get("git_head") else "")
            + (
                f" plus uncommitted {', '.join(machine['git_uncommitted'])}"
                if machine.get("git_uncommitted")
                else ""
            )
            + "."
        )
    tables = results.get("tables") or {}
    gen = results.get("generation") or {}
    out.append(
        _md(
            ["rows", "count"],
            [[k, f"{v:,}"] for k, v in tables.items()]
            + [["generation (COPY, not measured)", f"{gen.get('seconds', '-')} s"]],
        )
    )
    steps = []
    for key, label in (
        ("identity_full", "identity resolution, full, first run (`snapshot_rebuild(full=True)`)"),
        ("rebuild_full", "full rebuild, subprocess `rebuild_insights --full`"),
        ("identity_incremental", "identity resolution, incremental after 1% change"),
        ("rebuild_incremental", "rebuild (`insights_rebuild`, incremental) after another 1%"),
    ):
        section = results.get(key) or {}
        steps.append(
            [
                label,
                section.get("seconds", _status(section)),
                section.get("peak_rss_mb", ""),
                _phases(section),
                _load(section),
            ]
        )
    header = ["step", "seconds", "peak RSS (MB)", "phases (s), largest first"]
    header.append("finished, load before → after")
    out.append(_md(header, steps))
    imported = results.get("import") or {}
    if imported.get("ratio") is not None:
        out.append(
            _md(
                [f"{imported['rows']:,}-row deals CSV", "seconds", "rows/s"],
                [
                    [
                        "`import_records deals`",
                        imported["import_seconds"],
                        f"{imported['import_rows_per_s']:,}",
                    ],
                    [
                        "`COPY` into a bare table",
                        imported["copy_seconds"],
                        f"{imported['copy_rows_per_s']:,}",
                    ],
                    ["ratio import / COPY", f"{imported['ratio']:.3f}", ""],
                ],
            )  # fmt: skip
        )
    else:
        out.append(f"Import: {_status(imported)}.")
    api = (results.get("api") or {}).get("rows", [])
    if api:
        out.append(
            _md(
                [
                    "endpoint",
                    "period",
                    "API p50 ms",
                    "API p95 ms",
                    "direct SQL p50 ms",
                    "direct SQL p95 ms",
                    "speed-up p50",
                    "speed-up p95",
                    "same figures",
                ],
                [
                    [
                        r["endpoint"],
                        r.get("preset", ""),
                        r.get("api_p50_ms", r.get("status")),
                        r.get("api_p95_ms"),
                        r.get("sql_p50_ms"),
                        r.get("sql_p95_ms"),
                        _bound(r, "speedup_p50"),
                        _bound(r, "speedup_p95"),
                        {True: "yes", False: "NO", None: "?"}.get(r.get("agree"), ""),
                    ]
                    for r in api
                ],
            )  # fmt: skip
        )
    out.append(
        _md(
            ["target (issue 7)", "limit", "measured", "verdict"],
            [
                [t["target"], f"{t['limit']:g}", t["value"], f"**{t['verdict']}**"]
                for t in results.get("targets", [])
            ],
        )
    )
    return "\n\n".join(out)


if __name__ == "__main__":
    import json
    import sys

    for name in sys.argv[1:]:
        with open(name, encoding="utf-8") as handle:
            print(results_markdown(json.load(handle)))
            print()
