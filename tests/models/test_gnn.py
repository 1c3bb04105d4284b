from __future__ import annotations

import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.models import HeteroGNN, reverse

ET = ("Paper", "WROTE_BY", "Author")
META = (["Paper", "Author"], [ET, reverse(ET)])


def _batch() -> tuple[dict, dict, dict]:
    x = {"Paper": torch.randn(4, 8)}
    n_id = {"Paper": torch.arange(4), "Author": torch.tensor([5, 2, 7])}
    ei = torch.tensor([[0, 1, 2, 3], [0, 0, 1, 2]])
    return x, {ET: ei, reverse(ET): ei.flip(0)}, n_id


@pytest.mark.parametrize("conv", ["sage", "hgt"])
def test_output_per_type_and_featureless_embeddings_learn(conv: str) -> None:
    torch.manual_seed(0)
    gnn = HeteroGNN(META, in_dims={"Paper": 8}, num_nodes={"Author": 10}, hidden=16,
                    num_layers=2, conv=conv)
    x, edges, n_id = _batch()
    out = gnn(x, edges, n_id)
    assert out["Paper"].shape == (4, 16) and out["Author"].shape == (3, 16)
    (out["Paper"] * torch.randn(4, 16)).sum().backward()  # (LayerNorm: a plain sum is flat)
    grad = gnn.embedding["Author"].weight.grad
    assert grad is not None
    # only the sampled authors (5, 2, 7) get gradient rows
    assert set(grad.abs().sum(1).nonzero().flatten().tolist()) == {2, 5, 7}


def test_messages_change_the_output_and_isolated_types_still_get_one() -> None:
    torch.manual_seed(0)
    gnn = HeteroGNN(META, {"Paper": 8}, {"Author": 10}, hidden=16, num_layers=1).eval()
    x, edges, n_id = _batch()
    with_edges = gnn(x, edges, n_id)["Paper"]
    no_edges = gnn(x, {}, n_id)
    assert no_edges["Author"].shape == (3, 16)
    assert not torch.allclose(with_edges, no_edges["Paper"])


def test_type_without_inputs_is_rejected() -> None:
    with pytest.raises(UserError, match="neither features"):
        HeteroGNN(META, {"Paper": 8}, {}, hidden=16)


def test_inputs_are_standardised_with_stats_saved_in_the_state_dict() -> None:
    """A common offset on every input (what stage-1 fine-tuning does to LM vectors) is removed
    once the stats of those inputs are set; the stats travel with the weights."""
    torch.manual_seed(0)
    gnn = HeteroGNN(META, {"Paper": 8}, {"Author": 10}, hidden=16, num_layers=1).eval()
    x, edges, n_id = _batch()
    shifted = {"Paper": x["Paper"] * 0.5 + 3.0 * torch.randn(8)}
    gnn.set_input_stats({"Paper": (x["Paper"].mean(0), x["Paper"].std(0, unbiased=False))})
    plain = gnn(x, edges, n_id)["Paper"]
    gnn.set_input_stats({"Paper": (shifted["Paper"].mean(0),
                                   shifted["Paper"].std(0, unbiased=False))})
    assert torch.allclose(gnn(shifted, edges, n_id)["Paper"], plain, atol=1e-4)
    copy = HeteroGNN(META, {"Paper": 8}, {"Author": 10}, hidden=16, num_layers=1).eval()
    copy.load_state_dict(gnn.state_dict())
    assert torch.allclose(copy(shifted, edges, n_id)["Paper"], plain, atol=1e-4)
    gnn.set_input_stats({"Paper": (torch.zeros(8), torch.zeros(8))})  # constant dimensions
    assert torch.isfinite(gnn(x, edges, n_id)["Paper"]).all()
