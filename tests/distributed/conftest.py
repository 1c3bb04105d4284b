"""Helpers for the 2-process tests: the tiny shop in Neo4j, and commands run as torchrun ranks
(child processes reach the session's server through NEO4J_* in their environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lmgnn.loaders import load_graph
from lmgnn.spec import load_spec
from tests.train.conftest import write_tiny_shop

TIMEOUT_S = 1200  # a loaded CI machine: one tiny 2-process run took 100-600 s


@pytest.fixture
def shop(neo4j_db, tmp_path):
    spec_path = write_tiny_shop(tmp_path / "shop", products=160, queries=60)
    load_graph(load_spec(spec_path), spec_path.parent, neo4j_db.driver, neo4j_db.database,
               progress=False)
    return neo4j_db


def child_env(db, **extra: str) -> dict[str, str]:
    """The test's environment plus the server's URI and password, one thread per rank."""
    return {**os.environ, **db.env(), "OMP_NUM_THREADS": "1", **extra}


def lmgnn(db, *args: str, timeout: float = TIMEOUT_S, **extra: str
          ) -> subprocess.CompletedProcess[str]:
    """``python -m lmgnn ARGS`` in a child process (e.g. ``train --nproc 2 ...``)."""
    return subprocess.run([sys.executable, "-m", "lmgnn", *args], env=child_env(db, **extra),
                          capture_output=True, text=True, timeout=timeout, check=False)


def torchrun(db, nproc: int, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           f"--nproc-per-node={nproc}", str(script), *args],
                          env=child_env(db), capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False)
