"""Real `skypath worker` / `skypath beat` processes in a namespace of their own (a Celery queue and a Redis
key prefix per test run), so developers sharing one Redis never take each other's tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class Namespace:
    def __init__(self, visibility_timeout: int = 3600):
        tag = uuid.uuid4().hex[:10]
        self.queue = f"skypath-test-{tag}"
        self.prefix = f"skypath-test-{tag}:"
        self.env = {**os.environ, "SKYPATH_CELERY_QUEUE": self.queue, "SKYPATH_CELERY_PREFIX": self.prefix,
                    "SKYPATH_BEAT_REFRESH_SECONDS": "1", "SKYPATH_CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout)}
        self.procs: list[subprocess.Popen[bytes]] = []

    def bind_here(self) -> None:
        """Send tasks from this (test) process into the namespace too."""
        from backend.tasks import bind

        bind(self.queue, self.prefix)

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-m", "backend.cli", *args], cwd=ROOT, env=self.env,
                                stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def worker(self, log: Path, concurrency: int = 2) -> subprocess.Popen[bytes]:
        return self.start("worker", "--concurrency", str(concurrency), "--name", f"{uuid.uuid4().hex[:8]}@%h",
                          "--loglevel", "INFO", log=log)

    def beat(self, log: Path) -> subprocess.Popen[bytes]:
        return self.start("beat", "--loglevel", "INFO", log=log)

    def ping(self) -> bool:
        """Does a worker of this namespace answer?"""
        from backend.tasks import celery_app

        return bool(celery_app.control.ping(timeout=1.0))

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """Only the processes this namespace started, by their process group."""
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def close(self) -> None:
        for proc in self.procs:
            self.stop(proc)
        self.bind_here_default()

    @staticmethod
    def bind_here_default() -> None:
        from backend.tasks import _namespace, bind

        bind(*_namespace())


@contextmanager
def namespace(visibility_timeout: int = 3600) -> Iterator[Namespace]:
    ns = Namespace(visibility_timeout)
    ns.bind_here()
    try:
        yield ns
    finally:
        ns.close()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 240.0, every: float = 0.5,
             logs: list[Path] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    tails = "\n".join(f"--- {p}\n{p.read_text()[-3000:]}" for p in logs or [] if p.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")
