"""Top-k link prediction per source node, excluding links the graph already has.

Scores every (source, target) pair of a batch of sources against all targets, a chunk of
targets at a time, keeping a running top-k: memory is O(batch x chunk), never sources x
targets. Existing links are read from Neo4j for each batch of sources and masked out, so what
gets written are new links only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import neo4j
import torch
from torch import Tensor

from lmgnn import cypher_files as cypher
from lmgnn.spec import EdgeType, GraphSpec
from lmgnn.writeback.batches import LinkBatch

ScoreFn = Callable[[Tensor, Tensor], Tensor]  # (B, D), (M, D) -> (B, M)


def dot_score(src: Tensor, dst: Tensor) -> Tensor:
    return src @ dst.T


def existing_targets(driver: neo4j.Driver, database: str, spec: GraphSpec,
                     edge_type: EdgeType | str, sources: list[int]) -> dict[int, list[int]]:
    """``_nid``s each source already links to through ``edge_type``."""
    rel = spec.relation(edge_type if isinstance(edge_type, str) else tuple(edge_type))
    query = cypher.render("writeback/existing_targets", source=rel.source, type=rel.type,
                          target=rel.target)
    records, _, _ = driver.execute_query(query, sources=sources, database_=database,
                                         routing_="r")
    return {r["src"]: r["targets"] for r in records}


def rank_links(src: Tensor, src_emb: Tensor, dst_emb: Tensor, k: int,
               exclude: dict[int, list[int]], *, score: ScoreFn = dot_score,
               exclude_self: bool = False, dst_chunk: int = 65_536) -> LinkBatch:
    """Best ``k`` targets of each source by ``score``, skipping excluded (source, target) pairs.

    Args:
        src: (B,) source ``_nid``s; src_emb: (B, D) their embeddings.
        dst_emb: (N, D) target embeddings, row i = target ``_nid`` i.
        exclude: source ``_nid`` -> target ``_nid``s not to predict (existing links).
        exclude_self: also skip target == source (relations within one label).
    Returns a LinkBatch padded with dst -1 where fewer than k targets remain.
    """
    batch, n_dst = src.size(0), dst_emb.size(0)
    k_eff = min(k, n_dst)
    rows, cols = _exclusion_pairs(src, exclude, exclude_self)
    best_score = torch.full((batch, k_eff), float("-inf"))
    best_dst = torch.full((batch, k_eff), -1, dtype=torch.long)
    for start in range(0, n_dst, dst_chunk):
        stop = min(start + dst_chunk, n_dst)
        scores = score(src_emb, dst_emb[start:stop]).float().cpu()  # (B, M)
        hit = (cols >= start) & (cols < stop)
        scores[rows[hit], cols[hit] - start] = float("-inf")
        ids = torch.arange(start, stop).expand(batch, -1)
        merged_score = torch.cat([best_score, scores], dim=1)
        merged_dst = torch.cat([best_dst, ids], dim=1)
        top = merged_score.topk(k_eff, dim=1)
        best_score, best_dst = top.values, merged_dst.gather(1, top.indices)
    best_dst[torch.isinf(best_score)] = -1
    best_score[best_dst < 0] = 0.0
    return LinkBatch(src=src.cpu(), dst=best_dst, score=best_score)


def predict_links(driver: neo4j.Driver, database: str, spec: GraphSpec,
                  edge_type: EdgeType | str, sources: Iterable[tuple[Tensor, Tensor]],
                  dst_emb: Tensor, k: int, *, score: ScoreFn = dot_score) -> Iterator[LinkBatch]:
    """Stream LinkBatches for batches of (source ``_nid``s, source embeddings)."""
    rel = spec.relation(edge_type if isinstance(edge_type, str) else tuple(edge_type))
    for src, src_emb in sources:
        exclude = existing_targets(driver, database, spec, rel.edge_type, src.tolist())
        yield rank_links(src, src_emb, dst_emb, k, exclude, score=score,
                         exclude_self=rel.source == rel.target)


def _exclusion_pairs(src: Tensor, exclude: dict[int, list[int]],
                     exclude_self: bool) -> tuple[Tensor, Tensor]:
    """(row, target) index pairs to mask, as two LongTensors."""
    rows: list[int] = []
    cols: list[int] = []
    for row, nid in enumerate(src.tolist()):
        targets = list(exclude.get(nid, ()))
        if exclude_self:
            targets.append(nid)
        rows.extend([row] * len(targets))
        cols.extend(targets)
    return torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)
