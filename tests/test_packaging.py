"""The production files, checked without Docker.

* Dockerfile: a wheel built from exactly what its COPY lines take from the build
  context (less what .dockerignore excludes), laid out under its WORKDIR, holds the
  package, the SQL folders and the bundled agent logs: file for file what git has in
  the repository's folders (tracked, or new and not ignored).
* docker-compose.yml: ports published on 127.0.0.1 only, no password written in the
  file (each is a required ``${VAR:?...}``), and Redpanda's command one argv token per
  list item.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import pytest
import yaml

from helpers import REPO

# -- the Dockerfile and .dockerignore, parsed ---------------------------------------------


@dataclass(frozen=True)
class Copy:
    """One COPY/ADD from the build context: its sources (context-relative) and where
    they land in the image (an absolute path, WORKDIR applied)."""

    sources: tuple[str, ...]
    dest: str
    stage: int


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, args = full.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def dockerfile_copies(path: Path = REPO / "Dockerfile") -> tuple[list[Copy], dict[int, str]]:
    """The COPY/ADD instructions that read the build context (not ``--from`` a stage),
    and each stage's final WORKDIR."""
    copies, workdirs, stage, workdir = [], {}, -1, "/"
    for keyword, args in _instructions(path.read_text(encoding="utf-8")):
        if keyword == "FROM":
            stage, workdir = stage + 1, "/"
        elif keyword == "WORKDIR":
            workdir = posixpath.join(workdir, args)
        elif keyword in ("COPY", "ADD"):
            words = json.loads(args) if args.startswith("[") else shlex.split(args)
            flags = [w for w in words if w.startswith("--")]
            if any(f.startswith("--from") for f in flags):
                continue
            *sources, dest = [w for w in words if not w.startswith("--")]
            copies.append(Copy(tuple(sources), posixpath.join(workdir, dest), stage))
        workdirs[stage] = workdir
    return copies, workdirs


def _pattern_regex(pattern: str) -> re.Pattern:
    """A .dockerignore pattern (Go filepath.Match plus ``**``) as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]", end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignore(path: Path = REPO / ".dockerignore"):
    """A predicate: is this context-relative path excluded from the build context?"""
    rules = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            pattern = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
            rules.append((_pattern_regex(pattern), negated))

    def excluded(rel: str) -> bool:
        parts = rel.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for regex, negated in rules:  # the last matching rule wins, as in Docker
            if any(regex.fullmatch(p) for p in prefixes):
                verdict = not negated
        return verdict

    return excluded


def context_files(source: str, excluded) -> list[str]:
    """The context-relative files that COPYing ``source`` sends: all of a folder's files."""
    root = REPO / source
    if root.is_file():
        return [] if excluded(source) else [source]
    files = (p.relative_to(REPO).as_posix() for p in root.rglob("*") if p.is_file())
    return sorted(f for f in files if not excluded(f))


def repository_files(folder: str) -> set[str]:
    """The files of a folder as git sees the repository: tracked, or new and not ignored."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "--cached", "--others", "--exclude-standard", "--", folder],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {f for f in out.splitlines() if (REPO / f).is_file()}


def image_path(copy: Copy, source: str, file: str) -> str:
    """Where a context file lands, by COPY's rules: a folder's contents go into dest; a
    file goes into dest when dest ends in / (or there are several sources), else is dest."""
    if (REPO / source).is_dir():
        return posixpath.join(copy.dest, posixpath.relpath(file, source))
    if copy.dest.endswith("/") or len(copy.sources) > 1:
        return posixpath.join(copy.dest, posixpath.basename(file))
    return copy.dest


# -- the Dockerfile -------------------------------------------------------------------


def test_every_path_the_dockerfile_copies_exists():
    copies, _ = dockerfile_copies()
    assert copies, "the Dockerfile copies nothing from the build context"
    excluded = dockerignore()
    for copy in copies:
        for source in copy.sources:
            assert (REPO / source).exists(), f"the Dockerfile copies {source}, which does not exist"
            assert context_files(source, excluded), f"{source}: nothing left of it after .dockerignore"


def _wheel_layout() -> dict[str, str]:
    """Wheel folder → repository folder, read from pyproject.toml's hatch settings."""
    wheel = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"]["targets"][
        "wheel"
    ]
    layout = {posixpath.basename(p): p for p in wheel["packages"]}
    layout.update({dest: src for src, dest in wheel.get("force-include", {}).items()})
    return layout


