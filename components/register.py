"""Register: log a gated model to MLflow with its lineage and point an alias at the new version.

MLflow is imported inside the functions here (and in the pyfunc file MLflow loads), so the
training code runs on machines that have torch but no MLflow. The tracking URI defaults
to a SQLite database under mlruns/; set MLFLOW_TRACKING_URI for a server.

Registering is idempotent: a version is keyed by the content hash of its weights, so
re-running the registration of the same trained model re-uses its version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

from components.atomic import file_digest
from components.cli import StageError, stage_main, stage_parser
from components.gate import Champion, GateReport
from components.models.store import WEIGHTS_FILE
from components.params import Params, flatten, load_params

log = logging.getLogger(__name__)

PYFUNC_CODE = Path(__file__).with_name("pyfunc_model.py")
MODEL_DIR = "models/bsvae"
TOKENIZER = "data/tokenizer/tokenizer.json"
CHAMPION, PREVIOUS_CHAMPION = "champion", "previous-champion"
RUNTIME_PACKAGES = ("mlflow", "torch", "tokenizers", "safetensors", "numpy", "pandas", "pyyaml")
# dvc.lock outputs whose content hashes identify the data, tokenizer and model of a run.
LINEAGE_OUTS = {
    "data.corpus_md5": ("ingest", "data/interim/corpus.parquet"),
    "data.splits_md5": ("split", "data/processed/splits.parquet"),
    "data.tokens_md5": ("tokenize", "data/tokens"),
    "tokenizer.md5": ("tokenize", "data/tokenizer/tokenizer.json"),
    "model.md5": ("train", "models/bsvae"),
}


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    run_id: str
    alias: str
    created: bool
    """False when an existing version of the same weights was re-used."""


def tracking_uri(workspace: Path) -> str:
    """MLFLOW_TRACKING_URI when set, else the embedded SQLite store in <workspace>/mlruns."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    home = workspace.resolve() / "mlruns"
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'mlflow.db'}"


def git_commit(workspace: Path) -> tuple[str, bool]:
    """(commit, dirty) of the workspace; ("unknown", True) outside a git repository."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=workspace, capture_output=True, text=True, check=True).stdout.strip()
    try:
        return git("rev-parse", "HEAD"), bool(git("status", "--porcelain", "--untracked-files=no"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown", True


def locked_stages(workspace: Path) -> dict:
    lock_path = workspace / "dvc.lock"
    if not lock_path.is_file():
        raise StageError(f"{lock_path}: not found; run the pipeline through DVC before registering")
    return (yaml.safe_load(lock_path.read_text(encoding="utf-8")) or {}).get("stages", {})


def locked_md5(workspace: Path, stage: str, path: str) -> str:
    """The content hash dvc.lock records for one output of one stage."""
    outs = {o["path"]: o.get("md5", "") for o in locked_stages(workspace).get(stage, {}).get("outs", [])}
    if path not in outs:
        raise StageError(f"{workspace / 'dvc.lock'}: stage {stage!r} has no recorded output {path!r}")
    return outs[path]


def uncommitted_patch(workspace: Path) -> str:
    """What the run used beyond its commit, as a patch against HEAD: edited tracked files (params the flow
    wrote, dvc.lock, the reference vocabulary) and new files git does not ignore (a corpus, a .dvc import).

    It is built in a scratch copy of git's index, so the workspace's own index is left as it was.
    """
    import shutil
    import tempfile

    try:
        git_dir = Path(subprocess.run(["git", "rev-parse", "--absolute-git-dir"], cwd=workspace, capture_output=True,
                                      text=True, check=True).stdout.strip())
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if (git_dir / "index").is_file():
                shutil.copy2(git_dir / "index", env["GIT_INDEX_FILE"])
            subprocess.run(["git", "add", "-A"], cwd=workspace, env=env, capture_output=True, check=True)
            return subprocess.run(["git", "diff", "--cached", "--binary", "HEAD"], cwd=workspace, env=env,
                                  capture_output=True, text=True, check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return ""


def download_weights(name: str, version: str, directory: Path) -> Path:
    """Copy a registered version's weights and config into `directory`, checking the recorded SHA-256."""
    import shutil
    import tempfile

    import mlflow

    from components.models.store import CONFIG_FILE

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=tmp))
        weights = next(local.rglob(WEIGHTS_FILE))
        pyfunc = yaml.safe_load((local / "MLmodel").read_text(encoding="utf-8"))["flavors"]["python_function"]
        if file_sha256(weights) != pyfunc["config"]["weights_sha256"]:  # model_config as recorded
            raise StageError(f"{name} v{version}: downloaded weights do not match their recorded SHA-256")
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy2(weights, directory / WEIGHTS_FILE)
        shutil.copy2(weights.parent / CONFIG_FILE, directory / CONFIG_FILE)
    return directory


