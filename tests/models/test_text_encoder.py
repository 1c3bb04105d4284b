from __future__ import annotations

import pytest
import torch

from lmgnn.errors import UserError
from lmgnn.models import TextEncoder, tokenize

from .conftest import tiny_encoder


def test_mean_and_cls_pooling_shapes_and_padding_invariance() -> None:
    for pooling in ("mean", "cls"):
        enc = tiny_encoder(pooling=pooling)
        enc.eval()
        alone = enc.encode(["graph neural networks"])
        padded = enc.encode(["graph neural networks", "a much longer text " * 5])
        assert alone.shape == (1, 32) and padded.shape == (2, 32)
        # padding the short text to the long one's length must not change its embedding
        assert torch.allclose(alone[0], padded[0], atol=1e-5)


def test_max_length_truncates(encoder: TextEncoder) -> None:
    batch = tokenize(encoder.tokenizer, ["word " * 100, "short"], max_length=16)
    assert batch["input_ids"].shape == (2, 16)
    assert int(batch["attention_mask"][1].sum()) < 16


def test_embed_has_gradients_and_encode_does_not(encoder: TextEncoder) -> None:
    out = encoder.embed(["a", "b"])
    out.sum().backward()
    assert encoder.model.embeddings.word_embeddings.weight.grad is not None
    assert not encoder.encode(["a"]).requires_grad
    assert encoder.training  # encode restores the training flag


def test_save_and_reload_gives_same_embeddings(encoder: TextEncoder, tmp_path) -> None:
    encoder.save(tmp_path / "lm")
    again = TextEncoder.from_pretrained(tmp_path / "lm", pooling="mean", max_length=16)
    assert torch.allclose(encoder.encode(["hello graph"]), again.encode(["hello graph"]),
                          atol=1e-6)


def test_bad_options_are_user_errors(encoder: TextEncoder, tmp_path) -> None:
    with pytest.raises(UserError, match="pooling"):
        TextEncoder(encoder.model, encoder.tokenizer, pooling="max")  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"config\.json"):
        TextEncoder.from_pretrained(tmp_path)


@pytest.mark.slow
def test_packaged_minilm_loads_offline_and_separates_topics() -> None:
    enc = TextEncoder.from_pretrained(max_length=32)
    assert enc.hidden_size == 384
    e = torch.nn.functional.normalize(enc.encode(["database query optimization",
                                                  "indexing relational databases",
                                                  "a recipe for chocolate cake"]), dim=-1)
    assert e[0] @ e[1] > e[0] @ e[2]
