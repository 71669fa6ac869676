"""FAISS, the default vector engine: in memory, exact below ``ANN_MIN_VECTORS`` and IVF above.

The index is built in memory from the vector segments when an index is opened (readers never write
FAISS files). Exact search scans every vector (memory-bound: ~1.5 GB per query at 1M x 384); above
``ANN_MIN_VECTORS`` an inverted-file index (IVF, ``nlist`` ~ sqrt(N) lists, ``ANN_NPROBE`` probed)
answers in a few milliseconds with recall@10 >= 0.95 against exact search (bench/bench_scale.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

VECTORS = "vectors.faiss"
ANN_MIN_VECTORS = 200_000  # bench_scale.py: flat p50 stays under ~30 ms to about here, then grows linearly
ANN_NPROBE = 32  # lists probed per query; recall@10 vs exact measured in bench_scale.py


_FAISS_READY = False


def _faiss() -> Any:
    """faiss, with OpenMP limited to one thread.

    A single-query flat search is memory-bound; with 2 OpenMP threads on a busy 2-core machine the
    threads spin-wait for each other and a 100k-vector search takes ~150 ms instead of ~25 ms (measured).
    Concurrent questions run in their own Python threads instead.
    """
    global _FAISS_READY
    import faiss

    if not _FAISS_READY:
        faiss.omp_set_num_threads(1)
        _FAISS_READY = True
    return faiss


class FaissStore:
    """Exact inner-product search: ``IndexIDMap2(IndexFlatIP(dim))``; fast enough to ~10^6 chunks on 2 cores."""

    def __init__(self, dim: int) -> None:
        faiss = _faiss()

        self.dim = dim
        self.ann = False
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, *, ann: bool | None = None) -> FaissStore:
        """A store holding ``vectors``: exact, or IVF when ``ann`` (default: at ``ANN_MIN_VECTORS`` or more)."""
        store = cls(vectors.shape[1] if vectors.ndim == 2 else 0)
        if ann is None:
            ann = len(ids) >= ANN_MIN_VECTORS
        if ann and len(ids):
            store._index = _ivf(np.ascontiguousarray(vectors, np.float32))
            store.ann = True
        store.add(ids, vectors)
        return store

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(ids) != len(vectors) or (len(vectors) and vectors.shape[1] != self.dim):
            raise ValueError(f"add: {len(ids)} ids for vectors of shape {vectors.shape}; dim is {self.dim}")
        if len(ids):
            self._index.add_with_ids(vectors, ids)

    def delete(self, ids: np.ndarray) -> int:
        faiss = _faiss()

        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return 0
        sel = (
            faiss.IDSelectorArray(ids) if self.ann else faiss.IDSelectorBatch(ids)
        )  # IVF's hashtable needs an array
        return int(self._index.remove_ids(sel))

    def search(
        self, vectors: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query row; ids are -1 where fewer than ``k`` exist.

        ``allowed`` restricts the search to those ids (used by metadata filters).
        """
        faiss = _faiss()

        vectors = np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)
        k = max(1, min(k, self.count()))
        if self.count() == 0:
            n = len(vectors)
            return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
        sel = None if allowed is None else faiss.IDSelectorBatch(np.ascontiguousarray(allowed, np.int64))
        if self.ann:
            params = faiss.SearchParametersIVF(nprobe=ANN_NPROBE)
            if sel is not None:
                params.sel = sel
            return self._index.search(vectors, k, params=params)
        if sel is None:
            return self._index.search(vectors, k)
        return self._index.search(vectors, k, params=faiss.SearchParameters(sel=sel))

    def get(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids`` (KeyError for an unknown id)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        for i, id_ in enumerate(ids):
            try:
                out[i] = self._index.reconstruct(int(id_))
            except RuntimeError as exc:
                raise KeyError(int(id_)) from exc
        return out

    def ids(self) -> np.ndarray:
        faiss = _faiss()

        if self.ann:
            inv = self._index.invlists
            return np.sort(
                np.concatenate(
                    [faiss.rev_swig_ptr(inv.get_ids(i), inv.list_size(i)).copy() for i in range(inv.nlist)]
                    or [np.zeros(0, np.int64)]
                )
            )
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def count(self) -> int:
        return int(self._index.ntotal)


def _ivf(vectors: np.ndarray) -> Any:
    """An empty, trained IVF-Flat index for ``vectors`` (k-means on a fixed sample, so reopening is stable)."""
    faiss = _faiss()

    n, dim = vectors.shape
    nlist = int(min(4096, max(64, np.sqrt(n))))
    sample = vectors
    if n > 64 * nlist:
        sample = vectors[np.random.default_rng(0).choice(n, 64 * nlist, replace=False)]
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 10
    index.train(np.ascontiguousarray(sample))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct(id) and remove_ids by id
    index.own_fields = True
    quantizer.this.disown()
    return index