def warm_start_source(workspace: Path) -> str:
    """'NAME vN' when the train stage started from a registered version's weights, else 'scratch'."""
    source = workspace / "warm_start" / "source.json"
    if not source.is_file() or not (workspace / "warm_start" / WEIGHTS_FILE).is_file():
        return "scratch"
    info = json.loads(source.read_text(encoding="utf-8"))
    return f"{info['name']} v{info['version']}"


def dvc_lineage(workspace: Path) -> dict[str, str]:
    """Content hashes of the run's data, tokenizer, model and parameters, read from dvc.lock."""
    tags = {tag: locked_md5(workspace, stage, path) for tag, (stage, path) in LINEAGE_OUTS.items()}
    recorded_params = {name: stage.get("params", {}) for name, stage in sorted(locked_stages(workspace).items())}
    tags["params.md5"] = hashlib.md5(json.dumps(recorded_params, sort_keys=True).encode()).hexdigest()
    return tags


def pinned_requirements() -> list[str]:
    return [f"{name}=={metadata.version(name).split('+')[0]}" for name in RUNTIME_PACKAGES]


def file_sha256(path: Path) -> str:
    return file_digest(path, "sha256")


def scalar_metrics(metrics: dict) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def connect(workspace: Path):
    """An MlflowClient on the workspace's store (and the fluent API pointed at it)."""
    import mlflow

    uri = tracking_uri(workspace)
    # The registry lives on the tracking server; set both so a URI left over in this process cannot win.
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def champion_of(client, name: str) -> Champion | None:
    """The version holding @champion with its run's metrics and lineage tags, or None if there is none."""
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException as err:
        if err.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            return None
        raise
    metrics = client.get_run(version.run_id).data.metrics
    return Champion(version=str(version.version), metrics=metrics, lineage=dict(version.tags))


def find_version(client, name: str, model_md5: str):
    """An existing version of `name` whose weights have this DVC hash, or None."""
    from mlflow.exceptions import MlflowException

    try:
        found = client.search_model_versions(f"name = '{name}' and tags.`model.md5` = '{model_md5}'")
    except MlflowException:
        return None
    return max(found, key=lambda v: int(v.version)) if found else None


def describe_family(params: Params) -> str:
    m, t = params.model, params.train
    if m.family == "bsvae":
        names = {"lstm": "LSTM", "transformer": "Transformer"}
        return (f"A BS-VAE sentence model ({names[m.encoder]} encoder, {names[m.decoder]} decoder, "
                f"{m.latent_dim}-d Gaussian latent, beta schedule `{t.beta_schedule}`, free bits {t.free_bits}). Generates sentences by "
                "sampling z from N(0, I) and decoding.")
    if m.family == "vqvae":
        books = (f"a {m.codebook_size}-entry EMA codebook" if m.codebook_levels == 1 else
                 f"the sum of {m.codebook_levels} residual {m.codebook_size}-entry EMA codebooks")
        return (f"A VQ-VAE sentence model: {m.codes} discrete codes per sentence, each from {books} "
                f"(LSTM encoder and decoder), with a {m.layers}-block Transformer prior over the codes. "
                "Generates sentences by sampling codes from the prior and decoding them; its NLL is the bound "
                "-log p(x|codes) - log p(codes).")
    if m.family == "transformer_lm":
        return (f"A causal Transformer language model ({m.layers} blocks, {m.heads} heads, width {m.embed_dim}, "
                f"feed-forward {m.hidden_dim}, no latent): a likelihood baseline. Generates by ancestral sampling.")
    return (f"An LSTM language model (embedding {m.embed_dim}, hidden {m.hidden_dim}, no latent): the likelihood "
            "baseline for the latent models. Generates by ancestral sampling.")


