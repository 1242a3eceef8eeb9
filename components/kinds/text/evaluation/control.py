"""Control: does a conditional model write text that meets the condition asked for?

For each label, generate `per_label` sentences given that label and let the independent label classifier
(label_classifier.py) read them: control accuracy is the share it assigns to the label asked for (Hu et al.
2017 report 0.85-0.93 attribute accuracy on short sentences). It is read against the classifier's
accuracy on real test sentences of the same form (decoded from the same token arrays): the ceiling,
since a classifier that errs on real text errs on generated text too. Diversity is measured per label,
where a model could reach high control by repeating one sentence per label.
"""

from __future__ import annotations

import numpy as np

from components.kinds.text.evaluation.label_classifier import LabelClassifier
from components.kinds.text.evaluation.text_metrics import distinct_n, self_bleu
from components.kinds.text.serving.generator import TextGenerator


def samples_by_label(generator: TextGenerator, per_label: int, seed: int, temperature: float) -> dict[str, list[str]]:
    """`per_label` prior samples for every label the model knows (top-p 0.9)."""
    return {
        label: generator.sample(per_label, temperature=temperature, seed=seed + i, label=label)
        for i, label in enumerate(generator.labels)
    }


def control_metrics(
    classifier: LabelClassifier,
    samples: dict[str, list[str]],
    test_texts: list[str],
    test_labels: list[str],
    temperature: float,
) -> dict:
    texts = [t for label in samples for t in samples[label]]
    asked = [label for label in samples for _ in samples[label]]
    predicted = classifier.predict(texts)
    hits = np.array([p == a for p, a in zip(predicted, asked)])
    per_label = {label: float(np.mean([h for h, a in zip(hits, asked) if a == label])) for label in samples}
    ceiling = classifier.accuracy(test_texts, test_labels)
    control = float(hits.mean()) if len(hits) else float("nan")
    return {
        "control_accuracy": control,
        "classifier_test_accuracy": ceiling,
        "control_ratio": control / ceiling if ceiling else float("nan"),
        "control_samples": len(texts),
        "control_temperature": temperature,
        "control_accuracy_per_label": per_label,
        "distinct_1_per_label": float(np.mean([distinct_n(s, 1) for s in samples.values()])),
        "distinct_2_per_label": float(np.mean([distinct_n(s, 2) for s in samples.values()])),
        "self_bleu_per_label": float(np.mean([self_bleu(s) for s in samples.values()])),
    }
