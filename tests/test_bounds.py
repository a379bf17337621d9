"""Finite numbers and bounded arguments: prices, usage counts, scores, embeddings,
times, k and limits. Each bad argument is refused with a registered SQLSTATE that
names it (DL001 InvalidParameter, DL005 InvalidUsage, DL004 InvalidSettingValue),
nothing is written, and the tables refuse by CHECK what reaches them another way."""

import json
from contextlib import closing
from decimal import Decimal

import psycopg
import pytest
from yoyo import read_migrations
from yoyo.migrations import default_migration_table

from debugloop import paths
from debugloop.adapt import vector
from debugloop.errors import BusinessError, InvalidParameter, InvalidSettingValue, InvalidUsage, wrap_exceptions
from debugloop.migrate import _Backend, _yoyo_uri, migrate
from helpers import CODE, REQUEST

NOT_FINITE = ["NaN", "Infinity", "-Infinity"]


def refused(conn, query: str, params=()) -> BusinessError:
    """The business error a statement raises; the transaction is rolled back."""
    with pytest.raises(BusinessError) as info, wrap_exceptions():
        conn.execute(query, params)
    conn.rollback()
    return info.value


def count(conn, table: str) -> int:
    return conn.execute(f"select count(*) from debugloop.{table}").fetchone()[0]


def start(conn, **kwargs) -> str:
    args = {"agent_name": "fixer", "user_request": REQUEST, "model": "gpt-4o"} | kwargs
    names = ", ".join(f"{k} => %({k})s" for k in args)
    (attempt_id,) = conn.execute(f"select debugloop.attempt_start({names})", args).fetchone()
    return attempt_id


# -- prices -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1000000.01", "1e30"])
@pytest.mark.parametrize(
    "field", ["input_price_per_million", "output_price_per_million", "cache_read_price_per_million"]
)
def test_a_price_that_is_not_a_finite_number_up_to_a_million_is_refused(conn, field, value):
    before = count(conn, "model_price_catalog")
    args = {"input_price_per_million": "1", "output_price_per_million": "2"} | {field: value}
    error = refused(
        conn,
        "select debugloop.price_set('acme', 'acme-1', %(input_price_per_million)s::numeric,"
        " %(output_price_per_million)s::numeric, cache_read_price_per_million => %(cache_read)s::numeric)",
        {**args, "cache_read": args.get("cache_read_price_per_million")},
    )
    assert isinstance(error, InvalidParameter) and error.field == field
    assert count(conn, "model_price_catalog") == before


def test_no_path_stores_a_price_that_is_not_finite_so_no_cost_is_nan(conn):
    """The catalog's CHECK refuses what price_set refuses, for a superuser's INSERT too."""
    with pytest.raises(psycopg.errors.CheckViolation, match="model_price_catalog_prices_finite"):
        conn.execute(
            "insert into debugloop.model_price_catalog (provider, model_name, source, input_price_per_million,"
            " output_price_per_million) values ('acme', 'acme-nan', 'test', 'NaN', 1)"
        )
    conn.rollback()
    with pytest.raises(psycopg.errors.CheckViolation, match="debug_execution_attempts_costs_finite"):
        conn.execute(
            "insert into debugloop.debug_execution_attempts (correlation_id, agent_name, user_request,"
            " user_request_hash, estimated_cost_usd) values (gen_random_uuid(), 'a', 'r', 'h', 'Infinity')"
        )


