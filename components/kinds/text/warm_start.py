"""Warm start, the text kind's: put the @champion's weights in warm_start/<application>/ (the train stage's
dependency) when they fit; the flow calls it (Kind.prepare_warm_start) before the train stage.

They fit when the champion was trained with the tokenizer this run has just built (same token ids)
and has the architecture params.yaml asks for. Otherwise the folder is emptied and the train stage
starts from scratch, which it also does when train.warm_start is `scratch`. Either way DVC hashes
the folder, so dvc.lock records what training started from.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from components.applications.catalog import application
from components.core.atomic import write_json
from components.kinds.text.base_model import clear
from components.kinds.text.data.labels import LABELS_FILE, read_labels
from components.kinds.text.models.factory import model_config, upgrade_saved_config
from components.kinds.text.params import Params
from components.models.store import CONFIG_FILE, WEIGHTS_FILE
from components.registry.artifacts import download_weights
from components.registry.lineage import locked_md5
from components.registry.promotion import CHAMPION


def wanted_config(params: Params, vocab_size: int, num_labels: int = 0) -> dict:
    """The config.json the train stage would write for these params (what the champion's must equal)."""
    return model_config(vocab_size, params.model, num_labels).to_dict()


def prepare(workspace: Path, params: Params, client) -> str:
    """Fill or empty warm_start/<application>/; return a one-line reason, for the log and the run's artifacts."""
    app = application(params.application, workspace / "params.yaml")
    directory = app.warm_start_dir(workspace)
    directory.mkdir(parents=True, exist_ok=True)
    if params.train.warm_start != "champion":
        clear(directory)
        return "train.warm_start is scratch"
    from mlflow.exceptions import MlflowException
    from tokenizers import Tokenizer

    name = params.model_name
    try:
        version = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        clear(directory)
        return f"no {name}@{CHAMPION} yet: training from scratch"
    vocabularies = {"tokenizer": "--tokenizer", **({"labels": "--labels"} if app.labelled else {})}
    for what, flag in vocabularies.items():  # the champion's ids must mean what this run's mean
        md5 = locked_md5(workspace, app.stage("tokenize"), app.output(workspace, "tokenize", flag))
        if version.tags.get(f"{what}.md5") != md5:
            clear(directory)
            return (
                f"{name} v{version.version} used {what} {version.tags.get(f'{what}.md5')}, this run built "
                f"{md5}: training from scratch"
            )
    source = json.loads((directory / "source.json").read_text()) if (directory / "source.json").is_file() else {}
    if source.get("name") == name and source.get("version") == str(version.version):
        return f"warm start from {name} v{version.version} (already in place)"
    with tempfile.TemporaryDirectory() as tmp:
        candidate = download_weights(name, str(version.version), Path(tmp))
        config = upgrade_saved_config(json.loads((candidate / CONFIG_FILE).read_text()))
        vocab_size = Tokenizer.from_file(str(app.tokenizer(workspace))).get_vocab_size()
        num_labels = len(read_labels(app.labels(workspace))) if params.model.conditional else 0
        if config != wanted_config(params, vocab_size, num_labels):
            clear(directory)
            return f"{name} v{version.version} has another architecture ({config}): training from scratch"
        clear(directory)
        shutil.copy2(candidate / WEIGHTS_FILE, directory / WEIGHTS_FILE)
        shutil.copy2(candidate / CONFIG_FILE, directory / CONFIG_FILE)
        if (candidate / LABELS_FILE).is_file():
            shutil.copy2(candidate / LABELS_FILE, directory / LABELS_FILE)
    write_json(directory / "source.json", {"name": name, "version": str(version.version), "run_id": version.run_id})
    return f"warm start from {name} v{version.version}"
