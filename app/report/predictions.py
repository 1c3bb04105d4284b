"""Per-item evaluation outputs of a run, saved next to it for reports: ``predictions/<split>.npz``.

The trainer knows every evaluated item's label and scores only while it evaluates; the report
(confusion matrix, reliability diagram, score distributions, Hits@k curves) needs them later,
without the model or the database. Two shapes, one file per split:

* classification (node or edge): ``y`` int64 (N,) class ids (-1 = unlabelled, ignored) and
  ``probs`` float32 (N, C) class probabilities (rows sum to 1);
* link prediction: ``pos`` float32 (N,) scores of true pairs and ``neg`` float32 (N, K) scores
  of each pair's sampled negatives.

The file is written whole (temp file + rename), so a crash never leaves half of one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lmgnn.errors import UserError

_SPLIT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CLASSIFICATION = ("y", "probs")
LINK = ("pos", "neg")


@dataclass(frozen=True)
class Predictions:
    """What one split's file holds, checked: ``kind`` is "classification" or "link"."""

    kind: str
    arrays: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]


def predictions_path(run_dir: Path, split: str) -> Path:
    if not _SPLIT.match(split):
        raise ValueError(f"split {split!r} is not a plain lower-case name (e.g. test, valid)")
    return Path(run_dir) / "predictions" / f"{split}.npz"


def _as_array(value: Any) -> np.ndarray:
    """numpy arrays, lists, and torch tensors (on any device) alike."""
    if hasattr(value, "detach"):  # a torch tensor, without importing torch here
        value = value.detach().float().cpu().numpy() if value.is_floating_point() \
            else value.detach().cpu().numpy()
    return np.asarray(value)


def _checked(arrays: dict[str, Any], where: str) -> Predictions:
    names = set(arrays)
    if names == set(CLASSIFICATION):
        y = _as_array(arrays["y"]).astype(np.int64, copy=False)
        probs = _as_array(arrays["probs"]).astype(np.float32, copy=False)
        if y.ndim != 1 or probs.ndim != 2 or len(y) != len(probs):
            raise UserError(f"{where}: expected y (N,) and probs (N, C), got y {y.shape} and "
                            f"probs {probs.shape}")
        if len(y) and (y.max() >= probs.shape[1] or y.min() < -1):
            raise UserError(f"{where}: field 'y' holds class ids outside -1..{probs.shape[1] - 1}")
        return Predictions("classification", {"y": y, "probs": probs})
    if names == set(LINK):
        pos = _as_array(arrays["pos"]).astype(np.float32, copy=False)
        neg = _as_array(arrays["neg"]).astype(np.float32, copy=False)
        if pos.ndim != 1 or neg.ndim != 2 or len(pos) != len(neg):
            raise UserError(f"{where}: expected pos (N,) and neg (N, K), got pos {pos.shape} "
                            f"and neg {neg.shape}")
        return Predictions("link", {"pos": pos, "neg": neg})
    got = ", ".join(sorted(names)) or "none"
    raise UserError(f"{where}: expected arrays {' + '.join(CLASSIFICATION)} (classification) "
                    f"or {' + '.join(LINK)} (link prediction), got {got}")


def save_eval_predictions(run_dir: Path, split: str, **arrays: Any) -> Path:
    """Save one split's per-item outputs for the report; replaces an earlier file whole.

    ``save_eval_predictions(run.path, "test", y=y, probs=softmax(logits))`` or
    ``save_eval_predictions(run.path, "test", pos=pos_scores, neg=neg_scores)``; tensors or
    arrays, any device. Returns the file's path."""
    path = predictions_path(run_dir, split)
    checked = _checked(arrays, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    arrays_out: dict[str, Any] = dict(checked.arrays)  # keyword names are the array names
    with tmp.open("wb") as f:
        np.savez_compressed(f, **arrays_out)
    tmp.replace(path)
    return path


def load_predictions(run_dir: Path, split: str) -> Predictions | None:
    """The split's saved outputs, or None when the run saved none."""
    path = predictions_path(run_dir, split)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable .npz file ({exc})") from exc
    return _checked(arrays, str(path))
