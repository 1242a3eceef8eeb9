"""The EMA codebook: codes follow their assigned inputs, dead codes restart, usage is measured honestly."""

import pytest
import torch

from components.models.codebook import EMACodebook, ResidualCodebook, kmeans, usage_statistics


def clustered(n_per=64, centres=((0.0, 0.0), (5.0, 5.0), (-5.0, 5.0), (5.0, -5.0)), seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.cat([torch.tensor(c) + 0.1 * torch.randn(n_per, 2, generator=g) for c in centres])


def test_kmeans_init_finds_the_clusters():
    torch.manual_seed(0)
    points = clustered()
    centres = kmeans(points, points[torch.randperm(len(points))[:4]], iterations=20)
    found = sorted((round(x), round(y)) for x, y in centres.tolist())
    assert found == sorted([(0, 0), (5, 5), (-5, 5), (5, -5)])


def test_quantised_values_are_codes_and_gradients_pass_straight_through():
    torch.manual_seed(0)
    book = EMACodebook(4, 2, init="kmeans").train()
    inputs = clustered().requires_grad_(True)
    q = book(inputs)
    torch.testing.assert_close(q.quantized.detach(), book.vectors[q.codes])
    q.quantized.sum().backward()
    torch.testing.assert_close(inputs.grad, torch.ones_like(inputs))
    assert q.commitment.shape == (len(inputs),) and bool(book.initialised)


def test_ema_moves_each_code_towards_the_mean_of_its_inputs():
    book = EMACodebook(4, 2, decay=0.5, init="data").train()
    centres = torch.tensor([(0.0, 0.0), (5.0, 5.0), (-5.0, 5.0), (5.0, -5.0)])
    book.vectors.copy_(centres + 1.0)  # each code starts near its cluster, off its mean
    book.cluster_size.fill_(64.0)
    book.vector_sum.copy_(book.vectors * 64.0)
    book.initialised.fill_(True)
    points = clustered()
    for _ in range(20):
        book(points)
    means = points.view(4, 64, 2).mean(dim=1)
    torch.testing.assert_close(book.vectors, means, atol=1e-3, rtol=0)


def test_a_dead_code_is_restarted_at_an_input():
    torch.manual_seed(0)
    book = EMACodebook(4, 2, decay=0.5, dead_code_threshold=0.5, init="data").train()
    points = clustered()
    book(points)
    book.vectors[0] = torch.tensor([1000.0, 1000.0])  # nothing will ever be assigned to it
    for _ in range(5):
        book(points)
    assert int(book.restarts) >= 1
    assert book.vectors[0].abs().max() < 100  # moved back among the data


def test_evaluation_does_not_move_the_codebook():
    book = EMACodebook(4, 2, init="data").train()
    book(clustered())
    before = book.vectors.clone()
    book.eval()(clustered(seed=1) + 3.0)
    torch.testing.assert_close(book.vectors, before)


@pytest.mark.parametrize(
    "codes,usage,perplexity",
    [
        (torch.arange(8), 1.0, 8.0),
        (torch.zeros(8, dtype=torch.long), 0.125, 1.0),
        (torch.tensor([0, 0, 1, 1]), 0.25, 2.0),
    ],
)
def test_usage_statistics(codes, usage, perplexity):
    stats = usage_statistics(codes, 8)
    assert stats["codebook_usage"] == pytest.approx(usage)
    assert stats["codebook_perplexity"] == pytest.approx(perplexity)


def test_cosine_codes_and_quantised_outputs_have_unit_norm_whatever_the_input_scale():
    torch.manual_seed(0)
    book = EMACodebook(4, 2, decay=0.5, metric="cosine", init="kmeans").train()
    points = clustered() * 7.0
    for _ in range(3):
        q = book(points)
    torch.testing.assert_close(book.vectors.norm(dim=-1), torch.ones(4))
    torch.testing.assert_close(q.quantized.detach().norm(dim=-1), torch.ones(len(points)))
    # the nearest code by direction: scaling an input does not change its code
    torch.testing.assert_close(book.nearest(points), book.nearest(points * 0.01))


def test_warm_up_passes_inputs_through_then_starts_the_codebook_from_them():
    book = EMACodebook(4, 2, init="kmeans", warmup=3).train()
    points = clustered()
    book.eval()(points)  # evaluation does not use up the warm-up
    book.train()
    for _ in range(3):
        q = book(points)
        assert q.bypassed and not bool(book.initialised)
        torch.testing.assert_close(q.quantized, points)
        assert float(q.commitment.abs().sum()) == 0.0
    q = book(points)
    assert not q.bypassed and bool(book.initialised) and int(book.warmup_left) == 0
    torch.testing.assert_close(q.quantized, book.vectors[q.codes])


def test_a_codebook_saved_before_the_warm_up_existed_still_loads():
    book = EMACodebook(4, 2, warmup=5)
    state = {k: v for k, v in EMACodebook(4, 2).state_dict().items() if k != "warmup_left"}
    book.load_state_dict(state, strict=True)
    assert int(book.warmup_left) == 0


def test_each_residual_level_reduces_the_quantisation_error():
    torch.manual_seed(0)
    points = torch.randn(512, 8)
    errors = []
    for levels in (1, 2, 3):
        torch.manual_seed(0)
        book = ResidualCodebook(levels, 16, 8, decay=0.5, init="kmeans").train()
        for _ in range(5):
            q = book(points)
        assert q.codes.shape == (512, levels)
        errors.append(float(q.commitment.mean()))
    assert errors[0] > errors[1] > errors[2]


def test_residual_codes_look_up_to_the_quantised_vectors_with_a_straight_through_gradient():
    torch.manual_seed(0)
    book = ResidualCodebook(2, 8, 4, init="kmeans", metric="cosine").train()
    inputs = torch.randn(64, 4, requires_grad=True)
    q = book(inputs)
    torch.testing.assert_close(q.quantized.detach(), book.lookup(q.codes))
    torch.testing.assert_close(book.nearest(inputs.detach()), q.codes)  # the same codes outside the forward
    q.quantized.sum().backward()
    assert inputs.grad is not None and torch.isfinite(inputs.grad).all()
    assert book.levels[0].metric == "cosine" and book.levels[1].metric == "euclidean"  # residuals are off the sphere


def test_all_levels_warm_up_together_then_start_from_their_residuals():
    book = ResidualCodebook(2, 4, 2, init="kmeans", warmup=2).train()
    points = clustered()
    for _ in range(2):
        q = book(points)
        assert q.bypassed and not any(bool(level.initialised) for level in book.levels)
        torch.testing.assert_close(q.quantized, points)
    q = book(points)
    assert not q.bypassed and all(bool(level.initialised) for level in book.levels)
    # level 1 started from what level 0 left over: small offsets, not points of the clusters
    assert book.levels[1].vectors.norm(dim=-1).max() < book.levels[0].vectors.norm(dim=-1).max()
