-- util: normalising and hashing text.

-- debugloop.util_normalize_request(text): the request with its incidental parts
-- removed, so that the same task asked twice has one fingerprint. Lower case; URLs
-- become <url>, UUIDs <uuid>, file paths <path> (absolute, ~/ ./ ../, Windows, and
-- relative paths that end in a file extension), standalone numbers <n>; runs of
-- white space become one space. Why: request fingerprints and approach hashes.
-- Locks: none.
create or replace function debugloop.util_normalize_request(request text)
returns text
language plpgsql
immutable
parallel safe
as $$
-- each rule runs only when a plain string test says it can match: the regular
-- expressions an attempt compiles stay within the backend's cache of 32
-- (tests/test_regex_cache.py)
declare
    s text := lower(request);
begin
    if strpos(s, '://') > 0 then
        s := regexp_replace(s, '[a-z][a-z0-9+.-]*://[^\s''"<>`]+', '<url>', 'g');
    end if;
    if strpos(s, '-') > 0 then
        s := regexp_replace(s, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g');
    end if;
    if strpos(s, '/') > 0 or strpos(s, '\') > 0 then
        s := regexp_replace(s, '(\m[a-z]:\\[^\s''"`]+|(?<![\w.~-])(~|\.{1,2})?/[^\s''"`(),;<>]+)', '<path>', 'g');
    end if;
    if strpos(s, '/') > 0 then
        s := regexp_replace(s, '\m[\w.-]+(/[\w.-]+)+\.[a-z0-9]+\M', '<path>', 'g');
    end if;
    if translate(s, '0123456789', '') <> s then  -- \d is an ASCII digit here
        s := regexp_replace(s, '\m\d+(\.\d+)?\M', '<n>', 'g');
    end if;
    return btrim(regexp_replace(s, '\s+', ' ', 'g'));
end
$$;
comment on function debugloop.util_normalize_request(text) is 'A request with case, white space, numbers, UUIDs, URLs and paths normalised away.';

-- debugloop.util_sha256(text): hex SHA-256 of the UTF-8 bytes. Locks: none.
create or replace function debugloop.util_sha256(input text)
returns text
language sql
immutable
parallel safe
as $$
    select encode(sha256(convert_to(input, 'UTF8')), 'hex')
$$;
comment on function debugloop.util_sha256(text) is 'Hex SHA-256 of a text''s UTF-8 bytes.';

-- debugloop.util_fingerprint(text): SHA-256 of the normalised request; equal for
-- requests that differ only in what util_normalize_request removes. Locks: none.
create or replace function debugloop.util_fingerprint(request text)
returns text
language sql
immutable
parallel safe
as $$
    select debugloop.util_sha256(debugloop.util_normalize_request(request))
$$;
comment on function debugloop.util_fingerprint(text) is 'The request fingerprint: SHA-256 of the normalised request.';

-- debugloop._util_may_hold_secret(text): false when the text holds none of what
-- util_redact looks for, true when it may (null for null): one scan for the words
-- and prefixes every pattern needs. Why: the cheap test that spares the patterns
-- to almost every text, and lets a caller test several texts at once. Locks: none.
create or replace function debugloop._util_may_hold_secret(input text)
returns boolean
language sql
immutable
parallel safe
as $$
    select input ~* '-----begin|eyj|sk-|aiza|gh[pousr]_|github_pat_|akia|asia|xox[a-z]-|hf_|bearer|authorization|://|pass|secret|token|key'
$$;

-- debugloop.util_redact(text, code): the text with the secrets in it replaced by
-- a marker naming their kind, `[redacted:<kind>]`: API keys and tokens of the
-- common providers (OpenAI, Anthropic, Google, GitHub, AWS, Slack, Hugging Face),
-- JWTs, private keys, bearer tokens and Authorization headers, passwords in URLs
-- (scheme://user:password@host), and the values assigned to names such as
-- password, secret, token, api_key (`password=...`, `"api_key": "..."`). With
-- `code` (artefacts: source code, as JSON text) only quoted values are taken from
-- assignments, so that code stays code. A match never takes a quote or a
-- backslash, so JSON text stays JSON. A text that names none of them costs one
-- scan. Why: texts are redacted before they are stored (attempts, imports), so
-- nothing built from them can show a secret. Locks: none.
create or replace function debugloop.util_redact(input text, code boolean default false)
returns text
language plpgsql
immutable
parallel safe
as $$
declare
    -- a token starts at a word boundary, or right after a JSON escape such as \n
    b constant text := '(?:(?<![A-Za-z0-9_-])|(?<=\\[nrtbf]))';
    -- the name of an assignment whose value is a secret
    secret_name constant text := '(password|passwd|passphrase|secret|token|apikey|(?:api|access|secret|private|auth|client|encryption|signing|master)[_-]?key)';
    redacted text := input;
begin
    if not coalesce(debugloop._util_may_hold_secret(input), false) then
        return input;
    end if;
    if strpos(redacted, '-----BEGIN ') > 0 then
        redacted := regexp_replace(redacted, '-----BEGIN [A-Z0-9 ]*?PRIVATE KEY-----[^"]*?-----END [A-Z0-9 ]*?PRIVATE KEY-----', '[redacted:private-key]', 'g');
    end if;
    if strpos(redacted, 'eyJ') > 0 then
        redacted := regexp_replace(redacted, 'eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}', '[redacted:jwt]', 'g');
    end if;
    if strpos(redacted, 'sk-') > 0 then
        redacted := regexp_replace(redacted, b || 'sk-ant-[A-Za-z0-9_-]{20,}', '[redacted:anthropic-key]', 'g');
        redacted := regexp_replace(redacted, b || 'sk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{20,}', '[redacted:openai-key]', 'g');
    end if;
    if strpos(redacted, 'AIza') > 0 then
        redacted := regexp_replace(redacted, b || 'AIza[0-9A-Za-z_-]{35,}', '[redacted:google-key]', 'g');
    end if;
    if redacted ~ 'gh[pousr]_|github_pat_' then
        redacted := regexp_replace(redacted, b || '(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})', '[redacted:github-token]', 'g');
    end if;
    if redacted ~ 'AKIA|ASIA' then
        redacted := regexp_replace(redacted, b || '(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])([\s,:;|/"''=]{1,5})[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])',
                              '[redacted:aws-access-key]\1[redacted:aws-secret-key]', 'g');
        redacted := regexp_replace(redacted, b || '(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])', '[redacted:aws-access-key]', 'g');
    end if;
    if strpos(redacted, 'xox') > 0 then
        redacted := regexp_replace(redacted, b || 'xox[a-z]-[A-Za-z0-9-]{10,}', '[redacted:slack-token]', 'g');
    end if;
    if strpos(redacted, 'hf_') > 0 then
        redacted := regexp_replace(redacted, b || 'hf_[A-Za-z0-9]{30,}', '[redacted:huggingface-token]', 'g');
    end if;
    if strpos(redacted, '://') > 0 then
        redacted := regexp_replace(redacted, '([a-z][a-z0-9+.-]*://[^\s/:@"''\\<>\[\]]*):[^\s/"''\\<>]+@', '\1:[redacted:password]@', 'gi');
    end if;
    if redacted ~* 'authorization' then
        redacted := regexp_replace(redacted, '(authorization\\?["'']?\s*[:=]\s*\\?["'']?)(basic|token|digest|negotiate)\s+(?!\[redacted)[^\s"'',;\\]{4,}',
                              '\1\2 [redacted:authorization]', 'gi');
        if not code then
            redacted := regexp_replace(redacted, '(authorization\\?["'']?\s*[:=]\s*)(?!\[redacted|bearer\s|basic\s|token\s|digest\s|negotiate\s)[^\s"'',;\\]{16,}',
                                  '\1[redacted:authorization]', 'gi');
        end if;
    end if;
    if redacted ~* 'bearer' then
        redacted := regexp_replace(redacted, '(?<![A-Za-z0-9])(bearer\s+)(?!\[redacted)(?=[A-Za-z0-9._~+/=-]*[0-9])[A-Za-z0-9._~+/=-]{12,}', '\1[redacted:bearer-token]', 'gi');
    end if;
    if redacted ~* '(?:pass(?:word|wd|phrase)|secret|token|key)\\?["'']?\s*[:=]' then
        -- a quoted value: "password": "...", password = '...'
        redacted := regexp_replace(redacted, secret_name || '(\\?["'']?\s*[:=]\s*\\?["''])(?![\[$<{*%\\])[^"''\\]+', '\1\2[redacted:secret]', 'gi');
        if not code then
            redacted := regexp_replace(redacted, secret_name || '(\s*=\s*)(?![\[$<{*%=]|(?:none|null|nil|true|false|undefined)\M)[^\s"''&,;\\()\[\]{}<>]+(?=$|[\s"''&,;\\)\]}>])',
                                  '\1\2[redacted:secret]', 'gi');
            redacted := regexp_replace(redacted, secret_name || '(\s*:\s*)(?!\[redacted)(?=[^\s"'',;\\]*[0-9])[^\s"'',;\\]{8,}', '\1\2[redacted:secret]', 'gi');
        end if;
    end if;
    return redacted;
end
$$;
comment on function debugloop.util_redact(text, boolean) is 'The text with API keys, tokens and passwords replaced by [redacted:<kind>] markers.';


-- debugloop.util_words(text): the words of a text or of code, lower case, with
-- identifiers split at camelCase and snake_case ("parseHTTPDate" -> "parse http
-- date"), everything else a single space. Locks: none.
create or replace function debugloop.util_words(input text)
returns text
language sql
immutable
parallel safe
as $$
    select btrim(regexp_replace(lower(regexp_replace(regexp_replace(coalesce(input, ''),
               '([a-z0-9])([A-Z])', '\1 \2', 'g'), '([A-Z]+)([A-Z][a-z])', '\1 \2', 'g')),
           '[^a-z0-9]+', ' ', 'g'))
$$;
comment on function debugloop.util_words(text) is 'The words of a text or of code: lower case, identifiers split at camelCase and snake_case.';

-- debugloop.util_features(text): the weighted features of a text for similarity:
-- the English stems of its words (util_words, then the 'english' text search
-- configuration, which also drops stop words), each weighing 1 + ln(occurrences),
-- and, for stems in debugloop.util_synonyms, their concept ('~concept') at half
-- the summed weight of its stems. The first 200,000 characters count. Locks: none.
create or replace function debugloop.util_features(input text)
returns table (feature text, weight double precision)
language sql
stable
parallel safe
as $$
    with stems as (
        select s.lexeme, 1 + ln(cardinality(s.positions)) as weight
          from unnest(to_tsvector('english', debugloop.util_words(left(input, 200000)))) s
    )
    select lexeme, weight from stems
    union all
    select '~' || y.concept, 0.5 * sum(s.weight)
      from stems s join debugloop.util_synonyms y on y.stem = s.lexeme
     group by y.concept
$$;
comment on function debugloop.util_features(text) is 'Weighted features of a text: English stems (1 + ln count) and their thesaurus concepts (half weight).';

-- debugloop._util_hashed_features(text): each feature of a text (util_features)
-- with its weight and a 32-bit hash, the first 8 hex digits of its MD5 (stable
-- across PostgreSQL versions). Why: the one hashing behind util_embed (256 signed
-- cells) and util_embed_sparse (2^20 cells). Locks: none.
create or replace function debugloop._util_hashed_features(input text)
returns table (h bigint, weight double precision)
language sql
stable
parallel safe
as $$
    select ('x' || left(md5(f.feature), 8))::bit(32)::bigint, f.weight
      from debugloop.util_features(input) f
$$;

-- debugloop.util_embed_sparse(text): the features of a text (util_features)
-- hashed by MD5 into 2^20 dimensions, so that distinct features practically never
-- share one; the 1,000 heaviest kept (pgvector indexes at most 1,000 non-zero
-- elements); L2-normalised. Null for a text without features. Why: STF matching by
-- cosine distance with an HNSW index; 256 dense dimensions lose too much to
-- collisions (bench/RESULTS.md). Locks: none.
create or replace function debugloop.util_embed_sparse(input text)
returns debugloop.sparsevec
language sql
stable
parallel safe
as $$
    with cells as (
        select 1 + (f.h & 1048575) as cell, sum(f.weight) as value
          from debugloop._util_hashed_features(input) f
         group by 1
         order by 2 desc
         limit 1000
    ), norm as (
        select sqrt(sum(value * value)) as n from cells
    )
    select case when norm.n > 0 then
           (select '{' || string_agg(c.cell || ':' || (c.value / norm.n)::real, ',' order by c.cell) || '}/1048576'
              from cells c)::debugloop.sparsevec end
      from norm
$$;
comment on function debugloop.util_embed_sparse(text) is 'A deterministic sparse embedding: util_features hashed into 2^20 dimensions, L2-normalised.';

-- debugloop.util_embed(text): a deterministic 256-dimension embedding of a text,
-- computed in SQL so that any client gets vector similarity without a model: its
-- features (util_features: English stems and thesaurus concepts, weighted)
-- hashed by MD5 (stable across PostgreSQL versions) with a sign, L2-normalised.
-- Null for a text without features. Why: "similar errors" by cosine distance with
-- an HNSW index over halfvec(256); STFs use the sparse form (util_embed_sparse),
-- whose 2^20 dimensions do not collide. Locks: none.
create or replace function debugloop.util_embed(input text)
returns debugloop.vector
language sql
stable
parallel safe
as $$
    with cells as (
        select 1 + (f.h & 255) as cell, sum(case when f.h & 256 = 0 then f.weight else -f.weight end) as value
          from debugloop._util_hashed_features(input) f
         group by 1
    ), norm as (
        select sqrt(sum(value * value)) as n from cells
    )
    select case when norm.n > 0 then
           (select array_agg((coalesce(c.value, 0) / norm.n)::real order by g)
              from generate_series(1, 256) g left join cells c on c.cell = g)::debugloop.vector end
      from norm
$$;
comment on function debugloop.util_embed(text) is 'A deterministic 256-dimension embedding: util_features hashed with a sign, L2-normalised.';

-- debugloop.util_embed_semantic(text): a 256-dimension embedding of a text by
-- meaning, computed in SQL without a model: the mean of the vectors of its stems
-- (util_words, then the 'english' text search configuration), each weighing
-- 1 + ln(occurrences) and, inside its vector, how rare the stem is; a stem
-- without a vector of its own takes one of 1,024 hashed fallback vectors ('#n',
-- by the first 32 bits of its MD5), so that an unknown identifier still counts.
-- L2-normalised; null for a text without stems. The vectors
-- (debugloop.util_word_vectors, migration 0060) were trained from
-- all-MiniLM-L6-v2 so that this mean approximates the model's sentence embedding
-- (tools/semantic_vectors.py). Why: STF matching and "similar problems" by
-- meaning from plain SQL (issue 16). The first 200,000 characters count.
-- Locks: none.
create or replace function debugloop.util_embed_semantic(input text)
returns debugloop.halfvec
language sql
stable
parallel safe
as $$
    select debugloop.l2_normalize(debugloop.sum(
               case when s.n = 1 then w.vector::debugloop.vector
                    else w.vector::debugloop.vector
                         operator(debugloop.*) array_fill((1 + ln(s.n))::real, array[256])::debugloop.vector end))::debugloop.halfvec
      from (select l.lexeme, cardinality(l.positions) as n
              from unnest(to_tsvector('english', debugloop.util_words(left(input, 200000)))) l) s
      join debugloop.util_word_vectors w
        on w.stem = coalesce((select v.stem from debugloop.util_word_vectors v where v.stem = s.lexeme),
                             '#' || (('x' || left(md5(s.lexeme), 8))::bit(32)::bigint % 1024))
$$;
comment on function debugloop.util_embed_semantic(text) is 'A 256-dimension embedding by meaning: the weighted mean of the text''s stem vectors (trained from all-MiniLM-L6-v2), L2-normalised.';

-- debugloop._util_uuid_prefix(id, field): the range of uuids that start with the
-- hex digits of `id` (a whole uuid, or at least 8 of its leading digits, as the
-- CLI prints ids). Raises DL001 naming `field` otherwise. Why: one rule for every
-- function that takes an id (attempts, correlation ids, STFs, golden states).
-- Locks: none.
create or replace function debugloop._util_uuid_prefix(id text, field text, out low uuid, out high uuid)
language plpgsql
immutable
as $$
declare
    digits text := lower(replace(btrim(coalesce(id, '')), '-', ''));
begin
    if digits !~ '^[0-9a-f]{8,32}$' then
        raise exception '% must be a UUID or at least 8 of its leading hex digits, got %', field, coalesce(quote_literal(id), 'NULL')
            using errcode = 'DL001', column = field;
    end if;
    low := rpad(digits, 32, '0')::uuid;
    high := rpad(digits, 32, 'f')::uuid;
end
$$;

-- debugloop._util_caller(): the database role on whose behalf the session acts:
-- the role it set (SET ROLE, which needs membership), else its login. Inside a
-- SECURITY DEFINER function current_user is the function's owner, so this is how
-- such a function learns who called it; no argument can change it. Why: who
-- recorded an attempt and who reviewed come from here. Locks: none.
create or replace function debugloop._util_caller()
returns name
language sql
stable
as $$
    select coalesce(nullif(current_setting('role'), 'none'), session_user)::name
$$;

-- debugloop._util_review(subject, id, decision, on_behalf_of, notes, automatic):
-- the review workflow that every reviewed thing shares: the transition rule, the
-- status change and the audit row of one item. A subject is a table keyed by a
-- uuid whose rows carry approval_status, approved_by and approved_at (and
-- approval_notes, where it has one), with an audit table of (key, decision,
-- reviewed_by, on_behalf_of, automatic, notes) rows. The subjects, named by the
-- prefix of their review functions (a new one adds its row to the list below):
--   stf     debug_transform_functions (stf_id), audited in debug_stf_reviews
--   golden  debug_golden_states (golden_state_id, approval_notes), audited in
--           debug_golden_reviews
-- Who reviewed is the calling role (_util_caller), or debugloop for an automatic
-- decision (`automatic`, which only debugloop's own functions pass); never an
-- argument. `on_behalf_of` is the name of the person the reviewer says it acts
-- for, kept as a note (null when it names the role itself); blank is DL001, and
-- so is debugloop, the automatic approver's name, which nobody may claim.
-- The rule: an unknown item is DL002; approving needs a pending item, rejecting a
-- pending or approved one, reopening (decision 'pending') an approved or rejected
-- one (DL010 otherwise, hinting at what is allowed). Approving and rejecting
-- record who and when, reopening clears them. Why: one workflow for STFs, golden
-- states and whatever is reviewed next. Locks: the item's row (FOR UPDATE).
create or replace function debugloop._util_review(subject text, id uuid, decision text, on_behalf_of text,
                                                  notes text, automatic boolean default false)
returns void
language plpgsql
volatile
as $$
declare
    item record;
    status text;
    reviewer name := case when automatic then 'debugloop' else debugloop._util_caller() end;
    person text := nullif(btrim(on_behalf_of), '');
begin
    select * into item
      from (values ('stf', 'STF', 'debug_transform_functions', 'stf_id', 'debug_stf_reviews', null),
                   ('golden', 'golden state', 'debug_golden_states', 'golden_state_id', 'debug_golden_reviews',
                    'approval_notes'))
           as s(subject, label, items, key, audit, notes_column)
     where s.subject = _util_review.subject;
    if not found then
        raise exception 'no review workflow for %', coalesce(quote_literal(subject), 'NULL')
            using errcode = 'internal_error';
    end if;
    execute format('select approval_status from debugloop.%I where %I = $1 for update', item.items, item.key)
       into status using id;
    if status is null then
        raise exception '% % does not exist', item.label, coalesce(id::text, 'NULL')
            using errcode = 'DL002', column = item.key;
    end if;
    if on_behalf_of is not null and person is null then
        raise exception 'reviewed_by must name the person reviewed for, or be left out'
            using errcode = 'DL001', column = 'reviewed_by',
                  detail = 'the review is recorded as made by your database role';
    end if;
    if lower(person) = 'debugloop' then
        raise exception 'debugloop is the name of the automatic approver: nobody reviews on its behalf'
            using errcode = 'DL001', column = 'reviewed_by',
                  detail = 'the review is recorded as made by your database role';
    end if;
    if (decision = 'approved' and status <> 'pending')
       or (decision = 'rejected' and status = 'rejected')
       or (decision = 'pending' and status = 'pending') then
        raise exception '% % is %: it cannot become %', item.label, id, status, decision
            using errcode = 'DL010', column = item.key,
                  hint = case when status = 'pending' then 'approve or reject it'
                              else format('reopen it first (debugloop.%s_reopen)', item.subject) end;
    end if;
    execute format('insert into debugloop.%I (%I, decision, reviewed_by, on_behalf_of, automatic, notes)'
                   ' values ($1, $2, $3, $4, $5, $6)', item.audit, item.key)
      using id, decision, reviewer, nullif(person, reviewer::text), coalesce(automatic, false), notes;
    execute format('update debugloop.%I set approval_status = $2,'
                   ' approved_by = case when $2 = ''pending'' then null else $3 end,'
                   ' approved_at = case when $2 = ''pending'' then null else now() end%s where %I = $1',
                   item.items,
                   case when item.notes_column is not null then format(', %I = $4', item.notes_column) else '' end,
                   item.key)
      using id, decision, reviewer::text, notes;
end
$$;

-- debugloop._util_check_k(k, k_max): DL001 naming k unless it lies in 1..k_max
-- (any positive k when k_max is null). Why: every search returns at most k rows,
-- and a k of 0, a negative one or null would silently return nothing (or fail in
-- LIMIT with a bare SQLSTATE); the maxima bound the work of one call. Locks: none.
create or replace function debugloop._util_check_k(k integer, k_max integer)
returns void
language plpgsql
immutable
as $$
begin
    if k is null or k < 1 or k > k_max then
        raise exception 'k must be %, got %', coalesce('between 1 and ' || k_max, 'a positive number'), coalesce(k::text, 'NULL')
            using errcode = 'DL001', column = 'k',
                  detail = format('k is how many rows to return: 1 to %s', coalesce(k_max::text, 'any'));
    end if;
end
$$;

-- debugloop._util_check_problem(problem, k, k_max): that a problem text is not
-- empty and k lies in 1..k_max (any positive k when k_max is null); DL001 naming
-- the argument otherwise. Why: every search by problem (stf_match, golden_match,
-- manifest, ...) takes these two arguments. Locks: none.
create or replace function debugloop._util_check_problem(problem text, k integer, k_max integer)
returns void
language plpgsql
immutable
as $$
begin
    if problem is null or btrim(problem) = '' then
        raise exception 'problem must not be empty' using errcode = 'DL001', column = 'problem';
    end if;
    perform debugloop._util_check_k(k, k_max);
end
$$;

-- debugloop._util_limit(value, field): a list's "limit" argument as LIMIT takes it:
-- null (no limit) or a number of rows, 0 or more; DL001 naming `field` for a
-- negative one. Why: LIMIT -1 fails with a bare 2201W; the list functions write
-- `limit debugloop._util_limit("limit")`. Locks: none.
create or replace function debugloop._util_limit(value integer, field text default 'limit')
returns integer
language plpgsql
immutable
as $$
begin
    if value < 0 then
        raise exception '% must be a number of rows (0 or more) or null for all, got %', field, value
            using errcode = 'DL001', column = field;
    end if;
    return value;
end
$$;

-- debugloop._util_check_number(value, field, low, high): DL001 naming `field`
-- unless `value` is null or a finite number in [low, high]. NaN and the infinities
-- lie outside every such range (PostgreSQL orders NaN above every number), so
-- they are refused too. Why: one rule for prices, scores and counts: money and
-- similarity are computed from finite numbers only. Locks: none.
create or replace function debugloop._util_check_number(value numeric, field text, low numeric, high numeric)
returns void
language plpgsql
immutable
as $$
begin
    if value < low or value > high then
        raise exception '% must be a finite number from % to %, got %', field, low, high, value
            using errcode = 'DL001', column = field,
                  detail = case when value in ('NaN', 'Infinity', '-Infinity') then 'NaN and infinite values are refused'
                                else format('%s lies outside [%s, %s]', value, low, high) end;
    end if;
end
$$;

-- debugloop._util_check_time(value, field, latest): DL001 naming `field` unless
-- `value` is null or a finite time from 1970-01-01 to `latest`. Why: an attempt
-- started at 'infinity' can never finish, one from 4713 BC gives durations and
-- rates that mean nothing. Locks: none.
create or replace function debugloop._util_check_time(value timestamptz, field text,
                                                      latest timestamptz default '9999-12-31 00:00:00+00')
returns void
language plpgsql
stable
as $$
begin
    if not isfinite(value) or value < '1970-01-01 00:00:00+00' or value > latest then
        raise exception '% must be a time from 1970-01-01 to %, got %', field, latest, value
            using errcode = 'DL001', column = field;
    end if;
end
$$;
