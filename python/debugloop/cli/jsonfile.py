"""The JSON configuration files of other tools that ``debugloop hooks install`` and
``debugloop mcp install`` edit (Claude Code's settings.json, a project's .mcp.json):
read as they are, written whole and atomically, the previous content kept beside
them as ``<name>.bak``, and never written when nothing changes."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError


def read_object(path: Path) -> dict[str, Any]:
    """The JSON object in ``path`` ({} when the file does not exist); a file that is
    not a JSON object is an error, never overwritten."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror}") from None
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{path}: not JSON ({exc}); fix or move it first, it is left as it is") from None
    if not isinstance(document, dict):
        raise ConfigurationError(f"{path}: not a JSON object; it is left as it is")
    return document


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def write_object(path: Path, document: dict[str, Any]) -> bool:
    """Write ``document`` to ``path`` when it differs from what is there; the old
    file is copied to ``<name>.bak`` first. Returns whether the file changed."""
    if path.exists() and read_object(path) == document:
        return False
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            backup_path(path).write_bytes(path.read_bytes())
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise ConfigurationError(f"{path}: cannot write: {exc.strerror}") from None
    return True
