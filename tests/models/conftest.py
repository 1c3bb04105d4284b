"""Tiny random BERT with the packaged MiniLM tokenizer: fast enough for unit tests."""

from __future__ import annotations

import pytest
from transformers import BertConfig, BertModel

from lmgnn.models import TextEncoder, load_tokenizer


def tiny_encoder(pooling: str = "mean", max_length: int = 16, seed: int = 0) -> TextEncoder:
    import torch

    torch.manual_seed(seed)
    tok = load_tokenizer()
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    return TextEncoder(BertModel(config), tok, pooling=pooling, max_length=max_length)


@pytest.fixture
def encoder() -> TextEncoder:
    return tiny_encoder()
