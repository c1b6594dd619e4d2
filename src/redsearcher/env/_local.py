"""The local search environment: build an index directory from a World, and serve its read side.

``build_index`` streams the World's documents once: each gets its obfuscated URL, goes into
the memory-mapped document store and into the tantivy writer (whose own threads analyze it);
then papers and places are assembled from facts. Everything is written into a hidden sibling
directory that is renamed into place only when complete, like ``WorldWriter`` does, so a failed
or interrupted build leaves nothing behind and an existing index intact (a build killed outright
leaves its directory, which the next build of the same index removes once its writer is dead).

An index directory::

    index.json        IndexManifest: World content hash, config, counts, timings
    documents.arrow   the document store (doc id, URL, title, text, kind, date, language)
    {url,id}_{hash,slots}.npy   O(1) URL <-> row <-> doc id lookups
    tantivy/          BM25 index (row numbers only)
    papers.arrow scholar/   scholarly records and their index
    places.arrow places/    places and their index
    dense/            optional faiss index (IndexConfig.dense)
    recorded_searches.arrow url_aliases.arrow   replayed result lists and the obfuscated
                      addresses of recorded pages, only for a World with recordings (``_recorded``)

``LocalEnvironment`` implements ``SearchEnvironment`` over such a directory. Opening maps files
and reads small tables; nothing is mutated afterwards, so one instance serves any number of
threads (tantivy searches run without the GIL). A part that cannot be opened (a truncated or
garbled Arrow file, a damaged tantivy directory) is an :class:`IndexFormatError` naming it, so
``env serve`` says which file to rebuild instead of printing a pyarrow traceback.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import pyarrow as pa
import tantivy
from pydantic import BaseModel, Field, ValidationError

import redsearcher
from redsearcher._util import Closing, make_build_dir, release_build_dir
from redsearcher.env._config import IndexConfig
from redsearcher.env._index import INDEX_DIR, IndexWriter, QueryPlan, TextIndex
from redsearcher.env._places import PLACES_FILE, PLACES_INDEX, PlacesIndex, build_places
from redsearcher.env._recorded import (
    RECORDED_SEARCHES_FILE,
    URL_ALIASES_FILE,
    RecordedResult,
    Recordings,
    RecordingsBuilder,
    recorded_url,
)
from redsearcher.env._scholar import (
    PAPERS_FILE,
    PAPERS_INDEX,
    EntityLookup,
    ScholarIndex,
    build_papers,
)
from redsearcher.env._store import STORE_FILE, DocStore, DocStoreWriter, StoredDoc
from redsearcher.env._types import Page, Paper, Place, Route, SearchEnvironment, SearchHit
from redsearcher.env._urls import UrlMinter, key_hash, normalize_url
from redsearcher.errors import UserError
from redsearcher.world import World

INDEX_MANIFEST: Final = "index.json"
INDEX_FORMAT: Final = 1
MAX_K: Final = 100

#: What opening a damaged part raises: pyarrow (``ArrowInvalid`` is a ``ValueError``), tantivy
#: (``ValueError``), numpy (``ValueError``, ``EOFError``), files (``OSError``), and a column of the
#: wrong type or missing (``TypeError``, ``KeyError``).
_OPEN_ERRORS = (pa.ArrowException, OSError, ValueError, EOFError, TypeError, KeyError)

T = TypeVar("T")


class IndexFormatError(UserError):
    """An index directory is missing, incomplete, or of an unsupported format version."""


class IndexManifest(BaseModel):
    """``index.json``: what an index holds and what it was built from."""

    format_version: int = INDEX_FORMAT
    """Version of the index directory layout."""
    redsearcher_version: str
    """The package version that built the index."""
    tantivy_version: str
    """The tantivy-py version that wrote the BM25 index."""
    world_path: str
    """Where the World was when the index was built."""
    world_content_hash: str
    """The World's content hash; URLs are a function of it and the document ids."""
    config: IndexConfig
    """The configuration the index was built with (analysis is read back from it)."""
    counts: dict[str, int] = Field(default_factory=dict)
    """Documents (and of them CJK documents), papers and places indexed."""
    timings: dict[str, float] = Field(default_factory=dict)
    """Seconds per build phase."""

    def write(self, directory: Path) -> None:
        """Write ``index.json`` into ``directory``."""
        (directory / INDEX_MANIFEST).write_text(self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls, directory: Path) -> IndexManifest:
        """Read and validate the manifest of ``directory``."""
        path = directory / INDEX_MANIFEST
        if not path.is_file():
            raise IndexFormatError(f"{directory}: not a search index (no {INDEX_MANIFEST})")
        try:
            manifest = cls.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as err:
            raise IndexFormatError(f"{path}: invalid index manifest: {err}") from err
        if manifest.format_version != INDEX_FORMAT:
            raise IndexFormatError(
                f"{path}: index format {manifest.format_version} is not supported (this "
                f"redsearcher reads format {INDEX_FORMAT}); rebuild it with `redsearcher env index`"
            )
        return manifest


