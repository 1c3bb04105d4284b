"""``--max-length auto``: tokens per text chosen from the graph's own texts.

A fixed default either truncates long texts (abstracts, reviews: most of each text lost at 32
tokens) or pays for padding nobody needs (titles, queries at 512). LM cost on a CPU grows with
the token count, so the choice matters for time as much as for accuracy.

Rule: tokenise a seeded sample of up to ``SAMPLE`` texts of every text node type (fetched
through the run's sampler, nothing whole-graph), take the ``PERCENTILE``-th percentile of the
token counts of each type and the largest over types, round up to a multiple of 8, and cap it
by the model's position limit and by ``COST_CAP`` (beyond that the budget planner would spend
most of a CPU run on a few very long texts; set ``--max-length N`` to go further).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

SAMPLE = 2000
PERCENTILE = 99.0
COST_CAP = 256
FLOOR = 16

TextsFn = Callable[[str, torch.Tensor], list[str]]


@dataclass(frozen=True)
class LengthChoice:
    max_length: int
    percentile_tokens: int  # the sample's PERCENTILE-th token count (largest over types)
    texts_sampled: int
    model_limit: int
    capped: bool  # the cost cap or the model limit cut the percentile

    def describe(self) -> str:
        why = (f"{PERCENTILE:g}th percentile of {self.texts_sampled:,} sampled texts: "
               f"{self.percentile_tokens} tokens")
        if self.capped:
            why += f"; capped at {min(COST_CAP, self.model_limit)}"
        return f"max_length auto = {self.max_length} ({why})"


def model_token_limit(tokenizer: PreTrainedTokenizerBase, max_positions: int | None) -> int:
    """The longest input the model takes: its position embeddings, or the tokenizer's limit
    (which some tokenizers leave at a huge sentinel)."""
    limits = [n for n in (max_positions, getattr(tokenizer, "model_max_length", None))
              if isinstance(n, int) and 0 < n < 1_000_000]
    return min(limits) if limits else 512


def choose_max_length(texts: TextsFn, counts: dict[str, int],
                      tokenizer: PreTrainedTokenizerBase, model_limit: int,
                      seed: int = 0) -> LengthChoice:
    """The rule of the module docstring over the text node types in ``counts``."""
    worst, sampled = 0, 0
    gen = torch.Generator().manual_seed(seed)
    for label, n in sorted(counts.items()):
        if n == 0:
            continue
        nids = torch.sort(torch.randperm(n, generator=gen)[:SAMPLE]).values
        sample = [t for t in texts(label, nids) if t]
        if not sample:
            continue
        lengths = torch.tensor([len(ids) for ids in tokenizer(sample)["input_ids"]],
                               dtype=torch.float64)
        worst = max(worst, math.ceil(float(torch.quantile(lengths, PERCENTILE / 100))))
        sampled += len(sample)
    if sampled == 0:  # no text at all: nothing to size, keep the cheapest sane length
        return LengthChoice(FLOOR, 0, 0, model_limit, False)
    rounded = max(FLOOR, 8 * math.ceil(worst / 8))
    cap = min(COST_CAP, model_limit)
    return LengthChoice(min(rounded, cap), worst, sampled, model_limit, rounded > cap)


def model_limit_of(lm_path: str | None) -> tuple[PreTrainedTokenizerBase, int]:
    """The model's tokenizer and token limit, read from its directory (no weights loaded)."""
    from transformers import AutoConfig

    from lmgnn.models.text_encoder import default_model_dir, load_tokenizer

    tokenizer = load_tokenizer(lm_path)
    config = AutoConfig.from_pretrained(str(lm_path or default_model_dir()),
                                        local_files_only=True)
    return tokenizer, model_token_limit(tokenizer, getattr(config, "max_position_embeddings",
                                                           None))