def test_the_wheel_built_from_what_the_dockerfile_copies_holds_the_repository_folders(tmp_path):
    copies, workdirs = dockerfile_copies()
    stages = {c.stage for c in copies}
    assert len(stages) == 1, "the build context should be copied into one stage"
    image, excluded = tmp_path / "image", dockerignore()
    for copy in copies:
        for source in copy.sources:
            for file in context_files(source, excluded):
                target = image / image_path(copy, source, file).lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / file, target)
    build_dir = image / workdirs[stages.pop()].lstrip("/")

    # the build backend from this environment (the dev extra has it); else pip fetches it
    isolation = ["--no-build-isolation"] if find_spec("hatchling") else []
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            *isolation,
            "-q",
            "-w",
            str(tmp_path / "out"),
            str(build_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"pip wheel failed on what the Dockerfile copies:\n{result.stderr[-3000:]}"
    (wheel,) = (tmp_path / "out").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = {n for n in archive.namelist() if not n.endswith("/") and ".dist-info/" not in n}

    layout = _wheel_layout()
    assert {
        "debugloop",
        "debugloop/_sql/db",
        "debugloop/_sql/functions",
        "debugloop/_sql/triggers",
        "debugloop/_examples/agent-logs",
    } <= set(layout), layout
    for folder, source in layout.items():
        nested = [f for f in layout if f != folder and f.startswith(folder + "/")]
        in_wheel = {n for n in names if n.startswith(folder + "/") and not any(n.startswith(f + "/") for f in nested)}
        in_repo = {posixpath.join(folder, posixpath.relpath(f, source)) for f in repository_files(source)}
        assert in_repo, f"{source} holds no files"
        assert in_wheel == in_repo, (
            f"{folder}/ in the wheel differs from {source}/ in the repository: "
            f"missing {sorted(in_repo - in_wheel)}, extra {sorted(in_wheel - in_repo)}"
        )
    assert "debugloop/__init__.py" in names
    for sql in ("_sql/db/migrations/", "_sql/functions/", "_sql/triggers/"):
        assert any(n.startswith(f"debugloop/{sql}") and n.endswith(".sql") for n in names), sql
    assert any(n.startswith("debugloop/_examples/agent-logs/") for n in names)


# -- docker-compose.yml -----------------------------------------------------------------

COMPOSE = REPO / "docker-compose.yml"
REQUIRED_VAR = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}")
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN", re.IGNORECASE)


def _services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: str(v) for k, v in env.items()}


def test_compose_publishes_ports_on_localhost_only():
    published = 0
    for name, service in _services().items():
        for port in service.get("ports", []):
            published += 1
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: port {port!r} is published on every interface"
    assert published, "no published port at all"


def test_compose_holds_no_password_only_required_variables():
    text = COMPOSE.read_text(encoding="utf-8")
    # a secret variable with a fallback (${X:-...} or ${X-...}) would put a password in the file
    defaulted = [v for v in re.findall(r"\$\{(\w+)(?::?[-=])", text) if SECRET_NAME.search(v)]
    assert not defaulted, f"a default value written in the file for {sorted(set(defaulted))}"
    secrets = 0
    for name, service in _services().items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                secrets += 1
                assert REQUIRED_VAR.fullmatch(value), f"{name}: {key} must be a required ${{VAR:?...}}, not {value!r}"
            for userinfo_password in re.findall(r"://[^:/@\s]+:([^@]+)@", value):
                assert REQUIRED_VAR.fullmatch(userinfo_password), f"{name}: {key} holds a password"
    assert secrets, "expected at least the PostgreSQL password"


def test_redpanda_command_is_one_argv_token_per_item():
    """Docker passes each list item as one argv element, and rpk's flag parser would
    read "--smp 1" as one flag named "smp 1". Each item is a word or ``--flag=value``
    (a comma-separated list for the address flags, as Redpanda documents them)."""
    (service,) = [s for s in _services().values() if "redpanda" in s.get("image", "")]
    command = service["command"]
    assert isinstance(command, list), "the command should be a list of argv tokens"
    for item in command:
        assert isinstance(item, str) and not re.search(r"\s", item), f"{item!r} is not one argv token"
    assert command[:2] == ["redpanda", "start"], command
