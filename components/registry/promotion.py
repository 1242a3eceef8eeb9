"""Promote a registered version to @champion, keeping the one it replaces as @previous-champion.

The same move can be made by hand in the MLflow UI (docs/operations.md); `python -m components.commands.promote`
is its scriptable twin, and checks the version's files against their `files.sha256` record before it moves the
alias (a version whose files changed since registration is never made champion by it). `record_files` is a release
manager's way to give a version registered before records were kept its record.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from components.registry.model_files import FILES_TAG, download_verified, logged_files_digest

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
    """Point @champion at `version`, its files checked first; the old champion (if another version) becomes
    @previous-champion."""
    model_version = client.get_model_version(name, version)  # a clear MLflow error for an unknown one
    with tempfile.TemporaryDirectory() as tmp:
        download_verified(model_version, Path(tmp))
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


def record_files(client, name: str, version: str) -> str:
    """Record the digest of a version's files as the store serves them now (a version registered before records
    were kept); a release manager's move on a shared server. The digest."""
    client.get_model_version(name, version)
    digest = logged_files_digest(f"models:/{name}/{version}")
    client.set_model_version_tag(name, version, FILES_TAG, digest)
    return digest
