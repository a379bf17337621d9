"""Secrets are redacted before they are stored: util_redact's patterns, each with
texts it must change and texts it must leave alone, and the attempt and import
paths, after which no table of the schema holds the secret anywhere."""

from __future__ import annotations

import json
import uuid

import pytest
from psycopg import sql

OPENAI = "sk-proj-Tq3vX9bK2mN8pL4rW7yZ1aC5dE0fG6hJ-kLmNoPqRsTuVwXyZ012345_abcDEF"

# (text, what util_redact makes of it): each pattern of the README's "Secrets" table
REDACTED = [
    (
        f"Error code: 401 - Incorrect API key provided: {OPENAI}.",
        "Error code: 401 - Incorrect API key provided: [redacted:openai-key].",
    ),
    ("OPENAI_API_KEY=sk-4f9Q2x7LmN1pR8sT3vW6yZ0aB5cD9eFgHiJkLmNo", "OPENAI_API_KEY=[redacted:openai-key]"),
    ("x-api-key: sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe-AbCdEf123456", "x-api-key: [redacted:anthropic-key]"),
    ("key=AIzaSyD4f9Q2x7LmN1pR8sT3vW6yZ0aB5cD9eFg&q=1", "key=[redacted:google-key]&q=1"),
    (
        "git push https://ghp_4f9Q2x7LmN1pR8sT3vW6yZ0aB5cD9eFgHiJk@github.com",
        "git push https://[redacted:github-token]@github.com",
    ),
    ("token gho_4f9Q2x7LmN1pR8sT3vW6yZ0aB5cD9eFgHiJkLm", "token [redacted:github-token]"),
    ("github_pat_11ABCDEFG0a1b2c3d4e5f6_g7h8i9j0k1l2m3n4o5p6q7r8s9t0", "[redacted:github-token]"),
    (
        "aws configure set AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws configure set [redacted:aws-access-key] [redacted:aws-secret-key]",
    ),
    ("AccessKeyId: ASIAY34FZKBOKMUTVV7A", "AccessKeyId: [redacted:aws-access-key]"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = [redacted:secret]"),
    ("SLACK_TOKEN xoxb-123456789012-abcdefghijklmnop", "SLACK_TOKEN [redacted:slack-token]"),
    ("login(token='hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh')", "login(token='[redacted:huggingface-token]')"),
    (
        "curl -H 'Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543e' https://api.example.com",
        "curl -H 'Authorization: Bearer [redacted:bearer-token]' https://api.example.com",
    ),
    (
        'headers={"Authorization": "Basic dXNlcjpodW50ZXIy"}',
        'headers={"Authorization": "Basic [redacted:authorization]"}',
    ),
    ("Authorization: 9c1185a5c5e9fc54612808977ee8f548b2258d31", "Authorization: [redacted:authorization]"),
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "[redacted:jwt]",
    ),
    (
        "psycopg.OperationalError: connection to postgresql://app:hunter2@db.internal:5432/prod failed",
        "psycopg.OperationalError: connection to postgresql://app:[redacted:password]@db.internal:5432/prod failed",
    ),
    ("redis://:s3cr3t@cache:6379/0", "redis://:[redacted:password]@cache:6379/0"),
    ("DB_PASSWORD=hunter2 ./run.sh", "DB_PASSWORD=[redacted:secret] ./run.sh"),
    ("GET /v1/items?api_key=abc123def&page=2", "GET /v1/items?api_key=[redacted:secret]&page=2"),
    ('{"password": "correct horse battery staple"}', '{"password": "[redacted:secret]"}'),
    ("client_secret: 4f9Q2x7LmN1pR8sT", "client_secret: [redacted:secret]"),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\nthen",
        "[redacted:private-key]\nthen",
    ),
]