def default_index_dir(world_dir: str | Path) -> Path:
    """Where ``redsearcher env index WORLD`` writes by default: ``WORLD.index`` beside WORLD."""
    world = Path(world_dir)
    return world.parent / f"{world.name}.index"


_DOC_COLUMNS = ["id", "title", "text", "kind", "published", "language", "about", "source_url"]


class _DocumentPass:
    """One streaming pass over the documents: URL, store row, text index (and dense) entry."""

    def __init__(self, world: World, tmp: Path, entities: pa.Table, config: IndexConfig) -> None:
        self.dense = None
        if config.dense:  # first: it fails fast when the 'dense' extra is missing
            from redsearcher.env._dense import DenseBuilder

            self.dense = DenseBuilder(tmp, config.dense_batch_size)
        self.entities = entities
        self.lookup = EntityLookup(entities)
        self.minter = UrlMinter(world.content_hash, config.cjk_languages)
        self.store = DocStoreWriter(tmp)
        self.writer = IndexWriter(tmp / INDEX_DIR, config)
        self.cjk_prefixes = tuple(p.lower() for p in config.cjk_languages)
        self.abstract_rows: dict[str, int] = {}  # paper -> its first abstract page
        self.about_rows: dict[str, int] = {}  # paper -> its first page of any kind
        self.homepage_urls: dict[str, str] = {}  # entity -> URL of its homepage
        self.recordings = RecordingsBuilder(world)
        self.rows = self.cjk_docs = 0

    def add(self, batch: pa.RecordBatch) -> None:
        cols = batch.to_pydict()
        types = self.lookup.column(cols["about"], "type")
        urls, keys = [], []
        for i, (doc_id, title, text, kind, published, language, about, source) in enumerate(
            zip(*(cols[c] for c in _DOC_COLUMNS), strict=True)
        ):
            row = self.rows + i
            url, key = self.minter.mint_keyed(doc_id, title, kind, types[i], published, language)
            recorded = recorded_url(doc_id, source)
            self.recordings.document(row, doc_id, url if recorded else None)
            if recorded is not None:  # served at its recorded URL; the minted one is an alias
                url, key = recorded, key_hash(normalize_url(recorded))
            urls.append(url)
            keys.append(key)
            cjk = language.lower().startswith(self.cjk_prefixes)
            self.cjk_docs += cjk
            self.writer.add(row, title, text, cjk=cjk)
            if about is None:
                continue
            if kind == "homepage":
                self.homepage_urls.setdefault(about, url)
            if types[i] == "paper":
                self.about_rows.setdefault(about, row)
                if kind == "paper_abstract":
                    self.abstract_rows.setdefault(about, row)
        stored = ("title", "text", "kind", "published", "language")
        self.store.add({"doc_id": cols["id"], "url": urls, **{c: cols[c] for c in stored}}, keys)
        if self.dense is not None:
            self.dense.add([f"{t}\n{x}" for t, x in zip(cols["title"], cols["text"], strict=True)])
        self.rows += batch.num_rows

    @property
    def paper_rows(self) -> dict[str, int]:
        """Paper -> the row its scholar record links to: the abstract, else any page about it."""
        return self.about_rows | self.abstract_rows

    def close(self) -> None:
        self.writer.commit()
        self.store.close()
        if self.dense is not None:
            self.dense.close()


