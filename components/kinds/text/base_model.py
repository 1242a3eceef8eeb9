"""Fine-tuning from a registered model (train.init_from): the base model a text application starts from.

Pretraining (the `pretrain` application) registers models trained on plenty of unlabelled text; any text
application can then start from one: `train.init_from: models:/pretrain-bsvae@champion` (or `/VERSION`).

- The flow (or `python -m components.commands.base_model --app NAME`) resolves the alias to a version once and
  materialises that version's weights, config and tokenizer in base/<application>/ with a source.json naming it.
  With init_from empty the folder holds only its README. The folder is a dependency of the tokenize and train
  stages, so dvc.lock pins the base by digest, and
  `reproduce` fetches the version the run recorded (an alias may have moved since; the resolved version is what
  the run used).
- The tokenize stage adopts the base tokenizer (same token ids); the train stage loads every base tensor whose
  name and shape the new model shares and starts the rest fresh (label embeddings, a learned label prior).
- The registered version is tagged `base_model: NAME vN`; its model card names it; the gate compares it only with
  champions trained on the same tokenizer (the lineage tags), so like is compared with like.

The stages call `check_base` so that a params.yaml whose init_from does not name what base/ holds stops with one
error instead of training from the wrong start.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import torch

from components.core.atomic import write_json
from components.core.errors import StageError
from components.core.params import ParamsError
from components.registry import model_uri

SOURCE_FILE = "source.json"
TOKENIZER_FILE = "tokenizer.json"
KEEP = {"README.md"}


def parse_model_uri(uri: str) -> tuple[str, str | None, str | None]:
    """(name, alias, version) of `models:/NAME@ALIAS` or `models:/NAME/VERSION`; ParamsError otherwise."""
    try:
        return model_uri.parse_model_uri(uri)
    except ValueError as err:
        raise ParamsError(f"train.init_from {err}") from None


def read_source(directory: Path) -> dict:
    path = directory / SOURCE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"init_from": ""}


def check_base(directory: Path, init_from: str) -> dict | None:
    """The base's source.json when init_from asks for one and base/ holds it; None when init_from is empty;
    one StageError naming the setting when base/ holds something else."""
    source = read_source(directory)
    if not init_from:
        return None
    if source.get("init_from") != init_from or not (directory / TOKENIZER_FILE).is_file():
        raise StageError(
            f"train.init_from is {init_from} but {directory} holds {source.get('init_from') or 'no base'}:"
            f" run the flow, or python -m components.commands.base_model --app <application>"
        )
    return source


def clear(directory: Path) -> None:
    """Empty a start-weights folder (base/ or warm_start/) but for its README."""
    for path in directory.iterdir():
        if path.name not in KEEP:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def materialise(directory: Path, init_from: str, client, version: str | None = None) -> str:
    """Fill base/<application>/ with the version init_from names (or empty it when init_from is empty);
    `version` pins the version (a rebuild: the one the registered run used, where init_from names an alias).
    Return a one-line reason for the log and the run."""
    from components.registry.artifacts import download_weights

    directory.mkdir(parents=True, exist_ok=True)
    if not init_from:  # only the README: the folder hashes the same as in a fresh clone
        clear(directory)
        return "train.init_from is empty: no base model"
    name, alias, named_version = parse_model_uri(init_from)
    version = version or named_version
    from mlflow.exceptions import MlflowException

    try:
        mv = (
            client.get_model_version(name, version)
            if version or not alias
            else client.get_model_version_by_alias(name, alias)
        )
    except MlflowException as err:
        raise StageError(
            f"train.init_from: {init_from} is not in the registry ({err.message.splitlines()[0]})"
        ) from err
    source = read_source(directory)
    if (
        source.get("name") == name
        and source.get("version") == str(mv.version)
        and source.get("init_from") == init_from
        and (directory / TOKENIZER_FILE).is_file()
    ):
        return f"base model {name} v{mv.version} (already in place)"
    clear(directory)
    download_weights(name, str(mv.version), directory, extra=(TOKENIZER_FILE,))
    if not (directory / TOKENIZER_FILE).is_file():
        clear(directory)
        raise StageError(f"train.init_from: {name} v{mv.version} carries no tokenizer.json (not a text model)")
    recorded = mv.tags.get("tokenizer.md5")  # dvc.lock's md5 of the file, tagged at registration
    if recorded and hashlib.md5((directory / TOKENIZER_FILE).read_bytes()).hexdigest() != recorded:
        clear(directory)
        raise StageError(f"train.init_from: {name} v{mv.version}'s tokenizer.json does not match its recorded md5")
    write_json(
        directory / SOURCE_FILE, {"init_from": init_from, "name": name, "version": str(mv.version), "run_id": mv.run_id}
    )
    return f"base model {name} v{mv.version}"


def merge_base(
    model_state: dict[str, torch.Tensor], base_state: dict[str, torch.Tensor], where: str
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The model's initial state with every tensor the base shares (same name and shape) taken from the base;
    returns (state, names left fresh). A shared name with another shape is an error: the model section differs
    from the base model's architecture."""
    merged, fresh = {}, []
    for key, tensor in model_state.items():
        base = base_state.get(key)
        if base is None:
            merged[key], _ = tensor, fresh.append(key)
        elif base.shape != tensor.shape:
            raise StageError(
                f"{where}: base tensor {key} has shape {tuple(base.shape)}, this model's "
                f"{tuple(tensor.shape)}: set the model section to the base model's (its config.json)"
            )
        else:
            merged[key] = base.to(tensor.dtype)
    if len(fresh) == len(model_state):
        raise StageError(f"{where}: the base model shares no tensor with this model (another family?)")
    return merged, fresh
