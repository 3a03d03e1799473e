"""Local services without Docker: a real Neo4j 5.26 Community server (jars from Maven Central, run on
JDK 17/21 in console mode) and Debian's redis-server, both on loopback with generated passwords.

Layout under SKYPATH_HOME (default `<repo>/.skypath`): `credentials.json` (0600), `neo4j/{conf,data,
logs,run}`, `redis/`. Jars are cached under `<repo>/.cache/neo4j-<version>/lib`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from backend.settings import (
    credentials_path,
    external_neo4j,
    external_redis,
    neo4j_settings,
    project_root,
    read_credentials,
    redis_url,
    skypath_home,
)

NEO4J_VERSION = "5.26.30"
DEFAULT_BOLT_PORT = 7687
DEFAULT_REDIS_PORT = 6379
READY_TIMEOUT = 180.0
JVM_FLAGS = [
    "-XX:+UseG1GC", "-XX:-OmitStackTraceInFastThrow", "-XX:+AlwaysPreTouch", "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields", "-XX:+DisableExplicitGC", "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true", "-Djdk.tls.ephemeralDHKeySize=2048",
    "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
]
# sized for a 2-core / 24 GiB machine: room for whole-account sync transactions
HEAP = "4g"
PAGECACHE = "2g"
SERVER_TRANSACTION_TIMEOUT = "15m"  # a backstop: whole-account syncs take under a minute at 100k assets
TRANSACTION_MEMORY_MAX = "2g"  # of the 3g transaction pool: one transaction never takes all of it


class ServiceError(RuntimeError):
    """A service could not start; the message says why and what to do."""


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- credentials

def _write_credentials(creds: dict[str, Any]) -> None:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(creds, fh, indent=2)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port(preferred: int) -> int:
    if _port_free(preferred):
        return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_for(service: str, key: str) -> int:
    """The service's recorded port, moved to a free one (and recorded) when another process holds it."""
    creds = _ensure_credentials()
    port = int(creds[service][key])
    if not _port_free(port):
        moved = _free_port(port + 1)
        _log(f"port {port} ({service}) is busy with another process: using {moved} instead")
        creds[service][key] = moved
        _write_credentials(creds)
        port = moved
    return port


def _ensure_credentials() -> dict[str, Any]:
    creds = read_credentials()
    changed = False
    if "neo4j" not in creds:
        creds["neo4j"] = {"password": secrets.token_urlsafe(24), "bolt_port": _free_port(DEFAULT_BOLT_PORT)}
        changed = True
    if "redis" not in creds:
        creds["redis"] = {"password": secrets.token_urlsafe(24), "port": _free_port(DEFAULT_REDIS_PORT)}
        changed = True
    if changed:
        _write_credentials(creds)
    return creds


# ---------------------------------------------------------------- processes

def _pid_alive(pid: int, marker: str) -> bool:
    try:
        os.kill(pid, 0)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (OSError, ProcessLookupError):
        return False
    return marker in cmdline


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _stop_pid(pid: int, marker: str, timeout: float = 60.0) -> bool:
    if not _pid_alive(pid, marker):
        return False
    try:
        os.killpg(os.getpgid(pid), signal.SIGTERM)
    except (OSError, ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid, marker):
            return True
        time.sleep(0.3)
    try:
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    except (OSError, ProcessLookupError):
        pass
    time.sleep(0.5)
    return True


# ---------------------------------------------------------------- Neo4j

def _neo4j_dirs() -> dict[str, Path]:
    home = skypath_home() / "neo4j"
    return {"home": home, "conf": home / "conf", "data": home / "data", "logs": home / "logs", "run": home / "run"}


def _jar_dir() -> Path:
    return project_root() / ".cache" / f"neo4j-{NEO4J_VERSION}" / "lib"