# texts that look a little like secrets and are not: nothing may change
KEPT = [
    "commit 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a is the parent",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "attempt 5d1f7c62-3a0b-4c1e-9a57-2f4d3c8b9e10 failed",
    "skills, tasks, risk-free and task-1234567890abcdefghijklmn",
    "pip install sk-learn-pipeline-configuration-helper",
    "KeyError: 'token'",
    "maximum context length is 8192 tokens; max_tokens=100",
    "ValueError: invalid password: must be 8 characters",
    "password=None, token = tokenizer(text), secret = os.environ['X']",
    "https://user@example.com/path and http://localhost:8080/api",
    "Bearer authentication failed",
    "Authorization failed for user alice",
    "AKIA is a prefix, AKIAshort is not a key",
    "the eyJ prefix alone, eyJhbGciOiJIUzI1NiJ9 (one segment)",
    "hf_hub_download(repo_id='gpt2')",
    "ghp_ too short ghp_abc",
    "AIzaSy is a Google prefix",
    "xoxo, gossip girl",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED, ids=lambda v: v[:32] if isinstance(v, str) else None)
def test_each_kind_of_secret_is_redacted_and_redacting_again_changes_nothing(conn, text, expected):
    redacted = conn.execute("select debugloop.util_redact(%s)", (text,)).fetchone()[0]
    assert redacted == expected
    assert conn.execute("select debugloop.util_redact(%s)", (redacted,)).fetchone()[0] == redacted


@pytest.mark.parametrize("text", KEPT, ids=lambda v: v[:32])
def test_texts_that_only_look_like_secrets_are_kept(conn, text):
    assert conn.execute("select debugloop.util_redact(%s)", (text,)).fetchone()[0] == text


def test_code_keeps_its_assignments_and_json_stays_json(conn):
    """As code (artefacts, as JSON text) only quoted values are taken, so the code
    still parses; a key right after a JSON escape (\\n) is found too."""
    artifacts = {
        "files": {
            "client.py": 'import os\nAPI_KEY = "hunter2 and more"\ntoken = next(tokens)\npassword = os.environ["PW"]\n',
            "notes.md": f'line one\n{OPENAI}\n"quoted" and \\ backslashes',
        }
    }
    text = json.dumps(artifacts)
    redacted = conn.execute("select debugloop.util_redact(%s, true)", (text,)).fetchone()[0]
    back = json.loads(redacted)
    assert back["files"]["client.py"] == (
        'import os\nAPI_KEY = "[redacted:secret]"\ntoken = next(tokens)\npassword = os.environ["PW"]\n'
    )
    assert back["files"]["notes.md"] == 'line one\n[redacted:openai-key]\n"quoted" and \\ backslashes'
    compile(back["files"]["client.py"], "client.py", "exec")


def test_the_same_request_with_two_keys_has_one_fingerprint(dl, conn):
    a = dl.attempts.start("fixer", f"Call the API with {OPENAI} and fix the 401", "gpt-4o")
    b = dl.attempts.start("fixer", "Call the API with sk-proj-0000aaaa1111bbbb2222cccc3333 and fix the 401", "gpt-4o")
    fingerprints = conn.execute(
        "select distinct user_request_hash from debugloop.debug_execution_attempts where attempt_id in (%s, %s)", (a, b)
    ).fetchall()
    assert len(fingerprints) == 1


def _tables_holding(conn, needle: str) -> list[str]:
    """Every table and materialized view of the schema with a row whose text holds ``needle``."""
    relations = conn.execute(
        """select c.relname from pg_class c
            where c.relnamespace = 'debugloop'::regnamespace and c.relkind in ('r', 'm') order by 1"""
    ).fetchall()
    holding = []
    for (name,) in relations:
        query = sql.SQL("select exists (select from debugloop.{} t where strpos(t::text, %s) > 0)").format(
            sql.Identifier(name)
        )
        if conn.execute(query, (needle,)).fetchone()[0]:
            holding.append(name)
    return holding


