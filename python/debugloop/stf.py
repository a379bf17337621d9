"""The STF registry (reusable functions), ``debugloop.stf_*``: register, find,
match, review, export, neural embeddings. Every rule is SQL (functions/40_stf.sql);
splitting artefacts into units is :mod:`debugloop.units`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg

from ._manager import Manager
from .adapt import jsonb, vector
from .errors import wrap_exceptions
from .models import Stf, StfExtraction, StfMatch, StfProvenance, StfSummary
from .queries import Q

if TYPE_CHECKING:
    from .neural import NeuralEmbedder


class StfManager(Manager):
    """``debugloop.stf_*``: the registry of reusable functions."""

    def register(
        self,
        name: str,
        code: str,
        *,
        language: str = "python",
        description: str | None = None,
        problem_category: str | None = None,
        source_attempt_id: UUID | None = None,
        contributor: str | None = None,
        parameters: Any = None,
        docstring: str | None = None,
        repository: str | None = None,
        branch: str | None = None,
        commit_sha: str | None = None,
        file_path: str | None = None,
        line_start: int | None = None,
        line_end: int | None = None,
        conn: psycopg.Connection | None = None,
    ) -> UUID:
        """Register code; the same normalised code returns the existing id (adding provenance).
        ``repository`` (or the working directory), ``branch``, ``commit_sha``, ``file_path``,
        ``line_start`` and ``line_end`` say where this producer's code came from; a bad one
        raises InvalidLineRange, InvalidCommitSha or InvalidCodeLocation."""
        params = {
            "name": name,
            "code": code,
            "language": language,
            "description": description,
            "problem_category": problem_category,
            "source_attempt_id": source_attempt_id,
            "contributor": contributor,
            "parameters": jsonb(parameters, "parameters"),
            "docstring": docstring,
            "repository": repository,
            "branch": branch,
            "commit_sha": commit_sha,
            "file_path": file_path,
            "line_start": line_start,
            "line_end": line_end,
        }
        return self._value(Q.stf_register, params, conn)

    def get(self, stf_id: UUID | str, conn: psycopg.Connection | None = None) -> Stf:
        """One STF by its id or a unique prefix of at least 8 hex digits."""
        return self._model(Stf, Q.stf_get, {"stf_id": str(stf_id)}, conn)

    def list(
        self,
        *,
        status: str | None = None,
        language: str | None = None,
        attempt_id: UUID | None = None,
        limit: int = 50,
        conn: psycopg.Connection | None = None,
    ) -> list[StfSummary]:
        """STFs by quality; ``attempt_id``: only those that attempt produced."""
        params = {"status": status, "language": language, "attempt_id": attempt_id, "limit": limit}
        return self._models(StfSummary, Q.stf_list, params, conn)

    def provenance(self, stf_id: UUID, conn: psycopg.Connection | None = None) -> list[StfProvenance]:
        """Every attempt and contributor that produced this STF's code, first first."""
        return self._models(StfProvenance, Q.stf_provenance, {"stf_id": stf_id}, conn)

    def export(
        self, *, status: str | None = None, language: str | None = None, conn: psycopg.Connection | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every STF with its scores, provenance count and code, oldest first, streamed
        from a server-side cursor (one transaction)."""
        return self._stream(Q.stf_export, {"status": status, "language": language}, conn)

    def match(
        self,
        problem: str,
        *,
        k: int = 5,
        language: str | None = None,
        problem_category: str | None = None,
        approved_only: bool = False,
        embedder: NeuralEmbedder | None = None,
        conn: psycopg.Connection | None = None,
    ) -> list[StfMatch]:
        """The STFs for a problem, best first. With an ``embedder`` (debugloop.neural),
        the problem is embedded by that model and compared with the STFs it embedded."""
        query_vector = None if embedder is None else vector(embedder.embed([problem])[0], "query_embedding")
        params = {
            "problem": problem,
            "k": k,
            "language": language,
            "problem_category": problem_category,
            "approved_only": approved_only,
            "query_embedding": query_vector,
            "embedding_model": None if embedder is None else embedder.model,
        }
        return self._models(StfMatch, Q.stf_match, params, conn)

    def embed_neural(
        self, embedder: NeuralEmbedder, *, batch_size: int = 64, progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Give every STF not yet embedded by ``embedder``'s model its neural embedding,
        a batch per transaction (an interruption keeps the batches done). Returns how
        many; ``progress(done, total)`` is called after each batch."""
        total = self._value(Q.stf_to_embed_count, {"model": embedder.model})
        done, after = 0, UUID(int=0)
        while True:
            rows = self._rows(Q.stf_to_embed, {"model": embedder.model, "after": after, "limit": batch_size})
            if not rows:
                return done
            vectors = embedder.embed([row["search_text"] for row in rows])
            with self._db.connection() as c, wrap_exceptions(), c.cursor() as cur:
                cur.executemany(
                    Q.stf_set_neural_embedding,
                    [
                        {"stf_id": row["stf_id"], "embedding": vector(v), "model": embedder.model}
                        for row, v in zip(rows, vectors, strict=True)
                    ],
                )
            done, after = done + len(rows), rows[-1]["stf_id"]
            if progress is not None:
                progress(done, total)

    def hash(self, code: str, language: str = "python", conn: psycopg.Connection | None = None) -> str:
        return self._value(Q.stf_hash, {"code": code, "language": language}, conn)

    def record_use(self, stf_id: UUID, attempt_id: UUID, success: bool, conn: psycopg.Connection | None = None) -> Stf:
        """An attempt reused an STF; ``success`` is how that attempt ended."""
        return self._model(
            Stf, Q.stf_record_use, {"stf_id": stf_id, "attempt_id": attempt_id, "success": success}, conn
        )

    def extract(self, attempt_id: UUID, conn: psycopg.Connection | None = None) -> list[StfExtraction]:
        """Register the code of an attempt's artefacts (done by a trigger when it succeeds)."""
        return self._models(StfExtraction, Q.stf_extract, {"attempt_id": attempt_id}, conn)

    def review(
        self,
        stf_id: UUID,
        decision: str,
        by: str | None = None,
        notes: str | None = None,
        conn: psycopg.Connection | None = None,
    ) -> Stf:
        """``decision``: approve, reject or reopen (needs debugloop_admin). The review is
        recorded as made by the connection's database role; ``by`` names the person
        it acts for, a note beside it."""
        queries = {"approve": Q.stf_approve, "reject": Q.stf_reject, "reopen": Q.stf_reopen}
        return self._review(queries, Stf, {"stf_id": stf_id, "by": by, "notes": notes}, decision, conn)

    def set_neural_embedding(
        self, stf_id: UUID, embedding: list[float], model: str, conn: psycopg.Connection | None = None
    ) -> None:
        """Store a neural embedding of an STF computed elsewhere (384 dimensions)."""
        self._rows(Q.stf_set_neural_embedding, {"stf_id": stf_id, "embedding": vector(embedding), "model": model}, conn)
