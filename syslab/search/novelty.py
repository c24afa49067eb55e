"""Duplicate and near-duplicate detection: exact code hashes, MinHash + LSH, optional embeddings.

MinHash: the code is split into tokens, tokens into overlapping n-token shingles, each
shingle hashed (blake2b, stable across processes) and passed through a fixed seeded
family of hash functions h_i(x) = (a_i x + b_i) mod (2^61 - 1); the signature keeps the
minimum of each. The fraction of equal positions of two signatures estimates the Jaccard
similarity of their shingle sets. LSH splits signatures into bands; two signatures share
a bucket when one band is equal, so lookup only compares a bounded set of candidates.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"\w+|[^\w\s]")
_MERSENNE = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)
_FAMILY_SEED = 0x5EED5  # fixed: signatures must compare across runs and processes
_CHUNK = 4096  # shingles per block, bounds the (perms x shingles) scratch array

Signature = tuple[int, ...]


@lru_cache(maxsize=8)
def _family(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(_FAMILY_SEED)
    # a, b < 2^32 and x < 2^32 keep a*x + b below 2^64: exact uint64 arithmetic, no overflow.
    a = np.array([rng.randrange(1, 1 << 32) for _ in range(num_perm)], dtype=np.uint64)
    b = np.array([rng.randrange(0, 1 << 32) for _ in range(num_perm)], dtype=np.uint64)
    return a, b


def shingles(code: str, size: int = 3) -> set[str]:
    """Overlapping runs of `size` tokens (whitespace ignored, so reformatting is invisible)."""
    toks = _TOKEN.findall(code)
    if len(toks) <= size:
        return {" ".join(toks)} if toks else set()
    return {" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1)}


def signature(code: str, num_perm: int = 64, shingle_size: int = 3) -> Signature:
    """MinHash signature of the code's token shingles: num_perm 32-bit ints."""
    sh = shingles(code, shingle_size)
    if not sh:
        return (0xFFFFFFFF,) * num_perm
    x = np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "little") for s in sorted(sh)),
        dtype=np.uint64,
        count=len(sh),
    )
    a, b = _family(num_perm)
    out = np.full(num_perm, _MASK32, dtype=np.uint64)
    for start in range(0, len(x), _CHUNK):
        block = x[start : start + _CHUNK]
        h = ((a[:, None] * block[None, :] + b[:, None]) % _MERSENNE) & _MASK32
        out = np.minimum(out, h.min(axis=1))
    return tuple(int(v) for v in out)


def jaccard_estimate(a: Signature, b: Signature) -> float:
    """Fraction of equal positions: an unbiased estimate of the shingle-set Jaccard similarity."""
    if len(a) != len(b):
        raise ValueError("signatures differ in length")
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a) if a else 0.0


def encode_signature(sig: Signature) -> str:
    return base64.b64encode(np.asarray(sig, dtype="<u4").tobytes()).decode("ascii")


def decode_signature(text: str) -> Signature:
    return tuple(int(v) for v in np.frombuffer(base64.b64decode(text), dtype="<u4"))


