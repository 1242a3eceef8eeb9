"""The team setup for real, on one machine: PostgreSQL, an S3 endpoint (moto's emulator), the MLflow server
with basic-auth and S3 artifacts, and the Prefect server on PostgreSQL with an auth string, each started with
the command and settings of deploy/docker-compose.yml (tests/compose.py reads them), on loopback.

The scheduled retraining run is fired by a worker of a process work pool and goes through all of them: data
and model pushed to the S3 DVC remote and pulled back into a fresh clone, the model's artifacts in S3 through
the MLflow server, the version registered as the pipeline's user; then who may promote, and what a wrong
credential, auth string or endpoint answers."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.applications.overrides import apply_overrides
from tests.compose import ROOT, command_and_env, on_loopback
from tests.conftest import git
from tests.services import (
    Postgres,
    PrefectServer,
    S3Emulator,
    free_port,
    postgres_bin,
    start_server,
    stop_process_group,
    venv_tool,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(postgres_bin() is None, reason="PostgreSQL server binaries not installed (Debian: postgresql)"),
]
MODEL = "sentences-bsvae"


@dataclass
class Team:
    root: Path
    mlflow_url: str
    prefect: PrefectServer
    s3: S3Emulator
    pg: Postgres
    passwords: dict[str, str]
    secrets: Path
    processes: dict[str, subprocess.Popen]

    def secret(self, name: str) -> str:
        return (self.secrets / name).read_text().strip()

    def mlflow_env(self, user: str | None, password: str | None = None) -> dict[str, str]:
        """A pipeline machine's environment as `user` (None: no MLflow credentials at all), with the pipeline's
        S3 identity (the DVC bucket only)."""
        key, secret = self.s3.keys["pipeline"]
        env = {
            **self.prefect.env,
            "MLFLOW_TRACKING_URI": self.mlflow_url,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
        }
        env.pop("MLFLOW_TRACKING_USERNAME", None)
        env.pop("MLFLOW_TRACKING_PASSWORD", None)
        if user:
            env |= {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password or self.passwords[user]}
        return env


def use_s3_remote(workspace: Path, endpoint: str) -> str:
    """The workspace's DVC remote becomes the team's S3 bucket (endpoint in .dvc/config; keys from the env)."""
    dvc = venv_tool("dvc")
    for args in (
        ["remote", "add", "-f", "-d", "team", "s3://dvc/latent"],
        ["remote", "modify", "team", "endpointurl", endpoint],
    ):
        subprocess.run([dvc, *args], cwd=workspace, check=True, capture_output=True)
    return dvc


def run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The command failed with exactly one `error:` line on stderr and no traceback on the console."""
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]
    return errors[0]