@pytest.mark.parametrize("pattern", ["", ".*", ".", "^", "a|", "(?:)", "-", "[a-z]"])
def test_a_name_pattern_that_would_price_every_model_is_refused(conn, pattern):
    error = refused(conn, "select debugloop.price_set('acme', 'acme-1', 1, 2, name_pattern => %s)", [pattern])
    assert isinstance(error, InvalidParameter) and error.field == "name_pattern"
    assert "would match any model" in error.message
    assert conn.execute("select (debugloop.price_lookup('zz-unknown-model')).catalog_id").fetchone()[0] is None
    conn.execute("select debugloop.price_set('acme', 'acme-any', 7, 7, name_pattern => '^acme-coder-v[0-9]+$')")
    assert conn.execute("select (debugloop.price_lookup('acme-coder-v3')).model_name").fetchone()[0] == "acme-any"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"effective_from": "infinity"}, "effective_from"),
        ({"effective_from": None}, "effective_from"),
        ({"source": None}, "source"),
        ({"context_window": -5}, "context_window"),
        ({"model_name": "m" * 257}, "model_name"),
    ],
)
def test_other_bad_price_arguments_name_themselves(conn, args, field):
    args = {"model_name": "acme-1"} | args
    names = ", ".join(f"{k} => %({k})s" for k in args)
    error = refused(
        conn,
        f"select debugloop.price_set(provider => 'acme', input_price_per_million => 1, output_price_per_million => 2, {names})",
        args,
    )
    assert isinstance(error, InvalidParameter) and error.field == field


def test_import_skips_each_entry_it_cannot_store_and_imports_the_others(dl):
    doc = {
        "good-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "litellm_provider": "openai"},
        "negative": {"input_cost_per_token": -1e-6, "output_cost_per_token": 2e-6, "litellm_provider": "openai"},
        "huge-window": {
            "input_cost_per_token": 1e-6,
            "output_cost_per_token": 2e-6,
            "litellm_provider": "openai",
            "max_input_tokens": 1e30,
        },
        "bad-date": {
            "input_cost_per_token": 1e-6,
            "output_cost_per_token": 2e-6,
            "litellm_provider": "openai",
            "deprecation_date": "2025-13-45",
        },
        "bad-provider": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "litellm_provider": "A B"},
        "openai/": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "litellm_provider": "openai"},
    }
    rows = {r.model_name: r for r in dl.prices.import_litellm(doc, "test")}
    assert rows["good-model"].action == "added"
    assert {name: rows[name].action for name in doc if name != "good-model"} == dict.fromkeys(
        set(doc) - {"good-model"}, "skipped"
    )
    assert "input_cost_per_token must be a price from 0 to 1 USD per token" in rows["negative"].detail
    assert "max_input_tokens must be a whole number" in rows["huge-window"].detail
    assert "not a date" in rows["bad-date"].detail
    assert "not a provider name" in rows["bad-provider"].detail
    with pytest.raises(InvalidParameter) as info:
        dl.prices.import_litellm(doc, "test", effective_from="infinity")
    assert info.value.field == "effective_from"


def test_price_lookup_refuses_a_name_longer_than_256_characters_and_strips_at_most_four_prefixes(conn):
    assert conn.execute("select (debugloop.price_lookup(%s)).catalog_id", ["/" * 256]).fetchone()[0] is None
    error = refused(conn, "select debugloop.price_lookup(%s)", ["/" * 45_000])
    assert isinstance(error, InvalidParameter) and error.field == "model"
    lookup = "select (debugloop.price_lookup(%s)).model_name"
    assert conn.execute(lookup, ["a/b/c/openai/gpt-4o"]).fetchone()[0] == "gpt-4o"  # four prefixes
    assert conn.execute(lookup, ["a/b/c/d/openai/gpt-4o"]).fetchone()[0] is None  # five
    error = refused(conn, "select debugloop.attempt_start('fixer', 'Fix it', %s)", ["x" * 300])
    assert isinstance(error, InvalidParameter) and error.field == "model"


# -- usage ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": 1e30, "completion_tokens": 5},
        {"input_tokens": 10**15, "output_tokens": 5},
        {"input_tokens": 2**63, "output_tokens": 5},
        {"promptTokenCount": 6 * 10**14, "prompt_token_count": 6 * 10**14},
        [{"input_tokens": 6 * 10**14, "output_tokens": 1}, {"input_tokens": 6 * 10**14, "output_tokens": 1}],
    ],
)
def test_usage_counts_lie_below_ten_to_the_fifteen_per_request_and_in_sum(conn, usage):
    error = refused(conn, "select debugloop.price_usage_normalize(%s)", [json.dumps(usage)])
    assert isinstance(error, InvalidUsage) and error.sqlstate == "DL005" and error.field == "usage"


