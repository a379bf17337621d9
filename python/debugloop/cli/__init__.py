"""The ``debugloop`` command line: one module per command group, one of shared
rendering (``render``), the review commands made once (``review``), the demo and
its data apart. ``debugloop.cli:main`` is the entry point; ``python -m
debugloop.cli`` runs it too."""

from .app import app, main

__all__ = ["app", "main"]