S3_ROLES = {"mlflow-server": "mlflow_s3_secret", "pipeline": "pipeline_s3_secret", "reader": "reader_s3_secret"}
"""deploy/s3-setup.sh's identities and the secret file of each."""


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    root = tmp_path_factory.mktemp("team")
    secrets_dir = root / "secrets"  # what deploy/make_secrets.py writes into deploy/secrets/
    subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "make_secrets.py"), "--dir", str(secrets_dir)],
        check=True,
        capture_output=True,
    )
    secret = lambda name: (secrets_dir / name).read_text().strip()  # noqa: E731
    passwords = {
        "admin": secret("mlflow_admin_password"),
        **{user: secrets.token_urlsafe(18) for user in ("pipeline", "alice")},
    }
    pg = Postgres(root / "pg", password=secret("postgres_password"), databases=(), superuser="postgres").start()
    # deploy/s3-setup.sh's work (mc is not installed here): the buckets, one identity per role with the policy
    # file the script gives MinIO; the emulator makes each key, written where make_secrets.py put the secret.
    s3 = S3Emulator(root / "s3").start(
        buckets=("mlflow", "dvc"),
        identities={
            role: json.loads((ROOT / "deploy" / "s3-policies" / f"{role}.json").read_text()) for role in S3_ROLES
        },
    )
    for role, secret_file in S3_ROLES.items():
        (secrets_dir / secret_file).write_text(s3.keys[role][1] + "\n")
    mlflow_port = free_port()
    variables = {"MLFLOW_PUBLIC_HOST": "127.0.0.1"}
    hosts = {
        "postgres:5432": f"127.0.0.1:{pg.port}",
        "http://minio:9000": s3.url,
        "mlflow:5000": f"127.0.0.1:{mlflow_port}",
        "localhost:5000": f"localhost:{mlflow_port}",
        "127.0.0.1:5000": f"127.0.0.1:{mlflow_port}",
    }
    processes = {}
    try:
        # The postgres image's first start: its init script, through the same entrypoint, as the superuser.
        entrypoint, _, env = command_and_env("postgres", variables, hosts, {}, secrets_dir)
        assert entrypoint[-1] == "docker-entrypoint.sh"
        init = run(
            [*entrypoint[:-1], "sh", str(ROOT / "deploy" / "postgres-init.sh")],
            {
                **os.environ,
                **env,
                "POSTGRES_USER": "postgres",
                "PGHOST": "127.0.0.1",
                "PGPORT": str(pg.port),
                "PGPASSWORD": secret("postgres_password"),
                "PATH": f"{pg.bin}:{os.environ['PATH']}",
            },
            root,
        )
        assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]

        entrypoint, argv, env = command_and_env(
            "mlflow",
            variables,
            hosts,
            {"--host": "127.0.0.1", "--port": str(mlflow_port), "--workers": "1"},
            secrets_dir,
        )
        ini = root / "mlflow-auth.ini"  # the shipped one, its database host on loopback
        ini.write_text(on_loopback((ROOT / "deploy" / "mlflow-auth.ini").read_text(), hosts))
        assert env["AWS_ACCESS_KEY_ID"] == "mlflow-server"  # its identity's name; the emulator's key for it
        env |= {
            "MLFLOW_AUTH_CONFIG_PATH": str(ini),
            "PYTHONPATH": str(ROOT),  # the image's ENV PYTHONPATH
            "AWS_ACCESS_KEY_ID": s3.keys["mlflow-server"][0],
        }
        argv[0] = venv_tool(argv[0])
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PG", "MLFLOW_"))}
        processes["mlflow"] = start_server(
            [*entrypoint, *argv],
            {**clean, **env},
            f"http://127.0.0.1:{mlflow_port}/health",
            root / "mlflow.log",
            "mlflow server (basic-auth)",
        )

        entrypoint, argv, server_env = command_and_env(
            "prefect", variables, hosts, {"--host": "127.0.0.1", "--port": "0"}, secrets_dir
        )
        server_env |= {"PREFECT_SERVER_DATABASE_HOST": "127.0.0.1", "PREFECT_SERVER_DATABASE_PORT": str(pg.port)}
        prefect = PrefectServer(
            root / "prefect",
            server_env=server_env,
            auth_string=secret("prefect_auth_string"),
            entrypoint=tuple(entrypoint),
        )
        assert argv[:3] == ["prefect", "server", "start"]  # the class starts that command on its own port
        prefect.start()
        processes["prefect"] = prefect.proc
        yield Team(root, f"http://127.0.0.1:{mlflow_port}", prefect, s3, pg, passwords, secrets_dir, processes)
    finally:
        for process in processes.values():
            stop_process_group(process)
        s3.stop()
        pg.stop()


@pytest.fixture(scope="module")
def users(team):
    """The admin creates the pipeline's user and a release manager, and grants them their roles."""
    admin = team.mlflow_env("admin")
    for user, role in (("pipeline", "pipeline"), ("alice", "manager")):
        made = run(
            [sys.executable, "-m", "components.commands.access", "--user", user, "--role", role, "--app", "sentences"],
            {**admin, "MLFLOW_NEW_USER_PASSWORD": team.passwords[user]},
            ROOT,
        )
        assert made.returncode == 0 and f"created user {user}" in made.stdout, made.stderr
    return team