def test_a_key_in_an_error_is_stored_nowhere_and_shown_by_nothing(dl, conn):
    secret_url = "https://deploy:Sup3rS3cret!@ci.example.com/hook"
    request = f"Summarise the failing payments job (key {OPENAI})"
    chain = uuid.uuid4()
    first = dl.attempts.start(
        "payer", request, "gpt-4o", correlation_id=chain, approach_description=f"retry with {secret_url}"
    )
    dl.attempts.finish(
        first,
        "error",
        error_type="openai.AuthenticationError",
        error_message=f"Error code: 401 - Incorrect API key provided: {OPENAI}. You can find your API key at https://platform.openai.com",
        error_stacktrace=(
            'Traceback (most recent call last):\n  File "/app/pay.py", line 3, in charge\n'
            f"    client = OpenAI(api_key='{OPENAI}')\nopenai.AuthenticationError: Error code: 401 - {OPENAI}"
        ),
    )
    retry = dl.attempts.start(
        "payer", request, "gpt-4o", parent_attempt_id=first, approach_description="read the key from the environment"
    )
    dl.attempts.finish(
        retry,
        "success",
        artifacts={
            "files": {
                "pay.py": f'import os\nFALLBACK = "{OPENAI}"\n\ndef key():\n    return os.environ.get("OPENAI_API_KEY", FALLBACK)\n'
            }
        },
        quality_score=0.9,
    )
    conn.execute("select debugloop.analytics_refresh()")
    conn.commit()
    problem = "Summarise the failing payments job"  # the next agent's problem: the manifest echoes it
    manifest = dl.manifest(problem, agent_name="payer", model="gpt-4o")
    markdown = dl.manifest_markdown(problem, agent_name="payer", model="gpt-4o")
    assert "[redacted:openai-key]" in markdown  # the request and the error it shows, redacted
    signature = conn.execute(
        "select s.example_message from debugloop.debug_error_signatures s join debugloop.debug_execution_attempts a on a.error_signature = s.signature where a.attempt_id = %s",
        (first,),
    ).fetchone()[0]
    assert "[redacted:openai-key]" in signature
    for needle in (OPENAI, OPENAI[:20], "Sup3rS3cret"):
        assert _tables_holding(conn, needle) == []
        assert needle not in manifest.model_dump_json() and needle not in markdown
    assert (
        "[redacted:openai-key]"
        in conn.execute(
            "select error_message || error_stacktrace from debugloop.debug_execution_attempts where attempt_id = %s",
            (first,),
        ).fetchone()[0]
    )


def test_secrets_in_imported_logs_are_stored_nowhere(dl, conn, tmp_path):
    s = str(uuid.uuid4())
    bearer = "Bearer 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    lines = [
        {"type": "summary", "summary": f"Rotate {OPENAI} out of the config"},
        {
            "type": "user",
            "sessionId": s,
            "cwd": "/srv/app",
            "timestamp": "2026-11-01T10:00:00Z",
            "uuid": str(uuid.uuid4()),
            "message": {
                "role": "user",
                "content": f"The deploy fails with {OPENAI}; curl -H 'Authorization: {bearer}'",
            },
        },
        {
            "type": "assistant",
            "sessionId": s,
            "cwd": "/srv/app",
            "timestamp": "2026-11-01T10:00:01Z",
            "message": {
                "id": "msg_secret_1",
                "model": "claude-sonnet-4-5-20250929",
                "usage": {"input_tokens": 10, "output_tokens": 20},
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_s1",
                        "name": "Bash",
                        "input": {"command": f"deploy --key {OPENAI}"},
                    }
                ],
            },
        },
        {
            "type": "user",
            "sessionId": s,
            "cwd": "/srv/app",
            "timestamp": "2026-11-01T10:00:02Z",
            "uuid": str(uuid.uuid4()),
            "message": {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_s1",
                        "is_error": True,
                        "content": f"401 Unauthorized: {OPENAI}",
                    }
                ],
            },
        },
        {
            "type": "assistant",
            "sessionId": s,
            "cwd": "/srv/app",
            "timestamp": "2026-11-01T10:00:03Z",
            "message": {
                "id": "msg_secret_2",
                "model": "claude-sonnet-4-5-20250929",
                "usage": {"input_tokens": 10, "output_tokens": 20},
                # still waiting for its result: kept in the file's saved state
                "content": [
                    {"type": "tool_use", "id": "toolu_s2", "name": "Bash", "input": {"command": f"retry {OPENAI}"}}
                ],
            },
        },
    ]
    log = tmp_path / f"{s}.jsonl"
    log.write_text("".join(json.dumps(o) + "\n" for o in lines), encoding="utf-8")
    result = dl.imports.run("claude-code", [log], settle=3600)  # the open response stays in the saved state
    assert (result.inserted, result.skipped) == (1, [])
    assert _tables_holding(conn, OPENAI) == []
    assert _tables_holding(conn, bearer.split()[1]) == []
    title, state = conn.execute(
        "select s.title, f.state from debugloop.debug_import_sessions s, debugloop.debug_import_files f"
    ).fetchone()
    assert title == "Rotate [redacted:openai-key] out of the config"
    assert "[redacted:openai-key]" in json.dumps(state)
    message = conn.execute("select error_message from debugloop.debug_execution_attempts").fetchone()[0]
    assert message == "401 Unauthorized: [redacted:openai-key]"


