"""A full rebuild in one transaction against the same rebuild fanned out over Celery workers.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.fanout \\
        --broker redis://127.0.0.1:6379/3 --config 1:0 --config 2:1 --config 2:2

Each --config PARTS:WORKERS runs `manage.py rebuild_insights --full` on the data already in
DATABASE_URL (bench_insights generates it) with INSIGHTS_REBUILD_PARTS=PARTS: WORKERS 0 runs
it in-process without a broker (PARTS 1: today's one transaction); otherwise WORKERS `celery
worker --pool=solo` processes take the chord's parts and last step from the broker. Reported
per run: seconds to the commit (when readers switch: the command's wall time, less the warm-up
and VACUUM it runs itself after the commit when the parts run in-process; a run's finished_at
is its "now", read before the last families run, so not the commit), the parts' slowest and
summed seconds, the last step's, and the load average before and after (the machine is
shared). The warm-up and VACUUM after the commit are waited for before the next run and
reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELERY = str(Path(sys.executable).with_name("celery"))

LAST_RUN = """
import json
from insights.models import RebuildRun
run = RebuildRun.objects.order_by("-pk").first()
print(json.dumps({"id": run.pk, "status": run.status, "error": run.error[:500],
                  "timings": run.timings, "rows": run.rows}))
"""


def _django(code: str, env: dict[str, str]) -> dict:
    out = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def _workers_start(count: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        log = (logs / f"worker{n}.log").open("w")
        workers.append(
            subprocess.Popen(  # noqa: S603 - celery of this venv
                [
                    CELERY,
                    "-A",
                    "config",
                    "worker",
                    "--pool=solo",
                    "--loglevel=WARNING",
                    "-n",
                    f"benchfanout{n}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        )
    ping = (
        "from insights.tasks import ping\n"
        "import json\n"
        f"print(json.dumps([ping.delay().get(timeout=120) for _ in range({count})]))"
    )
    _django(ping, env)
    return workers


def _workers_stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def measure(parts: int, workers: int, broker: str, logs: Path) -> dict:
    env = {**os.environ, "INSIGHTS_REBUILD_PARTS": str(parts),
           "INSIGHTS_REBUILD_AFTER_CHANGES_S": "0"}  # fmt: skip
    env.pop("CELERY_BROKER_URL", None)
    if workers:
        env.update(CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker)
    running = _workers_start(workers, env, logs) if workers else []
    try:
        load_before = os.getloadavg()
        began = time.perf_counter()
        subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "rebuild_insights", "--full", "--wait"],
            cwd=ROOT, env=env, check=True, capture_output=True, timeout=3600,
        )  # fmt: skip
        wall = time.perf_counter() - began
        load_after = os.getloadavg()
        run = _django(LAST_RUN, env)
        # The warm-up and VACUUM run after the commit (on a worker): wait before the next run.
        deadline = time.monotonic() + 900
        while workers and "vacuum_after_commit" not in run["timings"]:
            if time.monotonic() > deadline:
                break
            time.sleep(2)
            run = _django(LAST_RUN, env)
    finally:
        _workers_stop(running)
    timings = run["timings"]
    after_commit = (
        0.0
        if workers
        else (timings.get("cache_after_commit") or 0) + (timings.get("vacuum_after_commit") or 0)
    )
    return {
        "parts": parts,
        "workers": workers,
        "status": run["status"],
        "error": run["error"],
        "to_commit_s": round(wall - after_commit, 2),
        "command_wall_s": round(wall, 2),
        "snapshot_s": timings.get("snapshot"),
        "parts_slowest_s": timings.get("parts_slowest"),
        "parts_sum_s": timings.get("parts_sum"),
        "finish_s": timings.get("finish"),
        "rollups_s": timings.get("rollups") or timings.get("rollups_merge"),
        "whole_families_s": {
            name: timings.get(name) for name in ("lifecycle", "service", "customer_value", "health")
        },
        "cache_after_commit_s": timings.get("cache_after_commit"),
        "vacuum_after_commit_s": timings.get("vacuum_after_commit"),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "timings": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--config", action="append", required=True, help="PARTS:WORKERS")
    parser.add_argument("--json", dest="json_path", default="")
    args = parser.parse_args()
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-fanout"
    logs.mkdir(exist_ok=True)
    results = []
    for config in args.config:
        parts, workers = (int(value) for value in config.split(":"))
        result = measure(parts, workers, args.broker, logs)
        print(json.dumps({k: v for k, v in result.items() if k != "timings"}), flush=True)
        results.append(result)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
