"""A local Neo4j 5.26 Community server for machines without Docker: build, start, stop.

The server is the official engine from Maven Central, run by neo4j-launcher/ (a 70-line Java
main around ``CommunityBootstrapper``) with Bolt and HTTP (Neo4j Browser) on 127.0.0.1 only.
Layout of a data directory::

    DATA_DIR/data/      databases and transaction logs (survives stop/start)
    DATA_DIR/logs/      neo4j.log, debug.log; launcher.log (the JVM's stdout/stderr)
    DATA_DIR/neo4j.pid  pid of the running server

The password is handed to the JVM through its environment, never its command line; on a fresh
data dir the launcher sets it before the server first starts, so Bolt never accepts the
factory ``neo4j/neo4j``. The data dir is 0700 and the server runs with umask 077, so its store
files and logs are 0600: no other local user reads the graph. ``stop`` signals a pid only
after checking its command line is our launcher serving this data dir (pids get reused).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lmgnn.config import Settings, new_password, remember_password
from lmgnn.db.connection import open_driver
from lmgnn.errors import NoServer, UserError

NEO4J_VERSION = "5.26.30"
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 90.0
LAUNCHER_CLASS = "lmgnn.launcher.Launcher"
PRIVATE_UMASK = 0o077


def launcher_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent / "neo4j-launcher", here.parent / "neo4j-launcher"):
        if (candidate / "pom.xml").is_file():
            return candidate
    raise UserError("neo4j-launcher/pom.xml not found: run lmgnn from a checkout of the project")


@dataclass(frozen=True)
class ServerPaths:
    data_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "neo4j.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "launcher.log"

    @property
    def neo4j_log(self) -> Path:
        return self.data_dir / "logs" / "neo4j.log"


def java_version() -> int:
    java = shutil.which("java")
    if not java:
        raise UserError("Java 17 or newer is needed to run Neo4j locally: install a JDK 17 "
                        "(e.g. `apt install openjdk-17-jdk`) or use docker compose")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise UserError(f"cannot read the Java version from `java -version`: {out.strip()}")
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def build(root: Path | None = None, quiet: bool = True) -> Path:
    """Build the launcher once with Maven (the engine's jars land in target/lib/)."""
    root = root or launcher_dir()
    jar, lib = root / "target" / "neo4j-launcher.jar", root / "target" / "lib"
    sources = [root / "pom.xml", *root.joinpath("src").rglob("*.java")]
    if jar.is_file() and lib.is_dir() and all(jar.stat().st_mtime >= s.stat().st_mtime
                                              for s in sources):
        return root
    if java_version() < 17:
        raise UserError(f"Neo4j {NEO4J_VERSION} needs Java 17 or newer; `java -version` "
                        f"reports {java_version()}")
    mvn = shutil.which("mvn")
    if not mvn:
        raise UserError("Maven is needed once to fetch Neo4j from Maven Central: install it "
                        "(e.g. `apt install maven`) or use docker compose")
    cmd = [mvn, "-B", "package", "-DskipTests"] + (["-q"] if quiet else [])
    print(f"building the Neo4j launcher with Maven (once): the first build downloads Neo4j "
          f"{NEO4J_VERSION} Community and Neo4j Browser from Maven Central, about 180 MB into "
          f"~/.m2 and {root / 'target' / 'lib'} (a minute or two) ...", flush=True)
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise UserError(f"building the Neo4j launcher failed (`mvn package` in {root}):\n{tail}")
    return root


def read_pid(paths: ServerPaths) -> int | None:
    """The pid of our launcher serving this data dir, else None (a stale pid file, e.g. one
    whose pid now belongs to another process after a crash, is removed)."""
    try:
        pid = int(paths.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if not is_our_launcher(pid, paths.data_dir):
        paths.pid_file.unlink(missing_ok=True)
        return None
    return pid


def is_our_launcher(pid: int, data_dir: Path) -> bool:
    """Whether ``pid`` runs ``lmgnn.launcher.Launcher DATA_DIR`` (its command line, as
    `start` wrote it); False for a dead, zombie or unrelated process."""
    args = _command_line(pid)
    if args is None:
        return False
    want = str(Path(data_dir).resolve())
    if len(args) == 1:  # `ps` fallback: one string, arguments joined by spaces
        return f" {LAUNCHER_CLASS} {want}" in f" {args[0]}"
    return any(a == LAUNCHER_CLASS and i + 1 < len(args) and args[i + 1] == want
               for i, a in enumerate(args))


def _command_line(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [a.decode(errors="surrogateescape") for a in raw.split(b"\0")[:-1]] or None
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return None  # Linux: no such process
    except OSError:
        return None
    out = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True,
                         text=True)  # macOS and other systems without /proc
    return [out.stdout.strip()] if out.returncode == 0 and out.stdout.strip() else None


def make_private(data_dir: Path) -> None:
    """Data dir 0700; anything under it loses group/other bits (older versions left 0755 /
    0644 behind). New files are private through the server's umask."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(data_dir.stat().st_mode) == 0o700:
        return  # already done: no walk on every start
    data_dir.chmod(0o700)
    for path in data_dir.rglob("*"):
        with contextlib.suppress(OSError):
            if not path.is_symlink():
                path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o077)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def bolt_answers(settings: Settings) -> bool:
    host, port = settings.bolt_host_port
    return port_in_use(host, port)


def settings_for_server(settings: Settings) -> list[str]:
    _host, port = settings.bolt_host_port
    if not settings.is_local:
        raise UserError(f"NEO4J_URI {settings.uri} is not on this machine: `lmgnn db start` only "
                        "starts a local server (unset NEO4J_URI, or point it at 127.0.0.1)")
    d = settings.data_dir
    return [
        f"server.directories.data={d / 'data'}",
        f"server.directories.logs={d / 'logs'}",
        f"server.directories.run={d / 'run'}",
        f"server.directories.import={d / 'import'}",
        f"server.directories.plugins={d / 'plugins'}",
        f"server.directories.lib={d / 'lib'}",
        f"server.directories.licenses={d / 'licenses'}",
        "server.bolt.enabled=true",
        f"server.bolt.listen_address=127.0.0.1:{port}",
        f"server.bolt.advertised_address=127.0.0.1:{port}",
        "server.http.enabled=true",
        f"server.http.listen_address=127.0.0.1:{settings.http_port}",
        f"server.http.advertised_address=127.0.0.1:{settings.http_port}",
        "server.https.enabled=false",
        "dbms.security.auth_enabled=true",
        "server.memory.pagecache.size=512m",
        "db.tx_log.rotation.retention_policy=2 files",
        "dbms.usage_report.enabled=false",
    ]


def start(settings: Settings, timeout_s: float = START_TIMEOUT_S) -> Settings:
    """Start a local server unless one answers already; returns settings with the password.

    Raises UserError when Java/Maven are missing, a port is taken by something else, or the
    server does not come up (pointing at its log).
    """
    paths = ServerPaths(settings.data_dir)
    host, port = settings.bolt_host_port
    if bolt_answers(settings):
        if read_pid(paths) is not None:
            settings = _ensure_password(settings)
        return _check_existing(settings)  # a server answers already: nothing is started
    if port_in_use("127.0.0.1", settings.http_port):
        raise UserError(f"port {settings.http_port} (Neo4j Browser/HTTP) is taken: free it or "
                        "set LMGNN_NEO4J_HTTP_PORT")
    settings = _ensure_password(settings)
    root = build()
    make_private(settings.data_dir)
    paths.log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    classpath = f"{root / 'target' / 'neo4j-launcher.jar'}{os.pathsep}{root / 'target' / 'lib'}/*"
    cmd = [shutil.which("java") or "java", f"-Xmx{settings.heap}", "-XX:+UseG1GC",
           "-XX:+ExitOnOutOfMemoryError", "-Dfile.encoding=UTF-8", "-cp", classpath,
           LAUNCHER_CLASS, str(settings.data_dir.resolve()), *settings_for_server(settings)]
    env = {**os.environ, "LMGNN_NEO4J_INITIAL_PASSWORD": settings.password or ""}
    _rotate_log(paths)
    with _private_file(paths.log_file) as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                umask=PRIVATE_UMASK)
    with _private_file(paths.pid_file) as pid_file:
        pid_file.write(str(proc.pid).encode())
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            paths.pid_file.unlink(missing_ok=True)
            raise UserError(f"Neo4j exited during start-up (code {proc.returncode}); see "
                            f"{paths.log_file} and {paths.neo4j_log}\n{_log_tail(paths)}")
        if _ready(paths) and bolt_answers(settings):
            return settings
        time.sleep(0.5)
    stop(settings)
    raise UserError(f"Neo4j did not answer on {host}:{port} within {timeout_s:.0f}s; see "
                    f"{paths.log_file}\n{_log_tail(paths)}")


def _check_existing(settings: Settings) -> Settings:
    host, port = settings.bolt_host_port
    if not settings.password:
        raise UserError(f"something already listens on {host}:{port} but no password is "
                        "configured: set NEO4J_PASSWORD, or choose another port in NEO4J_URI")
    try:
        open_driver(settings).close()
    except NoServer as exc:
        raise UserError(f"port {port} on {host} is taken by something that is not Neo4j: free "
                        "it, or choose another port in NEO4J_URI") from exc
    return settings


def _ready(paths: ServerPaths) -> bool:
    # the whole log (rotated at every start): a flood of warnings, e.g. failed logins, can
    # follow the marker
    try:
        return b"LMGNN_READY" in paths.log_file.read_bytes()
    except FileNotFoundError:
        return False


def _log_tail(paths: ServerPaths, lines: int = 15) -> str:
    try:
        text = paths.log_file.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return ""
    return "\n".join(text[-lines:])


def _ensure_password(settings: Settings) -> Settings:
    """The first start of a fresh local server generates a password and saves it (0600)."""
    if settings.password:
        return settings
    password = new_password()
    where = remember_password(password)
    return settings.with_password(password, f"config file {where}")


def stop(settings: Settings, timeout_s: float = STOP_TIMEOUT_S) -> bool:
    """Stop the server started from settings.data_dir; False if none was running.

    Every signal goes only to a pid whose command line is our launcher for this data dir.
    """
    paths = ServerPaths(settings.data_dir)
    pid = read_pid(paths)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(pid)
        if not is_our_launcher(pid, paths.data_dir):
            break  # gone (or a zombie)
        time.sleep(0.3)
    else:
        if is_our_launcher(pid, paths.data_dir):
            os.kill(pid, signal.SIGKILL)
    paths.pid_file.unlink(missing_ok=True)
    return True


def _private_file(path: Path):
    """Open ``path`` for writing, truncated, created 0600."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _rotate_log(paths: ServerPaths) -> None:
    if paths.log_file.exists():
        paths.log_file.replace(paths.log_file.with_suffix(".log.1"))
