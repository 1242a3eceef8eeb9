"""Promote a registered version to @champion, keeping the one it replaces as @previous-champion.

The same move can be made by hand in the MLflow UI (README); `python -m components.commands.promote`
is its scriptable twin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)
CHAMPION, PREVIOUS_CHAMPION = "champion", "previous-champion"


@dataclass(frozen=True)
class Promotion:
    model: str
    champion: str
    previous: str | None


def current(client, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def promote(client, name: str, version: str) -> Promotion:
    """Point @champion at `version`; the old champion (if another version) becomes @previous-champion."""
    client.get_model_version(name, version)  # raises a clear MLflow error for an unknown model or version
    old = current(client, name, CHAMPION)
    if old is not None and old != str(version):
        client.set_registered_model_alias(name, PREVIOUS_CHAMPION, old)
    client.set_registered_model_alias(name, CHAMPION, str(version))
    previous = old if old != str(version) else current(client, name, PREVIOUS_CHAMPION)
    return Promotion(model=name, champion=str(version), previous=previous)


def rollback(client, name: str) -> Promotion:
    """Swap @champion and @previous-champion."""
    previous = current(client, name, PREVIOUS_CHAMPION)
    if previous is None:
        raise LookupError(f"{name} has no @{PREVIOUS_CHAMPION} to roll back to")
    return promote(client, name, previous)
