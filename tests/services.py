"""Real servers for integration tests, started and stopped by the tests themselves on loopback and free
ports: PostgreSQL from the Debian packages (as the `postgres` user when the tests run as root), moto's S3
emulator, `mlflow server` (optionally with basic-auth) and `prefect server` (optionally on PostgreSQL,
with an auth string)."""

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
    """A throwaway cluster in `root`, listening on 127.0.0.1:`port`, owned by the role `superuser`, with the
    `databases` created. With a `password`, connections must give it (scram-sha-256); without, trust."""

    def __init__(
        self,
        root: Path,
        password: str | None = None,
        databases: tuple[str, ...] = ("mlflow",),
        superuser: str = "mlflow",
    ):
        self.bin = postgres_bin()
        self.root, self.port = root, free_port()
        self.password, self.databases, self.superuser = password, databases, superuser
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
        auth = ["--auth=trust"]
        if self.password:
            pwfile = self.root / "pwfile"
            pwfile.write_text(self.password)
            if self.as_root:
                shutil.chown(pwfile, "postgres")
            auth = ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.superuser, *auth, "-E", "UTF8")
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}",
        )
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.superuser, dbname="postgres", password=self.password
        )
        conn.autocommit = True
        for database in self.databases:
            conn.cursor().execute(f"CREATE DATABASE {database}")
        conn.close()
        return self

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
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--backend-store-uri",
                self.backend_uri,
                "--artifacts-destination",
                str(self.artifacts),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until_up(self.proc, f"{self.url}/health", timeout, "mlflow server", log.name)
        return self

    def stop(self) -> None:
        stop_process_group(self.proc)


