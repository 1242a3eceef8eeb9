"""Real servers for integration tests, started and stopped by the tests themselves: PostgreSQL from the
Debian packages (as the `postgres` user when the tests run as root) and `mlflow server` on loopback."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path | None:
    """The directory holding initdb/pg_ctl: Debian keeps them off PATH under /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


class Postgres:
    """A throwaway cluster in `root`, listening on 127.0.0.1:`port`, with a database `mlflow`."""

    def __init__(self, root: Path):
        self.bin = postgres_bin()
        self.root, self.port = root, free_port()
        self.data = root / "data"
        self.as_root = os.geteuid() == 0  # PostgreSQL refuses to run as root

    def _run(self, *args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)
        subprocess.run(cmd, check=True, capture_output=True, text=True, cwd="/")

    def start(self) -> Postgres:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres")
            self.root.chmod(0o755)
            parent = self.root.parent  # the server must be able to reach its directory
            while parent != parent.parent:
                parent.chmod(parent.stat().st_mode | 0o011)
                parent = parent.parent
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "mlflow", "--auth=trust", "-E", "UTF8")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start", "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}")
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="mlflow", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE mlflow")
        conn.close()
        return self

    @property
    def uri(self) -> str:
        return f"postgresql+psycopg2://mlflow@127.0.0.1:{self.port}/mlflow"

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


class MlflowServer:
    """`mlflow server` on 127.0.0.1 with the given backend store and a local artifact destination."""

    def __init__(self, backend_uri: str, artifacts: Path, port: int | None = None):
        self.backend_uri, self.artifacts = backend_uri, artifacts
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> MlflowServer:
        log = open(self.artifacts.parent / f"mlflow-server-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", self.backend_uri,
             "--artifacts-destination", str(self.artifacts), "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"mlflow server not healthy after {timeout} s; see {log.name}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
