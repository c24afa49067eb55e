"""MinHash signatures, the LSH index, the duplicate checker and the embedding fallback."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from syslab.search.novelty import (
    EmbeddingNovelty,
    NoveltyChecker,
    NoveltyIndex,
    jaccard_estimate,
    shingles,
    signature,
)
from syslab.search.settings import SearchSettings

WORDS = [f"w{i}" for i in range(300)] + ["+", "-", "*", "(", ")", "=", ":", "return", "if", "for"]


def _program(rng: random.Random, n: int = 200) -> str:
    lines = [" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(n // 8)]
    return "\n".join(lines)


def _edit(code: str, rng: random.Random, k: int) -> str:
    toks = code.split(" ")
    for _ in range(k):
        toks[rng.randrange(len(toks))] = rng.choice(WORDS)
    return " ".join(toks)


def test_signature_deterministic_and_format_insensitive():
    code = "def f(x):\n    return x + 1\n"
    sig = signature(code)
    assert len(sig) == 64 and all(0 <= v < 2**32 for v in sig)
    assert signature(code) == sig
    assert signature("def f( x ):\n\n\treturn   x+1") == sig  # whitespace does not count
    assert signature("") == signature("   ")  # empty programs are equal to each other


def test_signature_stable_across_processes():
    code = "for i in range(10):\n    print(i * i)\n"
    script = f"from syslab.search.novelty import signature; print(list(signature({code!r})))"
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == list(signature(code))


def test_jaccard_estimate_tracks_true_jaccard():
    rng = random.Random(4)
    errors = []
    for k in (0, 5, 20, 60, 200):
        a = _program(rng)
        b = _edit(a, rng, k)
        sa, sb = shingles(a), shingles(b)
        true = len(sa & sb) / len(sa | sb)
        errors.append(abs(jaccard_estimate(signature(a, 128), signature(b, 128)) - true))
    assert max(errors) < 0.12  # standard error of a 128-perm estimate is <= 0.045
    with pytest.raises(ValueError):
        jaccard_estimate((1, 2), (1,))


def test_lsh_finds_near_duplicates_not_unrelated_code():
    rng = random.Random(9)
    idx = NoveltyIndex(64, 16)
    programs = [_program(rng) for _ in range(300)]
    for i, p in enumerate(programs):
        idx.add(i, signature(p))
    hits = 0
    for i in range(0, 300, 10):
        near = _edit(programs[i], rng, 2)
        got = idx.nearest(signature(near))
        hits += got is not None and got[0] == i and got[1] >= 0.8
    assert hits >= 29  # of 30
    for _ in range(20):
        got = idx.nearest(signature(_program(rng)))
        assert got is None or got[1] < 0.3


def test_index_capacity_evicts_oldest_and_round_trips():
    rng = random.Random(1)
    idx = NoveltyIndex(32, 8, capacity=5)
    progs = [_program(rng, 80) for _ in range(8)]
    for i, p in enumerate(progs):
        idx.add(i, signature(p, 32))
    assert len(idx) == 5 and 0 not in idx and 7 in idx
    assert idx.nearest(signature(progs[0], 32)) is None or idx.nearest(signature(progs[0], 32))[0] != 0
    back = NoveltyIndex.from_state(json.loads(json.dumps(idx.to_state())))
    assert back.to_state() == idx.to_state()
    assert back.nearest(signature(progs[6], 32)) == (6, 1.0)
    with pytest.raises(ValueError):
        idx.add(99, signature("x", 64))  # wrong signature length


def test_checker_exact_near_and_novel():
    chk = NoveltyChecker.from_settings(SearchSettings(near_duplicate_threshold=0.9))
    rng = random.Random(2)
    code = _program(rng)
    chk.add(1, "ab" * 32, chk.signature(code))
    assert chk.check("ab" * 32, chk.signature("anything")).kind == "exact"
    v = chk.check("cd" * 32, chk.signature(code + " w1"))
    assert v.kind == "near" and v.duplicate_of == 1 and v.similarity >= 0.9
    v = chk.check("ef" * 32, chk.signature(_program(rng)))
    assert not v.duplicate and v.duplicate_of is None
    no_exact = NoveltyChecker(dedup_exact=False, threshold=1.0)
    no_exact.add(1, "x", no_exact.signature(code))
    assert not no_exact.check("x", no_exact.signature(code)).duplicate  # both checks off
    back = NoveltyChecker.from_state(json.loads(json.dumps(chk.to_state())))
    assert back.check("ab" * 32, back.signature("z")).duplicate_of == 1
    assert back.check("cd" * 32, back.signature(code)).kind == "near"


class _FakeEmbeddings:
    """Maps code to a vector of word counts: similar code, similar vector."""

    def __init__(self, fail: bool = False):
        self.fail, self.calls = fail, 0

    def create(self, model: str, input: str):
        self.calls += 1
        if self.fail:
            raise ConnectionError("endpoint down")
        vec = np.zeros(len(WORDS))
        for tok in input.split():
            if tok in WORDS:
                vec[WORDS.index(tok)] += 1
        return SimpleNamespace(data=[SimpleNamespace(embedding=vec.tolist())])


def test_embedding_novelty_with_client_and_fallback():
    rng = random.Random(3)
    code, other = _program(rng), _program(rng)
    client = SimpleNamespace(embeddings=_FakeEmbeddings())
    emb = EmbeddingNovelty(client, capacity=10)
    chk = NoveltyChecker.from_settings(
        SearchSettings(novelty_backend="embedding", near_duplicate_threshold=0.95), embedder=emb
    )
    chk.add(1, "", chk.signature(code), code)
    v = chk.check("", chk.signature(code), code)
    assert v.kind == "near" and v.similarity == pytest.approx(1.0)
    assert not chk.check("", chk.signature(other), other).duplicate
    assert client.embeddings.calls == 3
    state = json.loads(json.dumps(chk.to_state()))
    emb2 = EmbeddingNovelty(client)
    NoveltyChecker.from_state(state, embedder=emb2)
    assert emb2.nearest(emb2.embed(code))[0] == 1
    # a failing endpoint falls back to MinHash and still finds the duplicate
    down = NoveltyChecker.from_settings(
        SearchSettings(novelty_backend="embedding", near_duplicate_threshold=0.95),
        embedder=EmbeddingNovelty(SimpleNamespace(embeddings=_FakeEmbeddings(fail=True))),
    )
    down.add(1, "", down.signature(code), code)
    assert down.check("", down.signature(code), code).kind == "near"


def test_embedding_from_env_without_endpoint(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    emb = EmbeddingNovelty.from_env()
    assert emb.client is None and emb.embed("x = 1") is None


def test_index_readd_and_remove_keep_buckets_consistent():
    rng = random.Random(6)
    a, b = _program(rng), _program(rng)
    idx = NoveltyIndex(64, 16, capacity=3)
    idx.add(1, signature(a))
    idx.add(1, signature(b))  # re-adding an id replaces its signature
    assert len(idx) == 1 and idx.nearest(signature(b)) == (1, 1.0)
    assert idx.nearest(signature(a)) is None  # the old signature left every bucket
    idx.remove(1)
    assert len(idx) == 0 and idx.nearest(signature(b)) is None
    for i in range(10):
        idx.add(i, signature(_program(rng)))
    assert len(idx) == 3 and sorted(idx.to_state()["entries"])[0][0] == 7