def test_redaction_is_fast_on_texts_without_secrets_and_bounded_on_large_ones(conn, measurement):
    conn.execute("set statement_timeout = '5s'")
    plain = conn.execute(
        """select count(debugloop.util_redact('Traceback (most recent call last): KeyError: ''user_id'' at step ' || g))
             from generate_series(1, 5000) g"""
    )
    assert plain.fetchone()[0] == 5000
    with conn.cursor() as cur:
        cur.execute("select clock_timestamp()")
        t0 = cur.fetchone()[0]
        big = "token = x + 1\n" * 7000 + "password=hunter2 " * 1000  # ~115 KB, many near misses
        cur.execute("select length(debugloop.util_redact(%s))", (big,))
        cur.execute("select clock_timestamp() - %s", (t0,))
        elapsed = cur.fetchone()[0].total_seconds()
    measurement(f"util_redact of a 115 KB text full of near misses: {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0


def test_a_secret_is_redacted_whatever_writes_the_row(conn):
    """The redaction is a trigger: a row an admin writes directly is redacted too."""
    conn.execute(
        """insert into debugloop.debug_execution_attempts (correlation_id, agent_name, user_request, started_at)
           values (gen_random_uuid(), 'direct', %s, now())""",
        (f"use {OPENAI}",),
    )
    assert conn.execute("select user_request from debugloop.debug_execution_attempts").fetchone() == (
        "use [redacted:openai-key]",
    )


def test_an_error_with_a_key_has_the_signature_of_the_redacted_text(dl, conn):
    expected = conn.execute(
        "select debugloop.error_signature('tool error', '401 Unauthorized: [redacted:openai-key]')"
    ).fetchone()[0]
    attempt = dl.attempts.start("fixer", "deploy", "gpt-4o")
    dl.attempts.finish(attempt, "error", error_type="tool error", error_message=f"401 Unauthorized: {OPENAI}")
    assert conn.execute(
        "select error_signature from debugloop.debug_execution_attempts where attempt_id = %s", (attempt,)
    ).fetchone() == (expected,)


def test_a_prompt_a_hook_records_is_redacted(conn):
    conn.execute(
        "select debugloop.agent_session_record('claude-code', 's-secret', 'hook', 'UserPromptSubmit', prompt => %s)",
        (f"deploy with OPENAI_API_KEY={OPENAI} please",),
    )
    (prompt,) = conn.execute(
        "select last_prompt from debugloop.debug_agent_sessions where session_key = 's-secret'"
    ).fetchone()
    assert OPENAI not in prompt and "[redacted:" in prompt and prompt.startswith("deploy with")


def test_code_registered_directly_keeps_no_key(conn):
    code = f'def call():\n    """Call the API."""\n    key = "{OPENAI}"\n    return client(key).models.list()\n'
    stf = conn.execute(
        "select debugloop.stf_register('call', %s, description => %s)", (code, f"uses {OPENAI}")
    ).fetchone()[0]
    stored = conn.execute(
        "select stf_code, stf_description, normalized_code from debugloop.debug_transform_functions where stf_id = %s",
        (stf,),
    ).fetchone()
    assert all(OPENAI not in text for text in stored) and "[redacted:" in stored[0]
    compile(stored[0], "stf", "exec")  # still code
