"""Write the price-seed migration from LiteLLM's community price list.

    python db/seeds/generate_price_seed.py --dsn URL --current NEW.json --older OLD.json \
        --current-source "..." --older-source "..." > db/migrations/0003_seed_prices.sql

NEW.json and OLD.json are `model_prices_and_context_window_backup.json` from two
litellm wheels (pip download --no-deps litellm==X; the file is inside). The
seed takes the chat models of the providers the project plan names (Anthropic,
OpenAI, Google Gemini, Z.ai, Together) from NEW, plus those models that NEW no
longer lists but OLD does (retired models that old logs still mention). The
conversion is debugloop's own SQL importer (debugloop.price_import) run on the
database at --dsn, which must be migrated and is left unchanged (everything runs
in a transaction that is rolled back). Every seeded version is effective from
2000-01-01, before any LLM API existed: it prices any attempt, however old, until
a newer version is added.
"""

from __future__ import annotations

import argparse
import json
import sys

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

EFFECTIVE_FROM = "2000-01-01T00:00:00Z"
PROVIDERS = {"anthropic", "openai", "gemini", "zai", "together_ai"}
MODES = {"chat", "completion", "responses"}
COLUMNS = [
    "provider",
    "model_name",
    "origin",
    "source",
    "mode",
    "input_price_per_million",
    "output_price_per_million",
    "cache_read_price_per_million",
    "cache_write_price_per_million",
    "cache_write_1h_price_per_million",
    "reasoning_price_per_million",
    "long_context_threshold",
    "long_context_input_price_per_million",
    "long_context_output_price_per_million",
    "long_context_cache_read_price_per_million",
    "long_context_cache_write_price_per_million",
    "long_context_cache_write_1h_price_per_million",
    "batch_discount",
    "context_window",
    "max_output_tokens",
    "capabilities",
    "requests_per_minute",
    "tokens_per_minute",
    "is_active",
    "deprecated_at",
    "effective_from",
]


def _wanted(doc: dict) -> dict:
    return {
        key: entry
        for key, entry in doc.items()
        if isinstance(entry, dict)
        and entry.get("litellm_provider") in PROVIDERS
        and entry.get("mode") in MODES
        and not key.startswith("ft:")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="a migrated scratch database (left unchanged)")
    parser.add_argument("--current", required=True, help="LiteLLM JSON of the newer release")
    parser.add_argument("--older", required=True, help="LiteLLM JSON of an older release")
    parser.add_argument(
        "--current-source", required=True, help="e.g. 'LiteLLM model_prices_and_context_window.json, litellm 1.109.1'"
    )
    parser.add_argument("--older-source", required=True)
    args = parser.parse_args()

    with open(args.current) as fh:
        current = _wanted(json.load(fh))
    with open(args.older) as fh:
        older = _wanted(json.load(fh))

    with psycopg.connect(args.dsn) as conn:
        conn.execute("set local session_replication_role = replica")  # lets the scratch catalog be emptied
        conn.execute("delete from debugloop.model_price_catalog")
        # older entries whose (provider, model) the current list no longer has
        retired = conn.execute(
            """select coalesce(jsonb_object_agg(o.key, o.value), '{}')
                 from jsonb_each(%(older)s) o
                where not exists (
                      select from jsonb_each(%(current)s) c
                       where ((debugloop._price_from_litellm(c.key, c.value)).provider,
                              lower((debugloop._price_from_litellm(c.key, c.value)).model_name))
                           = ((debugloop._price_from_litellm(o.key, o.value)).provider,
                              lower((debugloop._price_from_litellm(o.key, o.value)).model_name)))""",
            {"older": Jsonb(older), "current": Jsonb(current)},
        ).fetchone()[0]
        for doc, source in ((current, args.current_source), (retired, args.older_source)):
            conn.execute(
                "select count(*) from debugloop.price_import(%s, %s, %s)", (Jsonb(doc), source, EFFECTIVE_FROM)
            )
        values = [
            row[0]
            for row in conn.execute(
                sql.SQL(
                    "select '    (' || concat_ws(', ', {}) || ')' from debugloop.model_price_catalog"
                    " order by provider, lower(model_name)"
                ).format(
                    sql.SQL(", ").join(sql.SQL("quote_nullable({}::text)").format(sql.Identifier(c)) for c in COLUMNS)
                )
            )
        ]
        conn.rollback()

    out = sys.stdout
    out.write("-- 0003 seed prices: list prices of the providers the project plan names (Anthropic,\n")
    out.write("-- OpenAI, Google Gemini, Z.ai, Together), taken from LiteLLM's community price list\n")
    out.write("-- (github.com/BerriAI/litellm, MIT licence) by db/seeds/generate_price_seed.py:\n")
    out.write(f"--   {len(current)} chat models from: {args.current_source}\n")
    out.write(f"--   {len(retired)} retired models from: {args.older_source}\n")
    out.write(f"-- Each version is effective from {EFFECTIVE_FROM} and imported, so a custom price or a\n")
    out.write("-- later import (debugloop prices import) supersedes it. Do not edit by hand.\n\n")
    out.write("insert into debugloop.model_price_catalog (\n    ")
    out.write(", ".join(COLUMNS))
    out.write(")\nvalues\n")
    out.write(",\n".join(values))
    out.write(";\n")


if __name__ == "__main__":
    main()
