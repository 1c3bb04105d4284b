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


def _sampled_batch(hops: int):
    """A 2-type random graph expanded from 32 papers by our sampler (CSR hop fetcher)."""
    from lmgnn.sampler.csr import RelationCSR
    from lmgnn.sampler.subgraph import expand, to_hetero_data
    from lmgnn.spec import parse_spec

    spec = parse_spec({
        "name": "trim",
        "nodes": {"Paper": {"key": "id", "properties": {"id": "int", "title": "string"},
                            "text": ["title"], "files": ["p.csv"]},
                  "Author": {"key": "id", "properties": {"id": "int"}, "files": ["a.csv"]}},
        "relationships": [
            {"type": "CITES", "source": "Paper", "target": "Paper",
             "files": [{"path": "c.csv", "source": "a", "target": "b"}]},
            {"type": "WROTE_BY", "source": "Paper", "target": "Author",
             "files": [{"path": "w.csv", "source": "a", "target": "b"}]}]})
    g = torch.Generator().manual_seed(0)
    csr = {et: RelationCSR.from_edges(et, torch.randint(0, 400, (3000,), generator=g),
                                      torch.randint(0, 400 if et[2] == "Paper" else 150,
                                                    (3000,), generator=g),
                                      400, 400 if et[2] == "Paper" else 150)
           for et in spec.edge_types}
    none = torch.empty(0, dtype=torch.int8)

    def fetch(requests, _excluded):
        return [csr[r.part.edge_type].neighbours(r.frontier, r.part.outgoing, r.k, r.salt,
                                                 none, None) for r in requests]

    seeds = torch.randperm(400, generator=g)[:32]
    batch = to_hetero_data(spec, expand(spec, {"Paper": seeds}, {
        et: [5] * hops for et in spec.edge_types}, fetch, seed=0, epoch=0))
    return spec, batch


