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
        wait_until_up(self.proc, f"{self.url}/health", timeout, "mlflow server", log.name)
        return self

    def stop(self) -> None:
        stop_process_group(self.proc)


def wait_until_up(proc: subprocess.Popen, url: str, timeout: float, what: str, log_name: str) -> None:
    """Poll `url` until it answers 200; fail naming `what` and its log if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see {log_name}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{what} not up at {url} after {timeout} s; see {log_name}")


def stop_process_group(proc: subprocess.Popen | None) -> None:
    """SIGTERM the process group a server was started in (start_new_session=True), then SIGKILL if it lingers."""
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def venv_tool(name: str) -> str:
    """A console script of the interpreter running the tests (prefect, mlflow), whatever PATH says."""
    return str(Path(sys.executable).parent / name)


class PrefectServer:
    """`prefect server start` on 127.0.0.1 with a PREFECT_HOME (and so a database) of its own; `env` is what its
    clients (the deploy command, workers, served flows) run with."""

    def __init__(self, home: Path):
        self.home, self.port = home, free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_API_URL": self.api,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                # schedule runs and pick them up within seconds, not Prefect's minute-scale defaults
                "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5", "PREFECT_WORKER_QUERY_SECONDS": "3",
                "PREFECT_RUNNER_POLL_FREQUENCY": "3"}

    def start(self, timeout: float = 180) -> PrefectServer:
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "server.log", "ab")
        env = {k: v for k, v in self.env.items() if k != "PREFECT_API_URL"}
        self.proc = subprocess.Popen([venv_tool("prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                                      str(self.port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        wait_until_up(self.proc, f"{self.api}/health", timeout, "prefect server", log.name)
        return self

    def flow_runs(self, states: tuple[str, ...] = ("COMPLETED",)) -> list[dict]:
        """Flow runs the server holds in these states (its REST API, as the UI reads it)."""
        import httpx

        response = httpx.post(f"{self.api}/flow_runs/filter", timeout=30,
                              json={"flow_runs": {"state": {"type": {"any_": list(states)}}}})
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        stop_process_group(self.proc)


def invoke_served_model(workspace: Path, model_uri: str, body: dict) -> dict:
    """Start `mlflow models serve` for `model_uri` (the workspace's embedded store) on a free loopback port,
    POST `body` to /invocations, stop the server, return the JSON answer."""
    import json

    import pytest

    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workspace / 'mlruns' / 'mlflow.db'}"}
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri,
                               "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=workspace, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("mlflow models serve did not come up")
                time.sleep(1)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(request, timeout=60).read())
    finally:
        server.terminate()
        server.wait(timeout=30)
