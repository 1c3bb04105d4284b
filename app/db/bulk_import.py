"""Neo4j's offline importer (``neo4j-admin database import full``) on the local server's store.

The importer ships with the launcher's dependencies (``neo4j-launcher/target/lib``), so it runs
from our classpath as ``org.neo4j.cli.AdminTool``; it needs ``NEO4J_HOME``/``NEO4J_CONF``
folders, and a ``neo4j.conf`` naming the same data directory the launcher serves. It writes a
whole new store (``--overwrite-destination``) for a database no server has open, so
``bulk_import`` imports into a staging database beside the running server's (its own
folders under ``data/databases`` and ``data/transactions``; the server never opens it), then
stops the server, swaps the staging folders in for the database's and starts the server again.
The server is down for a stop and a start only, not for the import (measured at 1M
relationships: 35 s of import the server now keeps serving through), and a failed import
leaves the database as it was. Only a server started by ``lmgnn db start`` from
``settings.data_dir`` can be stopped that way: ``local_import_problem`` says why another one
(Docker, remote) cannot.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from lmgnn.config import Settings
from lmgnn.db import server
from lmgnn.errors import UserError

IMPORT_HEAP = "1g"  # the importer's own heap; its big structures live off heap
MAX_OFF_HEAP = "2G"  # cap on the importer's off-heap memory (default would be 90% of RAM)
THREADS = max(1, min(4, os.cpu_count() or 1))
# the client compiler only: the importer is a short-lived JVM, and C2's compile threads took
# cores from it (1M-relationship shop, alternating runs: 10.5-11.0 s and 10.5-11.1 CPU s
# instead of 15.2-17.0 s and 15.7-19.3 CPU s; ParallelGC instead of G1: no better)
JIT_FLAGS = ("-XX:TieredStopAtLevel=1",)


@dataclass(frozen=True)
class ImportRun:
    """What one importer run took."""

    seconds: float  # importer alone
    stopped_seconds: float  # server down: stop + swap + start (the import runs before)
    stop_seconds: float  # of which the stop (the server's last checkpoint)
    peak_rss_mib: float  # the importer JVM's peak resident memory
    command: str  # as a shell line, for the log and for users importing elsewhere


def local_import_problem(settings: Settings) -> str | None:
    """None when ``settings`` reach a server we started from ``settings.data_dir`` (or none
    answers there yet); else why the offline importer cannot be used on it."""
    if not settings.is_local:
        return f"{settings.uri} is not on this machine"
    paths = server.ServerPaths(settings.data_dir)
    if server.read_pid(paths) is None and server.bolt_answers(settings):
        return (f"the server on {settings.uri} was not started by `lmgnn db start` from "
                f"{settings.data_dir} (a Docker or other server): lmgnn cannot stop it")
    return None


def import_arguments(database: str, nodes: Sequence[str], relationships: Sequence[str],
                     *, multiline: bool, report: Path) -> list[str]:
    """Arguments after ``database import full`` (``nodes``: ``Label=header,data``)."""
    args = [f"--nodes={n}" for n in nodes] + [f"--relationships={r}" for r in relationships]
    args += ["--id-type=integer", "--overwrite-destination=true", "--bad-tolerance=0",
             "--skip-bad-relationships=false", "--skip-duplicate-nodes=false",
             f"--threads={THREADS}", f"--max-off-heap-memory={MAX_OFF_HEAP}",
             f"--report-file={report}"]
    if multiline:
        args.append("--multiline-fields=true")
    return [*args, database]


def admin_command(settings: Settings, arguments: Sequence[str]) -> list[str]:
    root = server.build()
    classpath = f"{root / 'target' / 'lib'}{os.sep}*"
    return [shutil.which("java") or "java", f"-Xmx{IMPORT_HEAP}", "-XX:+UseG1GC", *JIT_FLAGS,
            "-Dfile.encoding=UTF-8", "-cp", classpath, "org.neo4j.cli.AdminTool",
            "database", "import", "full", *arguments]


def write_conf(settings: Settings, home: Path) -> dict[str, str]:
    """A neo4j.conf with the launcher's directories; returns the importer's environment."""
    conf = home / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    lines = [s for s in server.settings_for_server(settings) if s.startswith("server.directories.")]
    (conf / "neo4j.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(conf)}


STAGING = "lmgnn-import"  # the staging database's folder name (never a served database)
STORE_FOLDERS = ("databases", "transactions")  # where a database's files live under data/


def bulk_import(settings: Settings, database: str, nodes: Sequence[str],
                relationships: Sequence[str], *, multiline: bool, work_dir: Path) -> ImportRun:
    """Import into a staging database while the server runs, then stop the server, swap the
    staging store in for ``database``'s and start the server again.

    A failed import leaves ``database`` and the server as they were (the error carries the
    importer's last lines). ``work_dir`` must be on the data dir's filesystem (renames).
    """
    problem = local_import_problem(settings)
    if problem:
        raise UserError(f"the offline importer cannot run: {problem}")
    env = write_conf(settings, work_dir / "home")
    report = work_dir / "import.report"
    cmd = admin_command(settings, import_arguments(STAGING, nodes, relationships,
                                                   multiline=multiline, report=report))
    log = work_dir / "import.log"
    data = settings.data_dir / "data"
    _remove_store(data, STAGING)  # left by an import that was killed
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, cwd=work_dir,
                                umask=server.PRIVATE_UMASK)  # store files 0600
        peak = _wait_with_peak_rss(proc)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        _remove_store(data, STAGING)
        tail = "\n".join(log.read_text(errors="replace").strip().splitlines()[-15:])
        raise UserError(f"neo4j-admin database import failed (code {proc.returncode}); the "
                        f"database {database!r} is unchanged.\n{tail}")
    down = time.perf_counter()
    server.stop(settings)
    stop = time.perf_counter() - down
    try:
        _swap_in(data, database, work_dir / "replaced")
    finally:
        server.start(settings)
    stopped = time.perf_counter() - down
    shutil.rmtree(work_dir / "replaced", ignore_errors=True)
    return ImportRun(seconds, stopped, stop, peak / 2**20, shlex.join(cmd))


def _swap_in(data: Path, database: str, replaced: Path) -> None:
    """With the server stopped: ``database``'s folders move aside into ``replaced``, the
    staging folders take their place (renames on one filesystem)."""
    replaced.mkdir(parents=True, exist_ok=True)
    for folder in STORE_FOLDERS:
        live, staged = data / folder / database, data / folder / STAGING
        if live.exists():
            live.rename(replaced / folder)
        staged.rename(live)


def _remove_store(data: Path, name: str) -> None:
    for folder in STORE_FOLDERS:
        shutil.rmtree(data / folder / name, ignore_errors=True)


def _wait_with_peak_rss(proc: subprocess.Popen, every_s: float = 0.2) -> int:
    """Wait for ``proc``; its peak resident memory in bytes, sampled."""
    peak = 0
    try:
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss)
            time.sleep(every_s)
    except psutil.Error:
        pass
    proc.wait()
    return peak
