"""deploy/docker-compose.yml keeps the team setup locked: nothing published beyond BIND_ADDRESS (loopback by
default), every secret a file that deploy/make_secrets.py writes and the entrypoint checks, one database role and
one storage identity per service, authentication switched on in every server's own terms, and a file Compose
accepts. (tests/deploy/test_team_setup.py runs its commands for real.)"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from tests.compose import COMPOSE_FILE, ROOT, VARIABLE, interpolate, service


def example_variables() -> dict[str, str]:
    lines = (ROOT / "deploy" / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def services() -> dict:
    return yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), example_variables()))["services"]


def test_every_secret_is_a_file_that_make_secrets_writes_and_env_holds_none(tmp_path):
    text = COMPOSE_FILE.read_text()
    assert (
        {match.group(1) for match in VARIABLE.finditer(text)}
        == set(example_variables())
        == {"BIND_ADDRESS", "MLFLOW_PUBLIC_HOST"}
    )  # addresses only
    declared = yaml.safe_load(interpolate(text, example_variables()))["secrets"]
    assert all(spec == {"file": f"./secrets/{name}"} for name, spec in declared.items()), declared
    for name, spec in services().items():
        for key, value in (spec.get("environment") or {}).items():
            if key.endswith("_FILE") or key == "PGPASSFILE":  # each a secret the service is given, and declared
                secret = str(value).removeprefix("/run/secrets/")
                assert secret in spec["secrets"] and secret in declared, (name, key)
            else:
                assert not any(word in key for word in ("PASSWORD", "SECRET", "AUTH_STRING")), (name, key)
        if spec.get("secrets"):
            assert spec["entrypoint"][:2] == ["sh", "/deploy/with-secrets.sh"], name
    proc = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "make_secrets.py"), "--dir", str(tmp_path / "s")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert {path.name for path in (tmp_path / "s").iterdir()} == set(declared)
    assert all(path.stat().st_mode & 0o077 == 0 for path in (tmp_path / "s").iterdir())
    first = (tmp_path / "s" / "postgres_password").read_text()
    subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "make_secrets.py"), "--dir", str(tmp_path / "s")],
        check=True,
        capture_output=True,
    )
    assert (tmp_path / "s" / "postgres_password").read_text() == first  # a re-run keeps what is there
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "/deploy/.env" in ignored and "/deploy/secrets/" in ignored


def test_the_secrets_entrypoint_refuses_missing_short_and_example_values(tmp_path):
    wrapper = ["sh", str(ROOT / "deploy" / "with-secrets.sh")]
    good, other = tmp_path / "good", tmp_path.parent / "not-a-secret.pem"
    good.write_text("a-long-random-value-0123456789\n")
    env = {"PATH": "/usr/bin:/bin", "SECRETS_DIR": str(tmp_path), "CA_CERTS_FILE": str(other)}
    shown = subprocess.run(
        [*wrapper, "sh", "-c", 'echo "$DB_PASSWORD|${DB_PASSWORD_FILE:-unset}|$CA_CERTS_FILE"'],
        env={**env, "DB_PASSWORD_FILE": str(good)},
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr  # a *_FILE outside the secrets directory is not its business
    assert shown.stdout == f"a-long-random-value-0123456789|unset|{other}\n", shown.stdout
    for value, reason in (("change-me\n", "example value"), ("short\n", "fewer than 16"), (None, "cannot read")):
        path = tmp_path / "bad"
        path.unlink(missing_ok=True)
        if value is not None:
            path.write_text(value)
        refused = subprocess.run(
            [*wrapper, "echo", "started"], env={**env, "DB_PASSWORD_FILE": str(path)}, capture_output=True, text=True
        )
        assert refused.returncode == 1 and "started" not in refused.stdout, reason
        assert refused.stderr.startswith("error: DB_PASSWORD: ") and reason in refused.stderr, refused.stderr
        assert len(refused.stderr.splitlines()) == 1


def test_each_service_has_its_own_database_role_and_storage_identity():
    spec = services()
    mlflow_command = " ".join(spec["mlflow"]["command"])
    import configparser

    ini = configparser.ConfigParser()
    ini.read(ROOT / "deploy" / "mlflow-auth.ini")
    users = {
        "tracking": mlflow_command.split("postgresql+psycopg2://")[1].split("@")[0],
        "auth": ini["mlflow"]["database_uri"].split("//")[1].split("@")[0],
        "prefect": spec["prefect"]["environment"]["PREFECT_SERVER_DATABASE_USER"],
    }
    assert len(set(users.values())) == 3 and "postgres" not in users.values(), users
    init = (ROOT / "deploy" / "postgres-init.sh").read_text()
    for user in users.values():
        assert f"create {user} " in init
    assert "NOSUPERUSER NOCREATEDB NOCREATEROLE" in init and "REVOKE ALL ON DATABASE" in init
    # MinIO's root keys: the server itself and the set-up job, nobody else.
    holders = {
        name
        for name, service in spec.items()
        if {"s3_root_user", "s3_root_password"} & set(service.get("secrets") or [])
    }
    assert holders == {"minio", "s3-setup"}
    assert spec["mlflow"]["environment"]["AWS_ACCESS_KEY_ID"] == "mlflow-server"
    import json

    policies = {path.stem: json.loads(path.read_text()) for path in (ROOT / "deploy" / "s3-policies").glob("*.json")}
    assert set(policies) == {"mlflow-server", "pipeline", "reader"}
    buckets = {
        role: {r.split(":::")[1].split("/")[0] for st in policy["Statement"] for r in st["Resource"]}
        for role, policy in policies.items()
    }
    assert buckets == {"mlflow-server": {"mlflow"}, "pipeline": {"dvc"}, "reader": {"dvc"}}
    assert not [a for st in policies["reader"]["Statement"] for a in st["Action"] if "Put" in a or "Delete" in a]
    setup = (ROOT / "deploy" / "s3-setup.sh").read_text()
    assert all(f"add {role} " in setup for role in policies)


def test_nothing_is_published_beyond_loopback_by_default_and_postgres_not_at_all():
    services = yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), {**example_variables(), "BIND_ADDRESS": ""}))
    published = {name: spec.get("ports", []) for name, spec in services["services"].items()}
    assert not published["postgres"]
    for name, ports in published.items():
        assert all(port.startswith("127.0.0.1:") for port in ports), (name, ports)


def test_each_server_asks_for_credentials():
    variables = example_variables()
    mlflow = service("mlflow", variables)
    assert mlflow["entrypoint"] == ["sh", "/deploy/with-secrets.sh"]
    assert mlflow["command"][:4] == ["mlflow", "server", "--app-name", "basic-auth"]
    assert "*" not in mlflow["command"][mlflow["command"].index("--allowed-hosts") + 1]
    assert mlflow["environment"]["MLFLOW_AUTH_CONFIG_PATH"] == "/deploy/mlflow-auth.ini"
    import configparser

    ini = configparser.ConfigParser()
    ini.read(ROOT / "deploy" / "mlflow-auth.ini")
    assert ini["mlflow"]["authorization_function"] == "components.registry.server_auth:authenticate"
    assert not [key for key in ini["mlflow"] if "password" in key]  # secrets come from the environment
    assert ":" not in ini["mlflow"]["database_uri"].split("@")[0].removeprefix("postgresql+psycopg2://")
    assert service("prefect", variables)["environment"]["PREFECT_SERVER_API_AUTH_STRING_FILE"]
    minio = service("minio", variables)
    assert minio["environment"]["MINIO_BROWSER"] == "off" and "--console-address" not in minio["command"]


@pytest.mark.skipif(
    not (shutil.which("docker-compose") or shutil.which("docker")),
    reason="neither docker-compose nor docker is installed",
)
def test_compose_accepts_the_file():
    tool = ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]
    env_file = ROOT / "deploy" / ".env.example"
    proc = subprocess.run(
        [*tool, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if (
        proc.returncode != 0
        and tool[0] == "docker"
        and ("unknown command" in proc.stderr or "unknown shorthand flag" in proc.stderr)
    ):
        pytest.skip("docker has no compose plugin here")
    assert proc.returncode == 0, proc.stderr[-2000:]