class NoveltyIndex:
    """LSH index over MinHash signatures; bounded: beyond `capacity` the oldest entries go.

    Signatures live in one preallocated (capacity x num_perm) array used as a ring, so
    eviction is O(1) and a lookup compares its candidates in one vectorised step.
    """

    def __init__(self, num_perm: int = 64, bands: int = 16, capacity: int = 20_000):
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        self.num_perm, self.bands, self.capacity = num_perm, bands, capacity
        self._rows = num_perm // bands
        self._mat = np.zeros((capacity, num_perm), dtype=np.uint32)
        self._slot_id: list[int | None] = [None] * capacity
        self._slots: dict[int, int] = {}  # id -> row; insertion order = age
        self._next = 0  # next ring row
        self._buckets: list[dict[int, dict[int, None]]] = [{} for _ in range(bands)]

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._slots

    def _keys(self, sig: np.ndarray) -> list[int]:
        # Bucket keys live only in memory (to_state keeps signatures), so the per-process
        # randomised hash of bytes is fine; a collision only adds a candidate to compare.
        raw, w = sig.tobytes(), self._rows * 4
        return [hash(raw[i * w : (i + 1) * w]) for i in range(self.bands)]

    def _as_array(self, sig: Signature | np.ndarray) -> np.ndarray:
        arr = np.asarray(sig, dtype=np.uint32)
        if arr.shape != (self.num_perm,):
            raise ValueError(f"signature has {arr.size} values, index expects {self.num_perm}")
        return arr

    def add(self, node_id: int, sig: Signature) -> None:
        arr = self._as_array(sig)
        self.remove(node_id)
        row = self._next
        self._next = (row + 1) % self.capacity
        old = self._slot_id[row]
        if old is not None:  # the ring came round: the oldest entry leaves
            self.remove(old)
        self._mat[row] = arr
        self._slot_id[row] = node_id
        self._slots[node_id] = row
        for band, key in zip(self._buckets, self._keys(arr), strict=True):
            band.setdefault(key, {})[node_id] = None

    def remove(self, node_id: int) -> None:
        row = self._slots.pop(node_id, None)
        if row is None:
            return
        self._slot_id[row] = None
        for band, key in zip(self._buckets, self._keys(self._mat[row]), strict=True):
            bucket = band.get(key)
            if bucket is not None:
                bucket.pop(node_id, None)
                if not bucket:
                    del band[key]

    def nearest(self, sig: Signature, max_candidates: int = 256) -> tuple[int, float] | None:
        """The most similar indexed id and its estimated Jaccard, among LSH candidates.

        At most `max_candidates` are compared, shared evenly between the matching bands
        (newest first in each), so the cost stays bounded even when the whole population
        is alike; a very old near-duplicate can then be missed (exact ones never are: the
        exact-hash check does not use this index).
        """
        arr = self._as_array(sig)
        hits = [b for b in (band.get(k) for band, k in zip(self._buckets, self._keys(arr), strict=True)) if b]
        if not hits:
            return None
        quota = max(1, -(-max_candidates // len(hits)))
        cands: dict[int, None] = {}
        for bucket in hits:
            for n, node_id in enumerate(reversed(bucket)):
                if n >= quota:
                    break
                cands[node_id] = None
        ids = list(cands)
        rows = np.fromiter((self._slots[i] for i in ids), dtype=np.intp, count=len(ids))
        sims = np.count_nonzero(self._mat[rows] == arr, axis=1) / self.num_perm
        best = int(np.argmax(sims))
        return ids[best], float(sims[best])

    def to_state(self) -> dict[str, Any]:
        return {
            "num_perm": self.num_perm,
            "bands": self.bands,
            "capacity": self.capacity,
            "entries": [[i, encode_signature(tuple(self._mat[r].tolist()))] for i, r in self._slots.items()],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> NoveltyIndex:
        idx = cls(state["num_perm"], state["bands"], state["capacity"])
        for node_id, text in state["entries"]:
            idx.add(int(node_id), decode_signature(text))
        return idx


class EmbeddingNovelty:
    """Cosine similarity of code embeddings from an OpenAI-compatible endpoint.

    `embed` returns None when there is no client or the call fails; callers then use
    MinHash. Bounded: beyond `capacity` the oldest vectors go (lookup is a brute-force
    dot product over at most `capacity` rows).
    """

    MAX_CHARS = 16_000  # keeps the input under common embedding-model token limits

    def __init__(self, client: Any | None, model: str = "text-embedding-3-small", capacity: int = 2_000):
        self.client, self.model, self.capacity = client, model, capacity
        self._vecs: dict[int, np.ndarray] = {}
        self._warned = False

    @classmethod
    def from_env(cls, model: str = "text-embedding-3-small", capacity: int = 2_000) -> EmbeddingNovelty:
        """A client from OPENAI_API_KEY / OPENAI_BASE_URL, or none (then MinHash is used)."""
        import os

        if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")):
            return cls(None, model, capacity)
        import openai

        return cls(openai.OpenAI(api_key=os.environ.get("OPENAI_API_KEY") or "none"), model, capacity)

    def embed(self, code: str) -> np.ndarray | None:
        if self.client is None:
            return None
        try:
            resp = self.client.embeddings.create(model=self.model, input=code[: self.MAX_CHARS])
            vec = np.asarray(resp.data[0].embedding, dtype=np.float32)
        except Exception as e:  # any endpoint failure: fall back to MinHash, say so once
            if not self._warned:
                log.warning("embedding novelty unavailable, using MinHash: %s", e)
                self._warned = True
            return None
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else None

    def add(self, node_id: int, vec: np.ndarray) -> None:
        self._vecs.pop(node_id, None)
        self._vecs[node_id] = vec
        while len(self._vecs) > self.capacity:
            del self._vecs[next(iter(self._vecs))]

    def nearest(self, vec: np.ndarray) -> tuple[int, float] | None:
        if not self._vecs:
            return None
        ids = list(self._vecs)
        sims = np.stack([self._vecs[i] for i in ids]) @ vec
        best = int(np.argmax(sims))
        return ids[best], float(sims[best])

    def to_state(self) -> dict[str, Any]:
        enc = [[i, base64.b64encode(v.astype("<f4").tobytes()).decode()] for i, v in self._vecs.items()]
        return {"model": self.model, "capacity": self.capacity, "entries": enc}

    def load_state(self, state: dict[str, Any]) -> None:
        self._vecs = {}
        for node_id, text in state.get("entries", []):
            self.add(int(node_id), np.frombuffer(base64.b64decode(text), dtype="<f4").copy())


@dataclass(frozen=True)
class Verdict:
    """Whether a candidate repeats an earlier one: exact (same normalised hash) or near."""

    duplicate_of: int | None = None
    kind: Literal["exact", "near"] | None = None
    similarity: float = 0.0  # to the nearest indexed candidate (0 when none)

    @property
    def duplicate(self) -> bool:
        return self.kind is not None


class NoveltyChecker:
    """Exact + near-duplicate checks for the run loop; check() before evaluating, add() after.

    The exact index keeps a 64-bit prefix of every code hash (about 100 bytes per
    candidate); the near-duplicate indexes are bounded.
    """

    def __init__(
        self,
        threshold: float = 0.95,
        dedup_exact: bool = True,
        num_perm: int = 64,
        bands: int = 16,
        shingle_size: int = 3,
        capacity: int = 20_000,
        embedder: EmbeddingNovelty | None = None,
    ):
        self.threshold, self.dedup_exact = threshold, dedup_exact
        self.shingle_size = shingle_size
        self.index = NoveltyIndex(num_perm, bands, capacity)
        self.embedder = embedder
        self._exact: dict[int, int] = {}

    @classmethod
    def from_settings(cls, settings: Any, embedder: EmbeddingNovelty | None = None) -> NoveltyChecker:
        """Built from SearchSettings; an embedder is only used with novelty_backend = 'embedding'."""
        return cls(
            threshold=settings.near_duplicate_threshold,
            dedup_exact=settings.dedup_exact,
            num_perm=settings.minhash_perms,
            bands=settings.minhash_bands,
            shingle_size=settings.shingle_size,
            capacity=settings.novelty_index_size,
            embedder=embedder if settings.novelty_backend == "embedding" else None,
        )

    def signature(self, code: str) -> Signature:
        return signature(code, self.index.num_perm, self.shingle_size)

    @staticmethod
    def _key(code_hash: str) -> int:
        return (
            int(code_hash[:16], 16)
            if _is_hex(code_hash[:16])
            else int.from_bytes(hashlib.blake2b(code_hash.encode(), digest_size=8).digest(), "little")
        )

    def check(self, code_hash: str, sig: Signature, code: str | None = None) -> Verdict:
        if self.dedup_exact and code_hash:
            prev = self._exact.get(self._key(code_hash))
            if prev is not None:
                return Verdict(prev, "exact", 1.0)
        hit = None
        if self.embedder is not None and code is not None:
            vec = self.embedder.embed(code)
            if vec is not None:
                hit = self.embedder.nearest(vec)
        if hit is None:
            hit = self.index.nearest(sig)
        if hit is None:
            return Verdict()
        node_id, sim = hit
        if sim >= self.threshold and self.threshold < 1.0:
            return Verdict(node_id, "near", sim)
        return Verdict(None, None, sim)

    def add(self, node_id: int, code_hash: str, sig: Signature, code: str | None = None) -> None:
        if code_hash:
            self._exact.setdefault(self._key(code_hash), node_id)
        self.index.add(node_id, sig)
        if self.embedder is not None and code is not None:
            vec = self.embedder.embed(code)
            if vec is not None:
                self.embedder.add(node_id, vec)

    def to_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "threshold": self.threshold,
            "dedup_exact": self.dedup_exact,
            "shingle_size": self.shingle_size,
            "exact": [[k, v] for k, v in self._exact.items()],
            "index": self.index.to_state(),
        }
        if self.embedder is not None:
            state["embedding"] = self.embedder.to_state()
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any], embedder: EmbeddingNovelty | None = None) -> NoveltyChecker:
        chk = cls(threshold=state["threshold"], dedup_exact=state["dedup_exact"], embedder=embedder)
        chk.shingle_size = state["shingle_size"]
        chk.index = NoveltyIndex.from_state(state["index"])
        chk._exact = {int(k): int(v) for k, v in state["exact"]}
        if embedder is not None and "embedding" in state:
            embedder.load_state(state["embedding"])
        return chk


def _is_hex(s: str) -> bool:
    return len(s) == 16 and all(c in "0123456789abcdefABCDEF" for c in s)