def test_the_largest_usage_counts_are_priced_exactly(conn):
    usage = {"input_tokens": 10**15 - 1, "output_tokens": 10**15 - 1}
    cost = conn.execute("select debugloop.price_cost('gpt-4o', %s)", [json.dumps(usage)]).fetchone()[0]
    assert cost == Decimal(10**15 - 1) * (Decimal("2.5") + Decimal(10)) / 10**6
    error = refused(conn, "select debugloop.price_estimate('gpt-4o', %s, 0)", [10**15])
    assert isinstance(error, InvalidParameter) and error.field == "input_tokens"


def test_an_empty_list_of_requests_is_no_usage(conn):
    attempt_id = start(conn)
    row = conn.execute(
        "select cost_status, cost_usd, input_tokens from debugloop.attempt_finish(%s, 'success', '[]')", [attempt_id]
    ).fetchone()
    assert row == ("no_usage", None, None)
    assert conn.execute("select debugloop.price_usage_normalize('[]')").fetchone()[0] is None


# -- scores, times, settings -------------------------------------------------------------


@pytest.mark.parametrize("value", ["infinity", "-infinity", "1900-01-01", "294276-12-31", "4713-01-01 BC"])
def test_an_attempt_starts_and_finishes_at_finite_sensible_times(conn, value):
    error = refused(conn, "select debugloop.attempt_start('fixer', 'Fix it', 'gpt-4o', started_at => %s)", [value])
    assert isinstance(error, InvalidParameter) and error.field == "started_at"
    error = refused(
        conn, "select debugloop.attempt_start('fixer', 'Fix it', 'gpt-4o', started_at => now() + interval '2 days')"
    )
    assert error.field == "started_at"
    attempt_id = start(conn, started_at="2025-01-01T00:00:00Z")
    conn.commit()
    error = refused(conn, "select debugloop.attempt_finish(%s, 'success', completed_at => 'infinity')", [attempt_id])
    assert isinstance(error, InvalidParameter) and error.field == "completed_at"
    assert count(conn, "debug_execution_attempts") == 1


@pytest.mark.parametrize("value", [*NOT_FINITE, "nan"])
def test_a_numeric_setting_is_a_finite_number(conn, value):
    error = refused(conn, "select debugloop.settings_set('golden_min_quality', %s)", [value])
    assert isinstance(error, InvalidSettingValue) and error.field == "value"


def test_metrics_since_a_time_that_is_not_finite_are_refused(conn):
    error = refused(conn, "select * from debugloop.analytics_metrics('-infinity')")
    assert isinstance(error, InvalidParameter) and error.field == "since"


def test_wilson_takes_counts(conn):
    for successes, failures, field in [(-1, 3, "successes"), (3, -5, "failures"), (None, 1, "successes")]:
        error = refused(conn, "select debugloop.error_wilson(%s, %s)", [successes, failures])
        assert isinstance(error, InvalidParameter) and error.field == field
    big = conn.execute("select debugloop.error_wilson(%s, 2)", [2**63 - 1]).fetchone()[0]
    assert Decimal("0.9999") <= big <= 1


# -- k and limits -----------------------------------------------------------------------

SEARCHES = [
    ("select * from debugloop.stf_match('parse a csv', k => %s)", 1000),
    ("select * from debugloop.golden_match('parse a csv', k => %s)", 100),
    ("select debugloop.manifest('parse a csv', k => %s)", 20),
    ("select debugloop.manifest_markdown('parse a csv', k => %s)", 20),
    ("select * from debugloop.error_fixes('KeyError: x', k => %s)", 100),
    ("select * from debugloop.error_known_failures('parse a csv', k => %s)", 100),
    ("select * from debugloop.error_likely_fixes('parse a csv', k => %s)", 100),
    ("select * from debugloop.attempt_similar_problems('parse a csv', k => %s)", 40),
]