def nll_kind(metrics: dict) -> str:
    """How the reported NLL was obtained, for the model card."""
    if "codebook_perplexity" in metrics:
        return "bound, -log p(x|codes) - log p(codes)"
    if not metrics.get("latent_dim"):
        return "exact"
    return f"importance-weighted, K={int(metrics['iw_samples'])}"


def model_card(name: str, params: Params, metrics: dict, lineage: dict, commit: str, samples: list[str]) -> str:
    """The version description a person reads in the registry UI."""
    m = metrics
    lines = [
        f"# {name}", "",
        describe_family(params), "",
        "## Data", "",
        f"- corpus: `{params.data.corpus}`, tokenizer: {params.tokenize.kind}-level, vocab {params.tokenize.vocab_size}",
        f"- data (splits) md5 `{lineage['data.splits_md5']}`, tokenizer md5 `{lineage['tokenizer.md5']}`",
        f"- code: git `{commit}`, params md5 `{lineage['params.md5']}`", "",
        "## Held-out test metrics", "",
        f"| NLL ({nll_kind(m)}) | PPL | KL | MI | active units | recon BLEU |",
        "|---|---|---|---|---|---|",
        f"| {m['nll']:.2f} | {m['ppl']:.1f} | {m['kl']:.2f} | {m['mutual_information']:.2f} | "
        f"{int(m['active_units'])}/{int(m['latent_dim'])} | {m['recon_bleu']:.1f} |", "",
        *([f"Codebook: perplexity {m['codebook_perplexity']:.1f} of {int(m['codebook_size'])} codes, "
           f"{100 * m['codebook_usage']:.0f}% in use; token reconstruction accuracy "
           f"{100 * m['reconstruction_token_accuracy']:.1f}%.", ""] if "codebook_perplexity" in m else []),
        "## Samples", "",
    ]
    lines += [f"- {s}" for s in samples[:5]]
    return "\n".join(lines) + "\n"


def gate_tags(report: GateReport) -> dict[str, str]:
    """One version tag per gate check, e.g. gate.nll = '47.02 <= 80: pass'."""
    tags = {"gate.passed": str(report.passed)}
    for c in report.checks:
        key = "gate.nll_vs_champion" if c.name.startswith("no regression") else f"gate.{c.metric}"
        tags[key] = f"{c.value:.6g} {c.op} {c.threshold:.6g}: {'pass' if c.passed else 'fail'}"
    return tags


