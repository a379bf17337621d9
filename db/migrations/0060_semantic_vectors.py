"""0060 semantic vectors (issue 16): the word vectors of debugloop.util_embed_semantic
and each STF's semantic embedding.

util_word_vectors holds one 256-dimension vector per English stem (as
to_tsvector('english') stems util_words), trained from all-MiniLM-L6-v2 so that
the weighted mean of a text's stem vectors approximates the model's sentence
embedding of the text (tools/semantic_vectors.py regenerates the data file,
db/data/semantic_vectors.tsv.gz; the model is Apache-2.0). Each vector is already
scaled by its stem's weight (rare stems weigh more). Rows whose stem starts with
'#' are the hashed fallbacks: a stem without a vector of its own takes the row
'#' || (the first 32 bits of its MD5 mod the number of such rows), so that an
unknown identifier still counts, the same in a problem and in code.

The STFs' embedding_semantic (util_embed_semantic of their search text) is filled
after the functions are loaded (debugloop.migrate's post-apply backfill), not here:
the function is defined in functions/, which is reloaded after the migrations.
"""

import base64
import gzip
from array import array
from pathlib import Path

from yoyo import step

DATA = Path(__file__).resolve().parent.parent / "data" / "semantic_vectors.tsv.gz"

SCHEMA = """
create table debugloop.util_word_vectors (
    stem   text primary key,
    vector halfvec(256) not null
);
comment on table debugloop.util_word_vectors is
    'Word vectors of debugloop.util_embed_semantic: one per stem (weighted), and hashed fallbacks (#n).';
alter table debugloop.debug_transform_functions add column embedding_semantic halfvec(256);
create index debug_transform_functions_embedding_semantic_idx on debugloop.debug_transform_functions
    using hnsw (embedding_semantic halfvec_cosine_ops) with (m = 16, ef_construction = 64);
"""


def vectors():
    """(stem, halfvec text) of each line of the data file: `stem <tab> scale <tab>
    base64 of 256 signed bytes`, each value a byte times the scale."""
    with gzip.open(DATA, "rt", encoding="utf-8") as data:
        for line in data:
            stem, scale, packed = line.rstrip("\n").split("\t")
            factor = float(scale)
            values = array("b", base64.b64decode(packed))
            yield stem, "[" + ",".join(f"{v * factor:.5g}" for v in values) + "]"


def apply(conn):
    cursor = conn.cursor()
    cursor.execute(SCHEMA)
    with cursor.copy("copy debugloop.util_word_vectors (stem, vector) from stdin") as copy:
        for row in vectors():
            copy.write_row(row)
    cursor.execute("analyze debugloop.util_word_vectors")


steps = [step(apply)]
