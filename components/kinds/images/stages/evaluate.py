"""Image evaluate stage: importance-weighted NLL in nats and bits per dimension (likelihood families), FID and
KID against test in the pipeline classifier's features, the classifier's accuracy on conditional samples,
reconstruction error, the same metrics for independent pixels counted on train (the gate's baseline), and
pictures (sample grid, reconstructions beside their inputs, latent interpolation strips) as PNG in reports/.
The metrics: components/kinds/images/evaluation/metrics.py."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch

from components.core import atomic
from components.core.entrypoint import stage_main, stage_parser
from components.engine.device import pick_device
from components.kinds.images.data.images import encode_png
from components.kinds.images.evaluation.baseline import baseline_bits_per_dim, baseline_samples, pixel_log_probs
from components.kinds.images.evaluation.classifier import load_classifier, predict
from components.kinds.images.evaluation.metrics import fid, grid, kid
from components.kinds.images.models.factory import load_image_family
from components.kinds.images.params import load_image_params
from components.kinds.images.training.loop import ImageArrays, image_batch

log = logging.getLogger(__name__)


def main() -> None:
    parser = stage_parser(__doc__.splitlines()[0])
    for flag in ("--model-dir", "--arrays", "--classifier", "--metrics", "--reports"):
        parser.add_argument(flag, required=True)

    def run(args):
        params = load_image_params(args.params, args.app)
        p = params.evaluate
        device = pick_device(params.train.device)
        model = load_image_family(args.model_dir, device)
        classifier = load_classifier(args.classifier, device)
        conditional = bool(model.config.num_classes)
        test = ImageArrays.load(args.arrays, "test").head(p.max_images)
        torch.manual_seed(p.seed)
        generator = torch.Generator().manual_seed(p.seed)
        metrics: dict = {"family": model.family, "test_images": len(test), "dims": model.dims}
        if model.has_likelihood:
            nll, rec_err = [], []
            for start in range(0, len(test), 128):
                index = np.arange(start, min(start + 128, len(test)))
                x, labels = image_batch(test, index, device, conditional)
                nll.append(-model.log_likelihood(x, labels, p.iw_samples).cpu())
                recon = model.reconstruct(x, labels)
                rec_err.append(((recon.float() / 127.5 - 1) - x).pow(2).flatten(1).mean(1).cpu())
            nll_mean = float(torch.cat(nll).mean())
            metrics.update(
                nll=nll_mean,
                bpd=nll_mean / (model.dims * math.log(2)),
                iw_samples=p.iw_samples,
                reconstruction_mse=float(torch.cat(rec_err).mean()),
            )
        # samples: as many as fid_samples (by class in turn when conditional), then features against test's
        n = min(p.fid_samples, len(ImageArrays.load(args.arrays, "test")))
        wanted = torch.arange(n) % model.config.num_classes if conditional else None
        samples = np.concatenate(
            [
                model.sample(len(chunk), None if wanted is None else chunk.to(device), generator).cpu().numpy()
                for chunk in (torch.arange(n).split(256) if wanted is None else wanted.split(256))
            ]
        )
        reference = np.asarray(ImageArrays.load(args.arrays, "test").images[:n])
        predicted, fake_features = predict(classifier, samples, device)
        _, real_features = predict(classifier, reference, device)
        metrics.update(fid=fid(fake_features, real_features), kid=kid(fake_features, real_features), fid_samples=n)
        # the baseline on the same test images and in the same features: every pixel from its own train histogram
        pixels = pixel_log_probs(ImageArrays.load(args.arrays, "train").images)
        _, baseline_features = predict(classifier, baseline_samples(pixels, reference.shape[1:], n, p.seed), device)
        metrics.update(
            baseline_bpd=baseline_bits_per_dim(pixels, test.images), baseline_fid=fid(baseline_features, real_features)
        )
        if conditional:
            metrics["conditional_sample_accuracy"] = float((predicted == wanted.numpy()).mean())
        reports = Path(args.reports)
        atomic.write_bytes(reports / "samples.png", encode_png(grid(samples[: params.evaluate.grid_images])))
        if model.has_likelihood:
            x, labels = image_batch(test, np.arange(min(32, len(test))), device, conditional)
            pairs = np.concatenate([np.asarray(test.images[: len(x)]), model.reconstruct(x, labels).cpu().numpy()])
            atomic.write_bytes(reports / "reconstructions.png", encode_png(grid(pairs, columns=len(x) // 2 or 1)))
        strips = []  # four pairs of test images, eight steps each
        for i in range(0, min(8, len(test) - 1), 2):
            x, labels = image_batch(test, np.array([i, i + 1]), device, conditional)
            strips.append(model.interpolate(x[:1], x[1:], 8, None if labels is None else labels[:1]).cpu().numpy())
        if strips:
            atomic.write_bytes(reports / "interpolations.png", encode_png(grid(np.concatenate(strips), columns=8)))
        atomic.write_json(args.metrics, metrics)
        log.info("evaluation: %s", metrics)

    stage_main("evaluate", run, parser)


if __name__ == "__main__":
    main()