def read_samples(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [l.split(". ", 1)[1] for l in lines if l[:1].isdigit() and ". " in l][:5]


def register_model(workspace: Path, params: Params, params_path: Path,
                   report: GateReport | None = None) -> RegisteredVersion:
    """Log params, metrics, lineage, plots and the pyfunc model; register a version (once) and alias it."""
    import mlflow

    from components.model_signature import input_example, signature
    from components.plots import write_plots

    workspace = workspace.resolve()
    p = params.register
    lineage = dvc_lineage(workspace)
    commit, dirty = git_commit(workspace)
    history = json.loads((workspace / "metrics/train_history.json").read_text(encoding="utf-8"))
    metrics = json.loads((workspace / "metrics/eval.json").read_text(encoding="utf-8"))
    gate = gate_tags(report) if report is not None else {}
    version_tags = {"git.commit": commit, "git.dirty": str(dirty), "warm_start": warm_start_source(workspace),
                    **lineage, **gate}

    uri = tracking_uri(workspace)
    # With the embedded store, artifacts sit beside the database whatever the working directory;
    # a server chooses its own artifact root.
    artifact_location = (workspace / "mlruns" / "artifacts").as_uri() if uri.startswith("sqlite:") else None
    client = connect(workspace)
    existing = find_version(client, p.model_name, lineage["model.md5"])
    if existing is not None:
        log.info("weights %s are already version %s of %s; re-using it", lineage["model.md5"], existing.version,
                 p.model_name)
        for key, value in version_tags.items():
            client.set_model_version_tag(p.model_name, existing.version, key, value)
        client.set_registered_model_alias(p.model_name, p.alias, existing.version)
        return RegisteredVersion(p.model_name, str(existing.version), existing.run_id, p.alias, created=False)

    experiment = client.get_experiment_by_name(p.experiment)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(
        p.experiment, artifact_location=artifact_location)
    raw_params = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    raw_params.pop("profiles", None)
    weights_sha = file_sha256(workspace / MODEL_DIR / WEIGHTS_FILE)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(flatten(raw_params))
        for row in history:
            mlflow.log_metrics({k: float(v) for k, v in row.items() if k not in ("epoch", "step")}, step=row["step"])
        mlflow.log_metrics(scalar_metrics(metrics))
        timing = workspace / "reports/timing/train.json"
        if timing.is_file():
            mlflow.log_metric("train_seconds", json.loads(timing.read_text(encoding="utf-8"))["train_seconds"])
        mlflow.set_tags({**version_tags, "model.family": params.model.family})
        # What `python -m components.reproduce` needs to rebuild this version from its commit.
        mlflow.log_text(uncommitted_patch(workspace), "lineage/uncommitted.patch")
        mlflow.log_text((workspace / "dvc.lock").read_text(encoding="utf-8"), "lineage/dvc.lock")
        mlflow.log_text(params_path.read_text(encoding="utf-8"), "lineage/params.yaml")
        for report_file in ("reports/samples.md", "reports/gate.md", "reports/gate.json", "metrics/latent_dims.json"):
            if (workspace / report_file).is_file():
                mlflow.log_artifact(str(workspace / report_file), artifact_path="reports")
        for plot in write_plots(workspace / "reports" / "plots", history, workspace / "metrics/latent_dims.json"):
            mlflow.log_artifact(str(plot), artifact_path="plots")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(PYFUNC_CODE),
            artifacts={"model_dir": str(workspace / MODEL_DIR), "tokenizer": str(workspace / TOKENIZER)},
            code_paths=[str(PYFUNC_CODE.parent)],
            model_config={"weights_sha256": weights_sha, "max_len": params.train.max_len},
            signature=signature(),
            input_example=input_example(),
            pip_requirements=pinned_requirements(),
        )
    version = mlflow.register_model(info.model_uri, p.model_name, tags=version_tags)
    card = model_card(p.model_name, params, metrics, lineage, commit, read_samples(workspace / "reports/samples.md"))
    client.update_model_version(p.model_name, version.version, description=card)
    client.set_registered_model_alias(p.model_name, p.alias, version.version)
    log.info("registered %s version %s as @%s (run %s)", p.model_name, version.version, p.alias, run.info.run_id)
    return RegisteredVersion(p.model_name, str(version.version), run.info.run_id, p.alias, created=True)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    parser.add_argument("--workspace", default=".")

    def run(args):
        workspace = Path(args.workspace)
        params_path = workspace / args.params
        registered = register_model(workspace, load_params(params_path), params_path)
        print(f"models:/{registered.name}@{registered.alias} -> version {registered.version}")

    stage_main("register", run, parser)


if __name__ == "__main__":
    main()
