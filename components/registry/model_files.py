"""Every file of a registered version, checked against the digest recorded when it was registered, before any of
its code is imported.

A registered version's files are its weights, its `MLmodel` (which also records the weights' SHA-256) and its
Python code (code_paths). A check that reads the expected digest from those same files proves nothing to whoever
can write them, so the record lives elsewhere: the version tag `files.sha256`, written by the registration in the
same request that creates the version (the tracking database, not the artifact store). On a shared server the
authorization rule (components/registry/server_auth.py) lets only a release manager change or delete that tag,
and nobody but an admin change the files behind a registered version; so a file rewritten later in the bucket
itself (whoever holds its keys) or a swapped tag is caught here, by every loader (generate, predict, score,
serve, warm start, base models, reproduce), with one error naming the version.

The digest is the SHA-256 of the sorted list of `relative path, SHA-256 of the file` lines: a file added,
removed, renamed or changed changes it.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from pathlib import Path

from components.core.atomic import file_digest
from components.core.errors import StageError

FILES_TAG = "files.sha256"
WRITTEN_BY_DOWNLOAD = frozenset({"registered_model_meta"})
"""What MLflow itself writes into a download of `models:/NAME/VERSION` (the name and version it came from)."""


def files_digest(directory: Path) -> str:
    """The digest of every file under `directory` (paths and contents), MLflow's download marker aside."""
    lines = sorted(
        f"{path.relative_to(directory).as_posix()}\t{file_digest(path)}"
        for path in directory.rglob("*")
        if path.is_file() and path.name not in WRITTEN_BY_DOWNLOAD
    )
    if not lines:
        raise StageError(f"{directory}: no files to fingerprint")
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def logged_files_digest(model_uri: str) -> str:
    """The digest of a logged model's files as the artifact store holds them (downloaded, not the local copy, so
    the record is of what a loader will get)."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        return files_digest(Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=tmp)))


def download_verified(version, destination: Path) -> Path:
    """Download a ModelVersion's files into `destination` and check them against its `files.sha256` tag; the
    folder holding its MLmodel. StageError when the record is missing or differs (`destination` is the
    caller's to remove: a temporary folder)."""
    import mlflow

    label = f"{version.name} v{version.version}"
    expected = (version.tags or {}).get(FILES_TAG)
    if not expected:
        raise StageError(
            f"{label} has no {FILES_TAG} record of its files, so they cannot be checked before its code "
            f"runs (registered before records were kept? a release manager records it: "
            f"python -m components.commands.promote --model {version.name} --record {version.version})"
        )
    local = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{version.name}/{version.version}", dst_path=str(destination)
        )
    )
    actual = files_digest(local)
    if actual != expected:
        raise StageError(
            f"{label}: its files do not match the {FILES_TAG} recorded at registration "
            f"({expected[:12]}..., the store now serves {actual[:12]}...): not loading it"
        )
    return local


def verified_copy(client, uri: str) -> tuple[object, Path]:
    """(ModelVersion, local folder) of a registry URI, every file checked; the folder lasts as long as the process
    (a loaded pyfunc may import its code from it lazily)."""
    from components.registry.model_uri import resolve

    version = resolve(client, uri)
    folder = Path(tempfile.mkdtemp(prefix="verified-model-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return version, download_verified(version, folder)


def load_pyfunc(uri: str, client=None):
    """`mlflow.pyfunc.load_model(uri)`, but a registry URI's files are checked first and the checked copy is the
    one loaded. Other URIs (a run's artifacts, a local folder) carry no record and load as given."""
    import mlflow

    from components.registry.model_uri import is_registry_uri

    if not is_registry_uri(uri):
        return mlflow.pyfunc.load_model(uri)
    if client is None:
        client = mlflow.MlflowClient()
    _, local = verified_copy(client, uri)
    return mlflow.pyfunc.load_model(str(local))
