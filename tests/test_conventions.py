"""The conventions of ARCHITECTURE.md, checked on the migrated schema and the sources."""

import ast
import re
from pathlib import Path

import pytest

import debugloop
from debugloop import paths
from debugloop.queries import Q, parse
from helpers import REPO

# The domains of ARCHITECTURE.md, by the prefix their functions take (pricing: price).
DOMAINS = (
    "budget",
    "util",
    "settings",
    "price",
    "attempt",
    "error",
    "stf",
    "golden",
    "manifest",
    "import",
    "learn",
    "agent",
    "peer",
    "ledger",
    "reward",
    "spending",
    "quorum",
    "outbox",
    "analytics",
)
# The documented exceptions to <domain>_<verb>: what is installed, and the manifest itself.
STANDALONE = {"version", "info", "manifest", "manifest_markdown"}


def _functions(conn):
    return conn.execute(
        """select p.proname, p.oid::regprocedure::text, obj_description(p.oid, 'pg_proc'),
                  p.prosecdef, p.proconfig, has_function_privilege('public', p.oid, 'execute'),
                  pg_get_userbyid(p.proowner), l.lanname
             from pg_proc p join pg_language l on l.oid = p.prolang
            where p.pronamespace = 'debugloop'::regnamespace
              and not exists (select from pg_depend d   -- vector's and pg_trgm's functions live here too
                               where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')"""
    ).fetchall()


def test_public_functions_are_named_by_domain_and_documented(conn):
    public = [f for f in _functions(conn) if not f[0].startswith(("_", "tg_"))]
    assert public
    for name, signature, comment, *_ in public:
        assert name in STANDALONE or name.startswith(tuple(d + "_" for d in DOMAINS)), signature
        assert comment and comment.strip(), f"{signature} has no COMMENT ON FUNCTION"


PINNED = ["search_path=debugloop, pg_catalog, pg_temp"]


def _search_path(config: list[str] | None) -> list[str]:
    """The search_path entry of a function's SET clauses (others, such as the
    ledger's plan settings, may stand beside it)."""
    return [c for c in config or [] if c.startswith("search_path=")]


def test_security_definer_functions_pin_search_path_and_are_not_public(conn):
    definers = [f for f in _functions(conn) if f[3]]
    assert definers, "expected at least the settings audit trigger function"
    for _name, signature, _, _, config, public_execute, owner, _ in definers:
        assert _search_path(config) == PINNED, signature  # exactly: no public, pg_catalog before pg_temp
        assert owner == "debugloop_owner", f"{signature} is owned by {owner}"
        assert not public_execute, f"{signature} is executable by PUBLIC"


def test_every_function_pins_search_path_but_the_inlined_internal_sql_ones(conn):
    """A function that sets no search path resolves names on its caller's: only the
    internal SQL functions (inlined into pinned callers) may, and no view calls one."""
    for name, signature, _, _, config, _, _, language in _functions(conn):
        if language == "sql" and name.startswith("_"):
            assert config is None, signature
        else:
            assert _search_path(config) == PINNED, signature
    unpinned_from_views = conn.execute(
        """select distinct v.relname, p.oid::regprocedure::text
             from pg_rewrite r join pg_class v on v.oid = r.ev_class
             join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
                             and d.refclassid = 'pg_proc'::regclass
             join pg_proc p on p.oid = d.refobjid
            where v.relnamespace = 'debugloop'::regnamespace and p.pronamespace = 'debugloop'::regnamespace
              and p.proconfig is null"""
    ).fetchall()
    assert unpinned_from_views == []


def test_every_function_is_defined_by_a_code_file(conn):
    """Reloading functions/ and triggers/ in one transaction writes the catalog row of
    every function of the schema (CREATE OR REPLACE rewrites it): a function whose row
    this transaction did not write is defined by no file, a stale overload."""
    for path in paths.code_files():
        conn.execute(path.read_text(encoding="utf-8"))
    stale = conn.execute(
        """select p.oid::regprocedure::text from pg_proc p
            where p.pronamespace = 'debugloop'::regnamespace and p.xmin <> pg_current_xact_id()::xid
              and not exists (select from pg_depend d
                               where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')"""
    ).fetchall()
    conn.rollback()
    assert stale == []


