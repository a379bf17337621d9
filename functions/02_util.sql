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
