"""How many regular expressions the hot paths compile. A PostgreSQL backend keeps its last
32 compiled regular expressions (MAX_CACHED_RES in src/backend/utils/adt/regexp.c) and
compiles any other again, which costs far more than matching: when one call uses more
distinct patterns than that, every call compiles them all (2026-12-03: an error signature
was 449/s on one backend, mostly in the regex compiler). So the rules of the error
normaliser and of the attempt path are written to stay within the cache.

These tests count the patterns: a copy of the function files is loaded into the test's own
database with every regexp_* call and ~ / ~* / !~ operator routed through a spy that logs
its pattern, and the corpora's messages are run through it."""

import re

import psycopg
import pytest

from helpers import REPO, load_corpus

CACHE = 32  # PostgreSQL's MAX_CACHED_RES
FILES = ("02_util.sql", "10_pricing.sql", "30_errors.sql")

SPIES = """
create schema rxspy;
create unlogged table rxspy.log (pattern text, flags text);
create function rxspy.regexp_replace(s text, p text, r text) returns text language plpgsql as $$
    begin insert into rxspy.log values (p, null); return pg_catalog.regexp_replace(s, p, r); end $$;
create function rxspy.regexp_replace(s text, p text, r text, f text) returns text language plpgsql as $$
    begin insert into rxspy.log values (p, f); return pg_catalog.regexp_replace(s, p, r, f); end $$;
create function rxspy.regexp_match(s text, p text) returns text[] language plpgsql as $$
    begin insert into rxspy.log values (p, null); return pg_catalog.regexp_match(s, p); end $$;
create function rxspy.regexp_match(s text, p text, f text) returns text[] language plpgsql as $$
    begin insert into rxspy.log values (p, f); return pg_catalog.regexp_match(s, p, f); end $$;
create function rxspy.regexp_matches(s text, p text) returns setof text[] language plpgsql as $$
    begin insert into rxspy.log values (p, null); return query select pg_catalog.regexp_matches(s, p); end $$;
create function rxspy.regexp_matches(s text, p text, f text) returns setof text[] language plpgsql as $$
    begin insert into rxspy.log values (p, f); return query select pg_catalog.regexp_matches(s, p, f); end $$;
create function rxspy.regexp_split_to_array(s text, p text) returns text[] language plpgsql as $$
    begin insert into rxspy.log values (p, null); return pg_catalog.regexp_split_to_array(s, p); end $$;
create function rxspy.regexp_split_to_table(s text, p text) returns setof text language plpgsql as $$
    begin insert into rxspy.log values (p, null); return query select pg_catalog.regexp_split_to_table(s, p); end $$;
create function rxspy.regexp_count(s text, p text) returns integer language plpgsql as $$
    begin insert into rxspy.log values (p, null); return pg_catalog.regexp_count(s, p); end $$;
create function rxspy.rx(s text, p text) returns boolean language plpgsql as $$
    begin insert into rxspy.log values (p, '~'); return pg_catalog.textregexeq(s, p); end $$;
create function rxspy.nrx(s text, p text) returns boolean language plpgsql as $$
    begin insert into rxspy.log values (p, '~'); return not pg_catalog.textregexeq(s, p); end $$;
create function rxspy.rxi(s text, p text) returns boolean language plpgsql as $$
    begin insert into rxspy.log values (p, '~*'); return pg_catalog.texticregexeq(s, p); end $$;
create operator rxspy.~ (leftarg = text, rightarg = text, function = rxspy.rx);
create operator rxspy.!~ (leftarg = text, rightarg = text, function = rxspy.nrx);
create operator rxspy.~* (leftarg = text, rightarg = text, function = rxspy.rxi);
grant usage on schema rxspy to public;
grant insert on rxspy.log to public;
"""


def spied(sql: str) -> str:
    """A function file with its regular expressions routed through the spies."""
    sql = re.sub(
        r"(?<![\w.])regexp_(replace|matches|match|split_to_array|split_to_table|count)\(", r"rxspy.regexp_\1(", sql
    )
    for op in ("!~", "~*", "~"):
        sql = sql.replace(f" {op} ", f" operator(rxspy.{op}) ")
    return sql


@pytest.fixture(scope="module")
def spy(module_db):
    with psycopg.connect(module_db.url, autocommit=True) as conn:
        conn.execute(SPIES)
        for name in FILES:
            conn.execute(spied((REPO / "functions" / name).read_text()))
        assert conn.execute("select count(*) from pg_proc where prosrc like '%rxspy.%'").fetchone()[0] > 20
        yield conn


def patterns(conn, run) -> int:
    """The distinct patterns that run() evaluates on conn."""
    conn.execute("truncate rxspy.log")
    run()
    return conn.execute("select count(distinct (pattern, coalesce(flags, ''))) from rxspy.log").fetchone()[0]


def corpora():
    return [row for pattern in ("error_corpus_*.jsonl", "error_holdout*.jsonl") for row in load_corpus(pattern)]


OVERFLOW = (
    "known, not fixed (2026-12-03): an error signature evaluates up to 58 distinct patterns (median 38) and an"
    " attempt that failed up to 69, so every call compiles them again (error_signature 326/s on one backend,"
    " 631/s on two, against a goal of 5,000/s); guards that run each rule only where a plain string test says"
    " it can match took a prototype to median 13 / max 38, not yet exact on 54 of 1,542 messages"
)


@pytest.mark.xfail(strict=True, reason=OVERFLOW)
def test_an_error_signature_compiles_fewer_patterns_than_the_cache_holds(spy, measurement):
    counts = sorted(
        patterns(
            spy,
            lambda r=r: spy.execute(
                "select debugloop.error_signature(%s, %s, %s)", (r.get("error_type"), r["message"], r.get("stacktrace"))
            ),
        )
        for r in corpora()
    )
    median, worst = counts[len(counts) // 2], counts[-1]
    measurement(f"regex patterns per error_signature call: median {median}, max {worst} ({len(counts)} messages)")
    # an attempt's other patterns (request, redaction, price) need room beside them
    assert worst <= CACHE - 8, counts[-10:]


@pytest.mark.xfail(strict=True, reason=OVERFLOW)
def test_an_attempt_that_failed_compiles_fewer_patterns_than_the_cache_holds(spy, measurement):
    spy.execute("select debugloop.peer_create('peer_rx', 'agent', 'rx', agent_names => array['rx-agent'])")

    def attempt(r):
        attempt_id = spy.execute(
            "select debugloop.attempt_start('rx-agent', %s, 'gpt-4o-mini')", (f"Fix the {r['group']} at /projects/app",)
        ).fetchone()[0]
        spy.execute(
            'select debugloop.attempt_finish(%s, \'error\', \'{"usage": {"prompt_tokens": 10, "completion_tokens": 5}}\','
            " error_type => %s, error_message => %s, error_stacktrace => %s)",
            (attempt_id, r.get("error_type"), r["message"], r.get("stacktrace")),
        )

    worst = max(patterns(spy, lambda r=r: attempt(r)) for r in corpora()[::7])
    measurement(f"regex patterns per attempt_start + attempt_finish with an error: max {worst}")
    assert worst <= CACHE, worst
