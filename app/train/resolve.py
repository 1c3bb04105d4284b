"""Options whose default is ``auto``, resolved from the graph before a run starts.

The resolved values replace ``auto`` in the run's ``TrainConfig`` (so ``config.json`` and a
resume see numbers, and the run is reproducible from its config alone):

- ``eval_fanout``: all neighbours (-1) while the database holds at most ``FULL_EVAL_MAX``
  relationships (an evaluation batch then costs at most one pass over the whole graph, and
  validation sees what inference will see), else the training ``fanout``.
- ``max_length``: ``lmgnn.train.text_length``.
"""

from __future__ import annotations

import dataclasses

import neo4j
from rich.console import Console

from lmgnn.db.connection import graph_counts
from lmgnn.sampler import make_sampler
from lmgnn.spec import GraphSpec
from lmgnn.train.config import AUTO, TrainConfig
from lmgnn.train.text_length import TextsFn, choose_max_length, model_limit_of

FULL_EVAL_MAX = 1_000_000
console = Console(stderr=True)


def resolve_eval_fanout(config: TrainConfig, driver: neo4j.Driver, database: str
                        ) -> TrainConfig:
    if config.eval_fanout != AUTO:
        return config
    relationships = graph_counts(driver, database)["relationships"]
    fanout = -1 if relationships <= FULL_EVAL_MAX else config.fanout
    return dataclasses.replace(config, eval_fanout=fanout)


def resolve_auto(config: TrainConfig, driver: neo4j.Driver, database: str, spec: GraphSpec
                 ) -> TrainConfig:
    """Both options resolved (texts read through a text-only sampler: a page of texts per
    query, no snapshot)."""
    config = resolve_eval_fanout(config, driver, database)
    if config.max_length != AUTO:
        return config
    sampler = make_sampler(driver, database, spec, backend="cypher", fanouts=[],
                           features="text")
    text_counts = {label: n for label, n in sampler.counts.items() if spec.nodes[label].text}
    return resolve_max_length(config, sampler.node_texts, text_counts)


def resolve_max_length(config: TrainConfig, texts: TextsFn, text_counts: dict[str, int]
                       ) -> TrainConfig:
    """``max_length auto`` from a sample of the texts (printed with the reason)."""
    if config.max_length != AUTO:
        return config
    tokenizer, limit = model_limit_of(config.lm_path)
    # one sample per graph, not per run seed: runs that differ only in --seed must read the
    # same text length (and share one vector cache); DBLP gave 24 or 32 tokens by seed
    choice = choose_max_length(texts, text_counts, tokenizer, limit, seed=0)
    console.print(choice.describe())
    return dataclasses.replace(config, max_length=choice.max_length)