def test_nothing_answers_without_credentials(team):
    for request in (
        urllib.request.Request(f"{team.mlflow_url}/api/2.0/mlflow/experiments/search?max_results=1"),
        urllib.request.Request(
            f"{team.prefect.api}/flows/filter", data=b"{}", method="POST", headers={"Content-Type": "application/json"}
        ),
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401, request.full_url
    import boto3
    import botocore.exceptions

    anonymous = boto3.client(
        "s3",
        endpoint_url=team.s3.url,
        region_name="us-east-1",
        aws_access_key_id="nobody",
        aws_secret_access_key="nothing",
    )
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidAccessKeyId"):
        anonymous.list_objects_v2(Bucket="dvc")


def test_the_scheduled_run_goes_through_every_server_and_only_a_manager_promotes(users, trained_workspace):
    # Trained already (in the embedded store, which the team's servers never see): DVC skips the stages.
    team, env, workspace = users, users.mlflow_env("pipeline"), trained_workspace[0]
    dvc = use_s3_remote(workspace, team.s3.url)
    apply_overrides(workspace / "params.yaml", {"orchestrate.cron": "* * * * *"})  # fires at the next minute
    git(workspace, "commit", "-qam", "the team's remote and a one-minute schedule")

    created = run([venv_tool("prefect"), "work-pool", "create", "team-pool", "--type", "process"], env, workspace)
    assert created.returncode == 0, created.stderr[-2000:]
    deployed = run(
        [
            sys.executable,
            "-m",
            "flows.serve",
            "--workspace",
            str(workspace),
            "--profile",
            "tiny",
            "--work-pool",
            "team-pool",
        ],
        env,
        workspace,
    )
    assert deployed.returncode == 0 and "deployed" in deployed.stdout, deployed.stderr[-2000:]
    worker = subprocess.Popen(
        [venv_tool("prefect"), "worker", "start", "--pool", "team-pool"],
        env=env,
        cwd=workspace,
        stdout=open(team.prefect.home / "worker.log", "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        fired = team.prefect.wait_for_runs(1)[0]
    finally:
        stop_process_group(worker)
    assert fired["deployment_id"] and fired["parameters"]["profile"] == "tiny"

    import mlflow

    client = mlflow.MlflowClient(team.mlflow_url, team.mlflow_url)
    os.environ.update({"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": team.passwords["alice"]})
    try:
        assert client.get_model_version_by_alias(MODEL, "challenger").version == "1"
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")
    import psycopg2  # the tracking store is the PostgreSQL database, the flow's run the one that wrote it

    with psycopg2.connect(
        host="127.0.0.1",
        port=team.pg.port,
        user="mlflow_tracking",
        dbname="mlflow",
        password=team.secret("mlflow_tracking_db_password"),
    ) as conn:
        cur = conn.cursor()
        cur.execute("SELECT name, version FROM model_versions")
        assert cur.fetchall() == [(MODEL, 1)]
    # The model's files went to S3 through the server's artifact proxy; DVC's objects to the DVC bucket.
    stored = [o["Key"] for o in team.s3.client().list_objects_v2(Bucket="mlflow").get("Contents", [])]
    assert any(key.endswith("model.safetensors") for key in stored), stored[:20]
    assert team.s3.client().list_objects_v2(Bucket="dvc", Prefix="latent/").get("KeyCount", 0) > 0

    # A fresh clone of the run's commit pulls the data and the model back from S3.
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "the scheduled run's dvc.lock")
    fresh = workspace.parent / "fresh"
    git(workspace.parent, "clone", "-q", str(workspace), str(fresh))
    pulled = run([dvc, "pull", "--with-deps", "sentences-evaluate"], env, fresh)  # the application that ran
    assert pulled.returncode == 0, pulled.stdout[-2000:] + pulled.stderr[-2000:]
    weights = "models/sentences/bsvae/model.safetensors"
    assert (fresh / weights).read_bytes() == (workspace / weights).read_bytes()

    # Who may promote: the pipeline's user is refused with one line, the release manager is not.
    promote = [sys.executable, "-m", "components.commands.promote", "--model", MODEL, "--version", "1"]
    line = one_error_line(run(promote, env, workspace))
    assert line.startswith(f"error: promote: MLflow server {team.mlflow_url} refused user pipeline (403)"), line
    assert "MANAGE" in line
    line = one_error_line(run(promote, team.mlflow_env(None), workspace))
    assert "refused the credentials (401)" in line, line
    # The UI moves aliases through the same API under /ajax-api: the pipeline's user is refused there too.
    token = base64.b64encode(f"pipeline:{team.passwords['pipeline']}".encode()).decode()
    request = urllib.request.Request(
        f"{team.mlflow_url}/ajax-api/2.0/mlflow/registered-models/alias",
        method="POST",
        data=json.dumps({"name": MODEL, "alias": "champion", "version": "1"}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    promoted = run(promote, team.mlflow_env("alice"), workspace)
    assert promoted.returncode == 0 and "@champion -> v1" in promoted.stdout, promoted.stderr[-2000:]


def mlflow_request(
    team, user: str, method: str, route: str, body: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, str]:
    """(HTTP status, message) of one raw request to the team's MLflow server as `user`."""
    token = base64.b64encode(f"{user}:{team.passwords[user]}".encode()).decode()
    request = urllib.request.Request(
        f"{team.mlflow_url}{route}",
        method=method,
        data=body,
        headers={"Content-Type": content_type, "Authorization": f"Basic {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_the_pipeline_cannot_decide_what_champion_serves(users):
    """Each way the pipeline's EDIT grant could swap or hide @champion, as a raw request to the real server: refused
    with 403; the pipeline's own moves (registering, @challenger) still pass. After the scheduled run above, which
    registered MODEL v1 and had the manager promote it."""
    team, api = users, "/api/2.0/mlflow"

    def as_pipeline(method, route, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return mlflow_request(team, "pipeline", method, f"{api}{route}", data, content_type)

    attacks = {
        # create-then-rename takeover, step one: the rule read the query string, the handler a JSON string body
        "create through a JSON string body": (
            "POST",
            f"/registered-models/create?name={MODEL}",
            json.dumps(json.dumps({"name": "takeover"})).encode(),
        ),
        # the permission check read the query (a model the caller manages), the handler the body (MODEL)
        "cross-model alias delete": (
            "DELETE",
            "/registered-models/alias?name=other&alias=champion",
            {"name": MODEL, "alias": "champion"},
        ),
        "alias move in a form body": (
            "POST",
            "/registered-models/alias",
            f"name={MODEL}&alias=champion&version=1".encode(),
            "application/x-www-form-urlencoded",
        ),
        "champion moved": ("POST", "/registered-models/alias", {"name": MODEL, "alias": "champion", "version": "1"}),
        "another served alias made": (
            "POST",
            "/registered-models/alias",
            {"name": MODEL, "alias": "prod", "version": "1"},
        ),
        "rename away": ("POST", "/registered-models/rename", {"name": MODEL, "new_name": f"{MODEL}-old"}),
        "prompt tag hides the model": (
            "POST",
            "/registered-models/set-tag",
            {"name": MODEL, "key": "mlflow.prompt.is_prompt", "value": "true"},
        ),
        "stage transition": (
            "POST",
            "/model-versions/transition-stage",
            {"name": MODEL, "version": "1", "stage": "Production", "archive_existing_versions": True},
        ),
        "new registered model": ("POST", "/registered-models/create", {"name": "takeover"}),
        # the digest every loader checks the version's files against
        "files record rewritten": (
            "POST",
            "/model-versions/set-tag",
            {"name": MODEL, "version": "1", "key": "files.sha256", "value": "0" * 64},
        ),
        "files record deleted": (
            "DELETE",
            "/model-versions/delete-tag",
            {"name": MODEL, "version": "1", "key": "files.sha256"},
        ),
    }
    for attack, (method, route, body, *content_type) in attacks.items():
        status, message = as_pipeline(method, route, body, *content_type)
        assert status == 403, f"{attack}: {status} {message}"
    for prefix in ("/api", "/ajax-api"):  # the UI's route answers the same
        status, _ = mlflow_request(
            team,
            "pipeline",
            "POST",
            f"{prefix}/2.0/mlflow/registered-models/rename",
            json.dumps({"name": MODEL, "new_name": "x"}).encode(),
        )
        assert status == 403

    import mlflow

    client = mlflow.MlflowClient(team.mlflow_url, team.mlflow_url)
    os.environ.update({"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": team.passwords["alice"]})
    try:
        assert client.get_model_version_by_alias(MODEL, "champion").version == "1"  # untouched, still findable
        assert {m.name for m in client.search_registered_models()} == {MODEL}
        version = client.get_model_version(MODEL, "1")
        experiment = client.get_run(version.run_id).info.experiment_id
        model_id = version.source.removeprefix("models:/")
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")
    # The registered version's files: its run's and its logged model's, overwritten or deleted through the proxy.
    files = "/api/2.0/mlflow-artifacts/artifacts"
    for method, route in (
        ("PUT", f"{files}/{experiment}/models/{model_id}/artifacts/model_dir/model.safetensors"),
        ("PUT", f"{files}/{experiment}/models/{model_id}/artifacts/MLmodel"),
        ("PUT", f"{files}/{experiment}/{version.run_id}/artifacts/reports/gate.json"),
        ("DELETE", f"{files}/{experiment}/models/{model_id}/artifacts/MLmodel"),
    ):
        status, message = mlflow_request(team, "pipeline", method, route, b"swapped", "application/octet-stream")
        assert status == 403 and "immutable" in message, f"{method} {route}: {status} {message}"
    # the pipeline's own moves
    assert (
        as_pipeline("POST", "/registered-models/alias", {"name": MODEL, "alias": "challenger", "version": "1"})[0]
        == 200
    )
    assert as_pipeline("POST", "/registered-models/create", {"name": MODEL})[0] == 400  # exists: the store says so
    assert (
        as_pipeline("POST", "/model-versions/set-tag", {"name": MODEL, "version": "1", "key": "note", "value": "ok"})[0]
        == 200
    )

    # A password written into a URL reaches no error line (nor the Prefect logs, which carry the same messages).
    secret = secrets.token_urlsafe(12)
    in_url = {**team.mlflow_env(None), "MLFLOW_TRACKING_URI": team.mlflow_url.replace("://", f"://pipeline:{secret}@")}
    promote = [sys.executable, "-m", "components.commands.promote", "--model", MODEL, "--version", "1"]
    result = run(promote, in_url, ROOT)
    line = one_error_line(result)
    assert secret not in result.stdout + result.stderr and "://***@127.0.0.1" in line, line


def test_a_file_rewritten_in_the_bucket_is_caught_before_any_model_code_runs(users):
    """Whoever holds the artifact bucket's keys (not the pipeline: its identity cannot reach that bucket) rewrites
    the champion's code in S3 itself; the loader finds the files differ from the version's files.sha256 record."""
    team = users
    bucket, root = "mlflow", team.s3.client()
    code = next(
        o["Key"]
        for o in root.list_objects_v2(Bucket=bucket, Prefix="artifacts/")["Contents"]
        if o["Key"].endswith("/code/components/kinds/text/serving/pyfunc.py")
    )
    original, marker = root.get_object(Bucket=bucket, Key=code)["Body"].read(), team.root / "model-code-ran"
    root.put_object(Bucket=bucket, Key=code, Body=original + f"\nopen({str(marker)!r}, 'w').close()\n".encode())
    try:
        generate = [
            sys.executable,
            "-m",
            "components.commands.generate",
            "--model",
            f"models:/{MODEL}@champion",
            "--n",
            "1",
        ]
        line = one_error_line(run(generate, team.mlflow_env("alice"), ROOT))
        assert line.startswith(f"error: generate: {MODEL} v1: its files do not match the files.sha256"), line
        assert not marker.exists()
    finally:
        root.put_object(Bucket=bucket, Key=code, Body=original)
    assert run(generate, team.mlflow_env("alice"), ROOT).returncode == 0


@contextlib.contextmanager
def signed_in(team, user: str):
    """The MLflow client in this process as `user` of the team's server."""
    os.environ.update({"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": team.passwords[user]})
    try:
        yield
    finally:
        os.environ.pop("MLFLOW_TRACKING_USERNAME")
        os.environ.pop("MLFLOW_TRACKING_PASSWORD")


def test_a_version_registered_from_a_logged_model_without_a_run_is_immutable_too(users, tmp_path):
    """A manager uploads a model by hand (MLflow 3's create_logged_model: no run behind it) and an admin registers
    it: the pipeline's EDIT on the experiment reaches none of its files, through the client or a raw request, and
    whoever downloads the version gets the files that were registered."""
    import mlflow

    from components.applications.kind import load_application_params

    team, name = users, "sentences-by-hand"
    client = mlflow.MlflowClient(team.mlflow_url, team.mlflow_url)
    original, swapped = tmp_path / "original", tmp_path / "swapped"
    for folder, text in ((original, "flavors: {}\n"), (swapped, "swapped\n")):
        folder.mkdir()
        (folder / "MLmodel").write_text(text)
    experiment_name = load_application_params(ROOT / "params.yaml", "sentences").experiment_name
    with signed_in(team, "admin"):
        experiment = client.get_experiment_by_name(experiment_name).experiment_id
        logged = client.create_logged_model(experiment, name="by-hand")
        client.log_model_artifacts(logged.model_id, str(original))
        client.create_registered_model(name)
        version = client.create_model_version(name, f"models:/{logged.model_id}", model_id=logged.model_id)
    assert not logged.source_run_id  # no run behind it

    with signed_in(team, "pipeline"), pytest.raises(Exception, match="immutable|403"):
        client.log_model_artifacts(logged.model_id, str(swapped))
    route = f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/models/{logged.model_id}/artifacts/MLmodel"
    for method in ("PUT", "DELETE"):
        status, message = mlflow_request(team, "pipeline", method, route, b"swapped", "application/octet-stream")
        assert status == 403 and f"{name} v{version.version}" in message and "immutable" in message, message
    with signed_in(team, "alice"):
        assert client.get_model_version_download_uri(name, version.version) == logged.artifact_location
    assert mlflow_request(team, "alice", "GET", route) == (200, "flavors: {}\n")  # what a download gets


def test_each_service_has_its_own_least_identity_and_no_secret_is_on_a_command_line(users):
    team = users
    import botocore.exceptions
    import psycopg2

    # S3: the pipeline reaches the DVC bucket only, readers only read it, the MLflow server has the artifacts.
    denied = {
        ("pipeline", "get_object", "mlflow"),
        ("pipeline", "put_object", "mlflow"),
        ("reader", "put_object", "dvc"),
        ("reader", "get_object", "mlflow"),
        ("mlflow-server", "put_object", "dvc"),
        ("mlflow-server", "get_object", "dvc"),
    }
    allowed = {
        ("pipeline", "put_object", "dvc"),
        ("pipeline", "get_object", "dvc"),
        ("reader", "get_object", "dvc"),
        ("mlflow-server", "put_object", "mlflow"),
        ("mlflow-server", "get_object", "mlflow"),
    }
    for role, action, bucket in sorted(allowed) + sorted(denied):
        client = team.s3.client(role)
        kwargs = {"Bucket": bucket, "Key": "probe/least-privilege"} | ({"Body": b"x"} if action == "put_object" else {})
        if action == "get_object":
            team.s3.client().put_object(Bucket=bucket, Key="probe/least-privilege", Body=b"x")
        if (role, action, bucket) in denied:
            with pytest.raises(botocore.exceptions.ClientError, match="AccessDenied"):
                getattr(client, action)(**kwargs)
        else:
            getattr(client, action)(**kwargs)

    # PostgreSQL: one role and one database per service, no superuser among them, no way into another's database.
    roles = {
        "mlflow_tracking": ("mlflow", "mlflow_tracking_db_password"),
        "mlflow_auth": ("mlflow_auth", "mlflow_auth_db_password"),
        "prefect": ("prefect", "prefect_db_password"),
    }
    for role, (database, secret) in roles.items():
        with psycopg2.connect(
            host="127.0.0.1", port=team.pg.port, user=role, dbname=database, password=team.secret(secret)
        ) as conn:
            cur = conn.cursor()
            cur.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
            assert cur.fetchone() == (False, False, False), role
        conn.close()
        for other in {d for d, _ in roles.values()} - {database}:
            with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
                psycopg2.connect(
                    host="127.0.0.1", port=team.pg.port, user=role, dbname=other, password=team.secret(secret)
                )

    # No secret on any server process's command line (what `ps` shows to every user of the machine).
    values = [team.secret(p.name) for p in team.secrets.iterdir() if p.name != "mlflow_pgpass"]
    for name, process in team.processes.items():
        group = [pid for pid in os.listdir("/proc") if pid.isdigit() and _session(pid) == process.pid]
        assert group, name
        for pid in group:
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue  # gone since listed
            leaked = [v[:4] + "..." for v in values if v in argv]
            assert not leaked, f"{name} pid {pid}: {leaked}"


def _session(pid: str) -> int | None:
    """The session id of a process (servers are started in sessions of their own: their pid)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])
    except (OSError, IndexError, ValueError):
        return None


def test_wrong_credentials_are_one_error_line_before_anything_runs(users, workspace):
    team = users
    before = (workspace / "params.yaml").read_text()
    retrain = [sys.executable, "-m", "flows.retrain", "--workspace", str(workspace), "--profile", "tiny"]
    line = one_error_line(run(retrain, team.mlflow_env("pipeline", password="not-the-password"), workspace))
    assert line.startswith(f"error: retrain: MLflow server {team.mlflow_url} refused the credentials (401)"), line
    assert (workspace / "params.yaml").read_text() == before and not (workspace / "dvc.lock").exists()

    # Only an admin hands out roles.
    grant = [sys.executable, "-m", "components.commands.access", "--user", "pipeline", "--role", "manager"]
    line = one_error_line(run(grant, team.mlflow_env("pipeline"), ROOT))
    assert line.startswith(f"error: access: MLflow server {team.mlflow_url} refused user pipeline (403)"), line

    wrong_auth = {**team.mlflow_env("pipeline"), "PREFECT_API_AUTH_STRING": "team:not-the-auth-string"}
    line = one_error_line(run(retrain, wrong_auth, workspace))
    assert line.startswith(f"error: retrain: Prefect server {team.prefect.api} refused the auth string (401)"), line
    assert (workspace / "params.yaml").read_text() == before and not (workspace / "dvc.lock").exists()
    serve = [sys.executable, "-m", "flows.serve", "--workspace", str(workspace), "--work-pool", "team-pool"]
    line = one_error_line(run(serve, wrong_auth, workspace))
    assert "refused the auth string (401)" in line and "PREFECT_API_AUTH_STRING" in line, line

    # The S3 remote: a wrong secret key, then an endpoint nobody listens on.
    use_s3_remote(workspace, team.s3.url)
    before = (workspace / "params.yaml").read_text()
    wrong_key = {**team.mlflow_env("pipeline"), "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    line = one_error_line(run(retrain, wrong_key, workspace))
    assert line.startswith(f"error: retrain: DVC remote 'team' (s3://dvc/latent at {team.s3.url}) cannot be used"), line
    assert "AWS_SECRET_ACCESS_KEY" in line, line
    use_s3_remote(workspace, f"http://127.0.0.1:{free_port()}")
    line = one_error_line(run(retrain, team.mlflow_env("pipeline"), workspace))
    assert "cannot be used (EndpointConnectionError" in line, line
    assert (workspace / "params.yaml").read_text() == before and not (workspace / "dvc.lock").exists()
