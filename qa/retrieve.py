"""Hybrid retrieval: dense + BM25 fused by reciprocal rank fusion, rare exact terms first, reranked.

The fused top ``rerank_candidates`` are re-scored by a cross-encoder (``qa.rerank``; ``QA_RERANK=0``
turns it off); passages of articles that hold a rare exact name or id of the question rank first.

>>> from qa.retrieve import retrieve
>>> [p.title for p in retrieve("Where did the caravan leave from?", k=2)]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa.config import Settings
from qa.errors import QAError, QuestionError
from qa.grounding import terms
from qa.types import Article, Passage

if TYPE_CHECKING:
    from qa.embed import Embedder
    from qa.index import Index

ChunkRow = Any  # the catalog's chunk record (id, article_id, seq, start, end, text, content_hash)

MAX_LISTED_SOURCES = 50
# A question's name is "rare" (high IDF) when at most this share of the articles hold it; in a corpus of
# a few articles nothing is rare (on eval/'s two articles a tier cost hit@5: 0.98 vs 1.00). An id that
# mixes letters and digits ("Zorvik016") is rare in at least this many articles whatever the corpus size.
RARE_ARTICLE_SHARE = 0.02
# a chunk's part that no better-ranked chunk holds is kept when at least this long: about a sentence
MIN_TRIMMED_CHARS = 40
RERANK_EACH_STAGE = 5  # besides the fused top candidates, the cross-encoder reads each stage's top 5
RARE_MIN_ARTICLES_ID = 1


def unshared(start: int, end: int, taken: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """The longest part of ``[start, end)`` outside the ``taken`` spans (empty: ``start == end``)."""
    free = [(start, end)]
    for s, e in taken:
        free = [piece for a, b in free for piece in ((a, min(b, s)), (max(a, e), b)) if piece[0] < piece[1]]
    return max(free, key=lambda ab: ab[1] - ab[0], default=(start, start))


class UnknownSourceError(QAError, ValueError):
    """A ``source`` filter that names no outlet of the index; the message lists the known ones."""


def check_question(question: object, settings: Settings) -> str:
    """Return the cleaned question, or raise QuestionError saying what to change."""
    if not isinstance(question, str):
        raise QuestionError("The question must be text.")
    # Control characters (other than whitespace) carry no meaning in a question and confuse tokenizers.
    cleaned = "".join(ch if ch in "\t\n" or unicodedata.category(ch)[0] != "C" else " " for ch in question)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QuestionError("The question is empty: type a question about the articles.")
    if len(cleaned) > settings.max_question_chars:
        raise QuestionError(
            f"The question is {len(cleaned):,} characters long; the limit is {settings.max_question_chars:,} "
            "(setting QA_MAX_QUESTION_CHARS). Ask a shorter question."
        )
    return cleaned


def rrf(rankings: list[np.ndarray], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion: ``sum(1 / (k + rank))`` over the rankings an id appears in (rank from 1)."""
    fused: dict[int, float] = {}
    for ids in rankings:
        for rank, id_ in enumerate(ids.tolist(), start=1):
            fused[id_] = fused.get(id_, 0.0) + 1.0 / (k + rank)
    return fused