@pytest.mark.parametrize("undirected", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_trimming_by_hop_keeps_the_seeds_outputs_exactly(layers: int, undirected: bool) -> None:
    """Given the sampler's hop counts, layers compute only what the seeds read: the seeds'
    outputs (and their gradients) are those of the untrimmed pass."""
    from lmgnn.models.gnn import hetero_metadata

    spec, batch = _sampled_batch(layers)
    hops = {t: batch[t].num_sampled_nodes for t in batch.node_types}
    assert hops["Paper"][0] == 32 and sum(hops["Author"]) == batch["Author"].num_nodes
    assert min(hops["Paper"][1:]) > 0  # the batch really has nodes to trim
    torch.manual_seed(0)
    gnn = HeteroGNN(hetero_metadata(spec), {"Paper": 8}, {"Author": 150}, hidden=16,
                    num_layers=layers, undirected=undirected).eval()
    x = {"Paper": torch.randn(batch["Paper"].num_nodes, 8)}
    n_id = {t: batch[t].n_id for t in batch.node_types}
    full = gnn(x, batch.edge_index_dict, n_id)
    trimmed = gnn(x, batch.edge_index_dict, n_id, None, hops)
    assert trimmed["Paper"].shape == (32, 16) and trimmed["Author"].shape == (0, 16)
    torch.testing.assert_close(trimmed["Paper"], full["Paper"][:32])
    weight = torch.randn(32, 16)
    grads = []
    for out in (full["Paper"][:32], trimmed["Paper"]):
        gnn.zero_grad()
        (out * weight).sum().backward(retain_graph=True)
        grads.append(torch.cat([p.grad.flatten() for p in gnn.parameters()
                                if p.grad is not None]))
    torch.testing.assert_close(grads[0], grads[1])


def test_three_layers_are_not_trimmed() -> None:
    """From three hops on an edge can join a hop-3 node to a seed: no trimming there."""
    from lmgnn.models.gnn import hetero_metadata

    spec, batch = _sampled_batch(3)
    gnn = HeteroGNN(hetero_metadata(spec), {"Paper": 8}, {"Author": 150}, hidden=16,
                    num_layers=3).eval()
    hops = {t: batch[t].num_sampled_nodes for t in batch.node_types}
    out = gnn({"Paper": torch.randn(batch["Paper"].num_nodes, 8)}, batch.edge_index_dict,
              {t: batch[t].n_id for t in batch.node_types}, None, hops)
    assert out["Paper"].shape[0] == batch["Paper"].num_nodes


CITES = ("Paper", "CITES", "Paper")
CITES_META = (["Paper", "Author"], [CITES, ET, reverse(CITES), reverse(ET)])


def _citations(ei: torch.Tensor) -> dict:
    authors = torch.tensor([[0, 1, 2, 3], [0, 0, 1, 2]])
    return {CITES: ei, reverse(CITES): ei.flip(0), ET: authors, reverse(ET): authors.flip(0)}


@pytest.mark.parametrize("conv", ["sage", "hgt"])
def test_undirected_same_type_relations_ignore_the_direction(conv: str) -> None:
    """With ``undirected`` a paper's output is the same whether it cites or is cited by the
    same papers (one merged relation: a mean over all neighbours); the relation between two
    labels keeps its directions. Directed, the two graphs give different outputs."""
    torch.manual_seed(0)
    x = {"Paper": torch.randn(4, 8)}
    n_id = {"Paper": torch.arange(4), "Author": torch.tensor([5, 2, 7])}
    cites = torch.tensor([[0, 0, 1], [1, 2, 3]])
    outputs = {}
    for undirected in (False, True):
        gnn = HeteroGNN(CITES_META, {"Paper": 8}, {"Author": 10}, hidden=16, num_layers=2,
                        conv=conv, undirected=undirected).eval()
        relations = set(layer_relations(gnn))
        assert (reverse(CITES) in relations) is not undirected and reverse(ET) in relations
        outputs[undirected] = [gnn(x, _citations(ei), n_id)["Paper"]
                               for ei in (cites, cites.flip(0))]
    torch.testing.assert_close(*outputs[True])
    assert not torch.allclose(*outputs[False])


def layer_relations(gnn: HeteroGNN) -> list:
    """The relations the first layer has weights for."""
    conv = gnn.convs[0]
    if hasattr(conv, "convs"):  # HeteroConv (sage)
        return list(conv.convs.keys())
    return [tuple(et) for et in conv.edge_types]  # HGTConv


def test_a_directed_model_file_still_loads_directed() -> None:
    """Models saved before the option existed have no ``undirected`` key: they rebuild with
    both directions apart, so their weights still fit."""
    from lmgnn.train.model import ModelShape, build_model

    directed = HeteroGNN(CITES_META, {"Paper": 8}, {"Author": 10}, hidden=16)
    shape = ModelShape(method="gnn", head="NodeClassifier", num_classes=3, relation=None,
                       score="distmult", dropout=0.1, lm_dim=8, gnn={
                           "metadata": [CITES_META[0], [list(et) for et in CITES_META[1]]],
                           "in_dims": {"Paper": 8}, "num_nodes": {"Author": 10},
                           "hidden": 16})
    model = build_model(shape, None)
    assert model.gnn is not None
    model.gnn.load_state_dict(directed.state_dict())  # strict: every key must match


def test_a_pair_stored_both_ways_counts_once_in_the_merged_relation() -> None:
    """u->v and v->u (a mutual citation) are one neighbour each way, not two: the output
    equals that of the graph holding u->v alone."""
    torch.manual_seed(0)
    gnn = HeteroGNN(CITES_META, {"Paper": 8}, {"Author": 10}, hidden=16, num_layers=1,
                    undirected=True).eval()
    x = {"Paper": torch.randn(4, 8)}
    n_id = {"Paper": torch.arange(4), "Author": torch.tensor([5, 2, 7])}
    once = gnn(x, _citations(torch.tensor([[0, 0], [1, 2]])), n_id)["Paper"]
    twice = gnn(x, _citations(torch.tensor([[0, 0, 1], [1, 2, 0]])), n_id)["Paper"]
    torch.testing.assert_close(once, twice)


def test_runs_saved_before_the_option_resume_directed() -> None:
    """A config.json without ``undirected`` (saved before it existed) resumes as it trained;
    a new config gets the default."""
    from lmgnn.train import TrainConfig

    data = TrainConfig(target="Paper.label").to_dict()
    data.pop("undirected")
    assert TrainConfig.from_saved(data, "config.json").undirected is False
    assert TrainConfig.from_dict(data).undirected is True
    assert TrainConfig.from_saved({**data, "undirected": True}, "c").undirected is True


@pytest.mark.parametrize("undirected", [False, True])
def test_the_model_shape_records_the_option(undirected: bool) -> None:
    """``model.json`` carries the option, so predict and writeback rebuild the same relations."""
    from types import SimpleNamespace

    from lmgnn.train import TrainConfig
    from lmgnn.train.model import build_model, model_shape

    spec, _ = _sampled_batch(1)
    config = TrainConfig(target="Paper.label", method="gnn", undirected=undirected)
    shape = model_shape(spec, config, {"Paper": 400, "Author": 150},
                        SimpleNamespace(kind="node", relation=None), 3, 8, [])
    assert shape.gnn is not None and shape.gnn["undirected"] is undirected
    gnn = build_model(shape, None).gnn
    assert gnn is not None
    assert (reverse(("Paper", "CITES", "Paper")) in layer_relations(gnn)) is not undirected
