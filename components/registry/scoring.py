"""Scoring a registered version on new data, recorded as an MLflow evaluation run linked to the version's model.

The version's own application says which kind scores it (its `application` tag, the params.yaml section of that
name); the kind runs its evaluate stage's metrics on the file (Kind.score). The result is one MLflow run in the
application's experiment, taking the version's logged model as its input and the file as an `evaluation`
dataset, with its metrics logged against both (MLflow 3's model_id and dataset on each metric): the logged
model's page in the UI then lists the version's scores on every data set side by side.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from components.core.atomic import file_digest
from components.core.errors import StageError
from components.registry.model_files import verified_copy


@dataclass(frozen=True)
class Scored:
    name: str
    version: str
    run_id: str
    metrics: dict


def logged_model_id(version) -> str | None:
    """The id of the logged model a version was registered from (`models:/m-...` as its source; the SQLite
    store leaves ModelVersion.model_id empty)."""
    if version.model_id:
        return version.model_id
    source = str(version.source or "")
    return source.removeprefix("models:/") if re.match(r"^models:/m-[0-9a-f]+$", source) else None


def numeric(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def score_version(workspace: Path, uri: str, data: Path, params_path: Path, dataset_name: str | None = None) -> Scored:
    """Score the version `uri` names on `data` and record it; the Scored result."""
    import mlflow
    from mlflow.data import from_pandas
    from mlflow.entities import LoggedModelInput

    from components.applications.kind import Scores, application_kind, load_application_params
    from components.registry.tracking import connect

    for part in str(data).split(","):  # translation: two aligned files, "a.de,a.en"
        if not Path(part.strip()).exists():
            raise StageError(f"{part.strip()}: no such data file")
    client = connect(workspace)
    try:
        version, local = verified_copy(client, uri)  # every file checked before the model's code is imported
    except ValueError as err:
        raise StageError(f"--model {err}") from None
    app = version.tags.get("application")
    if not app:
        raise StageError(f"{version.name} v{version.version}: no application tag (registered by another tool?)")
    params = load_application_params(params_path, app)
    kind = application_kind(params_path, app)
    if not isinstance(kind, Scores):
        raise StageError(f"{version.name} v{version.version}: the {kind.name} kind cannot score new data")
    served = mlflow.pyfunc.load_model(str(local)).unwrap_python_model()
    metrics, rows = kind.score(served, params, data)
    digest = file_digest(data) if data.is_file() else None
    dataset = from_pandas(
        rows, source=str(data.resolve()), name=dataset_name or data.name, **({"digest": digest[:8]} if digest else {})
    )
    experiment = client.get_experiment_by_name(params.experiment_name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(params.experiment_name)
    tags = {
        "application": app,
        "registered_model": version.name,
        "model_version": str(version.version),
        "scored_data": str(data.resolve()),
        "mlflow.runName": f"score {version.name} v{version.version} on {dataset_name or data.name}",
    }
    with mlflow.start_run(experiment_id=experiment_id, tags=tags) as run:
        model_id = logged_model_id(version)
        mlflow.log_input(dataset, context="evaluation", model=LoggedModelInput(model_id) if model_id else None)
        mlflow.log_metrics(numeric(metrics), model_id=model_id, dataset=dataset)
        mlflow.log_dict(json.loads(json.dumps(metrics, default=str)), "score/metrics.json")
    return Scored(name=version.name, version=str(version.version), run_id=run.info.run_id, metrics=metrics)