def _index_documents(
    world: World, tmp: Path, entities: pa.Table, config: IndexConfig, progress: bool
) -> _DocumentPass:
    """Stream all documents through a ``_DocumentPass``, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    docs = _DocumentPass(world, tmp, entities, config)
    columns = (TextColumn("[bold]indexing documents"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, TimeElapsedColumn(), disable=not progress) as bar:
            task = bar.add_task("documents", total=world.count("documents"))
            for batch in world.iter_batches(
                "documents", batch_size=config.batch_rows, columns=_DOC_COLUMNS
            ):
                docs.add(batch)
                bar.advance(task, batch.num_rows)
        docs.close()
    except BaseException:
        docs.store.abort()
        raise
    return docs


def build_index(
    world_dir: str | Path,
    out_dir: str | Path | None = None,
    config: IndexConfig | None = None,
    *,
    overwrite: bool = False,
    progress: bool = True,
) -> IndexManifest:
    """Index the World at ``world_dir`` into ``out_dir`` (default ``default_index_dir``).

    Args:
        world_dir: A World directory.
        out_dir: The index directory to create.
        config: Index settings (defaults of ``IndexConfig`` when None).
        overwrite: Replace an existing index (only once the new one is complete).
        progress: Show a progress bar.

    Returns:
        The manifest written into the index.

    Raises:
        UserError: when ``out_dir`` exists and ``overwrite`` is false.
        WorldFormatError: when ``world_dir`` is not a World.
    """
    config = config or IndexConfig()
    world = World.open(world_dir)
    out = Path(out_dir) if out_dir is not None else default_index_dir(world_dir)
    if out.exists() and not overwrite:
        raise UserError(f"{out} already exists (pass overwrite=True / --overwrite)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_build_dir(out)  # after removing what killed builds left
    try:
        t0 = time.perf_counter()
        entities = world.table("entities", columns=["id", "label", "type", "aliases"])
        docs = _index_documents(world, tmp, entities, config, progress)
        counts = {"documents": docs.rows, "cjk_documents": docs.cjk_docs}
        t1 = time.perf_counter()
        counts["papers"] = build_papers(tmp, world, entities, docs.paper_rows, config)
        counts["places"] = build_places(tmp, world, entities, docs.homepage_urls, config)
        counts.update(docs.recordings.write(tmp))
        t2 = time.perf_counter()
        manifest = IndexManifest(
            redsearcher_version=redsearcher.__version__,
            tantivy_version=getattr(tantivy, "__version__", "unknown"),
            world_path=str(Path(world_dir).resolve()),
            world_content_hash=world.content_hash,
            config=config,
            counts=counts,
            timings={"documents_s": round(t1 - t0, 3), "scholar_places_s": round(t2 - t1, 3)},
        )
        manifest.write(tmp)
        release_build_dir(tmp)
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _open_part(directory: Path, names: tuple[str, ...], opener: Callable[[], T]) -> T:
    """``opener()``, or an :class:`IndexFormatError` naming the index files it reads."""
    try:
        return opener()
    except _OPEN_ERRORS as err:
        where = " / ".join(str(directory / name) for name in names)
        raise IndexFormatError(
            f"{where}: cannot be read ({type(err).__name__}: {err}); the index is damaged: "
            "build it again (redsearcher env index WORLD --overwrite)"
        ) from err


def _page(doc: StoredDoc) -> Page:
    return Page(
        doc_id=doc.doc_id,
        url=doc.url,
        title=doc.title,
        text=doc.text,
        kind=doc.kind,
        published=doc.published,
        language=doc.language,
    )


def _offset(k: int, page: int) -> int:
    if not 1 <= k <= MAX_K:
        raise UserError(f"k must be between 1 and {MAX_K}, got {k}")
    if page < 1:
        raise UserError(f"page is 1-based, got {page}")
    return (page - 1) * k


class LocalEnvironment(Closing):
    """``SearchEnvironment`` over an index directory built by ``build_index``.

    Use ``LocalEnvironment.open(path)`` (and ``close()``, or a ``with`` block). Thread-safe for
    concurrent readers.
    """

    def __init__(self, directory: Path, manifest: IndexManifest) -> None:
        self.directory = directory
        self.manifest = manifest
        config = manifest.config
        self.text = _open_part(
            directory, (INDEX_DIR,), lambda: TextIndex(directory / INDEX_DIR, config)
        )
        self.store = _open_part(directory, (STORE_FILE,), lambda: DocStore(directory))
        self._cjk_prefixes = tuple(config.cjk_languages)
        try:
            self._recorded = _open_part(
                directory,
                (RECORDED_SEARCHES_FILE, URL_ALIASES_FILE),
                lambda: Recordings.open(directory),
            )
            self._scholar = _open_part(
                directory,
                (PAPERS_FILE, PAPERS_INDEX),
                lambda: ScholarIndex(directory, self.store, self.text, config),
            )
            try:
                self._places = _open_part(
                    directory, (PLACES_FILE, PLACES_INDEX), lambda: PlacesIndex(directory, config)
                )
            except BaseException:
                self._scholar.close()
                raise
        except BaseException:
            self.store.close()
            raise
        self._dense: Any = None
        if config.dense:
            from redsearcher.env._dense import DENSE_DIR, DenseIndex

            self._dense = _open_part(directory, (DENSE_DIR,), lambda: DenseIndex(directory))

    @classmethod
    def open(cls, index_dir: str | Path) -> LocalEnvironment:
        """Open the index at ``index_dir``.

        Raises:
            IndexFormatError: when it is not a complete index of a supported format.
        """
        directory = Path(index_dir)
        manifest = IndexManifest.read(directory)
        return cls(directory, manifest)

    def close(self) -> None:
        """Release memory maps; the environment is unusable afterwards."""
        self._scholar.close()
        self._places.close()
        self.store.close()

    def __len__(self) -> int:
        return len(self.store)

    # -- SearchEnvironment -------------------------------------------------------------------
    def search(self, query: str, k: int = 10, page: int = 1) -> list[SearchHit]:
        """BM25 (or hybrid, when built with ``dense``) web search; ``page`` is 1-based.

        A query the World's recordings hold is answered with its recorded results instead
        (``_recorded``: positions ``(page - 1) * k + 1 .. page * k`` of the recorded list).
        """
        offset = _offset(k, page)
        plan = self.text.plan(query)
        if self._recorded is not None:
            replayed = self._recorded.window(query, k, offset)
            if replayed is not None:
                return [self._replayed_hit(result, plan) for result in replayed]
        if self._dense is not None:
            from redsearcher.env._dense import reciprocal_rank_fusion

            n = max(self.manifest.config.dense_candidates, offset + k)
            sparse = [row for row, _ in self.text.search(plan, n)]
            fused = reciprocal_rank_fusion(
                [sparse, self._dense.search(query, n)], self.manifest.config.rrf_k
            )
            ranked = fused[offset : offset + k]
        else:
            ranked = self.text.search(plan, k, offset)
        hits = []
        cjk_prefixes = self._cjk_prefixes
        snippet = self.text.snippet
        for row, score in ranked:
            doc_id, url, title, text, kind, published, language = self.store.values(row)
            hits.append(
                SearchHit(
                    doc_id=doc_id,
                    url=url,
                    title=title,
                    snippet=snippet(text, plan, cjk=language.lower().startswith(cjk_prefixes)),
                    score=score,
                    kind=kind,
                    published=published,
                )
            )
        return hits

    def _replayed_hit(self, result: RecordedResult, plan: QueryPlan) -> SearchHit:
        """A recorded result as a hit: recorded position, title and snippet; the page's URL."""
        position, row, title, snippet = result
        doc_id, url, doc_title, text, kind, published, language = self.store.values(row)
        if snippet is None:
            cjk = language.lower().startswith(self._cjk_prefixes)
            snippet = self.text.snippet(text, plan, cjk=cjk)
        return SearchHit(
            doc_id=doc_id,
            url=url,
            title=title or doc_title,
            snippet=snippet,
            score=0.0,
            kind=kind,
            published=published,
            position=position,
        )

    def visit(self, url: str) -> Page | None:
        """The page at ``url`` (scheme, ``www.`` and a trailing slash optional), or None.

        A recorded page is also found at its obfuscated URL (``_recorded``).
        """
        row = self.store.row_of_url(url)
        if row is None and self._recorded is not None:
            row = self._recorded.row_of_alias(url)
        return None if row is None else _page(self.store.doc(row))

    def scholar(self, query: str, k: int = 10, page: int = 1) -> list[Paper]:
        """Papers by title, author, venue, subject or year; ``page`` is 1-based."""
        return self._scholar.search(query, k, _offset(k, page))

    def places(self, query: str, k: int = 10, page: int = 1) -> list[Place]:
        """Places by name, category, address, city or country; ``page`` is 1-based."""
        return self._places.search(query, k, _offset(k, page))

    def route(self, origin: str, destination: str, mode: str = "driving") -> Route | None:
        """Route between two places or cities by name (or "lat, lon"); None if unresolved.

        Raises:
            UserError: for an unknown travel mode.
        """
        return self._places.route(origin, destination, mode)

    # -- beyond the protocol -----------------------------------------------------------------
    def get(self, doc_id: str) -> Page | None:
        """The page of a World document id, or None."""
        row = self.store.row_of_id(doc_id)
        return None if row is None else _page(self.store.doc(row))

    def search_ids(self, query: str, k: int = 10) -> list[str]:
        """The document ids ``search`` would rank first, without snippets or page records.

        For callers that only need *which* documents a query finds (task verification runs
        thousands of such queries): the same ranking as ``search``, hybrid included.
        """
        if self._dense is not None or self._recorded is not None:
            return [hit.doc_id for hit in self.search(query, k)]
        plan = self.text.plan(query)
        return [str(self.store.value(row, "doc_id")) for row, _ in self.text.search(plan, k, 0)]

    def url_of(self, doc_id: str) -> str | None:
        """The obfuscated URL of a World document id, or None."""
        row = self.store.row_of_id(doc_id)
        return None if row is None else str(self.store.value(row, "url"))


if TYPE_CHECKING:  # mypy proves that LocalEnvironment implements the protocol

    def _conforms(env: LocalEnvironment) -> SearchEnvironment:
        return env
