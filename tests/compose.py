"""deploy/docker-compose.yml as the team-setup test runs it: a service's command and environment with the
file's ${VARIABLES} filled in as Compose fills them, its service names mapped to loopback addresses and its
listening options replaced, so the test starts the very commands and settings the compose file describes."""

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


def command_and_env(name: str, variables: dict[str, str], hosts: dict[str, str],
                    options: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """A service's command (listening where `options` say) and environment, service hosts mapped to loopback."""
    spec = service(name, variables)
    argv = with_options([on_loopback(str(arg), hosts) for arg in spec["command"]], options)
    env = {key: on_loopback(str(value), hosts) for key, value in (spec.get("environment") or {}).items()}
    return argv, env
