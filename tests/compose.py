"""deploy/docker-compose.yml as the team-setup test runs it: a service's entrypoint, command and environment with
the file's ${VARIABLES} filled in as Compose fills them, its service names mapped to loopback addresses, the
files it mounts (scripts, Compose secrets) mapped to the checkout's and the test's own, and its listening
options replaced, so the test starts the very commands, scripts and settings the compose file describes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "deploy" / "docker-compose.yml"
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}; a missing mandatory one is an error, as there."""

    def value(match: re.Match) -> str:
        name, kind, rest = match.groups()
        if variables.get(name):
            return variables[name]
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return rest if kind == "-" else ""

    return VARIABLE.sub(value, text)


def service(name: str, variables: dict[str, str]) -> dict:
    """One service of the compose file, variables filled in."""
    return yaml.safe_load(interpolate(COMPOSE_FILE.read_text(encoding="utf-8"), variables))["services"][name]


def on_loopback(text: str, hosts: dict[str, str]) -> str:
    """`service:port` (or `//service:port`) -> the test's `127.0.0.1:port` for each compose service in `hosts`."""
    for host, address in hosts.items():
        text = re.sub(rf"\b{re.escape(host)}\b", address, text)
    return text


def with_options(argv: list[str], options: dict[str, str]) -> list[str]:
    """argv with the value after each named option replaced (--host, --port: where the test listens)."""
    out = list(argv)
    for option, value in options.items():
        out[out.index(option) + 1] = value
    return out


def mounts(name: str, variables: dict[str, str], secrets_dir: Path) -> dict[str, str]:
    """Container path -> this machine's path for what a service mounts: the checkout's files for its `./...`
    volumes, `secrets_dir/NAME` for each Compose secret under /run/secrets/."""
    paths = {}
    for volume in service(name, variables).get("volumes") or []:
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            paths[target] = str(COMPOSE_FILE.parent / source[2:])
    for secret in service(name, variables).get("secrets") or []:
        paths[f"/run/secrets/{secret}"] = str(secrets_dir / secret)
    return paths


def on_this_machine(text: str, paths: dict[str, str]) -> str:
    for target in sorted(paths, key=len, reverse=True):
        if text == target or text.startswith(target + "/"):
            return paths[target] + text[len(target) :]
    return text


def command_and_env(
    name: str,
    variables: dict[str, str],
    hosts: dict[str, str],
    options: dict[str, str],
    secrets_dir: Path | None = None,
) -> tuple[list[str], list[str], dict[str, str]]:
    """A service's entrypoint and command (listening where `options` say) and environment, service hosts mapped
    to loopback and mounted files to this machine's (the secrets to `secrets_dir`)."""
    spec = service(name, variables)
    paths = mounts(name, variables, secrets_dir) if secrets_dir else {}
    argv = with_options([on_this_machine(on_loopback(str(arg), hosts), paths) for arg in spec["command"]], options)
    entrypoint = [on_this_machine(str(arg), paths) for arg in spec.get("entrypoint") or []]
    env = {
        key: on_this_machine(on_loopback(str(value), hosts), paths)
        for key, value in (spec.get("environment") or {}).items()
    }
    if secrets_dir:
        env["SECRETS_DIR"] = str(secrets_dir)  # where deploy/with-secrets.sh finds them here, not /run/secrets
    return entrypoint, argv, env
