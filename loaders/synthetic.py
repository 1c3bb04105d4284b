"""A synthetic query-purchase-product graph (the LM-GNN paper's Amazon shape) with a planted signal.

``generate(out_dir, products=..., queries=..., seed=...)`` writes CSV files plus
``ecommerce.yaml`` (a copy of loaders/specs/ecommerce.yaml) and returns the spec's path;
``lmgnn load synthetic`` is generate + load_graph. Same seed and sizes, same bytes.

Generative model (C = 12 categories, each with its own nouns, adjectives, brands, uses and
details; see loaders/vocabulary.py):

1. Product i gets a category c_i ~ Categorical(pi), pi mildly unbalanced (the node-
   classification target) and a role, drawn independently of c_i:
   - cold (25%): at most one edge (half get none, half one purchase from a query whose intent
     is c_i with probability 1/2, else any query); its text is clear, so only text tells;
   - ambiguous (15%): title and description use only GENERIC words and a generic brand;
   - misleading (15%): text, brand included, written from another category c' != c_i;
   - clear (45%): text written from c_i's vocabulary.
   Ambiguous and misleading products are never cold: their neighbours resolve them.
   Warm products get a popularity w_i ~ 1 + Pareto(1.16) (80/20 rule); cold ones w_i = 0.
2. Query j gets an intent category t_j ~ pi. 20% are vague ("gift ideas": no category words),
   the rest are short texts from t_j's vocabulary ("wireless headphones", "best cast iron
   nonstick skillet", "Pawsome cat treats", "yoga mat for home workouts").
3. PURCHASED (link prediction) {count ~ Geometric(0.6)}: each query buys n_j ~ Geometric(1/3)
   products; each purchase picks the category t_j (85%), the complement of t_j (10%, e.g.
   Kitchen -> Grocery) or a uniform one (5%), then a warm product of it with probability
   proportional to w. In addition every warm product is bought by 2 queries of its own
   category, so every ambiguous or misleading product has neighbours to learn from.
4. JUDGED {esci} (edge classification, Amazon ESCI labels): each query gets 1 + Poisson(2)
   judgements of warm products: one of its purchases (40%: Exact 85%, Substitute 15%), a
   popular product of its intent category (30%: Substitute 55%, Exact 35%, Irrelevant 10%),
   of the complement category (12%: Complement 75%, Irrelevant 25%), or of another category
   (18%: Irrelevant 90%, Complement 10%).
5. CO_PURCHASED: 60% of warm products link to 1-2 warm products by popularity, of the same
   category (75%) or its complement (25%).
Duplicate (source, target) pairs are dropped (first wins), so every file loads as written.
Hence text alone fails on ambiguous/misleading products (30%), structure alone fails on cold
ones (25%) and is blurred by complement purchases; a model using both should beat each.
``roles.csv`` (not loaded) records each product's role for per-role evaluation.

Memory: a few numeric arrays per product, query and edge; text is written chunk by chunk.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lmgnn.loaders.vocabulary import CATEGORIES, ESCI, GENERIC, VAGUE_QUERIES, Vocabulary

SPEC_FILE = Path(__file__).resolve().parent / "specs" / "ecommerce.yaml"
# Salt in every seed: SeedSequence(0) and SeedSequence([0, 0]) give the same stream, and a
# trainer's `default_rng(seed)` split must not line up with the generator's draws.
_SALT = 0x5EED_5409
ROLES = ("clear", "ambiguous", "misleading", "cold")
CLEAR, AMBIGUOUS, MISLEADING, COLD = range(4)
TEXT_BLOCK = 10_000  # rows of text drawn from one random stream
_SUFFIXES = ("", "", "", ", Pack of 2", ", Black", ", Large", ", Gray", ", 2-Pack", ", Blue",
             ", Small", ", 3 Count", ", New Model")


@dataclass(frozen=True)
class ShopConfig:
    """Sizes and knobs of the generative model (module docstring)."""

    products: int = 5_000
    queries: int = 3_000
    seed: int = 0
    cold: float = 0.25
    ambiguous: float = 0.15
    misleading: float = 0.15
    vague_queries: float = 0.20
    purchases_per_query: float = 3.0
    in_intent: float = 0.85
    in_complement: float = 0.10
    seed_purchases: int = 2
    judgements_per_query: float = 3.0
    co_purchase_share: float = 0.6
    chunk_rows: int = 100_000


def generate(out_dir: Path, *, products: int = 5_000, queries: int = 3_000, seed: int = 0,
             **options: object) -> Path:
    """Write the synthetic shop into ``out_dir``; return the path of its spec YAML.

    ``options`` are further ShopConfig fields (e.g. ``cold=0.3``, ``chunk_rows=50_000``).
    """
    cfg = ShopConfig(products=products, queries=queries, seed=seed, **options)  # type: ignore[arg-type]
    if cfg.products < 2 or cfg.queries < 1:
        raise ValueError("need at least 2 products and 1 query")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shop = _Latent(cfg)
    _write_chunks(out_dir / "products.csv", cfg.products, cfg, shop.product_rows)
    _write_chunks(out_dir / "queries.csv", cfg.queries, cfg, shop.query_rows)
    pq, pp = shop.purchases()
    counts = shop.rng.geometric(0.6, len(pq))
    _write_edges(out_dir / "purchases.csv", cfg.chunk_rows, ("query_id", "product_id", "count"),
                 lambda s: (_ids("Q", pq[s]), _ids("P", pp[s]), counts[s]), len(pq))
    jq, jp, jl = shop.judgements(pq, pp)
    _write_edges(out_dir / "judgements.csv", cfg.chunk_rows, ("query_id", "product_id", "esci"),
                 lambda s: (_ids("Q", jq[s]), _ids("P", jp[s]), np.asarray(ESCI)[jl[s]]),
                 len(jq))
    ca, cb = shop.co_purchases()
    _write_edges(out_dir / "co_purchases.csv", cfg.chunk_rows,
                 ("product_id", "other_product_id"),
                 lambda s: (_ids("P", ca[s]), _ids("P", cb[s])), len(ca))
    _write_edges(out_dir / "roles.csv", cfg.chunk_rows, ("product_id", "role"),
                 lambda s: (_ids("P", np.arange(cfg.products)[s]),
                            np.asarray(ROLES)[shop.role[s]]), cfg.products)
    spec_path = out_dir / SPEC_FILE.name
    shutil.copyfile(SPEC_FILE, spec_path)
    return spec_path


class _Latent:
    """The hidden variables (categories, roles, popularity, intents) and edge sampling."""

    def __init__(self, cfg: ShopConfig) -> None:
        self.cfg = cfg
        self.rng = np.random.default_rng([cfg.seed, _SALT])
        rng, n_cat = self.rng, len(CATEGORIES)
        self.cat_p = np.linspace(1.4, 0.6, n_cat) / np.linspace(1.4, 0.6, n_cat).sum()
        self.complement = np.array([_category_index(v.complement) for v in CATEGORIES])
        self.cat = rng.choice(n_cat, cfg.products, p=self.cat_p)
        u = rng.random(cfg.products)
        edges = np.cumsum([cfg.cold, cfg.ambiguous, cfg.misleading])
        self.role = np.select([u < edges[0], u < edges[1], u < edges[2]],
                              [COLD, AMBIGUOUS, MISLEADING], CLEAR)
        shift = rng.integers(1, n_cat, cfg.products)
        self.text_cat = np.where(self.role == MISLEADING, (self.cat + shift) % n_cat, self.cat)
        self.weight = np.where(self.role == COLD, 0.0, 1.0 + rng.pareto(1.16, cfg.products))
        self.intent = rng.choice(n_cat, cfg.queries, p=self.cat_p)
        self.vague = rng.random(cfg.queries) < cfg.vague_queries
        warm = self.role != COLD
        self.by_cat = [np.flatnonzero(warm & (self.cat == c)) for c in range(n_cat)]
        self.cum_w = [np.cumsum(self.weight[ids]) for ids in self.by_cat]
        self.queries_of = [np.flatnonzero(self.intent == c) for c in range(n_cat)]

    # ---- sampling helpers ------------------------------------------------------------------
    def popular(self, cats: np.ndarray) -> np.ndarray:
        """One warm product per entry of ``cats``, proportional to popularity (-1: none)."""
        out = np.full(len(cats), -1, dtype=np.int64)
        for c in range(len(CATEGORIES)):
            mask = cats == c
            if mask.any() and len(self.by_cat[c]):
                draw = self.rng.random(int(mask.sum())) * self.cum_w[c][-1]
                pick = np.minimum(np.searchsorted(self.cum_w[c], draw, side="right"),
                                  len(self.by_cat[c]) - 1)
                out[mask] = self.by_cat[c][pick]
        return out

    def query_of(self, cats: np.ndarray) -> np.ndarray:
        """A uniform query whose intent is each entry of ``cats`` (any query if none)."""
        out = self.rng.integers(0, self.cfg.queries, len(cats))
        for c in range(len(CATEGORIES)):
            mask = cats == c
            if mask.any() and len(self.queries_of[c]):
                out[mask] = self.rng.choice(self.queries_of[c], int(mask.sum()))
        return out

    def distinct_queries_of(self, products: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``k`` different queries of each product's category (fewer if it has fewer)."""
        qs, ps = [], []
        for c in range(len(CATEGORIES)):
            mine = products[self.cat[products] == c]
            pool = self.rng.permutation(self.queries_of[c])
            if not len(mine) or not len(pool):
                continue
            base = self.rng.integers(0, len(pool), len(mine))
            for j in range(min(k, len(pool))):
                qs.append(pool[(base + j) % len(pool)])
                ps.append(mine)
        return (np.concatenate(qs), np.concatenate(ps)) if qs else (np.zeros(0, np.int64),) * 2

    def other_cat(self, cats: np.ndarray) -> np.ndarray:
        return (cats + self.rng.integers(1, len(CATEGORIES), len(cats))) % len(CATEGORIES)

    # ---- edges -----------------------------------------------------------------------------
    def purchases(self) -> tuple[np.ndarray, np.ndarray]:
        cfg, rng = self.cfg, self.rng
        n = rng.geometric(1.0 / cfg.purchases_per_query, cfg.queries)
        q = np.repeat(np.arange(cfg.queries), n)
        u = rng.random(len(q))
        cats = np.select([u < cfg.in_intent, u < cfg.in_intent + cfg.in_complement],
                         [self.intent[q], self.complement[self.intent[q]]],
                         rng.integers(0, len(CATEGORIES), len(q)))
        p = self.popular(cats)
        seed_q, seed_p = self.distinct_queries_of(np.flatnonzero(self.role != COLD),
                                                  cfg.seed_purchases)
        cold = np.flatnonzero(self.role == COLD)
        cold = cold[rng.random(len(cold)) < 0.5]
        own = rng.random(len(cold)) < 0.5
        cold_q = np.where(own, self.query_of(self.cat[cold]),
                          rng.integers(0, cfg.queries, len(cold)))
        q = np.concatenate([q, seed_q, cold_q])
        p = np.concatenate([p, seed_p, cold])
        return _unique_pairs(q, p, cfg.products)

    def judgements(self, pq: np.ndarray, pp: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg, rng = self.cfg, self.rng
        n = 1 + rng.poisson(cfg.judgements_per_query - 1, cfg.queries)
        q = np.repeat(np.arange(cfg.queries), n)
        kind = rng.choice(4, len(q), p=[0.40, 0.30, 0.12, 0.18])
        start = np.searchsorted(pq, np.arange(cfg.queries))
        count = np.searchsorted(pq, np.arange(cfg.queries), side="right") - start
        bought = pp[start[q] + (rng.random(len(q)) * np.maximum(count[q], 1)).astype(np.int64)
                    .clip(max=len(pp) - 1)]
        bought = np.where((count[q] > 0) & (self.role[bought] != COLD), bought, -1)
        intent = self.intent[q]
        p = np.select([kind == 0, kind == 1, kind == 2],
                      [bought, self.popular(intent), self.popular(self.complement[intent])],
                      self.popular(self.other_cat(intent)))
        label_p = np.array([[0.85, 0.15, 0.0, 0.0], [0.35, 0.55, 0.0, 0.10],
                            [0.0, 0.0, 0.75, 0.25], [0.0, 0.0, 0.10, 0.90]])
        cum = np.cumsum(label_p[kind], axis=1)
        label = (rng.random(len(q))[:, None] > cum).sum(axis=1).clip(max=3)
        keep = p >= 0
        q, p, label = q[keep], p[keep], label[keep]
        key = q * cfg.products + p
        _, first = np.unique(key, return_index=True)
        first.sort()
        return q[first], p[first], label[first]

    def co_purchases(self) -> tuple[np.ndarray, np.ndarray]:
        cfg, rng = self.cfg, self.rng
        warm = np.flatnonzero(self.role != COLD)
        src = warm[rng.random(len(warm)) < cfg.co_purchase_share]
        src = np.repeat(src, 1 + (rng.random(len(src)) < 0.4))
        same = rng.random(len(src)) < 0.75
        dst = self.popular(np.where(same, self.cat[src], self.complement[self.cat[src]]))
        keep = (dst >= 0) & (dst != src)
        return _unique_pairs(src[keep], dst[keep], cfg.products)

    # ---- text ------------------------------------------------------------------------------
    def product_rows(self, ids: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        titles, descriptions, brands = [], [], []
        for i in ids:
            vocab = GENERIC if self.role[i] == AMBIGUOUS else CATEGORIES[self.text_cat[i]]
            title, description, brand = _product_text(vocab, rng)
            titles.append(title)
            descriptions.append(description)
            brands.append(brand)
        return pd.DataFrame({"product_id": _ids("P", ids), "title": titles,
                             "description": descriptions, "brand": brands,
                             "category": [CATEGORIES[c].name for c in self.cat[ids]]})

    def query_rows(self, ids: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        texts = [str(rng.choice(VAGUE_QUERIES)) if self.vague[j]
                 else _query_text(CATEGORIES[self.intent[j]], rng) for j in ids]
        return pd.DataFrame({"query_id": _ids("Q", ids), "text": texts})


def _product_text(v: Vocabulary, rng: np.random.Generator) -> tuple[str, str, str]:
    pick = lambda words: str(words[rng.integers(len(words))])  # noqa: E731
    brand, noun = pick(v.brands), pick(v.nouns)
    adjectives = [a for a in rng.permutation(v.adjectives)[:2] if a.lower() not in noun]
    name = " ".join([*adjectives, noun])
    title = f"{brand} {_capitalise(name)}{pick(_SUFFIXES)}"
    d1, d2 = rng.permutation(v.details)[:2]
    u1, u2 = rng.permutation(v.uses)[:2]
    closing = pick(GENERIC.details)
    description = (f"{_capitalise(_article(name))} {name} with {d1} and {d2}. Great for {u1} "
                   f"and {u2}. Designed by {brand} with {closing} in mind.")
    return title, description, brand


def _query_text(v: Vocabulary, rng: np.random.Generator) -> str:
    pick = lambda words: str(words[rng.integers(len(words))])  # noqa: E731
    noun, adj = pick(v.nouns), pick(v.adjectives)
    forms = (noun, f"{adj} {noun}", f"{pick(v.brands)} {noun}", f"{noun} for {pick(v.uses)}",
             f"best {adj} {noun}", f"{adj} {noun} under {pick(('20', '30', '50', '100'))} "
             "dollars", f"cheap {noun}")
    return pick(forms).lower()


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def _capitalise(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def _category_index(name: str) -> int:
    return next(i for i, v in enumerate(CATEGORIES) if v.name == name)


def _unique_pairs(a: np.ndarray, b: np.ndarray, n_b: int) -> tuple[np.ndarray, np.ndarray]:
    key = np.unique(a.astype(np.int64) * n_b + b)
    return key // n_b, key % n_b


def _ids(prefix: str, idx: np.ndarray) -> list[str]:
    return [f"{prefix}{i:07d}" for i in idx.tolist()]


def _write_chunks(path: Path, n: int, cfg: ShopConfig,
                  rows: Callable[[np.ndarray, np.random.Generator], pd.DataFrame]) -> None:
    """Write ``rows(ids, rng)`` block by block; each block of TEXT_BLOCK rows has its own
    seeded stream, so the text does not depend on ``chunk_rows``."""
    path.unlink(missing_ok=True)
    stream = int.from_bytes(path.name.encode()[:8], "little")
    for no, start in enumerate(range(0, n, TEXT_BLOCK)):
        ids = np.arange(start, min(n, start + TEXT_BLOCK))
        frame = rows(ids, np.random.default_rng([cfg.seed, _SALT, stream, no]))
        frame.to_csv(path, mode="a", header=no == 0, index=False)


def _write_edges(path: Path, chunk_rows: int, columns: tuple[str, ...],
                 values: Callable[[slice], tuple[object, ...]], n: int) -> None:
    path.unlink(missing_ok=True)
    for start in range(0, max(n, 1), chunk_rows):
        part = slice(start, min(n, start + chunk_rows))
        frame = pd.DataFrame(dict(zip(columns, values(part), strict=True)))
        frame.to_csv(path, mode="a", header=start == 0, index=False)