def test_k_outside_its_range_is_an_invalid_parameter_naming_k_in_every_search(conn):
    for query, k_max in SEARCHES:
        for k in [0, -1, None, k_max + 1, 2**31 - 1]:
            error = refused(conn, query, [k])
            assert isinstance(error, InvalidParameter) and error.field == "k", (query, k)
        conn.execute(query, [k_max]).fetchall()


LISTS = [
    'select * from debugloop.attempt_list("limit" => %s)',
    'select * from debugloop.error_top("limit" => %s)',
    'select * from debugloop.stf_list("limit" => %s)',
    """select * from debugloop.stf_embedding_queue('m', "limit" => %s)""",
    'select * from debugloop.golden_list("limit" => %s)',
    'select * from debugloop.analytics_stf_usage("limit" => %s)',
    'select * from debugloop.import_sessions("limit" => %s)',
    'select * from debugloop.import_fixes("limit" => %s)',
]


@pytest.mark.parametrize("query", LISTS, ids=[q.split("debugloop.")[1].split("(")[0] for q in LISTS])
def test_a_negative_limit_is_an_invalid_parameter_naming_limit(conn, query):
    error = refused(conn, query, [-1])
    assert isinstance(error, InvalidParameter) and error.field == "limit"
    assert conn.execute(query, [0]).fetchall() == []


# -- STFs: languages and embeddings -------------------------------------------------------


def test_stf_register_refuses_a_language_it_does_not_read_and_names_the_known_ones(conn):
    error = refused(conn, "select debugloop.stf_register('f', %s, 'cobol')", [CODE])
    assert isinstance(error, InvalidParameter) and error.field == "language"
    assert "python" in error.detail and "typescript" in error.detail
    stf_id = conn.execute("select debugloop.stf_register('f', %s, 'JS')", [CODE]).fetchone()[0]
    assert conn.execute("select stf_language from debugloop.stf_get(%s)", [str(stf_id)]).fetchone()[0] == "javascript"
    assert conn.execute("select count(*) from debugloop.stf_list(language => 'js')").fetchone()[0] == 1
    assert refused(conn, "select * from debugloop.stf_match('sum', language => 'cobol')").field == "language"
    assert refused(conn, "select debugloop.stf_hash('x = 1', 'markdown')").field == "language"


def test_extraction_skips_a_unit_of_a_language_it_does_not_read(conn):
    attempt_id = start(conn)
    artifacts = {"snippets": [{"code": "# Title\n\nsome\ntext\nhere\n", "language": "markdown", "name": "cell"}]}
    conn.execute("select debugloop.attempt_finish(%s, 'success', artifacts => %s)", [attempt_id, json.dumps(artifacts)])
    rows = conn.execute("select action, detail from debugloop.stf_extract(%s)", [attempt_id]).fetchall()
    assert rows == [("skipped", "language 'markdown' is not one debugloop reads")]


def _stf(conn) -> str:
    return conn.execute("select debugloop.stf_register('invoice_total', %s)", [CODE]).fetchone()[0]


@pytest.mark.parametrize(("component", "why"), [(0.0, "zero"), (1e-30, "tiny"), (3e38, "huge")])
def test_an_embedding_whose_cosine_similarity_would_be_nan_is_refused(conn, component, why):
    stf_id = _stf(conn)
    conn.commit()
    literal = "[" + ",".join([repr(component)] * 384) + "]"
    error = refused(conn, "select debugloop.stf_set_embedding(%s, %s::debugloop.vector, 'm')", [stf_id, literal])
    assert isinstance(error, InvalidParameter) and error.field == "embedding", why
    error = refused(
        conn,
        "select * from debugloop.stf_match('sum invoices', query_embedding => %s::debugloop.vector, embedding_model => 'm')",
        [literal],
    )
    assert isinstance(error, InvalidParameter) and error.field == "query_embedding", why
    assert conn.execute("select embedding_model from debugloop.stf_get(%s)", [str(stf_id)]).fetchone()[0] is None


def test_no_path_stores_an_embedding_of_zero_length(conn):
    stf_id = _stf(conn)
    with pytest.raises(psycopg.errors.CheckViolation, match="debug_transform_functions_embedding_length"):
        conn.execute(
            "update debugloop.debug_transform_functions set embedding_neural = %s::debugloop.vector where stf_id = %s",
            ["[" + ",".join(["0"] * 384) + "]", stf_id],
        )


