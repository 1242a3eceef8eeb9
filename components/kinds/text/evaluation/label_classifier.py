"""The independent label classifier that judges conditional generation (control accuracy).

fastText-style (Joulin et al. 2017, "Bag of Tricks for Efficient Text Classification"): the word n-grams of a
sentence and the character n-grams of its words are hashed into one table of `buckets` vectors, averaged,
and a linear layer gives the label. Simple, strong on short texts, trained in seconds on CPU, and
independent of every generative model: it shares no weights or tokenizer with them, so a model cannot
score well by matching its own quirks. Its accuracy on real test sentences is the ceiling against which
control accuracy (its accuracy on generated sentences for the label asked for) is read.

Hashing uses CRC-32 (the same on every machine and Python, unlike `hash`). Features of a word are
computed once per distinct word. Weights are safetensors plus a JSON config, like the models.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from components.core import atomic
from components.core.errors import StageError
from components.kinds.text.params import ClassifierParams

WORD = re.compile(r"\w+|[^\w\s]")
WEIGHTS_FILE, CONFIG_FILE = "classifier.safetensors", "classifier.json"


@dataclass(frozen=True)
class ClassifierConfig:
    buckets: int
    dim: int
    word_ngrams: int
    char_ngrams: list[int]
    labels: list[str]


class NgramFeatures:
    """Sentence -> hashed feature ids (word 1..word_ngrams-grams, char n-grams of each word in <...>)."""

    def __init__(self, config: ClassifierConfig):
        self.config = config
        self._word_cache: dict[str, list[int]] = {}

    def _hash(self, text: str) -> int:
        return zlib.crc32(text.encode("utf-8")) % self.config.buckets

    def _word_features(self, word: str) -> list[int]:
        cached = self._word_cache.get(word)
        if cached is None:
            low, high = self.config.char_ngrams
            marked = f"<{word}>"
            cached = [self._hash(f"w:{word}")] + [
                self._hash(f"c:{marked[i : i + n]}") for n in range(low, high + 1) for i in range(len(marked) - n + 1)
            ]
            self._word_cache[word] = cached
        return cached

    def __call__(self, text: str) -> list[int]:
        words = WORD.findall(text.lower())
        ids = [i for w in words for i in self._word_features(w)]
        for n in range(2, self.config.word_ngrams + 1):
            ids += [self._hash("g:" + " ".join(words[i : i + n])) for i in range(len(words) - n + 1)]
        return ids or [self._hash("<empty>")]

    def batch(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(flat ids, offsets) for nn.EmbeddingBag."""
        return bag_inputs([self(t) for t in texts])


def bag_inputs(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Feature-id rows as nn.EmbeddingBag takes them: (flat ids, start offsets)."""
    offsets = torch.tensor(np.concatenate([[0], np.cumsum([len(r) for r in rows[:-1]])]), dtype=torch.long)
    return torch.tensor([i for r in rows for i in r], dtype=torch.long), offsets


class LabelClassifier(nn.Module):
    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        self.features = NgramFeatures(config)
        self.bag = nn.EmbeddingBag(config.buckets, config.dim, mode="mean")
        self.out = nn.Linear(config.dim, len(config.labels))
        nn.init.uniform_(self.bag.weight, -1.0 / config.dim, 1.0 / config.dim)

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.out(self.bag(ids, offsets))

    @torch.no_grad()
    def predict(self, texts: list[str], batch_size: int = 1024) -> list[str]:
        self.eval()
        out: list[str] = []
        for start in range(0, len(texts), batch_size):
            best = self(*self.features.batch(texts[start : start + batch_size])).argmax(dim=-1)
            out += [self.config.labels[i] for i in best.tolist()]
        return out

    def accuracy(self, texts: list[str], labels: list[str]) -> float:
        if not texts:
            return float("nan")
        return float(np.mean([p == t for p, t in zip(self.predict(texts), labels)]))


def train_classifier(
    texts: list[str], labels: list[str], vocabulary: list[str], p: ClassifierParams
) -> LabelClassifier:
    """Fit on (texts, labels) with the label vocabulary's ids, Adam on large batches. (Sparse gradients for the
    hashed table, as fastText does, measured slower on 2 CPU cores with torch: EmbeddingBag's sparse backward
    costs more than a dense update of a table this size.) It trains on one thread: under a loaded test suite a
    rebuild on two differed from the registered weights in the last bits (1e-5), twice, in CI and here."""
    if not texts:
        raise StageError("no labelled train sentences to train the label classifier on")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one sum order whatever the machine is doing: its registered bits must rebuild
    try:
        return _fit(texts, labels, vocabulary, p)
    finally:
        torch.set_num_threads(threads)


def _fit(texts: list[str], labels: list[str], vocabulary: list[str], p: ClassifierParams) -> LabelClassifier:
    torch.manual_seed(p.seed)
    model = LabelClassifier(ClassifierConfig(p.buckets, p.dim, p.word_ngrams, list(p.char_ngrams), vocabulary))
    index = {label: i for i, label in enumerate(vocabulary)}
    targets = torch.tensor([index[label] for label in labels], dtype=torch.long)
    rows = [model.features(t) for t in texts]  # featurised once, batched each epoch
    optimizer = torch.optim.Adam(model.parameters(), lr=p.lr)
    rng = np.random.default_rng(p.seed)
    model.train()
    for _ in range(p.epochs):
        for batch in np.array_split(rng.permutation(len(rows)), max(len(rows) // p.batch_size, 1)):
            loss = nn.functional.cross_entropy(model(*bag_inputs([rows[i] for i in batch])), targets[batch])
            if not torch.isfinite(loss):
                raise StageError(f"label classifier loss became {loss.item()}: lower classifier.lr")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def save_classifier(model: LabelClassifier, directory: str | Path) -> None:
    directory = Path(directory)
    with atomic.atomic_path(directory / WEIGHTS_FILE) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    atomic.write_json(directory / CONFIG_FILE, asdict(model.config))


def load_classifier(directory: str | Path) -> LabelClassifier:
    directory = Path(directory)
    try:
        config = ClassifierConfig(**json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8")))
        model = LabelClassifier(config)
        model.load_state_dict(load_file(str(directory / WEIGHTS_FILE)), strict=True)
    except (OSError, ValueError, TypeError, RuntimeError) as err:
        raise StageError(f"{directory}: not a label classifier this code can load ({err})") from err
    return model.eval()
