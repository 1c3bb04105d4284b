"""GLEM's pseudo-labels: one model's class distribution per target node (or labelled edge of
an edge task), stored where the other model's next step streams them from: the run's cache,
``runs/<run>/glem/<name>/``.

The format is the vector cache's (``lmgnn.sampler.MemmapEmbeddings``: one float32 row of class
probabilities per item, ``_nid`` or edge id, plus a written-flag byte), so a fill goes in pages,
resumes where an interrupted one stopped, and training reads the rows of each batch's seeds in
the loader's prefetch thread; the process never holds the column. ``name`` is
``<lm|gnn>-<step>``: the model and the GLEM plan step that made them (``lmgnn.train.glem``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import HeteroData

from lmgnn.sampler.embeddings import MemmapEmbeddings

Predict = Callable[[Tensor], Iterable[tuple[Tensor, Tensor]]]  # nids -> (nids, probs) chunks
PAGE = 8192


class PseudoLabels:
    """Class probabilities (count x classes) of one model state: per node of a type, or per
    labelled edge of the task relation (``label``: its type; row = the edge's GLEM item id)."""

    def __init__(self, run_path: Path, name: str, label: str, count: int, classes: int) -> None:
        self.label, self.name = label, name
        self.store = MemmapEmbeddings(Path(run_path) / "glem", name, classes, {label: count})

    def fill(self, nids: Tensor, predict: Predict) -> int:
        """Predict and store the ``nids`` that have no row yet; returns how many were new."""
        done = 0
        for lo in range(0, nids.numel(), PAGE):
            todo = self.store.missing(self.label, nids[lo:lo + PAGE])
            if todo.numel():
                for chunk, probs in predict(todo):
                    self.store.put(self.label, chunk, probs)
                    done += int(chunk.numel())
        return done

    def get(self, nids: Tensor) -> Tensor:
        return self.store.get(self.label, nids)

    def confident(self, nids: Tensor, threshold: float, y: Tensor, valid: Tensor
                  ) -> tuple[Tensor, dict[str, float]]:
        """The ``nids`` whose top class has probability >= ``threshold`` (read in pages), and
        statistics: how many, their mean confidence, and the accuracy of the pseudo-labels
        on the validation nodes (``valid``: a bool per ``_nid``; gold ``y`` for the report
        only, never for training)."""
        keep, conf_sum, right, seen = [], 0.0, 0, 0
        for lo in range(0, nids.numel(), PAGE):
            ids = nids[lo:lo + PAGE]
            conf, cls = self.get(ids).max(dim=-1)
            ok = conf >= threshold
            keep.append(ids[ok])
            conf_sum += float(conf[ok].sum())
            v = valid[ids]
            right += int((cls[v] == y[ids][v]).sum())
            seen += int(v.sum())
        chosen = torch.cat(keep) if keep else torch.empty(0, dtype=torch.long)
        n = int(chosen.numel())
        return chosen, {"pseudo_labels": n, "pseudo_conf": round(conf_sum / max(n, 1), 4),
                        "pseudo_valid_acc": round(right / max(seen, 1), 4)}


class PseudoTargets:
    """Loader transform of a GLEM step: each seed's target is its gold class (training items)
    or the other model's pseudo-label (hard: the top class; soft: the distribution), below
    ``threshold`` none. Sets the class (-1: not trained on), ``.soft_y`` (B, C) and
    ``.loss_weight`` (B,) = ``(1 - weight) / gold seeds`` or ``weight / pseudo seeds`` of the
    batch, which ``lmgnn.train.loops.class_loss`` turns into
    ``(1 - weight) CE(gold) + weight CE(pseudo)``. Node task: the seeds are the batch's
    ``label`` nodes (``batch[label].y``); edge task (``relation``): the loader's edge labels
    are the items' ids, replaced by their targets (``batch[relation].edge_label``)."""

    def __init__(self, label: str, y_train: Tensor, labels: PseudoLabels, weight: float,
                 threshold: float, soft: bool, classes: int,
                 relation: tuple[str, str, str] | None = None) -> None:
        self.label, self.y_train, self.labels = label, y_train, labels
        self.weight, self.threshold, self.soft, self.classes = weight, threshold, soft, classes
        self.relation = relation

    def __call__(self, batch: HeteroData) -> HeteroData:
        if self.relation is None:
            store = batch[self.label]
            items = store.n_id[:int(store.batch_size)]
        else:
            store = batch[self.relation]
            items = store.edge_label
        y, soft_y, weight = self.targets(items)
        if self.relation is None:
            full = torch.full((store.n_id.numel(),), -1, dtype=torch.long)
            full[:items.numel()] = y
            store.y = full
        else:
            store.edge_label = y
        store.soft_y, store.loss_weight = soft_y, weight
        return batch

    def targets(self, items: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(class (-1: none), soft target (B, C), loss weight) of each item."""
        bs = items.numel()
        gold = self.y_train[items]
        is_gold = gold >= 0
        y = torch.full((bs,), -1, dtype=torch.long)
        y[is_gold] = gold[is_gold]
        soft_y = torch.zeros(bs, self.classes)
        soft_y[is_gold] = F.one_hot(gold[is_gold], self.classes).float()
        pseudo = torch.zeros(bs, dtype=torch.bool)
        rows = torch.nonzero(~is_gold).flatten()
        if rows.numel():
            probs = self.labels.get(items[rows])
            conf, cls = probs.max(dim=-1)
            ok = conf >= self.threshold
            rows, probs, cls = rows[ok], probs[ok], cls[ok]
            y[rows] = cls
            soft_y[rows] = probs if self.soft else F.one_hot(cls, self.classes).float()
            pseudo[rows] = True
        weight = torch.zeros(bs)
        n_gold, n_pseudo = int(is_gold.sum()), int(pseudo.sum())
        if n_gold:
            weight[is_gold] = (1.0 - self.weight) / n_gold
        if n_pseudo:
            weight[pseudo] = self.weight / n_pseudo
        return y, soft_y, weight
