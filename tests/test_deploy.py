"""deploy/docker-compose.yml keeps the team setup locked: nothing published beyond BIND_ADDRESS (loopback by
default), no secret with a default, authentication switched on in every server's own terms, and a file
Compose accepts. (tests/test_team_setup.py runs its commands for real.)"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.compose import COMPOSE_FILE, ROOT, VARIABLE, interpolate, service

SECRETS = {"POSTGRES_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_ADMIN_PASSWORD",
           "MLFLOW_SECRET_KEY", "PREFECT_AUTH_STRING"}


def example_variables() -> dict[str, str]:
    lines = (ROOT / "deploy" / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_every_secret_must_be_given_and_the_example_names_every_variable():
    text = COMPOSE_FILE.read_text()
    used = {match.group(1) for match in VARIABLE.finditer(text)}
    assert used <= set(example_variables()), used - set(example_variables())
    for name in SECRETS:  # no default: Compose refuses to start without each
        assert re.search(rf"\$\{{{name}:\?", text), name
        with pytest.raises(KeyError, match=name):
            interpolate(text, {k: v for k, v in example_variables().items() if k != name})
    assert "/deploy/.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_nothing_is_published_beyond_loopback_by_default_and_postgres_not_at_all():
    services = yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), {**example_variables(), "BIND_ADDRESS": ""}))
    published = {name: spec.get("ports", []) for name, spec in services["services"].items()}
    assert not published["postgres"]
    for name, ports in published.items():
        assert all(port.startswith("127.0.0.1:") for port in ports), (name, ports)


def test_each_server_asks_for_credentials():
    variables = example_variables()
    mlflow = service("mlflow", variables)
    assert mlflow["command"][:4] == ["mlflow", "server", "--app-name", "basic-auth"]
    assert "*" not in mlflow["command"][mlflow["command"].index("--allowed-hosts") + 1]
    assert mlflow["environment"]["MLFLOW_AUTH_CONFIG_PATH"] == "/deploy/mlflow-auth.ini"
    import configparser

    ini = configparser.ConfigParser()
    ini.read(ROOT / "deploy" / "mlflow-auth.ini")
    assert ini["mlflow"]["authorization_function"] == "components.registry.server_auth:authenticate"
    assert not [key for key in ini["mlflow"] if "password" in key]  # secrets come from the environment
    assert ":" not in ini["mlflow"]["database_uri"].split("@")[0].removeprefix("postgresql+psycopg2://")
    assert service("prefect", variables)["environment"]["PREFECT_SERVER_API_AUTH_STRING"]
    minio = service("minio", variables)
    assert minio["environment"]["MINIO_BROWSER"] == "off" and "--console-address" not in minio["command"]


@pytest.mark.skipif(not (shutil.which("docker-compose") or shutil.which("docker")),
                    reason="neither docker-compose nor docker is installed")
def test_compose_accepts_the_file():
    tool = ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]
    env_file = ROOT / "deploy" / ".env.example"
    proc = subprocess.run([*tool, "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config", "--quiet"],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 and tool[0] == "docker" and ("unknown command" in proc.stderr
                                                         or "unknown shorthand flag" in proc.stderr):
        pytest.skip("docker has no compose plugin here")
    assert proc.returncode == 0, proc.stderr[-2000:]
