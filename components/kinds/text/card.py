"""The text kind's model card: the version description a person reads in the registry UI."""

from __future__ import annotations

from pathlib import Path

from components.kinds.text.params import Params


def describe_family(params: Params) -> str:
    """The card's first paragraph: the family says what it is (components/kinds/text/models/families.py)."""
    from components.kinds.text.models.families import family_named, family_params

    return family_named(params.model.family).describe(params.model, family_params(params.model), params.train)


def nll_kind(metrics: dict) -> str:
    """How the reported NLL was obtained, for the model card."""
    if "codebook_perplexity" in metrics:
        return "bound, -log p(x|codes) - log p(codes)"
    if not metrics.get("latent_units"):
        return "exact"
    return f"importance-weighted, K={int(metrics['iw_samples'])}"


def model_card(name: str, params: Params, metrics: dict, lineage: dict, commit: str, samples: list[str]) -> str:
    """The version description a person reads in the registry UI."""
    m = metrics
    lines = [
        f"# {name}",
        "",
        describe_family(params),
        "",
        "## Data",
        "",
        *(
            [
                f"- fine-tuned from `{lineage['base_model']}` (train.init_from `{params.train.init_from}`): "
                "its tokenizer and the weights the two models share"
            ]
            if lineage.get("base_model", "none") != "none"
            else []
        ),
        f"- corpus: `{params.data.corpus}`, tokenizer: "
        + (
            "the base model's"
            if lineage.get("base_model", "none") != "none"
            else f"{params.tokenize.kind}-level, vocab {params.tokenize.vocab_size}"
        ),
        f"- data (splits) md5 `{lineage['data.splits_md5']}`, tokenizer md5 `{lineage['tokenizer.md5']}`",
        f"- code: git `{commit}`, params md5 `{lineage['params.md5']}`",
        "",
        "## Held-out test metrics",
        "",
        f"| NLL ({nll_kind(m)}) | PPL | KL | MI | active units | recon BLEU |",
        "|---|---|---|---|---|---|",
        f"| {m['nll']:.2f} | {m['ppl']:.1f} | {m['kl']:.2f} | {m['mutual_information']:.2f} | "
        f"{int(m['active_units'])}/{int(m['latent_units'])} | {m['recon_bleu']:.1f} |",
        "",
        *(
            [
                f"Codebook: perplexity {m['codebook_perplexity']:.1f} of {int(m['codebook_size'])} codes, "
                f"{100 * m['codebook_usage']:.0f}% in use; token reconstruction accuracy "
                f"{100 * m['reconstruction_token_accuracy']:.1f}%.",
                "",
            ]
            if "codebook_perplexity" in m
            else []
        ),
        *(
            [
                f"Conditioned on {len(m.get('control_accuracy_per_label') or [])} labels: control accuracy "
                f"{m['control_accuracy']:.3f} (the label classifier on real test text: "
                f"{m['classifier_test_accuracy']:.3f}; "
                f"ratio {m['control_ratio']:.2f}).",
                "",
            ]
            if "control_accuracy" in m
            else []
        ),
        "## Samples",
        "",
    ]
    lines += [f"- {s}" for s in samples[:5]]
    return "\n".join(lines) + "\n"


def read_samples(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split(". ", 1)[1] for line in lines if line[:1].isdigit() and ". " in line][:5]