def ensure_neo4j_jars() -> Path:
    lib = _jar_dir()
    marker = lib.parent / "COMPLETE"
    if marker.exists():
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceError("Maven (mvn) is not installed: `apt-get install -y maven` and retry")
    pom = project_root() / "services" / "neo4j" / "pom.xml"
    _log(f"fetching Neo4j {NEO4J_VERSION} jars from Maven Central (first run only)…")
    lib.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies", "-DincludeScope=runtime",
         f"-DoutputDirectory={lib}", f"-Dneo4j.version={NEO4J_VERSION}"],
        capture_output=True, text=True,
    )
    if proc.returncode != 0 or not any(lib.glob("neo4j-kernel-*.jar")):
        raise ServiceError(f"Maven could not fetch Neo4j {NEO4J_VERSION}:\n{(proc.stdout + proc.stderr)[-3000:]}")
    marker.write_text(NEO4J_VERSION)
    return lib


def find_java() -> str:
    candidates = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    candidates += [Path("/usr/lib/jvm/java-17-openjdk-amd64/bin/java"), Path("/usr/lib/jvm/java-21-openjdk-amd64/bin/java")]
    candidates += [Path(p) for p in sorted(Path("/usr/lib/jvm").glob("*/bin/java"))] if Path("/usr/lib/jvm").exists() else []
    which = shutil.which("java")
    if which:
        candidates.append(Path(which))
    for java in candidates:
        if java.exists() and _java_major(str(java)) in (17, 21):
            return str(java)
    raise ServiceError("no JDK 17 or 21 found (Neo4j 5.26 runs on 17/21, not 25): `apt-get install -y openjdk-17-jdk`")


def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)', out)
    return int(m.group(1)) if m else None


def _private_tree(root: Path) -> None:
    """0700 directories and 0600 files under root: the store, the auth files and the logs are the owner's only
    (Neo4j itself runs with umask 077, so what it creates later is private too)."""
    root.mkdir(parents=True, exist_ok=True)
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        path.chmod(0o700 if path.is_dir() else 0o600)


def _write_neo4j_conf(dirs: dict[str, Path], port: int) -> None:
    for d in dirs.values():
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Defence in depth behind checks/cypher_guard.py for tenant Cypher: no file or network access from
    # Cypher (LOAD CSV from files refused, every IP blocked for URLs, no extension procedures), and every
    # transaction bounded in time and memory (tenant queries set shorter timeouts of their own; the limits
    # leave room for a whole-account sync transaction).
    conf = f"""# written by skypath services up
server.default_listen_address=127.0.0.1
server.bolt.listen_address=127.0.0.1:{port}
server.bolt.advertised_address=127.0.0.1:{port}
server.http.enabled=false
server.https.enabled=false
server.directories.data={dirs['data']}
server.directories.logs={dirs['logs']}
server.directories.run={dirs['run']}
server.directories.import={dirs['home'] / 'import'}
server.memory.heap.initial_size={HEAP}
server.memory.heap.max_size={HEAP}
server.memory.pagecache.size={PAGECACHE}
db.memory.transaction.total.max=3g
dbms.security.auth_enabled=true
dbms.usage_report.enabled=false
dbms.security.procedures.unrestricted=
dbms.security.procedures.allowlist=
dbms.security.allow_csv_import_from_file_urls=false
internal.dbms.cypher_ip_blocklist=0.0.0.0/0,::/0
db.transaction.timeout={SERVER_TRANSACTION_TIMEOUT}
db.memory.transaction.max={TRANSACTION_MEMORY_MAX}
db.tx_log.rotation.retention_policy=1 days
"""
    conf_file = dirs["conf"] / "neo4j.conf"
    conf_file.write_text(conf)
    conf_file.chmod(0o600)


def _set_initial_password(java: str, lib: Path, env: dict[str, str], dirs: dict[str, Path], password: str) -> None:
    """`neo4j-admin dbms set-initial-password` with the password in an argument file (0600, removed at once):
    the admin tool (picocli) reads `@file` arguments, so the password never appears on a command line (`ps`)."""
    args = dirs["run"] / "initial-password.args"
    fd = os.open(args, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(password) + "\n")  # quoted: picocli splits argument files on whitespace
    try:
        proc = subprocess.run([java, "-cp", f"{lib}/*", "org.neo4j.cli.AdminTool", "dbms", "set-initial-password",
                               f"@{args}"], env=env, capture_output=True, text=True, umask=0o077)
    finally:
        args.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise ServiceError(f"setting the Neo4j initial password failed: {proc.stderr[-2000:]}")


