"""--max-length auto: the token-length distribution of the graph's texts decides."""

from __future__ import annotations

import torch

from lmgnn.models.text_encoder import load_tokenizer
from lmgnn.train.text_length import COST_CAP, choose_max_length, model_limit_of


def texts_of(words_per_text: dict[str, int]):
    """Node texts of ``n`` words each per label (what a sampler's node_texts returns)."""
    def texts(label: str, nids: torch.Tensor) -> list[str]:
        return [" ".join(["graph"] * words_per_text[label]) for _ in nids.tolist()]
    return texts


def test_titles_get_a_short_length_and_abstracts_a_long_capped_one() -> None:
    tok, limit = model_limit_of(None)
    assert limit == 512  # the packaged MiniLM's position embeddings
    titles = choose_max_length(texts_of({"Paper": 10}), {"Paper": 500}, tok, limit)
    assert titles.max_length == 16  # 10 words + [CLS] + [SEP] = 12, rounded up to 8s
    assert titles.texts_sampled == 500 and not titles.capped
    long = choose_max_length(texts_of({"Paper": 400}), {"Paper": 50}, tok, limit)
    assert long.max_length == COST_CAP and long.capped and long.percentile_tokens == 402
    assert "capped" in long.describe()


def test_the_longest_text_type_decides_and_empty_graphs_get_the_floor() -> None:
    tok = load_tokenizer()
    both = choose_max_length(texts_of({"Query": 3, "Product": 30}),
                             {"Query": 100, "Product": 100}, tok, 512)
    assert both.max_length == 32  # 30 + 2 tokens
    none = choose_max_length(texts_of({"Query": 3}), {"Query": 0}, tok, 512)
    assert none.max_length == 16 and none.texts_sampled == 0
    assert choose_max_length(texts_of({"Paper": 100}), {"Paper": 10}, tok, 64).max_length == 64


def test_runs_that_differ_only_in_seed_get_the_same_length() -> None:
    """The sample is one per graph: DBLP gave 24 tokens for seeds 0 and 1 and 32 for seed 2,
    so seed 2 re-encoded the whole vector cache."""
    from lmgnn.train.config import TrainConfig
    from lmgnn.train.resolve import resolve_max_length

    def texts(label: str, nids: torch.Tensor) -> list[str]:  # 1% of the texts are long
        return [" ".join(["graph"] * (40 if (i * 7919) % 100 == 0 else 5))
                for i in nids.tolist()]

    lengths = {resolve_max_length(TrainConfig(target="Paper.label", seed=seed), texts,
                                  {"Paper": 50_000}).max_length for seed in range(4)}
    assert len(lengths) == 1
    # while different samples of these texts do give different lengths
    tok, limit = model_limit_of(None)
    assert len({choose_max_length(texts, {"Paper": 50_000}, tok, limit, seed=s).max_length
                for s in range(8)}) > 1
