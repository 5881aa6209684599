"""A real streaming replica on this machine: the API reads it, and never mixes two runs.

    .venv/bin/python -m bench.replica [--port 5440] [--keep]

Starts its own PostgreSQL primary (initdb into a temporary folder, loopback only, port PORT)
and a hot-standby replica of it (`pg_basebackup -R`, port PORT+1), so the machine's own cluster
is not touched. Then, in separate `manage.py` processes as a user runs them:
1. migrate, seed the demo, rebuild: the API read through the replica (DATABASE_REPLICA_URLS)
   answers the primary's run and figures;
2. pause the replica's WAL replay (a replica that lags), edit a deal on the primary and rebuild:
   the API on the replica still answers the previous run, whole (its computed_at and every
   figure of it), while the primary answers the new one;
3. resume replay: the replica answers the new run and the primary's figures.
Exits non-zero with the first difference. PostgreSQL refuses to run as root, so the clusters
run as the `postgres` system user (runuser) when this runs as root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = ("growth", "sales", "revenue", "lifecycle", "service")

PROBE = """
import json, sys
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
user, _ = get_user_model().objects.get_or_create(username="replica-probe", is_superuser=True,
                                                 is_staff=True)
client = Client()
client.force_login(user)
out = {}
for name in sys.argv[1:]:
    response = client.get(f"/api/v1/insights/{name}/", {"preset": "this_year"})
    assert response.status_code == 200, (name, response.status_code, response.content[:300])
    body = response.json()
    out[name] = body
print(json.dumps(out))
"""


def _bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found: install PostgreSQL's server binaries")
    return path


def _as_postgres(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def _psql(port: int, sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database,
         "-Atc", sql],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout.strip()


def _manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    return result.stdout


def _probe(env: dict[str, str]) -> dict[str, dict]:
    output = _manage(env, "shell", "-c", PROBE.replace("sys.argv[1:]", repr(list(ENDPOINTS))))
    return json.loads(output.strip().splitlines()[-1])


def _wait_ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0:
            return
        time.sleep(0.3)
    raise SystemExit(f"PostgreSQL on port {port} did not start")


def _start_primary(folder: Path, port: int) -> Path:
    data = folder / "primary"
    _as_postgres([_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = "
            f"'{folder}'\nwal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
            "fsync = off\n"
        )
    with open(data / "pg_hba.conf", "w") as hba:
        hba.write("local all all trust\nhost all all 127.0.0.1/32 trust\n"
                  "host replication all 127.0.0.1/32 trust\n")  # fmt: skip
    _as_postgres(
        [_bin("pg_ctl"), "-D", str(data), "-l", str(folder / "primary.log"), "-w", "start"]
    )
    _wait_ready(port)
    return data


def _start_replica(folder: Path, port: int, replica_port: int) -> Path:
    data = folder / "replica"
    _as_postgres([_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                  "-D", str(data), "-R", "-X", "stream"])  # fmt: skip
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"port = {replica_port}\n")
    _as_postgres(
        [_bin("pg_ctl"), "-D", str(data), "-l", str(folder / "replica.log"), "-w", "start"]
    )
    _wait_ready(replica_port)
    return data


def _wait_replayed(primary_port: int, replica_port: int, seconds: float = 60) -> None:
    target = _psql(primary_port, "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        behind = _psql(
            replica_port, f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn()) > 0"
        )
        if behind == "f":
            return
        time.sleep(0.2)
    raise SystemExit("the replica did not catch up")


def _same(label: str, got: dict, expected: dict) -> None:
    for name in ENDPOINTS:
        if got[name] != expected[name]:
            raise SystemExit(
                f"{label}: {name} differs\n got {got[name]}\n expected {expected[name]}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5440)
    parser.add_argument("--keep", action="store_true", help="leave the clusters' folder")
    args = parser.parse_args()
    replica_port = args.port + 1
    folder = Path(tempfile.mkdtemp(prefix="wawasan-replica-"))
    os.chmod(folder, 0o777)
    clusters: list[Path] = []
    try:
        clusters.append(_start_primary(folder, args.port))
        _psql(args.port, "CREATE DATABASE wawasan")
        primary_url = f"postgres://postgres@127.0.0.1:{args.port}/wawasan"
        base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_REPLICA_URLS"}}
        base.update(DEBUG="True", DATABASE_URL=primary_url, CELERY_BROKER_URL="")
        _manage(base, "migrate", "--noinput")
        _manage(base, "seed_demo")
        _manage(base, "rebuild_insights", "--full")
        clusters.append(_start_replica(folder, args.port, replica_port))
        via_replica = {
            **base,
            "DATABASE_REPLICA_URLS": f"postgres://postgres@127.0.0.1:{replica_port}/wawasan",
        }
        _wait_replayed(args.port, replica_port)
        first_primary = _probe(base)
        first_replica = _probe(via_replica)
        _same("caught-up replica", first_replica, first_primary)
        print("1. caught up: the replica answers the primary's run", flush=True)

        _psql(replica_port, "SELECT pg_wal_replay_pause()")
        edit = (
            "from deals.models import Deal\n"
            "d = Deal.objects.filter(stage__outcome='won').order_by('-closed_at', 'pk').first()\n"
            "d.amount += 1000000\n"
            "d.save()\n"
        )
        _manage(base, "shell", "-c", edit)
        _manage(base, "rebuild_insights")
        second_primary = _probe(base)
        lagging = _probe(via_replica)
        if second_primary["revenue"]["computed_at"] == first_primary["revenue"]["computed_at"]:
            raise SystemExit("the rebuild on the primary did not make a new run")
        _same("lagging replica", lagging, first_primary)
        print("2. lagging: the replica answers the previous run whole", flush=True)

        _psql(replica_port, "SELECT pg_wal_replay_resume()")
        _wait_replayed(args.port, replica_port)
        _same("resumed replica", _probe(via_replica), second_primary)
        print("3. resumed: the replica answers the new run", flush=True)
        print("replica reads: OK")
    finally:
        for data in reversed(clusters):
            try:
                _as_postgres([_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
            except subprocess.CalledProcessError:
                pass
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
