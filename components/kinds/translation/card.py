"""The translation kind's model card: the version description a person reads in the registry UI."""

from __future__ import annotations

from components.kinds.translation.params import TranslationParams


def translation_card(name: str, params: TranslationParams, metrics: dict, lineage: dict, commit: str) -> str:
    """The version description of a translation model: what it is, its data, BLEU and speed per decoder."""
    m, d, model = metrics, params.data, params.model
    what = (
        f"A Transformer encoder-decoder ({model.encoder_layers} + {model.decoder_layers} layers, width "
        f"{model.d_model}, {model.heads} heads): translates token by token, greedy or beam search."
        if model.family == "transformer"
        else f"A VQ latent translator: a prior writes one discrete code (of {model.codebook_size}) per "
        f"{model.compression} target tokens from the source, then every target token is decoded at once."
    )
    decoders = [
        key.removeprefix("bleu_")
        for key in m
        if key.startswith("bleu_") and not key.startswith(("bleu_signature", "bleu_lowercase"))
    ]
    rows = [
        f"| {dec} | {m[f'bleu_{dec}']:.2f} | {m[f'chrf_{dec}']:.2f} | {m[f'bleu_lowercase_{dec}']:.2f} | "
        f"{m.get(f'ms_per_sentence_batch1_{dec}', float('nan')):.1f} |"
        for dec in decoders
    ]
    return "\n".join(
        [
            f"# {name}",
            "",
            what,
            "",
            "## Data",
            "",
            f"- {d.source_lang} -> {d.target_lang}, corpus `{d.corpus}`; BPE {params.tokenize.vocab_size}"
            f"{' (joint)' if params.tokenize.joint else ' per side'}",
            f"- data (splits) md5 `{lineage['data.splits_md5']}`, tokenizer md5 `{lineage['tokenizer.md5']}`",
            f"- code: git `{commit}`, params md5 `{lineage['params.md5']}`",
            "",
            f"## Test metrics ({int(m['test_pairs'])} pairs; default decoder: {m['default_decoder']})",
            "",
            "| decoder | BLEU | chrF | BLEU (lowercased, tokenised) | ms/sentence, batch 1 |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"sacreBLEU: `{m['bleu_signature']}`",
            "",
        ]
    )