class S3Emulator:
    """moto's S3 server (moto[server]) on 127.0.0.1, checking credentials and IAM policies as S3 does: moto lets
    the first `setup_actions` requests through unsigned, which create the root identity (all of S3 and IAM) and
    its access key; from then on a request needs a key (a wrong one gets InvalidAccessKeyId /
    SignatureDoesNotMatch) and may do only what its identity's policy allows (else AccessDenied). `identities`
    maps a role to its IAM policy document; each gets its own key, in `keys`."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        self.proc: subprocess.Popen | None = None
        self.access_key = self.secret_key = ""
        self.keys: dict[str, tuple[str, str]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(
        self, buckets: tuple[str, ...], identities: dict[str, dict] | None = None, timeout: float = 60
    ) -> S3Emulator:

        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.root / "s3.log", "ab")
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until_up(self.proc, f"{self.url}/moto-api/data.json", timeout, "moto S3 server", log.name)
        self.access_key, self.secret_key = self._identity(
            "setup",
            "setup",
            "root",
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:*"], "Resource": "*"}]},
        )
        for bucket in buckets:
            self.client().create_bucket(Bucket=bucket)
        for role, policy in (identities or {}).items():
            self.keys[role] = self._identity(self.access_key, self.secret_key, role, policy)
        return self

    def _identity(self, key: str, secret: str, name: str, policy: dict) -> tuple[str, str]:
        """An IAM user `name` with `policy`, created with the given key; its (access key, secret key)."""
        import json

        import boto3

        iam = boto3.client(
            "iam", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret
        )
        iam.create_user(UserName=name)
        made = iam.create_access_key(UserName=name)["AccessKey"]
        iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=json.dumps(policy))
        return made["AccessKeyId"], made["SecretAccessKey"]

    def client(self, role: str | None = None):
        import boto3

        key, secret = self.keys[role] if role else (self.access_key, self.secret_key)
        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret
        )

    def stop(self) -> None:
        stop_process_group(self.proc)


def start_server(
    argv: list[str], env: dict[str, str], health_url: str, log_path: Path, what: str, timeout: float = 180
) -> subprocess.Popen:
    """Start a server process in its own session (stopped with stop_process_group) and wait until it answers."""
    log = open(log_path, "ab")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_until_up(proc, health_url, timeout, what, log.name)
    return proc


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
    """`prefect server start` on 127.0.0.1 with a PREFECT_HOME (and so, by default, a SQLite database) of its own;
    `env` is what its clients (the deploy command, workers, served flows) run with. `server_env` adds settings
    of the server's own (a PostgreSQL database, an auth string); `auth_string` is what its clients send;
    `entrypoint` runs before the command (the compose file's secrets wrapper)."""

    def __init__(
        self,
        home: Path,
        server_env: dict[str, str] | None = None,
        auth_string: str | None = None,
        entrypoint: tuple[str, ...] = (),
    ):
        self.home, self.port = home, free_port()
        self.server_env, self.auth_string, self.entrypoint = server_env or {}, auth_string, list(entrypoint)
        self.proc: subprocess.Popen | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_URL": self.api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            # schedule runs and pick them up within seconds, not Prefect's minute-scale defaults
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
            "PREFECT_WORKER_QUERY_SECONDS": "3",
            "PREFECT_RUNNER_POLL_FREQUENCY": "3",
        } | ({"PREFECT_API_AUTH_STRING": self.auth_string} if self.auth_string else {})

    def start(self, timeout: float = 180) -> PrefectServer:
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "server.log", "ab")
        env = {k: v for k, v in self.env.items() if k not in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING")}
        env |= self.server_env
        self.proc = subprocess.Popen(
            [
                *self.entrypoint,
                venv_tool("prefect"),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until_up(self.proc, f"{self.api}/health", timeout, "prefect server", log.name)
        return self

    def flow_runs(self, states: tuple[str, ...] = ("COMPLETED",)) -> list[dict]:
        """Flow runs the server holds in these states (its REST API, as the UI reads it)."""
        import httpx

        response = httpx.post(
            f"{self.api}/flow_runs/filter",
            timeout=30,
            auth=tuple(self.auth_string.split(":", 1)) if self.auth_string else None,
            json={"flow_runs": {"state": {"type": {"any_": list(states)}}}},
        )
        response.raise_for_status()
        return response.json()

    def wait_for_runs(self, count: int, timeout: float = 420) -> list[dict]:
        """Until `count` flow runs have completed; fail at once, with the clients' logs, if one fails or crashes."""
        import pytest

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            bad = self.flow_runs(("FAILED", "CRASHED"))
            logs = "".join(
                path.read_text()[-3000:] for path in sorted(self.home.glob("*.log")) if path.name != "server.log"
            )
            assert not bad, f"a scheduled run failed: {[r['state']['message'] for r in bad]}\n{logs}"
            done = self.flow_runs()
            if len(done) >= count:
                return done
            time.sleep(3)
        pytest.fail(f"fewer than {count} scheduled runs completed in {timeout} s (see {self.home})")

    def stop(self) -> None:
        stop_process_group(self.proc)


def invoke_served_model(workspace: Path, model_uri: str, body: dict) -> dict:
    """Serve `model_uri` (the workspace's embedded store) with the serve command (`mlflow models serve` of the
    version's checked files) on a free loopback port,
    POST `body` to /invocations, stop the server, return the JSON answer."""
    [(status, answer)] = served_answers(workspace, model_uri, [body])
    assert status == 200, answer
    return answer


def served_answers(workspace: Path, model_uri: str, bodies: list[dict]) -> list[tuple[int, dict]]:
    """(HTTP status, JSON body) of each request in `bodies`, from one `mlflow models serve` of `model_uri`."""
    import json
    import urllib.error

    import pytest

    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workspace / 'mlruns' / 'mlflow.db'}"}
    env["PATH"] = f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "components.commands.serve",
            "--model",
            model_uri,
            "--workspace",
            str(workspace),
            "--port",
            str(port),
        ],
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        cwd=workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
        answers = []
        for body in bodies:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/invocations",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    answers.append((response.status, json.loads(response.read())))
            except urllib.error.HTTPError as err:
                answers.append((err.code, json.loads(err.read())))
        return answers
    finally:
        server.terminate()
        server.wait(timeout=30)