def test_python_refuses_an_embedding_with_nan_or_infinity_before_sql(dl):
    for bad in (float("nan"), float("inf")):
        with pytest.raises(InvalidParameter) as info:
            vector([0.1, bad], "query_embedding")
        assert info.value.field == "query_embedding"
    assert vector([0.5, 1]) == "[0.5,1.0]"


# -- imports ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "field"),
    [
        ({"started_at": "not a date"}, "units.started_at"),
        ({"started_at": "infinity"}, "units.started_at"),
        ({"completed_at": 5}, "units.completed_at"),
        ({"request": 7}, "units.request"),
        ({"model": "m" * 300}, "units.model"),
    ],
)
def test_a_unit_with_a_bad_value_is_an_invalid_parameter_naming_it(conn, unit, field):
    sessions = [{"key": "s1", "correlation_id": "00000000-0000-4000-8000-000000000001"}]
    good = {"key": "u1", "session": "s1", "request": "Fix it", "status": "success", "started_at": "2025-01-01"}
    error = refused(
        conn,
        "select * from debugloop.import_units('claude-code', gen_random_uuid(), %s, %s)",
        [json.dumps(sessions), json.dumps([good, {**good, "key": "u2"} | unit])],
    )
    assert isinstance(error, InvalidParameter) and error.field == field
    assert "units[2] (u2)" in error.message
    assert count(conn, "debug_execution_attempts") == count(conn, "debug_import_sessions") == 0


# -- the migration repairs what the new constraints refuse ----------------------------------


def test_the_migration_repairs_existing_rows_before_it_adds_the_constraints(pg_server, empty_db):
    migrations = read_migrations(str(paths.migrations_dir()))
    with closing(_Backend(_yoyo_uri(empty_db.url), default_migration_table)) as backend:
        backend.init_database()
        for migration in migrations:
            if migration.id < "0011":
                backend.apply_one(migration)
    with psycopg.connect(empty_db.url) as conn:
        (bad_price,) = conn.execute(
            "insert into debugloop.model_price_catalog (provider, model_name, source, input_price_per_million,"
            " output_price_per_million) values ('acme', 'acme-nan', 'test', 'NaN', 1) returning catalog_id"
        ).fetchone()
        (attempt_id,) = conn.execute(
            "insert into debugloop.debug_execution_attempts (correlation_id, agent_name, user_request, user_request_hash,"
            " model_used, status, completed_at, started_at, cost_usd, cost_status, price_catalog_id)"
            " values (gen_random_uuid(), 'a', 'r', 'h', 'acme-nan', 'success', now(), '-infinity', 'NaN', 'priced', %s)"
            " returning attempt_id",
            [bad_price],
        ).fetchone()
        (stf_id,) = conn.execute(
            "insert into debugloop.debug_transform_functions (stf_name, stf_hash, stf_code, stf_language, normalized_code,"
            " embedding_neural, embedding_model) values ('f', 'h', 'x', 'js', 'x', %s::debugloop.vector, 'm') returning stf_id",
            ["[" + ",".join(["0"] * 384) + "]"],
        ).fetchone()
    migrate(empty_db.url)
    with psycopg.connect(empty_db.url) as conn:
        assert (
            conn.execute("select count(*) from debugloop.model_price_catalog where model_name = 'acme-nan'").fetchone()[
                0
            ]
            == 0
        )
        row = conn.execute(
            "select cost_usd, cost_status, price_catalog_id, isfinite(started_at) from debugloop.debug_execution_attempts"
            " where attempt_id = %s",
            [attempt_id],
        ).fetchone()
        assert row == (None, "unpriced", None, True)
        stf = conn.execute(
            "select embedding_neural is null, embedding_model, stf_language from debugloop.debug_transform_functions"
            " where stf_id = %s",
            [stf_id],
        ).fetchone()
        assert stf == (True, None, "javascript")
