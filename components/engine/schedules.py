"""The schedules of a training run: the KL weight beta (the BS-VAE's defining knob, text and images) and the
learning rate. `p` is a kind's train section with the fields each schedule names (beta_schedule, beta_max,
beta_cycles, beta_warmup_fraction; warmup_steps, lr_schedule)."""

from __future__ import annotations

import math


def beta_at(step: int, total_steps: int, p) -> float:
    """KL weight at `step`: constant, one linear ramp (monotonic) or repeated ramps (cyclical, Fu et al. 2019)."""
    if p.beta_schedule == "constant":
        return p.beta_max
    period = total_steps if p.beta_schedule == "monotonic" else max(total_steps / p.beta_cycles, 1.0)
    position = (step % period) / period if p.beta_schedule == "cyclical" else min(step / period, 1.0)
    ramp = max(p.beta_warmup_fraction, 1e-9)
    return p.beta_max * min(position / ramp, 1.0)


def lr_factor(step: int, total_steps: int, p) -> float:
    """Linear warm-up, then constant or cosine decay to 10% of the base LR."""
    if step < p.warmup_steps:
        return (step + 1) / p.warmup_steps
    if p.lr_schedule == "constant":
        return 1.0
    progress = min((step - p.warmup_steps) / max(total_steps - p.warmup_steps, 1), 1.0)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))