def _neo4j_ready(uri: str, password: str, timeout: float) -> bool:
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, ServiceUnavailable

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with GraphDatabase.driver(uri, auth=("neo4j", password)) as d:
                d.verify_connectivity()
                return True
        except AuthError as exc:
            raise ServiceError(f"Neo4j at {uri} rejected the generated password: {exc}") from exc
        except (ServiceUnavailable, OSError, Exception):  # noqa: BLE001 - still starting
            time.sleep(1.0)
    return False


def neo4j_up() -> dict[str, Any]:
    creds = _ensure_credentials()
    dirs = _neo4j_dirs()
    pid_file = dirs["run"] / "skypath-neo4j.pid"
    marker = str(dirs["conf"])
    port = int(creds["neo4j"]["bolt_port"])
    uri = f"bolt://127.0.0.1:{port}"
    pid = _read_pid(pid_file)
    if pid and _pid_alive(pid, marker):
        if _neo4j_ready(uri, creds["neo4j"]["password"], READY_TIMEOUT):
            return {"started": False, "pid": pid, "uri": uri}
        raise ServiceError(f"Neo4j (pid {pid}) runs but does not answer on {uri}; see {dirs['logs']}")
    port = _port_for("neo4j", "bolt_port")
    uri = f"bolt://127.0.0.1:{port}"
    java = find_java()
    lib = ensure_neo4j_jars()
    _write_neo4j_conf(dirs, port)
    env = dict(os.environ, NEO4J_HOME=str(dirs["home"]), NEO4J_CONF=str(dirs["conf"]))
    password_marker = dirs["data"] / ".skypath-password-set"
    if not password_marker.exists():
        _set_initial_password(java, lib, env, dirs, creds["neo4j"]["password"])
        password_marker.write_text("yes")
    _private_tree(dirs["home"])
    log = os.fdopen(os.open(dirs["logs"] / "console.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
    cmd = [java, f"-Xms{HEAP}", f"-Xmx{HEAP}", *JVM_FLAGS, "-cp", f"{lib}/*", "org.neo4j.server.CommunityEntryPoint",
           f"--home-dir={dirs['home']}", f"--config-dir={dirs['conf']}", "--console-mode"]
    child = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, cwd=dirs["home"], umask=0o077)
    pid_file.write_text(str(child.pid))
    pid_file.chmod(0o600)
    _log(f"starting Neo4j {NEO4J_VERSION} (pid {child.pid}) on {uri}…")
    started = time.monotonic()
    if not _neo4j_ready(uri, creds["neo4j"]["password"], READY_TIMEOUT):
        tail = (dirs["logs"] / "console.log").read_text(errors="replace")[-3000:]
        _stop_pid(child.pid, marker, 10)
        raise ServiceError(f"Neo4j did not answer on {uri} within {READY_TIMEOUT:.0f}s. Log tail:\n{tail}")
    return {"started": True, "pid": child.pid, "uri": uri, "seconds": round(time.monotonic() - started, 1)}


def neo4j_down() -> bool:
    dirs = _neo4j_dirs()
    pid = _read_pid(dirs["run"] / "skypath-neo4j.pid")
    return bool(pid) and _stop_pid(pid, str(dirs["conf"]))  # type: ignore[arg-type]


# ---------------------------------------------------------------- Redis

def _redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary:
        return binary
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ServiceError("redis-server is not installed: `sudo apt-get install -y redis-server`")
    _log("installing Debian's redis-server (first run only)…")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ServiceError(f"{' '.join(cmd)} failed: {proc.stderr[-2000:]}")
    # Debian starts its own instance on 6379: stop it, ours runs with its own config
    subprocess.run(["service", "redis-server", "stop"], capture_output=True)
    binary = shutil.which("redis-server")
    if not binary:
        raise ServiceError("redis-server still not found after installing it")
    return binary


def _redis_client(port: int, password: str) -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2)