class Retriever:
    """Finds the passages of the index that best match a question.

    >>> r = Retriever(open_index(), get_embedder())  # doctest: +SKIP
    >>> r.retrieve("How many migrants are in the caravan?", k=3, source="000_f201e7d1f3c5cdc5")  # doctest: +SKIP
    """

    def __init__(self, index: Index, embedder: Embedder, settings: Settings | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or Settings.from_env()
        if embedder.dim != index.dim:
            raise ValueError(f"embedder dim {embedder.dim} != index dim {index.dim}")

    @property
    def version(self) -> tuple[int, int]:
        return self.index.version

    def retrieve(
        self,
        question: str,
        k: int = 5,
        *,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``question``, best first.

        ``source`` keeps one outlet (case-insensitive; an outlet the index does not hold raises
        UnknownSourceError listing the known ones); ``since``/``until`` keep articles published in that
        range (ISO dates, inclusive; articles without a date are then excluded).

        Order: passages of articles holding the question's exact rare ids come first (one tier per
        such id), then the cross-encoder's probability (``rerank_score``); without reranking, rare exact
        names make tiers too, then the fused score. ``Passage.score`` is that ordering key.
        """
        question = check_question(question, self.settings)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        ix = self.index
        allowed: np.ndarray | None = None
        if source:
            self._check_source(source)
        if source or since or until:
            allowed = ix.catalog.chunk_ids_where(source=source, since=since, until=until)
            if not len(allowed):
                return []
        rerank = self.settings.rerank
        pool = max(k, self.settings.rerank_candidates) if rerank else k
        n = max(50, 4 * pool)
        qvec = self.embedder.encode([question])[0]
        d_scores, d_ids = ix.vectors.search(qvec[None, :], n, allowed=allowed)
        d_scores, d_ids = d_scores[0], d_ids[0]
        keep = d_ids >= 0
        d_scores, d_ids = d_scores[keep], d_ids[keep]
        _, b_ids = ix.bm25.search(question, n, allowed=allowed)
        fused = rrf([d_ids, b_ids], k=self.settings.rrf_k)
        exact_ids, articles_of_term = self._rare_term_hits(question, allowed)
        for id_ in exact_ids:  # an exact rare-term match is a candidate even when fusion missed it
            fused.setdefault(id_, 0.0)
        if not fused:
            return []
        rows = {c.id: c for c in ix.catalog.chunks(list(fused))}

        def candidate_tier(c: ChunkRow) -> int:  # a rare name or id: reranked whatever the fusion says
            return sum(c.article_id in arts for _, arts in articles_of_term)

        id_articles = [arts for term, arts in articles_of_term if terms.is_identifier(term)]

        def tier(c: ChunkRow) -> int:  # an exact id: first whatever the cross-encoder says
            return sum(c.article_id in arts for arts in id_articles)

        dense = dict(zip(d_ids.tolist(), d_scores.tolist(), strict=True))
        order = sorted(
            (i for i in fused if i in rows),
            key=lambda i: (-candidate_tier(rows[i]), -fused[i], -dense.get(i, -1.0), i),
        )

        # Overlapping chunks of one article (the chunker overlaps neighbours by a sentence) would show
        # the same text twice: a later one keeps only its text not yet kept. Dropping it whole lost the
        # sentences only it holds ("Writing for the majority, Judge …" in the chunk before the one kept).
        kept: list[ChunkRow] = []
        spans: dict[str, list[tuple[int, int]]] = {}

        def keep(id_: int) -> None:
            c = rows[id_]
            start, end = unshared(c.start, c.end, spans.get(c.article_id, ()))
            piece = c.text[start - c.start : end - c.start]
            start, end = start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())
            if end - start >= MIN_TRIMMED_CHARS or (start, end) == (c.start, c.end):
                if (start, end) != (c.start, c.end):
                    c = replace(c, start=start, end=end, text=c.text[start - c.start : end - c.start])
                    trimmed.add(c.id)
                spans.setdefault(c.article_id, []).append((c.start, c.end))
                kept.append(c)

        trimmed: set[int] = set()

        for id_ in order:
            if len(kept) == pool:
                break
            keep(id_)
        if rerank:
            # Fusion averages ranks: a chunk third by meaning but far down the keyword ranking ("Voters
            # in France chose Emmanuel Macron", asked about the "French Presidential Election") fell
            # below the fused top 20. Each first stage's own best are read by the cross-encoder too.
            for id_ in [*d_ids[:RERANK_EACH_STAGE].tolist(), *b_ids[:RERANK_EACH_STAGE].tolist()]:
                if id_ in rows:
                    keep(id_)  # a chunk already kept overlaps itself: skipped

        probs: dict[int, float] = {}
        if rerank and kept:
            from qa.rerank import get_reranker

            scores = get_reranker().score(question, [c.text for c in kept])
            probs = dict(zip((c.id for c in kept), scores.tolist(), strict=True))
            kept.sort(key=lambda c: (-tier(c), -probs[c.id]))  # stable: ties keep the fused order
        kept = kept[:k]

        missing = [c.id for c in kept if c.id not in dense and c.id not in trimmed]
        if missing:  # found by BM25 only: the abstention gate still needs their cosine
            vecs = ix.vectors.get(np.asarray(missing, dtype=np.int64))
            dense.update(zip(missing, (vecs @ qvec).tolist(), strict=True))
        cut = [c for c in kept if c.id in trimmed]
        if cut:  # the stored vector is the whole chunk's
            vecs = self.embedder.encode([c.text for c in cut])
            dense.update(zip((c.id for c in cut), (vecs @ qvec).tolist(), strict=True))
        meta = ix.catalog.article_meta(c.article_id for c in kept)
        out = []
        for c in kept:
            title, src, published_at, url = meta[c.article_id]
            prob = probs.get(c.id)
            out.append(
                Passage(
                    article_id=c.article_id,
                    title=title,
                    source=src,
                    published_at=published_at,
                    text=c.text,
                    start=c.start,
                    end=c.end,
                    score=float(tier(c) + prob if prob is not None else candidate_tier(c) + fused[c.id]),
                    dense_score=float(dense[c.id]),
                    url=url,
                    rerank_score=prob,
                )
            )
        return out

    def _check_source(self, source: str) -> None:
        """Raise UnknownSourceError, listing the known outlets, when no article comes from ``source``."""
        known = [name for name, _ in self.index.catalog.sources()]
        if source.casefold() in {name.casefold() for name in known}:
            return
        shown = sorted(known, key=str.casefold)
        listing = ", ".join(shown[:MAX_LISTED_SOURCES])
        if len(shown) > MAX_LISTED_SOURCES:
            listing += f" … and {len(shown) - MAX_LISTED_SOURCES} more"
        raise UnknownSourceError(
            f"No article comes from the source {source!r}. Known sources (case does not matter): "
            f"{listing or 'none, the index is empty'}."
        )

    def _rare_term_hits(
        self, question: str, allowed: np.ndarray | None
    ) -> tuple[list[int], list[tuple[str, set[str]]]]:
        """Chunks that contain a rare exact name or id of the question, and per term its articles.

        Dense retrieval puts "Zorvik004" next to "Zorvik016" and BM25 alone is outvoted in the fusion,
        so a chunk with a rare term (in few articles: high IDF) is always a candidate, and an exact id
        is a ranking tier of its own. A plain name is not: the cross-encoder reads "Voters in France
        chose Emmanuel Macron" as the answer to "Who won the French Presidential Election 2017?",
        which a tier for the word "French" put below three articles that only mention the election.
        Common names ("Mexico" in every article) and numbers are left to the fusion.
        """
        ix = self.index
        names = sorted(
            t for t in terms.specific_terms(question) if not t[:1].isdigit() or terms.is_identifier(t)
        )
        if not names:
            return [], []
        share_cap = math.floor(RARE_ARTICLE_SHARE * ix.catalog.n_articles)
        hit_ids: list[int] = []
        articles_of_term: list[tuple[str, set[str]]] = []
        for term in names:
            max_articles = max(RARE_MIN_ARTICLES_ID, share_cap) if terms.is_identifier(term) else share_cap
            if max_articles < 1:
                continue
            limit = 10 * max_articles  # chunks: an article holds a name in a few of its chunks
            _, ids = ix.bm25.search(term, limit + 1, allowed=allowed)
            if not len(ids) or len(ids) > limit:
                continue  # absent (a missing term is the grounding's business) or too common
            exact = [c for c in ix.catalog.chunks(ids.tolist()) if term in set(terms.words(c.text))]
            arts = {c.article_id for c in exact}
            if arts and len(arts) <= max_articles:
                hit_ids.extend(c.id for c in exact)
                articles_of_term.append((term, arts))
        return hit_ids, articles_of_term

    def get_article(self, article_id: str) -> Article:
        """The full article (``Passage``/``Citation`` offsets index into its ``text``); KeyError if unknown."""
        article = self.index.catalog.article(article_id)
        if article is None:
            raise KeyError(f"no article {article_id!r} in the index {self.index.index_dir}")
        return article


# --------------------------------------------------------------------------------------------------
# The lazily built default retriever behind the module-level API.

_DEFAULT: dict[Path, Retriever] = {}
_DEFAULT_LOCK = threading.Lock()


def default_retriever(settings: Settings | None = None, *, progress: bool = True) -> Retriever:
    """A cached Retriever over ``settings.index_dir`` (settings from the environment by default).

    Builds the index over ``settings.articles_dir`` first if there is none; reopens the index when it
    changed on disk (another process or thread re-indexed), so callers always see the latest articles.
    """
    from qa.embed import get_embedder
    from qa.index import ensure_index, index_version

    settings = settings or Settings.from_env()
    key = Path(settings.index_dir).resolve()
    with _DEFAULT_LOCK:
        current = _DEFAULT.get(key)
        if current is not None and current.settings == settings and index_version(key) == current.version:
            return current
        index = ensure_index(settings, progress=progress)
        retriever = Retriever(index, get_embedder(settings.embedder), settings)
        _DEFAULT[key] = retriever
        return retriever


def retrieve(
    question: str,
    k: int = 5,
    *,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
    settings: Settings | None = None,
) -> list[Passage]:
    """The ``k`` best passages for ``question`` from the default index (see :meth:`Retriever.retrieve`)."""
    return default_retriever(settings).retrieve(question, k, source=source, since=since, until=until)


def get_article(article_id: str, *, settings: Settings | None = None) -> Article:
    """An indexed article by id, from the default index; KeyError if unknown."""
    return default_retriever(settings).get_article(article_id)