def test_triggers_and_their_functions_follow_the_naming(conn):
    rows = conn.execute(
        """select c.relname, t.tgname, p.proname from pg_trigger t
             join pg_class c on c.oid = t.tgrelid join pg_proc p on p.oid = t.tgfoid
            where c.relnamespace = 'debugloop'::regnamespace and not t.tgisinternal"""
    ).fetchall()
    assert rows
    for table, trigger, function in rows:
        assert re.fullmatch(r"_\d{3}_[a-z0-9_]+", trigger), trigger
        assert re.fullmatch(rf"tg_{table}__[a-z0-9_]+", function), function


def test_every_function_file_function_has_a_header_comment():
    pattern = re.compile(r"((?:^--[^\n]*\n)*)create or replace function (debugloop\.\w+)", re.MULTILINE)
    for path in [*REPO.glob("functions/*.sql"), *REPO.glob("triggers/*.sql")]:
        for header, name in pattern.findall(path.read_text()):
            assert header.strip(), f"{path.name}: {name} has no header comment"


def test_named_queries_are_all_used_and_all_exist():
    python_sources = "\n".join(p.read_text() for p in (REPO / "python" / "debugloop").rglob("*.py"))
    used = set(re.findall(r"\bQ\.([a-z_][a-z0-9_]*)", python_sources))
    defined = set(parse((REPO / "python" / "debugloop" / "queries.sql").read_text()))
    assert used - defined == set(), "used but not in queries.sql"
    assert defined - used == set(), "in queries.sql but never used"
    with pytest.raises(AttributeError, match="no query named"):
        Q.no_such_query  # noqa: B018


def test_no_update_or_delete_privilege_on_audit_tables_for_any_role(conn):
    for role in ("debugloop_agent", "debugloop_admin", "debugloop_reader"):
        for privilege in ("insert", "update", "delete"):
            assert not conn.execute(
                "select has_table_privilege(%s, 'debugloop.settings_audit', %s)", (role, privilege)
            ).fetchone()[0], (role, privilege)


def test_no_test_module_imports_another_or_the_conftest():
    """Helpers are imported one way (``helpers``); fixtures come from the plugin."""
    for path in (REPO / "tests").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            for name in names:
                top = name.split(".")[0]
                assert top != "conftest" and not top.startswith("test_") and top != "tests", f"{path.name}: {name}"


def test_the_package_under_test_is_this_checkouts():
    """Plain `pytest` in any copy of the repository tests that copy, not an installed one."""
    assert Path(debugloop.__file__).resolve().is_relative_to(REPO / "python")


PACKAGE = REPO / "python" / "debugloop"
# one manager per domain: each may use the shared layer, never another domain or the client
MANAGERS = (
    "attempts",
    "pricing",
    "errors_manager",
    "stf",
    "golden",
    "manifest",
    "analytics",
    "settings",
    "importers",
    "learning",
    "meta",
    "agents",
    "peers",
    "ledger",
)
SHARED = {"_manager", "adapt", "units", "models", "queries", "errors", "connection", "neural"}


def _imports() -> dict[str, set[str]]:
    """Module -> the debugloop modules it imports (TYPE_CHECKING imports included),
    as dotted names relative to the package ('models', 'cli.render'); the package
    itself is ''."""
    paths = {
        ".".join(p.relative_to(PACKAGE).with_suffix("").parts).removesuffix("__init__").rstrip("."): p
        for p in PACKAGE.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = [part for part in package if part]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
                names = [".".join(base)] if node.module else [".".join([*base, a.name]) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("debugloop."):
                names = [node.module.removeprefix("debugloop.")]
            else:
                continue
            for name in names:  # a name imported from a module is the module
                while name and name not in paths:
                    name = name.rpartition(".")[0]
                targets.add(name)
        graph[module] = targets - {module}
    return graph


def test_the_package_has_no_import_cycle():
    graph = _imports()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in graph.get(node, ()):
            if state.get(target) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, node, target]))
            if target in graph and not state.get(target):
                visit(target, [*path, node])
        state[node] = 2

    for module in graph:
        if not state.get(module):
            visit(module, [])


def test_managers_depend_on_the_shared_layer_only():
    graph = _imports()
    for manager in MANAGERS:
        tops = {t.split(".")[0] for t in graph[manager]}
        assert tops <= SHARED, f"{manager} imports {sorted(tops - SHARED)}"
