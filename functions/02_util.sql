-- util: normalising and hashing text.

-- debugloop.util_normalize_request(text): the request with its incidental parts
-- removed, so that the same task asked twice has one fingerprint. Lower case; URLs
-- become <url>, UUIDs <uuid>, file paths <path> (absolute, ~/ ./ ../, Windows, and
-- relative paths that end in a file extension), standalone numbers <n>; runs of
-- white space become one space. Why: request fingerprints and approach hashes.
-- Locks: none.
create or replace function debugloop.util_normalize_request(request text)
returns text
language sql
immutable
parallel safe
as $$
    select btrim(regexp_replace(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    regexp_replace(
                        regexp_replace(lower(request), '[a-z][a-z0-9+.-]*://[^\s''"<>`]+', '<url>', 'g'),
                        '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<uuid>', 'g'),
                    '(\m[a-z]:\\[^\s''"`]+|(?<![\w.~-])(~|\.{1,2})?/[^\s''"`(),;<>]+)', '<path>', 'g'),
                '\m[\w.-]+(/[\w.-]+)+\.[a-z0-9]+\M', '<path>', 'g'),
            '\m\d+(\.\d+)?\M', '<n>', 'g'),
        '\s+', ' ', 'g'))
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

-- debugloop.util_embed(text): a deterministic 256-dimension embedding of a text,
-- computed in SQL so that any client gets vector similarity without a model:
-- signed feature hashing (by MD5, stable across PostgreSQL versions) of its words,
-- of the parts of identifiers split at camelCase and snake_case, and of word
-- pairs at half weight, L2-normalised. Null for a text without words. Why:
-- "similar errors" (and similar code) by cosine distance with an HNSW index.
-- Locks: none.
create or replace function debugloop.util_embed(input text)
returns vector
language sql
immutable
parallel safe
as $$
    with words as (
        select w, i
          from regexp_split_to_table(lower(regexp_replace(input, '([a-z0-9])([A-Z])', '\1 \2', 'g')), '[^a-z0-9]+')
               with ordinality as t(w, i)
         where w <> ''
    ), features as (
        select w as feature, 1.0::float8 as weight from words
        union all
        select a.w || ' ' || b.w, 0.5 from words a join words b on b.i = a.i + 1
    ), hashed as (
        select ('x' || left(md5(feature), 8))::bit(32)::bigint as h, weight from features
    ), cells as (
        select 1 + (h & 255) as cell, sum(case when h & 256 = 0 then weight else -weight end) as value
          from hashed group by 1
    ), norm as (
        select sqrt(sum(value * value)) as n from cells
    )
    select case when norm.n > 0 then
           (select array_agg((coalesce(c.value, 0) / norm.n)::real order by g)
              from generate_series(1, 256) g left join cells c on c.cell = g)::vector end
      from norm
$$;
comment on function debugloop.util_embed(text) is 'A deterministic 256-dimension embedding (hashed words, identifier parts, word pairs), L2-normalised.';