def redis_up() -> dict[str, Any]:
    creds = _ensure_credentials()
    home = skypath_home() / "redis"
    home.mkdir(parents=True, exist_ok=True)
    port, password = int(creds["redis"]["port"]), creds["redis"]["password"]
    pid_file = home / "redis.pid"
    conf = home / "redis.conf"
    pid = _read_pid(pid_file)
    if pid and _pid_alive(pid, _redis_marker(port)):
        _redis_client(port, password).ping()
        return {"started": False, "pid": pid, "port": port}
    port = _port_for("redis", "port")
    binary = _redis_binary()
    fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"bind 127.0.0.1\nport {port}\nprotected-mode yes\nrequirepass {password}\ndaemonize yes\n"
                 f"pidfile {pid_file}\ndir {home}\nlogfile {home / 'redis.log'}\nsave \"\"\nappendonly no\n")
    proc = subprocess.run([binary, str(conf)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ServiceError(f"redis-server failed to start: {proc.stderr or proc.stdout}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            _redis_client(port, password).ping()
            return {"started": True, "pid": _read_pid(pid_file), "port": port}
        except Exception:  # noqa: BLE001 - still starting
            time.sleep(0.2)
    raise ServiceError(f"Redis did not answer on 127.0.0.1:{port}; see {home / 'redis.log'}")


def _redis_marker(port: int) -> str:
    # a daemonized redis-server shows "redis-server 127.0.0.1:<port>" as its command line: ours, not any Redis
    return f"redis-server 127.0.0.1:{port}"


def redis_down() -> bool:
    home = skypath_home() / "redis"
    pid = _read_pid(home / "redis.pid")
    port = int(read_credentials().get("redis", {}).get("port", 0))
    return bool(pid) and _stop_pid(pid, _redis_marker(port), 20)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the commands

def services_up() -> dict[str, Any]:
    """Start the local Neo4j and Redis (idempotent); a service the environment points elsewhere is only checked."""
    started = []
    if not external_neo4j() and neo4j_up()["started"]:
        started.append("neo4j")
    if not external_redis() and redis_up()["started"]:
        started.append("redis")
    status = services_status()
    for name, variable in (("neo4j", "SKYPATH_NEO4J_URI"), ("redis", "SKYPATH_REDIS_URL")):
        if not status[name]["running"]:
            where = os.environ.get(variable) or "the local server"
            raise ServiceError(f"{name} at {re.sub(r'//[^@/]*@', '//***@', where)} does not answer: "
                               f"{status[name].get('error', '')}")
    return {**status, "started": started}


def services_down() -> dict[str, Any]:
    """Stop what `up` started here; servers the environment points at are someone else's."""
    stopped = [name for name, external, stop in (("neo4j", external_neo4j, neo4j_down), ("redis", external_redis, redis_down))
               if not external() and stop()]
    return {"stopped": stopped}


def services_status() -> dict[str, Any]:
    out: dict[str, Any] = {"home": str(skypath_home())}
    neo: dict[str, Any] = {"running": False}
    try:
        s = neo4j_settings()
        neo["uri"] = s.uri
        from neo4j import GraphDatabase

        with GraphDatabase.driver(s.uri, auth=(s.user, s.password), connection_timeout=5) as d:
            rows = d.execute_query("CALL dbms.components() YIELD name, versions, edition "
                                   "RETURN name, versions[0] AS version, edition").records
        neo.update(running=True, name=rows[0]["name"], version=rows[0]["version"], edition=rows[0]["edition"])
    except Exception as exc:  # noqa: BLE001 - status reports what is wrong
        neo["error"] = str(exc).splitlines()[0][:300]
    if not external_neo4j():
        neo["data_dir"] = str(_neo4j_dirs()["data"])
        neo["jars"] = str(_jar_dir())
    out["neo4j"] = neo
    red: dict[str, Any] = {"running": False}
    try:
        import redis

        url = redis_url()
        red["url"] = re.sub(r"//:[^@]*@", "//:***@", url)
        info = redis.Redis.from_url(url, socket_timeout=3).info("server")
        red.update(running=True, version=info.get("redis_version"))
    except Exception as exc:  # noqa: BLE001
        red["error"] = str(exc).splitlines()[0][:300]
    if not external_redis():
        red["data_dir"] = str(skypath_home() / "redis")
    out["redis"] = red
    return out


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    command = args[0] if args else "status"
    handlers = {"up": services_up, "down": services_down, "status": services_status}
    if command not in handlers:
        print("usage: python -m backend.services up|down|status", file=sys.stderr)
        return 2
    try:
        print(json.dumps(handlers[command](), indent=2))
    except ServiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
