-- stf: the registry of reusable functions ("STFs"): normalising and hashing code,
-- registering and deduplicating it, extraction from successful attempts, quality
-- in five dimensions, matching a problem to STFs, reuse, approval.

-- debugloop._stf_family(language): the tokenizer family of a language: 'python',
-- 'c' for the brace languages (JavaScript, TypeScript, Go, Rust, Java, C, ...).
create or replace function debugloop._stf_family(language text)
returns text
language sql
immutable
parallel safe
as $$
    select case when lower(coalesce(language, 'python')) in ('python', 'py', 'python3') then 'python' else 'c' end
$$;

-- debugloop._stf_language_name(language): the name debugloop knows a language by,
-- or null for a language it does not tokenize. The languages: python (its own
-- tokenizer), and the languages read by the tokenizer of the brace languages:
-- javascript, typescript, go, rust, java, kotlin, c, cpp, csharp, php, swift,
-- ruby, shell, sql (those _stf_language_of names from a file's extension). Their
-- usual short names (py, js, ts, golang, rs, kt, c++, c#, cs, rb, sh, bash, ...)
-- are read as these.
create or replace function debugloop._stf_language_name(language text)
returns text
language sql
immutable
parallel safe
as $$
    select case l
        when 'py' then 'python' when 'python3' then 'python'
        when 'js' then 'javascript' when 'jsx' then 'javascript' when 'mjs' then 'javascript' when 'cjs' then 'javascript'
        when 'node' then 'javascript'
        when 'ts' then 'typescript' when 'tsx' then 'typescript'
        when 'golang' then 'go' when 'rs' then 'rust' when 'kt' then 'kotlin' when 'h' then 'c'
        when 'c++' then 'cpp' when 'cc' then 'cpp' when 'cxx' then 'cpp' when 'hpp' then 'cpp'
        when 'c#' then 'csharp' when 'cs' then 'csharp' when 'rb' then 'ruby'
        when 'sh' then 'shell' when 'bash' then 'shell' when 'zsh' then 'shell'
        else case when l in ('python', 'javascript', 'typescript', 'go', 'rust', 'java', 'kotlin', 'c', 'cpp',
                             'csharp', 'php', 'swift', 'ruby', 'shell', 'sql') then l end
    end
    from (select lower(btrim(language)) as l) s
$$;

-- debugloop._stf_language(language, field): _stf_language_name of a language
-- given as an argument, or DL001 naming `field` and listing the known languages.
-- Null stays null (the caller decides what null means). Why: an STF of a language
-- no tokenizer reads would be hashed and scored as if it were another. Locks: none.
create or replace function debugloop._stf_language(language text, field text default 'language')
returns text
language plpgsql
immutable
as $$
declare
    name text := debugloop._stf_language_name(language);
begin
    if language is not null and name is null then
        raise exception '% % is not a language debugloop reads', field, quote_literal(left(language, 100))
            using errcode = 'DL001', column = field,
                  detail = 'known: python, javascript, typescript, go, rust, java, kotlin, c, cpp, csharp, php, swift, ruby, shell, sql'
                           ' (and their short names: py, js, ts, golang, rs, kt, c++, c#, rb, sh, bash, ...)';
    end if;
    return name;
end
$$;

-- debugloop._stf_lex(code, family): the raw tokens of source code, in order:
-- strings (with prefixes, triple-quoted, template literals), comments, line
-- continuations, newlines, runs of blanks, numbers, names, operators. PostgreSQL
-- regular expressions match the longest alternative, as a lexer should.
create or replace function debugloop._stf_lex(code text, family text)
returns text[]
language sql
immutable
parallel safe
as $$
    select coalesce(array_agg(t[1] order by i), '{}')
      from regexp_matches(replace(replace(code, E'\r\n', E'\n'), E'\r', E'\n'),
           case family
           when 'python' then
               '((?:[rRbBuUfF]{1,2})?(?:''''''(?:[^''\\]|\\.|''(?!''''))*''''''|"""(?:[^"\\]|\\.|"(?!""))*""")'
               || '|(?:[rRbBuUfF]{1,2})?(?:''(?:[^''\\\n]|\\.)*''|"(?:[^"\\\n]|\\.)*")'
               || '|#[^\n]*|\\\n|\n|[ \t\f]+'
               || '|\d[\w.]*(?:[eE][-+]?\d+)?|[A-Za-z_]\w*'
               || '|\*\*=?|//=?|>>=?|<<=?|->|:=|\.\.\.|[-+*/%&|^@=!<>:]=|[-+*/%&|^~@<>=.,:;()\[\]{}]|.)'
           else
               '(//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/'
               || '|''(?:[^''\\\n]|\\.)*''|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`'
               || '|\n|[ \t\f]+'
               || '|\d[\w.]*(?:[eE][-+]?\d+)?|[A-Za-z_$][\w$]*'
               || '|>>>=|===|!==|\*\*=|<<=|>>=|>>>|\?\?=|\.\.\.|=>|==|!=|<=|>=|&&|\|\||\?\?|\?\.|\+\+|--|[-+*/%&|^]=|<<|>>|:=|<-|::|->|[-+*/%&|^~!<>=?.,:;()\[\]{}@#]|.)'
           end, 'g') with ordinality as r(t, i)
$$;

-- debugloop._stf_string(token, language): a string token in one canonical spelling,
-- so that 'x' and "x" (and '''x''' and """x""") are one token in Python and
-- JavaScript/TypeScript; other languages keep their quotes (in Go, C, Rust or Java
-- 'a' is a character, not a string).
create or replace function debugloop._stf_string(token text, language text)
returns text
language plpgsql
immutable
parallel safe
as $$
declare
    prefix text := lower(substring(token from '^[A-Za-z]*'));
    body text := substr(token, length(prefix) + 1);
    quote text;
begin
    if lower(coalesce(language, 'python')) not in ('python', 'py', 'python3', 'javascript', 'js', 'jsx', 'typescript', 'ts', 'tsx') then
        return token;
    end if;
    if left(body, 3) in ('''''''', '"""') then
        return prefix || '"""' || substr(body, 4, length(body) - 6) || '"""';
    end if;
    quote := left(body, 1);
    if quote not in ('''', '"') or length(body) < 2 or right(body, 1) <> quote then
        return token;  -- a template literal, or a lone quote the lexer could not pair
    end if;
    body := substr(body, 2, length(body) - 2);
    body := replace(replace(body, '\''', ''''), '\"', '"');
    return prefix || '"' || replace(body, '"', '\"') || '"';
end
$$;

-- debugloop._stf_tokens(code, language): the normalised token stream of source
-- code, the ground of the STF hash. Dropped: comments, docstrings (a string that
-- stands alone as the first statement of a module, class or function), blank
-- lines, white space (so indentation width and trailing blanks), newlines inside
-- brackets and after a backslash (so line wrapping), and a trailing comma before a
-- closing bracket. Kept: every name, operator, number and string (in one quote
-- style), and, for Python, the structure: NEWLINE, INDENT and DEDENT, as the
-- language itself reads it. Locks: none.
create or replace function debugloop._stf_tokens(code text, language text default 'python')
returns text[]
language plpgsql
immutable
parallel safe
as $$
declare
    family text := debugloop._stf_family(language);
    raw text[] := debugloop._stf_lex(code, family);
    n integer := cardinality(raw);
    out text[] := '{}';
    t text;
    i integer := 1;
    j integer;
    depth integer := 0;
    indents integer[] := '{0}';
    width integer := 0;
    line_start boolean := true;
    line_has_code boolean := false;
    line_first text;
    last_code text;
    expect_docstring boolean := true;
begin
    while i <= n loop
        t := raw[i];
        i := i + 1;
        -- blanks, comments, continuations
        if t ~ '^[ \t\f]+$' then
            if line_start then
                width := length(replace(t, E'\t', '        '));
            end if;
            continue;
        elsif left(t, 1) = '#' and family = 'python' then
            continue;
        elsif left(t, 2) in ('//', '/*') and family = 'c' then
            continue;
        elsif t = E'\\\n' then
            continue;
        elsif t = E'\n' then
            if family = 'c' or depth > 0 then
                continue;
            end if;
            if line_has_code then
                out := out || 'NEWLINE'::text;
                expect_docstring := last_code = ':' and line_first in ('def', 'class', 'async');
            end if;
            line_start := true;
            line_has_code := false;
            width := 0;
            continue;
        end if;

        -- a token of code
        if family = 'python' and line_start and depth = 0 then
            -- a docstring: the only token of the first statement after a header (or of the module)
            if expect_docstring and t ~ '^[rRbBuUfF]{0,2}[''"]' then
                j := i;
                while j <= n and (raw[j] ~ '^[ \t\f]+$' or left(raw[j], 1) = '#') loop
                    j := j + 1;
                end loop;
                if j > n or raw[j] = E'\n' then
                    i := j;
                    expect_docstring := false;
                    continue;
                end if;
            end if;
            expect_docstring := false;
            if width > indents[cardinality(indents)] then
                indents := indents || width;
                out := out || 'INDENT'::text;
            end if;
            while width < indents[cardinality(indents)] loop
                indents := indents[1:cardinality(indents) - 1];
                out := out || 'DEDENT'::text;
            end loop;
            line_first := t;
        end if;
        line_start := false;
        line_has_code := true;
        if t in ('(', '[', '{') then
            depth := depth + 1;
        elsif t in (')', ']', '}') then
            depth := greatest(depth - 1, 0);
            if out[cardinality(out)] = ',' then
                out := out[1:cardinality(out) - 1];  -- a trailing comma
            end if;
        end if;
        if t ~ '^[rRbBuUfF]{0,2}[''"`]' then
            t := debugloop._stf_string(t, language);
        end if;
        out := out || t;
        last_code := t;
    end loop;
    if family = 'python' then
        if line_has_code then
            out := out || 'NEWLINE'::text;
        end if;
        for j in 2 .. cardinality(indents) loop
            out := out || 'DEDENT'::text;
        end loop;
    end if;
    return out;
end
$$;

-- debugloop.stf_normalize(code, language): the normalised code as text: its tokens
-- (see _stf_tokens) separated by single spaces. Raises DL001 for a language
-- debugloop does not read (_stf_language). Locks: none.
create or replace function debugloop.stf_normalize(code text, language text default 'python')
returns text
language sql
immutable
parallel safe
as $$
    select array_to_string(debugloop._stf_tokens(code, debugloop._stf_language(language)), ' ')
$$;
comment on function debugloop.stf_normalize(text, text) is 'Code without comments, docstrings, blank lines and layout: the tokens that make its behaviour.';

-- debugloop._stf_hash_normalized(normalized, language): stf_hash from code already
-- normalised (stf_normalize), so that stf_register tokenizes the code once.
create or replace function debugloop._stf_hash_normalized(normalized text, language text)
returns text
language sql
immutable
parallel safe
as $$
    select debugloop.util_sha256(debugloop._stf_family(language) || E'\n' || normalized)
$$;

-- debugloop.stf_hash(code, language): hex SHA-256 of the language's tokenizer
-- family and the normalised code: reformatting, comments, docstrings, blank lines,
-- indentation width and trailing white space leave it; any other change, such as
-- a renamed call, an operator or a constant, changes it. Raises DL001 for a
-- language debugloop does not read. Locks: none.
create or replace function debugloop.stf_hash(code text, language text default 'python')
returns text
language sql
immutable
parallel safe
as $$
    select debugloop._stf_hash_normalized(debugloop.stf_normalize(code, language), debugloop._stf_language(language))
$$;
comment on function debugloop.stf_hash(text, text) is 'SHA-256 of normalised code: layout, comments and docstrings do not change it; behaviour does.';

-- debugloop._stf_line_count(tokens, code, language): _stf_lines given the code's
-- tokens (_stf_tokens; only Python's are read), for callers that have them.
create or replace function debugloop._stf_line_count(tokens text[], code text, language text)
returns integer
language sql
immutable
parallel safe
as $$
    select case when debugloop._stf_family(language) = 'python'
                then coalesce(cardinality(array_positions(tokens, 'NEWLINE')), 0)
                else (select count(*) from regexp_split_to_table(code, E'\n') l where btrim(l) !~ '^($|//|/\*|\*)')::integer
           end
$$;

-- debugloop._stf_lines(code, language): lines of code: logical lines for Python
-- (its NEWLINE tokens: no comments, docstrings or blank lines), else lines that are
-- not blank and not only a comment.
create or replace function debugloop._stf_lines(code text, language text default 'python')
returns integer
language sql
immutable
parallel safe
as $$
    select debugloop._stf_line_count(
        case when debugloop._stf_family(language) = 'python' then debugloop._stf_tokens(code, language) end, code, language)
$$;

-- debugloop._stf_docstring(code, language): the documentation of a unit: for
-- Python the docstring of its first definition (or module); otherwise the comment
-- block before the first line of code. Null when there is none.
create or replace function debugloop._stf_docstring(code text, language text default 'python')
returns text
language plpgsql
immutable
parallel safe
as $$
declare
    family text := debugloop._stf_family(language);
    raw text[] := debugloop._stf_lex(code, family);
    t text;
    seen_colon_line boolean := false;
    comments text := '';
begin
    foreach t in array raw loop
        continue when t ~ '^\s+$' or t = E'\\\n';
        if family = 'python' then
            continue when left(t, 1) = '#';
            if t ~ '^[rRbBuUfF]{0,2}(''''''|""")' then
                return btrim(regexp_replace(substr(t, length(substring(t from '^[A-Za-z]*')) + 4), '.{3}$', ''));
            elsif t ~ '^[rRbBuUfF]{0,2}[''"]' and seen_colon_line then
                return btrim(substr(t, length(substring(t from '^[A-Za-z]*')) + 2, length(t) - length(substring(t from '^[A-Za-z]*')) - 2));
            end if;
            if t = ':' then
                seen_colon_line := true;
            elsif seen_colon_line then
                return null;  -- the body starts with code
            end if;
        else
            if left(t, 2) = '//' then
                comments := comments || btrim(substr(t, 3)) || E'\n';
            elsif left(t, 2) = '/*' then
                comments := comments || regexp_replace(regexp_replace(substr(t, 3, length(t) - 4), '^\*', ''),
                                                       '(^|\n)[ \t]*\*[ \t]?', '\1', 'g') || E'\n';
            else
                return nullif(btrim(comments, E' \n\t'), '');
            end if;
        end if;
    end loop;
    return nullif(btrim(comments, E' \n\t'), '');
end
$$;

-- debugloop._stf_search_text(name, description, docstring, category, code):
-- what a problem is matched against: the name's words, the description, the
-- documentation, the category, and every word of the code (identifiers split,
-- comments and strings included: they say what the code is about).
create or replace function debugloop._stf_search_text(name text, description text, docstring text, category text,
                                                     code text)
returns text
language sql
immutable
parallel safe
as $$
    select concat_ws(E'\n', debugloop.util_words(name), description, docstring, debugloop.util_words(category),
                     debugloop.util_words(code))
$$;

-- debugloop._stf_set_search(stf): an STF with what a problem is matched against
-- in step with it: the search text (_stf_search_text), its full-text document
-- (name words weigh most, then description and documentation, then every word of
-- the code) and its SQL embeddings (util_embed_sparse, util_embed_semantic). Locks: none.
create or replace function debugloop._stf_set_search(stf debugloop.debug_transform_functions)
returns debugloop.debug_transform_functions
language plpgsql
stable
as $$
begin
    stf.search_text := debugloop._stf_search_text(stf.stf_name, stf.stf_description, stf.docstring,
                                                   stf.problem_category, stf.stf_code);
    stf.search_document :=
        setweight(to_tsvector('english', debugloop.util_words(stf.stf_name)), 'A')
        || setweight(to_tsvector('english', concat_ws(' ', stf.stf_description, stf.docstring,
                                                      debugloop.util_words(stf.problem_category))), 'B')
        || setweight(to_tsvector('english', stf.search_text), 'C');
    stf.embedding := debugloop.util_embed_sparse(stf.search_text);
    stf.embedding_semantic := debugloop.util_embed_semantic(stf.search_text);
    return stf;
end
$$;

-- debugloop._stf_code_stats(stf): the counts in an STF's code that _stf_rescore's
-- generality, size and complexity come from (see there): lines, path or URL
-- literals, credentials, magic numbers, branches, parameters. Why: the code never
-- changes, so its tokens are read once and the row kept in debug_stf_code_stats.
-- Locks: none.
create or replace function debugloop._stf_code_stats(s debugloop.debug_transform_functions)
returns debugloop.debug_stf_code_stats
language plpgsql
stable
as $$
declare
    c debugloop.debug_stf_code_stats;
    tokens text[] := debugloop._stf_tokens(s.stf_code, s.stf_language);
    t text;
    previous text := '';
begin
    c.stf_id := s.stf_id;
    c.lines := greatest(1, debugloop._stf_line_count(tokens, s.stf_code, s.stf_language));
    c.literals := 0; c.credentials := 0; c.magic := 0; c.branches := 0;
    foreach t in array tokens loop
        if t ~ '^[A-Za-z]{0,2}["`]' then
            if t ~ '://' or t ~ '^[A-Za-z]{0,2}["`](/|~/|[A-Za-z]:\\\\|\.\./)' or t ~ '^[A-Za-z]{0,2}["`][\w.-]+/[\w.-]+/' then
                c.literals := c.literals + 1;
            end if;
            if t ~ '(sk-[\w-]{8,}|ghp_\w{8,}|AKIA[0-9A-Z]{8,}|AIza[\w-]{8,}|xox[abpr]-|\[redacted:)'
               or (previous ~* '(password|passwd|secret|token|api_?key)' ) then
                c.credentials := c.credentials + 1;
            end if;
        elsif t ~ '^\d' and t not in ('0', '1', '2', '10', '100', '0.0', '1.0', '0.5') then
            c.magic := c.magic + 1;
        elsif t in ('if', 'elif', 'for', 'while', 'except', 'catch', 'case', 'and', 'or', '&&', '||', '?', '??') then
            c.branches := c.branches + 1;
        end if;
        if t not in ('=', ':', '==', '(', ',') then
            previous := t;
        end if;
    end loop;
    c.params := coalesce(
        jsonb_array_length(case when jsonb_typeof(s.stf_parameters) = 'array' then s.stf_parameters end),
        case when jsonb_typeof(s.stf_parameters) = 'object'
             then (select count(*) from jsonb_object_keys(s.stf_parameters))::integer end,
        -- else the names between the first parentheses of the definition
        (select count(*) from unnest(tokens[array_position(tokens, '(') + 1 : array_position(tokens, ')') - 1]) p
          where p ~ '^[A-Za-z_$][\w$]*$' and p not in ('self', 'cls'))::integer, 0);
    return c;
end
$$;

-- debugloop._stf_rescore(stf_id): the five quality dimensions of an STF, its
-- quality and complexity, from its code and its record (README, "STF quality"):
--   evidence      Wilson lower bound of successes / (successes + failures)
--   reuse         ln(1 + n) / ln(11), n = independent tasks (correlations) that reused it, at most 1
--   generality    1 - 0.25 per path or URL literal - 0.5 per credential (a key, or the marker util_redact left in its place) - 0.05 per magic
--                 number (at most 0.3) - 0.3 without parameters, at least 0
--   documentation 0.5 documentation + 0.3 a descriptive name + 0.2 a description
--   size          1 for 4..40 lines of code, falling to 0 at 1 line and at 150
--   quality       0.35 evidence + 0.15 reuse + 0.20 generality + 0.15 documentation + 0.15 size
--   complexity    branches (if, for, while, except, case, and, or, &&, ||, ?) / 15, at most 1
-- Locks: the STF's row.
create or replace function debugloop._stf_rescore(stf_id uuid)
returns void
language plpgsql
volatile
as $$
declare
    s debugloop.debug_transform_functions;
    c debugloop.debug_stf_code_stats;
    independent integer;
    evidence numeric; reuse numeric; generality numeric; documentation numeric; size numeric;
begin
    select * into s from debugloop.debug_transform_functions f where f.stf_id = _stf_rescore.stf_id for update;
    if not found then
        return;
    end if;
    select * into c from debugloop.debug_stf_code_stats cs where cs.stf_id = s.stf_id;
    if not found then
        c := debugloop._stf_code_stats(s);
        insert into debugloop.debug_stf_code_stats values (c.*) on conflict on constraint debug_stf_code_stats_pkey do nothing;
    end if;
    select count(distinct u.correlation_id) into independent
      from debugloop.debug_stf_uses u
     where u.stf_id = s.stf_id and u.correlation_id is distinct from s.source_correlation_id;

    evidence := debugloop.error_wilson(s.success_count, s.failure_count);
    reuse := least(1, ln(1 + independent) / ln(11));
    generality := greatest(0, 1 - 0.25 * c.literals - 0.5 * c.credentials - least(0.3, 0.05 * c.magic)
                              - case when c.params = 0 then 0.3 else 0 end);
    documentation := (case when coalesce(btrim(s.docstring), '') <> '' then 0.5 else 0 end)
                   + (case when cardinality(string_to_array(debugloop.util_words(s.stf_name), ' ')) >= 2
                                or length(s.stf_name) >= 8 then 0.3 else 0 end)
                   + (case when coalesce(btrim(s.stf_description), '') <> '' then 0.2 else 0 end);
    size := case when c.lines between 4 and 40 then 1
                 when c.lines < 4 then greatest(0, (c.lines - 1) / 3.0)
                 else greatest(0, 1 - (c.lines - 40) / 110.0) end;
    update debugloop.debug_transform_functions f
       set evidence_score = round(evidence, 2), reuse_score = round(reuse, 2), generality_score = round(generality, 2),
           documentation_score = round(documentation, 2), size_score = round(size, 2),
           complexity_score = round(least(1, c.branches / 15.0), 2),
           quality_score = round(0.35 * evidence + 0.15 * reuse + 0.20 * generality + 0.15 * documentation + 0.15 * size, 2)
     where f.stf_id = s.stf_id
       -- the same scores are not written again (most rescoring of known code changes none)
       and (f.evidence_score, f.reuse_score, f.generality_score, f.documentation_score, f.size_score,
            f.complexity_score, f.quality_score)
           is distinct from
           (round(evidence, 2), round(reuse, 2), round(generality, 2), round(documentation, 2), round(size, 2),
            round(least(1, c.branches / 15.0), 2),
            round(0.35 * evidence + 0.15 * reuse + 0.20 * generality + 0.15 * documentation + 0.15 * size, 2));
end
$$;

-- debugloop._stf_pointer_problems(parts): what is wrong with a code pointer, one
-- row per bad part, in the order of the parts. `parts` holds the parts as JSON
-- values under the column names of debug_stf_provenance (repository, branch,
-- commit_sha, file_path, line_start, line_end); a missing or null part is
-- unknown, never wrong. The rules: repository (at most 1,000 characters), branch
-- (255) and file_path (4,096) are non-blank strings without control characters
-- (DL052); commit_sha is 7 to 40 hex digits (DL051); line_start and line_end are
-- whole numbers of at least 1, line_end not before line_start and only with it,
-- and lines only with a file (DL050). `problem` completes a sentence that starts
-- with the part's name. Why: one set of rules for the callers that refuse
-- (stf_register, attempt_finish's artefacts) and the one that drops bad parts
-- (stf_extract, for what an importer read from a log). Locks: none.
create or replace function debugloop._stf_pointer_problems(parts jsonb)
returns table (field text, sqlstate text, problem text)
language sql
immutable
parallel safe
as $$
    with part as (
        select k.field, k.ord, k.max_length, parts -> k.field as v, jsonb_typeof(parts -> k.field) as kind
          from (values ('repository', 1, 1000), ('branch', 2, 255), ('commit_sha', 3, 40), ('file_path', 4, 4096),
                       ('line_start', 5, 0), ('line_end', 6, 0)) k(field, ord, max_length)
         where coalesce(jsonb_typeof(parts -> k.field), 'null') <> 'null'
    ),
    line as (
        select p.field, p.ord, case when p.kind = 'number' and p.v::text ~ '^[0-9]{1,9}$' then p.v::text::integer end as n,
               p.kind, p.v
          from part p where p.field like 'line%'
    ),
    found as (
        select p.ord, p.field, 'DL052' as sqlstate,
               case when p.kind <> 'string' then format('must be a string, got %s', p.kind)
                    when btrim(p.v #>> '{}') = '' then 'must not be empty'
                    when length(p.v #>> '{}') > p.max_length
                        then format('must be at most %s characters, got %s', p.max_length, length(p.v #>> '{}'))
                    when p.v #>> '{}' ~ '[[:cntrl:]]' then 'must not contain control characters' end as problem
          from part p where p.field in ('repository', 'branch', 'file_path')
        union all
        select p.ord, p.field, 'DL051',
               case when p.kind <> 'string' then format('must be a string of 7 to 40 hex digits, got %s', p.kind)
                    when p.v #>> '{}' !~ '^[0-9A-Fa-f]{7,40}$'
                        then format('must be 7 to 40 hex digits, got %s', quote_literal(left(p.v #>> '{}', 60))) end
          from part p where p.field = 'commit_sha'
        union all
        select l.ord, l.field, 'DL050',
               case when l.n is null or l.n < 1
                        then format('must be a whole number of at least 1, got %s', left(l.v::text, 60))
                    when l.field = 'line_end' and not exists (select from line s where s.field = 'line_start')
                        then 'needs line_start'
                    when l.field = 'line_end' and l.n < (select s.n from line s where s.field = 'line_start')
                        then format('(%s) must not be before line_start (%s)', l.n,
                                    (select s.n from line s where s.field = 'line_start'))
                    when l.field = 'line_start' and coalesce(jsonb_typeof(parts -> 'file_path'), 'null') = 'null'
                        then 'needs file_path: lines of what file' end
          from line l
    )
    select f.field, f.sqlstate, f.problem from found f where f.problem is not null order by f.ord
$$;

-- debugloop._stf_pointer_check(parts, names): refuse a code pointer with a bad
-- part (_stf_pointer_problems): its SQLSTATE, a message naming the part as the
-- caller calls it (`names` maps a part to that name, e.g. file_path to
-- artifacts.units[0].path; unmapped parts keep their own) and COLUMN the same.
-- Locks: none.
create or replace function debugloop._stf_pointer_check(parts jsonb, names jsonb default '{}')
returns void
language plpgsql
immutable
as $$
declare
    p record;
    name text;
begin
    select * into p from debugloop._stf_pointer_problems(parts) limit 1;
    if found then
        name := coalesce(names ->> p.field, p.field);
        raise exception '% %', name, p.problem
            using errcode = p.sqlstate, column = name,
                  hint = case p.sqlstate when 'DL051' then 'pass the commit''s SHA (git rev-parse HEAD), or null'
                                         when 'DL050' then 'lines are 1-based and inclusive: line_start <= line_end'
                                         else 'pass null for a part that is not known' end;
    end if;
end
$$;

-- debugloop._stf_pointer(parts): the code pointer of `parts` with its bad parts
-- (_stf_pointer_problems) left unknown: a bad line leaves both lines unknown, a
-- commit is kept in lower case. Why: stf_extract keeps what a log says where it
-- is valid, and drops the rest rather than refuse an attempt. Locks: none.
create or replace function debugloop._stf_pointer(parts jsonb)
returns debugloop.stf_pointer
language sql
immutable
parallel safe
as $$
    select case when parts is null or parts = '{}'::jsonb then null::debugloop.stf_pointer
           else row(case when not b.bad ? 'repository' then parts ->> 'repository' end,
                    case when not b.bad ? 'branch' then parts ->> 'branch' end,
                    case when not b.bad ? 'commit_sha' then lower(parts ->> 'commit_sha') end,
                    case when not b.bad ? 'file_path' then parts ->> 'file_path' end,
                    case when not b.bad ?| array['line_start', 'line_end', 'file_path'] then (parts ->> 'line_start')::integer end,
                    case when not b.bad ?| array['line_start', 'line_end', 'file_path'] then (parts ->> 'line_end')::integer end
                   )::debugloop.stf_pointer end
      from (select coalesce(jsonb_agg(p.field), '[]'::jsonb) as bad from debugloop._stf_pointer_problems(parts) p) b
$$;

-- debugloop._stf_check_artifact_pointers(artifacts): refuse the code pointers of
-- an attempt's artefacts that a caller passed with bad parts
-- (_stf_pointer_check): the artefacts' repository, branch and commit_sha, and
-- each snippet's and unit's path, line_start and line_end. Why: attempt_finish
-- takes them explicitly, so a bad value is an error, not an unknown; but while
-- import_units records a log (it sets debugloop.import_retries_only for its
-- loop, and finishes a unit imported as running through attempt_finish) nothing
-- is refused: what a log says is kept where it is valid (stf_extract). Locks: none.
create or replace function debugloop._stf_check_artifact_pointers(artifacts jsonb)
returns void
language plpgsql
stable
as $$
declare
    bad record;
begin
    if jsonb_typeof(artifacts) is distinct from 'object'
       or not artifacts ?| array['repository', 'branch', 'commit_sha', 'snippets', 'units']
       or current_setting('debugloop.import_retries_only', true) = 'on' then
        return;
    end if;
    -- every part at once, in the artefacts' order: the first bad one is refused
    select i.parts, i.names into bad
      from (select 0 as ord, 0::bigint as n,
                   jsonb_build_object('repository', artifacts -> 'repository', 'branch', artifacts -> 'branch',
                                      'commit_sha', artifacts -> 'commit_sha') as parts,
                   '{"repository": "artifacts.repository", "branch": "artifacts.branch",
                     "commit_sha": "artifacts.commit_sha"}'::jsonb as names
            union all
            select k.ord, e.i,
                   jsonb_build_object('file_path', e.u -> 'path', 'line_start', e.u -> 'line_start', 'line_end', e.u -> 'line_end'),
                   jsonb_build_object('file_path', format('artifacts.%s[%s].path', k.key, e.i - 1),
                                      'line_start', format('artifacts.%s[%s].line_start', k.key, e.i - 1),
                                      'line_end', format('artifacts.%s[%s].line_end', k.key, e.i - 1))
              from unnest(array['snippets', 'units']) with ordinality k(key, ord),
                   jsonb_array_elements(case when jsonb_typeof(artifacts -> k.key) = 'array' then artifacts -> k.key else '[]' end)
                       with ordinality e(u, i)
             where jsonb_typeof(e.u) = 'object' and e.u ?| array['line_start', 'line_end']) i
     where exists (select from debugloop._stf_pointer_problems(i.parts))
     order by i.ord, i.n
     limit 1;
    if found then
        perform debugloop._stf_pointer_check(bad.parts, bad.names);
    end if;
end
$$;

-- debugloop._stf_add_provenance(stf_id, attempt, contributor, inserted, pointer):
-- the attempt (or none) and contributor become a producer of an STF, with where
-- its code came from (`pointer`, valid or null; a producer that is recorded
-- already keeps its first pointer); when the STF was
-- there already (not `inserted`) and this is a new producer whose attempt
-- succeeded, the STF counts one more success; then its scores follow
-- (_stf_rescore). In a batch of learn_pending (_learn_batching) the success is
-- counted and the count and scores written once per STF at the batch's end: each
-- write of an STF row inserts into its HNSW and GIN indexes. Why: what
-- registering known code does, shared by _stf_register and stf_extract's path
-- for code seen before (debug_stf_seen_code). Locks: the
-- STF's row, taken before the provenance insert's foreign-key check takes a share
-- lock on it (two sessions holding share locks would deadlock on the update).
create or replace function debugloop._stf_add_provenance(
    stf_id uuid, attempt debugloop.debug_execution_attempts, contributor text, inserted boolean,
    pointer debugloop.stf_pointer default null)
returns void
language plpgsql
volatile
as $$
declare
    provenance_added integer;
begin
    if not inserted then
        perform from debugloop.debug_transform_functions f where f.stf_id = _stf_add_provenance.stf_id for update;
    end if;
    insert into debugloop.debug_stf_provenance (stf_id, attempt_id, contributor, repository, branch, commit_sha,
                                                file_path, line_start, line_end)
    values (_stf_add_provenance.stf_id, attempt.attempt_id, coalesce(_stf_add_provenance.contributor, attempt.agent_name),
            pointer.repository, pointer.branch, pointer.commit_sha, pointer.file_path, pointer.line_start, pointer.line_end)
    on conflict on constraint debug_stf_provenance_once do nothing;
    get diagnostics provenance_added = row_count;
    if debugloop._learn_batching() then
        -- in a batch of learn_pending: counted, and the row updated and rescored once, at the batch's end
        if not inserted and provenance_added > 0 and attempt.status = 'success' then
            perform debugloop._learn_count_success(_stf_add_provenance.stf_id);
        end if;
        return;
    end if;
    if not inserted and provenance_added > 0 and attempt.status = 'success' then
        -- the same code succeeded in one more attempt
        update debugloop.debug_transform_functions f set success_count = f.success_count + 1
         where f.stf_id = _stf_add_provenance.stf_id;
    end if;
    perform debugloop._stf_rescore(_stf_add_provenance.stf_id);
end
$$;

-- debugloop._stf_register(...): stf_register, and whether it inserted the row (a
-- new STF) rather than adding provenance to an existing one; `pointer` (checked
-- by the caller) is where this producer's code came from. Why: stf_extract
-- reports registered or deduplicated without hashing the code a second time.
-- Runs with its caller's rights (stf_register and stf_extract are SECURITY
-- DEFINER). Locks: the STF's row (the hash key serialises concurrent
-- registrations of one code).
create or replace function debugloop._stf_register(
    name text,
    code text,
    language text default 'python',
    description text default null,
    problem_category text default null,
    source_attempt_id uuid default null,
    contributor text default null,
    parameters jsonb default null,
    docstring text default null,
    pointer debugloop.stf_pointer default null,
    out stf_id uuid,
    out inserted boolean
)
language plpgsql
volatile
as $$
declare
    lang text := debugloop._stf_language(coalesce(language, 'python'));
    normalized text;
    hash text;
    attempt debugloop.debug_execution_attempts;
    id uuid;
begin
    if name is null or btrim(name) = '' then
        raise exception 'name must not be empty' using errcode = 'DL001', column = 'name';
    end if;
    if code is null or btrim(code) = '' then
        raise exception 'code must not be empty' using errcode = 'DL001', column = 'code';
    end if;
    if source_attempt_id is not null then
        select * into attempt from debugloop.debug_execution_attempts a where a.attempt_id = _stf_register.source_attempt_id;
        if not found then
            raise exception 'attempt % does not exist', source_attempt_id using errcode = 'DL002', column = 'source_attempt_id';
        end if;
    end if;
    -- secrets never reach the registry, whoever calls (artefacts are redacted on the attempt already)
    code := debugloop.util_redact(code, true);
    description := debugloop.util_redact(description);
    docstring := debugloop.util_redact(docstring, true);
    -- a repository URL may carry a token (https://user:token@host/...)
    pointer.repository := debugloop.util_redact(pointer.repository);
    pointer.branch := debugloop.util_redact(pointer.branch);
    pointer.file_path := debugloop.util_redact(pointer.file_path);
    normalized := debugloop.stf_normalize(code, lang);
    hash := debugloop._stf_hash_normalized(normalized, lang);
    insert into debugloop.debug_transform_functions as f (
        stf_name, stf_description, stf_hash, source_execution_id, source_correlation_id, contributor_agent_name,
        stf_code, stf_language, normalized_code, stf_parameters, docstring, problem_category, problem_signature,
        success_count)
    values (
        btrim(name), _stf_register.description, hash, _stf_register.source_attempt_id, attempt.correlation_id,
        coalesce(_stf_register.contributor, attempt.agent_name), _stf_register.code, lang,
        normalized, _stf_register.parameters,
        coalesce(_stf_register.docstring, debugloop._stf_docstring(_stf_register.code, lang)),
        coalesce(_stf_register.problem_category, attempt.problem_category),
        debugloop.util_normalize_request(attempt.user_request),
        case when attempt.status = 'success' then 1 else 0 end)
    on conflict on constraint debug_transform_functions_hash_key do nothing
    returning f.stf_id into id;
    inserted := id is not null;
    if not inserted then
        select f.stf_id into id from debugloop.debug_transform_functions f where f.stf_hash = hash;
    end if;
    perform debugloop._stf_add_provenance(id, attempt, _stf_register.contributor, inserted, pointer);
    stf_id := id;
end
$$;

-- debugloop.stf_register(...): register a unit of code as an STF, or, when the
-- same normalised code is registered already, add this attempt and contributor to
-- its provenance and return the existing id: never a second row. A code that
-- comes from a successful attempt counts that success. The producer's code
-- pointer (repository or working directory, branch, commit_sha, file_path,
-- line_start, line_end; each optional) is kept on its provenance row. Raises
-- DL001 for an empty name or code or a language debugloop does not read
-- (_stf_language: the known ones are listed), DL002 for an unknown attempt, and
-- for a bad pointer part (_stf_pointer_problems) DL050 (lines), DL051 (commit) or
-- DL052 (repository, branch, file_path). Locks: the STF's row (the hash key
-- serialises concurrent registrations of one code).
create or replace function debugloop.stf_register(
    name text,
    code text,
    language text default 'python',
    description text default null,
    problem_category text default null,
    source_attempt_id uuid default null,
    contributor text default null,
    parameters jsonb default null,
    docstring text default null,
    repository text default null,
    branch text default null,
    commit_sha text default null,
    file_path text default null,
    line_start integer default null,
    line_end integer default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    parts jsonb := jsonb_strip_nulls(jsonb_build_object(
        'repository', repository, 'branch', branch, 'commit_sha', commit_sha, 'file_path', file_path,
        'line_start', line_start, 'line_end', line_end));
begin
    perform debugloop._stf_pointer_check(parts);
    return (select r.stf_id
              from debugloop._stf_register(name, code, language, description, problem_category, source_attempt_id,
                                           contributor, parameters, docstring, debugloop._stf_pointer(parts)) r);
end
$$;
comment on function debugloop.stf_register(text, text, text, text, text, uuid, text, jsonb, text, text, text, text, text, integer, integer)
    is 'Register code as an STF; the same normalised code returns the existing id and adds provenance (with its code pointer).';
revoke execute on function debugloop.stf_register(text, text, text, text, text, uuid, text, jsonb, text, text, text, text, text, integer, integer) from public;
grant execute on function debugloop.stf_register(text, text, text, text, text, uuid, text, jsonb, text, text, text, text, text, integer, integer) to debugloop_agent, debugloop_admin;

-- debugloop._stf_trivial_lines(name, code, path, lines): _stf_trivial given the
-- code's line count (_stf_lines), for a caller that knows it already (stf_extract
-- reads it from debug_stf_seen_code rather than lexing the code again).
create or replace function debugloop._stf_trivial_lines(name text, code text, path text, lines integer)
returns text
language sql
immutable
parallel safe
as $$
    select case
        when lower(code) ~ '(auto-?generated|generated by|do not edit|@generated|code generated .* do not edit)'
            then 'generated code'
        when lower(coalesce(name, '')) ~ '^(test|_test)' or lower(coalesce(path, '')) ~ '(^|/)(tests?/|test_[^/]*$|[^/]*_test\.[a-z]+$|[^/]*\.(test|spec)\.[a-z]+$)'
            then 'a test'
        when lines < 3
            then 'fewer than 3 lines of code'
    end
$$;

-- debugloop._stf_trivial(name, code, language, path): why a unit is not worth
-- registering, or null: fewer than 3 lines of code (a one-line getter), a test
-- (a name starting with test, a file named test_*, *_test.*, *.test.*, *.spec.*
-- or under tests/), or generated code (a "generated" or "do not edit" marker).
create or replace function debugloop._stf_trivial(name text, code text, language text, path text)
returns text
language sql
immutable
parallel safe
as $$
    select debugloop._stf_trivial_lines(name, code, path, debugloop._stf_lines(code, language))
$$;

-- debugloop._stf_language_of(path): the language of a file by its extension.
create or replace function debugloop._stf_language_of(path text)
returns text
language sql
immutable
parallel safe
as $$
    select case lower(substring(coalesce(path, '') from '\.([A-Za-z0-9+]+)$'))
        when 'py' then 'python' when 'js' then 'javascript' when 'mjs' then 'javascript' when 'cjs' then 'javascript'
        when 'jsx' then 'javascript' when 'ts' then 'typescript' when 'tsx' then 'typescript' when 'go' then 'go'
        when 'rs' then 'rust' when 'java' then 'java' when 'kt' then 'kotlin' when 'rb' then 'ruby'
        when 'c' then 'c' when 'h' then 'c' when 'cc' then 'cpp' when 'cpp' then 'cpp' when 'hpp' then 'cpp'
        when 'cs' then 'csharp' when 'php' then 'php' when 'swift' then 'swift' when 'sh' then 'shell'
        when 'sql' then 'sql'
        else null end
$$;

-- debugloop._stf_diff_added(diff): the lines a unified diff adds, per file.
create or replace function debugloop._stf_diff_added(diff text)
returns table (path text, code text)
language plpgsql
immutable
as $$
declare
    line text;
    current_path text;
    added text := '';
begin
    if diff is null then
        return;
    end if;
    foreach line in array string_to_array(replace(diff, E'\r\n', E'\n'), E'\n') loop
        if line like '+++ %' then
            if current_path is not null and added <> '' then
                path := current_path; code := added; return next;
            end if;
            current_path := regexp_replace(substr(line, 5), '^b/|\t.*$', '', 'g');
            added := '';
        elsif line like '+%' and current_path is not null and current_path <> '/dev/null' then
            added := added || substr(line, 2) || E'\n';
        end if;
    end loop;
    if current_path is not null and current_path <> '/dev/null' and added <> '' then
        path := current_path; code := added; return next;
    end if;
end
$$;

-- debugloop.stf_extract(attempt_id): register the code of a successful attempt's
-- artefacts as STFs against it, and return what happened to each unit. The
-- artefacts may carry "units" (functions split by the Python client with `ast`:
-- name, code, language, path, parameters, docstring), "files" (path -> content),
-- "snippets" (list of {code, language, name}) and "diff" (a unified diff, whose
-- added lines per file count as a snippet). Without "units", files and snippets
-- are registered whole. Trivial units, and units of a language debugloop does
-- not read (_stf_language_name: a Markdown cell, COBOL), are skipped with the
-- reason (_stf_trivial). Code seen before (debug_stf_seen_code: the same
-- language and code, byte for byte) is not lexed again: its line count decides
-- whether it is trivial and, once registered, it is deduplicated onto its STF
-- directly. Each unit's producer keeps its code pointer (_stf_pointer: the
-- artefacts' repository, branch and commit_sha, the unit's path, line_start and
-- line_end; a whole file's lines are 1 to its last), bad parts left unknown.
-- Locks: the rows stf_register locks, the code's debug_stf_seen_code row.
create or replace function debugloop.stf_extract(attempt_id uuid)
returns table (name text, language text, action text, stf_id uuid, detail text)
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    attempt debugloop.debug_execution_attempts;
    unit record;
    why text;
    inserted boolean;
    seen_key uuid;
    seen debugloop.debug_stf_seen_code;
    place jsonb;
    pointer debugloop.stf_pointer;
begin
    select * into attempt from debugloop.debug_execution_attempts a where a.attempt_id = stf_extract.attempt_id;
    if not found then
        raise exception 'attempt % does not exist', coalesce(stf_extract.attempt_id::text, 'NULL')
            using errcode = 'DL002', column = 'attempt_id';
    end if;
    -- where the attempt's code lives, for every unit
    place := jsonb_strip_nulls(jsonb_build_object(
        'repository', attempt.artifacts -> 'repository', 'branch', attempt.artifacts -> 'branch',
        'commit_sha', attempt.artifacts -> 'commit_sha'));
    for unit in
        with art as (select coalesce(attempt.artifacts, '{}'::jsonb) as a),
        units as (
            select u ->> 'name' as name, u ->> 'code' as code,
                   coalesce(u ->> 'language', debugloop._stf_language_of(u ->> 'path'), 'python') as language,
                   u ->> 'path' as path, u -> 'parameters' as parameters, u ->> 'docstring' as docstring,
                   u -> 'line_start' as line_start, u -> 'line_end' as line_end
              from art, jsonb_array_elements(case when jsonb_typeof(art.a -> 'units') = 'array' then art.a -> 'units' else '[]' end) u
        ),
        files as (
            select regexp_replace(f.key, '^.*/', '') as name, f.value #>> '{}' as code,
                   debugloop._stf_language_of(f.key) as language, f.key as path, null::jsonb as parameters, null as docstring,
                   '1'::jsonb as line_start,
                   to_jsonb(cardinality(string_to_array(rtrim(f.value #>> '{}', E'\n'), E'\n'))) as line_end
              from art, jsonb_each(case when jsonb_typeof(art.a -> 'files') = 'object' then art.a -> 'files' else '{}' end) f
             where not exists (select from units) and jsonb_typeof(f.value) = 'string'
        ),
        snippets as (
            select coalesce(s ->> 'name', 'snippet ' || i) as name, s ->> 'code' as code,
                   coalesce(s ->> 'language', debugloop._stf_language_of(s ->> 'path'), 'python') as language,
                   s ->> 'path' as path, null::jsonb, null, s -> 'line_start',
                   -- without line_end, a snippet ends where its code does
                   coalesce(s -> 'line_end',
                            case when jsonb_typeof(s -> 'line_start') = 'number' and s ->> 'line_start' ~ '^[0-9]{1,9}$'
                                 then to_jsonb((s ->> 'line_start')::integer
                                               + cardinality(string_to_array(rtrim(s ->> 'code', E'\n'), E'\n')) - 1) end)
              from art, jsonb_array_elements(case when jsonb_typeof(art.a -> 'snippets') = 'array' then art.a -> 'snippets' else '[]' end)
                   with ordinality as x(s, i)
             where not exists (select from units)
        ),
        diffs as (
            select regexp_replace(d.path, '^.*/', '') || ' (diff)', d.code, debugloop._stf_language_of(d.path), d.path,
                   null::jsonb, null, null::jsonb, null::jsonb
              from art, debugloop._stf_diff_added(art.a ->> 'diff') d
             where not exists (select from units)
        )
        select * from units
        union all select * from files where files.language is not null
        union all select * from snippets
        union all select * from diffs where diffs.code is not null
    loop
        name := unit.name;
        language := coalesce(debugloop._stf_language_name(unit.language), unit.language);
        stf_id := null;
        detail := null;
        if unit.code is null or btrim(unit.code) = '' or unit.name is null then
            action := 'skipped';
            detail := 'no name or code';
            return next;
            continue;
        end if;
        if debugloop._stf_language_name(unit.language) is null then
            action := 'skipped';
            detail := format('language %s is not one debugloop reads', quote_literal(left(unit.language, 100)));
            return next;
            continue;
        end if;
        -- code seen before is not lexed again: its line count and STF are known
        seen_key := md5(language || E'\n' || unit.code)::uuid;
        select * into seen from debugloop.debug_stf_seen_code c where c.code_md5 = seen_key;
        if not found then
            seen := null;
            seen.lines := debugloop._stf_lines(unit.code, language);
            insert into debugloop.debug_stf_seen_code (code_md5, language, lines)
            values (seen_key, language, seen.lines)
            on conflict on constraint debug_stf_seen_code_pkey do nothing;
        end if;
        why := debugloop._stf_trivial_lines(unit.name, unit.code, unit.path, seen.lines);
        if why is not null then
            action := 'skipped';
            detail := why;
            return next;
            continue;
        end if;
        pointer := debugloop._stf_pointer(place || jsonb_strip_nulls(jsonb_build_object(
            'file_path', unit.path, 'line_start', unit.line_start, 'line_end', unit.line_end)));
        if seen.stf_id is not null then
            stf_id := seen.stf_id;
            perform debugloop._stf_add_provenance(stf_id, attempt, attempt.agent_name, false, pointer);
            action := 'deduplicated';
            return next;
            continue;
        end if;
        select r.stf_id, r.inserted into stf_id, inserted
          from debugloop._stf_register(unit.name, unit.code, unit.language, null, attempt.problem_category,
                                       attempt.attempt_id, attempt.agent_name, unit.parameters, unit.docstring,
                                       pointer) r;
        update debugloop.debug_stf_seen_code c set stf_id = stf_extract.stf_id
         where c.code_md5 = seen_key and c.stf_id is null;
        action := case when inserted then 'registered' else 'deduplicated' end;
        return next;
    end loop;
end
$$;
comment on function debugloop.stf_extract(uuid) is 'Register the code in an attempt''s artefacts as STFs (units, files, snippets, diff); trivial units are skipped.';
revoke execute on function debugloop.stf_extract(uuid) from public;
grant execute on function debugloop.stf_extract(uuid) to debugloop_agent, debugloop_admin;

-- debugloop._stf_extract_attempt(attempt): with the flag enable_stf_extraction on
-- for the session, the code of a successful attempt's artefacts becomes STFs
-- (stf_extract); in an import that defers learning (_learn_deferred) the
-- extraction is queued for learn_pending (functions/65_learn.sql). Why: the extraction trigger's rule.
-- Locks: the STF rows it registers, or the attempt's queue row.
create or replace function debugloop._stf_extract_attempt(attempt debugloop.debug_execution_attempts)
returns void
language plpgsql
volatile
as $$
begin
    if attempt.artifacts is not null and debugloop.settings_flag('enable_stf_extraction') then
        if debugloop._learn_deferred(attempt) then
            perform debugloop._learn_enqueue(attempt);
        else
            perform debugloop.stf_extract(attempt.attempt_id);
        end if;
    end if;
end
$$;

-- debugloop.stf_record_use(stf_id, attempt_id, success): an attempt reused an STF
-- and succeeded or not; counts, the last use and the scores follow. Recording the
-- same use twice is refused (DL011). Locks: the STF's row.
create or replace function debugloop.stf_record_use(stf_id uuid, attempt_id uuid, success boolean)
returns debugloop.debug_transform_functions
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    attempt debugloop.debug_execution_attempts;
    result debugloop.debug_transform_functions;
begin
    if success is null then
        raise exception 'success must be true or false' using errcode = 'DL001', column = 'success';
    end if;
    perform from debugloop.debug_transform_functions f where f.stf_id = stf_record_use.stf_id for update;
    if not found then
        raise exception 'STF % does not exist', coalesce(stf_record_use.stf_id::text, 'NULL')
            using errcode = 'DL002', column = 'stf_id';
    end if;
    select * into attempt from debugloop.debug_execution_attempts a where a.attempt_id = stf_record_use.attempt_id;
    if not found then
        raise exception 'attempt % does not exist', coalesce(stf_record_use.attempt_id::text, 'NULL')
            using errcode = 'DL002', column = 'attempt_id';
    end if;
    begin
        insert into debugloop.debug_stf_uses (stf_id, attempt_id, correlation_id, success)
        values (stf_record_use.stf_id, stf_record_use.attempt_id, attempt.correlation_id, stf_record_use.success);
    exception when unique_violation then
        raise exception 'the use of STF % by attempt % is recorded already', stf_record_use.stf_id, stf_record_use.attempt_id
            using errcode = 'DL011', column = 'attempt_id';
    end;
    update debugloop.debug_transform_functions f
       set usage_count = f.usage_count + 1,
           success_count = f.success_count + case when stf_record_use.success then 1 else 0 end,
           failure_count = f.failure_count + case when stf_record_use.success then 0 else 1 end,
           last_used_at = now()
     where f.stf_id = stf_record_use.stf_id;
    perform debugloop._stf_rescore(stf_record_use.stf_id);
    select * into result from debugloop.debug_transform_functions f where f.stf_id = stf_record_use.stf_id;
    return result;
end
$$;
comment on function debugloop.stf_record_use(uuid, uuid, boolean) is 'Record that an attempt reused an STF, and whether it succeeded.';
revoke execute on function debugloop.stf_record_use(uuid, uuid, boolean) from public;
grant execute on function debugloop.stf_record_use(uuid, uuid, boolean) to debugloop_agent, debugloop_admin;

-- debugloop._stf_review(stf_id, decision, on_behalf_of, notes): approve, reject or
-- reopen an STF with an audit row in debug_stf_reviews (_util_review: who
-- reviewed is the calling role; approving needs a pending STF, rejecting a pending
-- or approved one, reopening an approved or rejected one; DL010 otherwise), and
-- return it. Locks: the STF's row.
create or replace function debugloop._stf_review(stf_id uuid, decision text, on_behalf_of text, notes text)
returns debugloop.debug_transform_functions
language sql
volatile
as $$
    select debugloop._util_review('stf', stf_id, decision, on_behalf_of, notes);
    select f.* from debugloop.debug_transform_functions f where f.stf_id = _stf_review.stf_id;
$$;

-- debugloop.stf_approve(stf_id, approved_by, notes): approve a pending STF; it is
-- then recommended whatever its quality. Admin only; audited in debug_stf_reviews
-- as the calling role (approved_by, optional, names the person it acts for: a
-- note). Raises DL010 unless pending. Locks: the STF's row.
create or replace function debugloop.stf_approve(stf_id uuid, approved_by text default null, notes text default null)
returns debugloop.debug_transform_functions
language sql volatile security definer set search_path = debugloop, pg_catalog, pg_temp
as $$ select * from debugloop._stf_review(stf_id, 'approved', approved_by, notes) $$;
comment on function debugloop.stf_approve(uuid, text, text) is 'Approve a pending STF (admin; audited as your role).';

-- debugloop.stf_reject(stf_id, rejected_by, notes): reject a pending or approved
-- STF; it is never recommended. Admin only; audited as the calling role. Locks:
-- the STF's row.
create or replace function debugloop.stf_reject(stf_id uuid, rejected_by text default null, notes text default null)
returns debugloop.debug_transform_functions
language sql volatile security definer set search_path = debugloop, pg_catalog, pg_temp
as $$ select * from debugloop._stf_review(stf_id, 'rejected', rejected_by, notes) $$;
comment on function debugloop.stf_reject(uuid, text, text) is 'Reject an STF so that it is never recommended (admin; audited as your role).';

-- debugloop.stf_reopen(stf_id, reopened_by, notes): put an approved or rejected
-- STF back to pending. Admin only; audited as the calling role. Locks: the STF's
-- row.
create or replace function debugloop.stf_reopen(stf_id uuid, reopened_by text default null, notes text default null)
returns debugloop.debug_transform_functions
language sql volatile security definer set search_path = debugloop, pg_catalog, pg_temp
as $$ select * from debugloop._stf_review(stf_id, 'pending', reopened_by, notes) $$;
comment on function debugloop.stf_reopen(uuid, text, text) is 'Put an approved or rejected STF back to pending (admin; audited as your role).';

revoke execute on function debugloop.stf_approve(uuid, text, text), debugloop.stf_reject(uuid, text, text),
                           debugloop.stf_reopen(uuid, text, text) from public;
grant execute on function debugloop.stf_approve(uuid, text, text), debugloop.stf_reject(uuid, text, text),
                          debugloop.stf_reopen(uuid, text, text) to debugloop_admin;

-- debugloop.stf_get(stf_id): one STF by its id or a unique prefix of at least 8
-- hex digits (as the CLI prints it); DL002 when none, DL001 when the prefix is
-- ambiguous or not hex. Locks: none.
create or replace function debugloop.stf_get(stf_id text)
returns debugloop.debug_transform_functions
language plpgsql
stable
as $$
declare
    prefix record := debugloop._util_uuid_prefix(stf_id, 'stf_id');
    found_rows debugloop.debug_transform_functions[];
begin
    select array_agg(f) into found_rows
      from (select * from debugloop.debug_transform_functions f
             where f.stf_id between prefix.low and prefix.high
             limit 2) f;
    if found_rows is null then
        raise exception 'STF % does not exist', stf_id using errcode = 'DL002', column = 'stf_id';
    elsif cardinality(found_rows) > 1 then
        raise exception 'STF id prefix % is ambiguous', stf_id using errcode = 'DL001', column = 'stf_id', hint = 'give more hex digits';
    end if;
    return found_rows[1];
end
$$;
comment on function debugloop.stf_get(text) is 'One STF by its id or a unique prefix of at least 8 hex digits.';

-- debugloop._stf_semantic_backfill(): what has no semantic embedding yet gets
-- one (util_embed_semantic): STFs with a search text (registered before
-- migration 0060), problems and golden states (whose hashed embeddings migration
-- 0062 cleared); the number of rows updated. Why: a migration cannot compute it,
-- as functions/ is loaded after the migrations; debugloop.migrate runs this after
-- every reload. Locks: the rows it updates.
create or replace function debugloop._stf_semantic_backfill()
returns bigint
language sql
volatile
as $$
    with stfs as (
        update debugloop.debug_transform_functions f
           set embedding_semantic = debugloop.util_embed_semantic(f.search_text)
         where f.embedding_semantic is null and f.search_text <> ''
        returning 1
    ), problems as (
        update debugloop.debug_problems p
           set embedding = debugloop.util_embed_semantic(p.user_request)
         where p.embedding is null
        returning 1
    ), golden as (
        update debugloop.debug_golden_states g
           set embedding = debugloop.util_embed_semantic(g.problem_description)
         where g.embedding is null and g.problem_description is not null
        returning 1
    )
    select (select count(*) from stfs) + (select count(*) from problems) + (select count(*) from golden)
$$;

-- debugloop.stf_match(problem, k, language, problem_category, approved_only,
-- query_embedding, embedding_model): the STFs for a problem, best first. Only
-- recommendable STFs take part: approved ones, and pending ones whose quality
-- reaches the setting stf_recommend_min_quality. Candidates: the 50 nearest by
-- cosine distance, of the SQL embedding by meaning (util_embed_semantic of the
-- problem), or of the neural one when query_embedding is given with its model. Filters (language,
-- category, approved only) apply inside the HNSW scan (pgvector iterative scan,
-- bounded by the setting stf_max_scan_tuples); when fewer STFs than the setting
-- stf_exact_search_below (2,000) pass them or are in the registry, or the bounded
-- scan found fewer than k, an exact search runs instead, so k rows come back
-- whenever k match and a filter that matches nothing costs no scan.
-- Ranking (README, "STF matching"):
--   similarity = 1 - cosine distance of the embeddings (the SQL path: of the lexical
--                embedding, util_embed_sparse)
--   meaning    = 1 - cosine distance of util_embed_semantic (the SQL path; the neural
--                path: the similarity)
--   text       = ts_rank of the full-text document against any word of the problem, the
--                name weighing 1, description and docstring 0.4, the code 0.2; scaled to 0..1
--   match      = w * meaning + (1 - w) * similarity, w the setting stf_semantic_weight
--                (the neural path: the similarity)
--   score      = (match + 0.1 * text) * (0.8 + 0.2 * quality) * (0.9 + 0.1 * evidence)
--   confidence = similarity * (0.5 + 0.5 * evidence), 0..1
-- Raises DL001 for an empty problem, k outside 1..1000, a language debugloop does
-- not read, a query_embedding without its model or one that _stf_check_embedding
-- refuses. Locks: none.
create or replace function debugloop.stf_match(
    problem text,
    k integer default 5,
    language text default null,
    problem_category text default null,
    approved_only boolean default false,
    query_embedding debugloop.vector default null,
    embedding_model text default null
)
returns table (stf_id uuid, stf_name text, stf_language text, category text, approval_status text,
               similarity real, text_rank real, score real, confidence numeric, quality_score numeric,
               success_rate numeric, success_count integer, failure_count integer, usage_count integer,
               stf_description text, docstring text, stf_code text)
language plpgsql
stable
as $$
declare
    neural boolean := query_embedding is not null;
    probe debugloop.sparsevec;
    meaning debugloop.halfvec;
    semantic_weight real := debugloop._settings_number('stf_semantic_weight');
    min_quality numeric := debugloop._settings_number('stf_recommend_min_quality');
    lang text := debugloop._stf_language(language);
    query tsquery;
    filters text;
    distance text;
    matching bigint;
    estimate real;
    exact_below integer := debugloop._settings_number('stf_exact_search_below')::integer;
    candidates uuid[];
    distances real[];
begin
    perform debugloop._util_check_problem(problem, k, 1000);
    if neural and (embedding_model is null or btrim(embedding_model) = '') then
        raise exception 'embedding_model must name the model of query_embedding' using errcode = 'DL001', column = 'embedding_model';
    end if;
    if neural then
        perform debugloop._stf_check_embedding(query_embedding, 'query_embedding');
    end if;
    if not neural then
        probe := debugloop.util_embed_sparse(problem);
        meaning := debugloop.util_embed_semantic(problem);
        if probe is null or meaning is null then
            return;  -- no word to match
        end if;
    end if;
    -- any word of the problem may match (OR); ts_rank weighs how often and in which part
    query := (select to_tsquery('english', string_agg(quote_literal(l), ' | '))
                from unnest(tsvector_to_array(to_tsvector('english', debugloop.util_words(problem)))) l);

    -- the filters, and the distance the candidates are ordered by
    filters := concat_ws(' and ', 'true',
        case when lang is not null then 'f.stf_language = $2' end,
        case when problem_category is not null then 'f.problem_category = $3' end,
        case when approved_only then $f$f.approval_status = 'approved'$f$
             else $f$(f.approval_status = 'approved' or (f.approval_status = 'pending' and f.quality_score >= $4))$f$ end,
        case when neural then 'f.embedding_model = $5' end);
    distance := case when neural then 'f.embedding_neural operator(debugloop.<=>) $6' else 'f.embedding_semantic operator(debugloop.<=>) $7' end;
    -- a selective filter or a small registry: when fewer than stf_exact_search_below
    -- STFs pass the filters, an exact search over them is cheaper than an index
    -- scan that would visit many to find few, and its answer does not depend on
    -- the graph (reltuples is -1 before the first analyze)
    select c.reltuples into estimate from pg_class c where c.oid = 'debugloop.debug_transform_functions'::regclass;
    if exact_below > 0 and (lang is not null or problem_category is not null or approved_only or estimate < exact_below) then
        execute format('select count(*) from (select from debugloop.debug_transform_functions f where %s limit %s) m', filters, exact_below)
           into matching using probe, lang, problem_category, min_quality, btrim(embedding_model), query_embedding, meaning;
    end if;
    if matching is null or matching >= exact_below then
        -- the HNSW index, the filters applied inside the scan (iterative, bounded)
        perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
        perform set_config('hnsw.max_scan_tuples', (debugloop.settings_get('stf_max_scan_tuples') #>> '{}'), true);
        perform set_config('hnsw.ef_search', '100', true);
        execute format('select array_agg(c.id order by c.d), array_agg(c.d order by c.d) from (select f.stf_id as id, %1$s as d'
                       ' from debugloop.debug_transform_functions f where %2$s order by %1$s limit 50) c', distance, filters)
           into candidates, distances using probe, lang, problem_category, min_quality, btrim(embedding_model), query_embedding, meaning;
    end if;
    if coalesce(cardinality(candidates), 0) < least(k, 50) and (matching is null or matching > 0) then
        -- an exact search (the + 0 keeps the index out): few match, or the bounded scan stopped early
        execute format('select array_agg(c.id order by c.d), array_agg(c.d order by c.d) from (select f.stf_id as id, %1$s as d'
                       ' from debugloop.debug_transform_functions f where %2$s order by (%1$s) + 0 limit 50) c', distance, filters)
           into candidates, distances using probe, lang, problem_category, min_quality, btrim(embedding_model), query_embedding, meaning;
    end if;

    -- rank the candidates on the narrow columns, then fetch the wide ones (code,
    -- texts) for the k best only
    return query
    with vec as (
        select c.id, d.distance
          from unnest(coalesce(candidates, '{}')) with ordinality as c(id, ord)
          join unnest(coalesce(distances, '{}')) with ordinality as d(distance, ord) on d.ord = c.ord
    ), lexical as (
        -- the SQL path: candidates by meaning, their lexical similarity exact
        select vec.id, case when neural then vec.distance else d.lexical end as distance,
               case when neural then 1 - vec.distance
                    else semantic_weight * (1 - vec.distance) + (1 - semantic_weight) * (1 - d.lexical) end as fused,
               f.search_document, f.quality_score, f.evidence_score
          from vec join debugloop.debug_transform_functions f on f.stf_id = vec.id
         cross join lateral (select coalesce(f.embedding operator(debugloop.<=>) probe, 1) as lexical) d
    ), ranked as (
        select l.id, l.distance, r.text_value,
               ((l.fused + 0.1 * r.text_value) * (0.8 + 0.2 * coalesce(l.quality_score, 0))
                                               * (0.9 + 0.1 * coalesce(l.evidence_score, 0)))::real as score
          from lexical l
         cross join lateral (select coalesce(ts_rank('{0.1, 0.2, 0.4, 1.0}', l.search_document, query, 32), 0) as text_value) r
         order by 4 desc, l.id
         limit k
    )
    select x.stf_id, x.stf_name, x.stf_language, x.problem_category, x.approval_status,
           (1 - b.distance)::real, b.text_value::real, b.score,
           round((greatest(0, 1 - b.distance) * (0.5 + 0.5 * coalesce(x.evidence_score, 0)))::numeric, 2),
           x.quality_score,
           round(x.success_count::numeric / nullif(x.success_count + x.failure_count, 0), 2),
           x.success_count, x.failure_count, x.usage_count, x.stf_description, x.docstring, x.stf_code
      from ranked b join debugloop.debug_transform_functions x on x.stf_id = b.id
     order by b.score desc, x.stf_id;
end
$$;
comment on function debugloop.stf_match(text, integer, text, text, boolean, debugloop.vector, text)
    is 'The STFs for a problem: nearest by embedding, fused with full-text rank, weighed by quality and evidence.';

-- debugloop.v_stfs: the STF browser's list.
create or replace view debugloop.v_stfs as
select f.stf_id, f.stf_name, f.stf_language, f.problem_category, f.approval_status, f.quality_score,
       f.usage_count, f.success_count, f.failure_count,
       (select count(*) from debugloop.debug_stf_provenance p where p.stf_id = f.stf_id) as provenance_count,
       f.discovered_at, f.last_used_at, f.contributor_agent_name, f.stf_description
  from debugloop.debug_transform_functions f;
comment on view debugloop.v_stfs is 'STFs with their quality, usage, approval and how many attempts produced them.';

-- debugloop.stf_list(status, language, attempt_id, limit): the STFs of v_stfs of
-- one approval status and language, and only those that one attempt produced (by
-- its id or a unique prefix of 8+ hex digits), where each is given (null: any);
-- best quality first, then most used, then newest, then by name (the STFs of one
-- import batch are discovered at the same time); at most `limit` (null: all).
-- Locks: none.
create or replace function debugloop.stf_list(
    status text default null,
    language text default null,
    attempt_id text default null,
    "limit" integer default 50
)
returns setof debugloop.v_stfs
language sql
stable
as $$
    select v.*
      from debugloop.v_stfs v
     where (stf_list.status is null or v.approval_status = stf_list.status)
       and (stf_list.language is null or v.stf_language = debugloop._stf_language(stf_list.language))
       and (stf_list.attempt_id is null
            or v.stf_id in (select p.stf_id from debugloop.debug_stf_provenance p where p.attempt_id = debugloop._attempt_resolve(stf_list.attempt_id, 'attempt_id')))
     order by v.quality_score desc nulls last, v.usage_count desc, v.discovered_at desc, v.stf_name, v.stf_id
     limit debugloop._util_limit(stf_list."limit")
$$;
comment on function debugloop.stf_list(text, text, text, integer) is 'STFs by quality, optionally of one status and language, or those one attempt produced.';

-- debugloop.stf_export(status, language): every STF (of one approval status and
-- language, where given) with its scores, usage, provenance count, documentation,
-- parameters and code, oldest first. Why: a CSV or JSON export of the registry.
-- Locks: none.
create or replace function debugloop.stf_export(status text default null, language text default null)
returns table (stf_id uuid, stf_name text, stf_language text, problem_category text, approval_status text,
               approved_by text, approved_at timestamptz, quality_score numeric, evidence_score numeric,
               reuse_score numeric, generality_score numeric, documentation_score numeric, size_score numeric,
               complexity_score numeric, usage_count integer, success_count integer, failure_count integer,
               provenance_count bigint, contributor_agent_name text, discovered_at timestamptz,
               last_used_at timestamptz, stf_hash text, stf_description text, docstring text,
               stf_parameters jsonb, stf_code text)
language sql
stable
as $$
    select f.stf_id, f.stf_name, f.stf_language, f.problem_category, f.approval_status, f.approved_by, f.approved_at,
           f.quality_score, f.evidence_score, f.reuse_score, f.generality_score, f.documentation_score, f.size_score,
           f.complexity_score, f.usage_count, f.success_count, f.failure_count,
           (select count(*) from debugloop.debug_stf_provenance p where p.stf_id = f.stf_id),
           f.contributor_agent_name, f.discovered_at, f.last_used_at, f.stf_hash, f.stf_description, f.docstring,
           f.stf_parameters, f.stf_code
      from debugloop.debug_transform_functions f
     where (stf_export.status is null or f.approval_status = stf_export.status)
       and (stf_export.language is null or f.stf_language = debugloop._stf_language(stf_export.language))
     order by f.discovered_at, f.stf_id
$$;
comment on function debugloop.stf_export(text, text) is 'Every STF with its scores, provenance count, documentation and code, oldest first (an export).';

-- debugloop.stf_reembed(): recompute every STF's SQL embedding, after the
-- thesaurus (debugloop.util_synonyms) changed. Returns how many. Admin only.
-- Locks: every STF row, one statement.
create or replace function debugloop.stf_reembed()
returns bigint
language sql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
    with updated as (
        update debugloop.debug_transform_functions f
           set embedding = debugloop.util_embed_sparse(f.search_text),
               embedding_semantic = debugloop.util_embed_semantic(f.search_text)
        returning 1
    )
    select count(*) from updated
$$;
comment on function debugloop.stf_reembed() is 'Recompute every STF''s SQL embeddings (after a change of debugloop.util_synonyms or of the word vectors).';
revoke execute on function debugloop.stf_reembed() from public;
grant execute on function debugloop.stf_reembed() to debugloop_admin;

-- debugloop.v_stf_provenance: every attempt and contributor that produced an STF's
-- code, and where that code came from (repository or working directory, branch,
-- commit, file, lines; null where the source did not say).
create or replace view debugloop.v_stf_provenance as
select p.stf_id, p.attempt_id, p.contributor, p.registered_at, a.status, a.user_request,
       p.repository, p.branch, p.commit_sha, p.file_path, p.line_start, p.line_end
  from debugloop.debug_stf_provenance p
  left join debugloop.debug_execution_attempts a on a.attempt_id = p.attempt_id;
comment on view debugloop.v_stf_provenance is 'The attempts and contributors that produced each STF''s code, with how the attempt ended and where the code came from.';

-- debugloop.stf_embedding_queue(model, after, limit): the STFs that `model` has
-- not embedded (stf_set_embedding) yet, with the text to embed, in id order after
-- `after` (null: from the first), at most `limit` (null: all). Why: a client
-- embeds them in batches and resumes after the last id it stored;
-- count(*) of it with only the model is how many are left. Locks: none.
create or replace function debugloop.stf_embedding_queue(model text, after uuid default null,
                                                         "limit" integer default null)
returns table (stf_id uuid, search_text text)
language sql
stable
as $$
    select f.stf_id, f.search_text
      from debugloop.debug_transform_functions f
     where f.embedding_model is distinct from stf_embedding_queue.model
       and (stf_embedding_queue.after is null or f.stf_id > stf_embedding_queue.after)
     order by f.stf_id
     limit debugloop._util_limit(stf_embedding_queue."limit")
$$;
comment on function debugloop.stf_embedding_queue(text, uuid, integer) is 'STFs not yet embedded by a model, with the text to embed, in id order (resumable batches).';

-- debugloop._stf_check_embedding(embedding, field): DL001 naming `field` unless a
-- neural embedding has 384 dimensions and a length (L2 norm) from 1e-6 to 1e6.
-- Why: pgvector refuses NaN and infinite components, but a zero vector has no
-- direction, and pgvector sums squares in single precision, so a vector of tiny
-- or huge components gives cosine similarity NaN: such a vector would rank first
-- with similarity NaN. Locks: none.
create or replace function debugloop._stf_check_embedding(embedding debugloop.vector, field text)
returns void
language plpgsql
immutable
as $$
declare
    norm double precision := debugloop.vector_norm(embedding);
begin
    if debugloop.vector_dims(embedding) <> 384 then
        raise exception '% must have 384 dimensions, got %', field, debugloop.vector_dims(embedding)
            using errcode = 'DL001', column = field;
    end if;
    if not norm between 1e-6 and 1e6 then
        raise exception '% must have a length (L2 norm) from 1e-6 to 1e6, got %', field, norm
            using errcode = 'DL001', column = field,
                  detail = 'a zero vector has no direction, and one of tiny or huge components makes cosine similarity NaN';
    end if;
end
$$;

-- debugloop.stf_set_embedding(stf_id, embedding, model): store the neural
-- embedding of an STF, computed outside the database (pip install
-- debugloop[neural]); stf_match uses it when a query is embedded with the same
-- model. Raises DL001 for a vector of another size or a length (L2 norm) outside
-- [1e-6, 1e6] (_stf_check_embedding), DL002 for an unknown STF. Locks: the STF's
-- row.
create or replace function debugloop.stf_set_embedding(stf_id uuid, embedding debugloop.vector, model text)
returns void
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if model is null or btrim(model) = '' then
        raise exception 'model must name the embedding model' using errcode = 'DL001', column = 'model';
    end if;
    if embedding is null then
        raise exception 'embedding must be a vector of 384 dimensions, got NULL' using errcode = 'DL001', column = 'embedding';
    end if;
    perform debugloop._stf_check_embedding(embedding, 'embedding');
    update debugloop.debug_transform_functions f
       set embedding_neural = stf_set_embedding.embedding, embedding_model = btrim(stf_set_embedding.model)
     where f.stf_id = stf_set_embedding.stf_id;
    if not found then
        raise exception 'STF % does not exist', coalesce(stf_set_embedding.stf_id::text, 'NULL') using errcode = 'DL002', column = 'stf_id';
    end if;
end
$$;
comment on function debugloop.stf_set_embedding(uuid, debugloop.vector, text) is 'Store an STF''s neural embedding (384 dimensions) and its model.';
revoke execute on function debugloop.stf_set_embedding(uuid, debugloop.vector, text) from public;
grant execute on function debugloop.stf_set_embedding(uuid, debugloop.vector, text) to debugloop_agent, debugloop_admin;
