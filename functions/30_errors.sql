-- errors: normalising errors into signatures, classifying them, the mappings from
-- an error to the approach that fixed it, and what to tell the next agent.
--
-- What a signature keeps and what it drops (README, "Error signatures"):
--   dropped (placeholders): e-mails, URLs, hostnames, IPv4/IPv6 (with port), UUIDs,
--     SHA-1/MD5/git SHAs and other hex hashes, 0x addresses, object reprs'
--     addresses, dates and times, durations, floats, integers (so line and column
--     numbers), quoted values after '=', paths, and quoted data values;
--   kept: the exception type (without its module path), every word, HTTP status
--     codes, and quoted NAMES of code things: the key of a KeyError, a module,
--     attribute, name, column, relation, property, command ... (the words before
--     the quote say which: "No module named 'x'", "has no attribute 'x'",
--     "reading 'x'", "column \"x\""), and Python type names ('NoneType', 'str').
--   So KeyError: 'user_id' and KeyError: 'email' are two errors (different fixes),
--   while invalid literal for int() with base 10: 'abc' and ... 'xyz' are one.

-- debugloop.error_normalize(message): the message with its variable parts
-- replaced by placeholders, white space collapsed. Locks: none.
create or replace function debugloop.error_normalize(message text)
returns text
language plpgsql
immutable
parallel safe
as $$
-- PostgreSQL keeps the last 32 compiled regular expressions of a backend; more
-- distinct patterns per call would compile them all again on every call. So the
-- rules below are merged into as few patterns as stay readable, a rule runs only
-- when a plain string test says it can match, and fixed strings use replace().
declare
    m text := message;
    low text;
    whole text;
    name text;
    quoted text[];
    ref text;
    has_digit boolean;
    i integer;
begin
    if m is null then
        return null;
    end if;
    has_digit := translate(m, '0123456789', '') <> m;
    -- a log line's prefix says when and where, not what: a dmesg stamp "[123.456]",
    -- a syslog or journal date with its host, an ISO timestamp with its zone, a
    -- server's pid "[123]" or "123#123:" and connection "*45", a "program[pid]:"
    -- or "kernel:" tag (twice: a journal line may carry a dmesg stamp after its tag)
    -- (also: a bracketed stamp with a clock time "[Tue Mar 05 10:11:12.1 2024]",
    -- "[02-Dec-2026 10:11:12 UTC]", a server's bracketed fields after it "[core:alert]
    -- [pid 1:tid 2] [client 10.0.0.1:5]", a host before a "program[pid]:" tag, a glog
    -- or absl prefix "E1202 10:11:12.345678 42 file.cc:12]")
    if has_digit and (left(ltrim(m), 1) = '[' or m ~ '^\s*(\d{4}[-/]\d\d[-/]\d\d[T ]|(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d |[IWEF]\d{4} \d\d:)') then
        for i in 1..2 loop
            m := regexp_replace(m,
                '^\s*(\[\s*\d+\.\d+\]\s*'
                || '|\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:\d\d:\d\d([.,]\d+)?(Z|\s?[+-]\d\d:?\d\d|\s[A-Z]{3,5}\M)?\s*'
                || '|(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d\s+[\w.-]+\s+'
                || '|\[[^\]\n]{0,40}\d\d:\d\d:\d\d[^\]\n]{0,30}\]:?\s*|\[(pid|client|tid) [^\]\n]{0,60}\]\s*|\[[\w.-]+:(error|warn|crit|alert|emerg|notice|info|debug)\]\s*'
                || '|[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+\s+[\w.-]+:\d+\]\s*'
                || '|[\w.-]+\s+(?=[\w./-]+\[\d+\]:\s)'
                || '|\[\d+\]:?\s*|\[(error|warn|crit|alert|emerg|notice|info)\]\s+\d+#\d+:\s+(\*\d+\s+)?'
                || '|(kernel|[\w./-]+\[\d+\]):\s+)+', '');
        end loop;
    elsif m ~ '^\s*[\w./-]+\[\d+\]:\s' then
        m := regexp_replace(m, '^\s*[\w./-]+\[\d+\]:\s+', '');
    end if;
    -- a Kubernetes event row: "Warning  BackOff  3m12s (x25 over 8m)  kubelet  x" is "x"
    if m ~ '^\s*(Normal|Warning)\s' then
        m := regexp_replace(m, '^\s*(Normal|Warning)\s+[A-Z]\w+\s+\S+(\s+\(x\d+ over \S+\))?\s+[\w,/-]+\s+', '');
    end if;
    -- instances named after their kind: "pod api-7d9f8-x2k4p_default(uid)"
    if strpos(m, 'pod ') > 0 then
        m := regexp_replace(m, '\m(pod) [\w.-]+(\([\w-]+\))?', '\1 <pod>', 'g');
    end if;
    -- an image's tag or digest is a version: "image \"ghcr.io/acme/api:v2.3\"" names
    -- the image "ghcr.io/acme/api", wherever the message repeats the reference
    if strpos(m, 'image ') > 0 or strpos(m, 'manifest for ') > 0 then
        for ref in
            select r[1] from regexp_matches(m, '(?:image|manifest for)\s+["'']?([\w.-]+(?::\d+)?(?:/[\w.-]+)*:[\w.+-]+)', 'g') as r
        loop
            m := replace(m, ref, regexp_replace(ref, ':[\w.+-]+$', ''));
        end loop;
    end if;
    -- object reprs with an address: <Foo object at 0x7f..> -> <object>
    if strpos(m, ' at 0x') > 0 then
        m := regexp_replace(m, '<[^<>\n]*? at 0x[0-9a-fA-F]+>', '<object>', 'g');
    end if;
    -- the leading program of shell output: "/usr/bin/env: x" is "env: x"
    if left(ltrim(m), 1) = '/' then
        m := regexp_replace(m, '^(\s*)/(?:[\w.-]+/)*([\w.-]+):(?= )', '\1\2:');
    end if;
    -- context that clients append: SQLAlchemy's [SQL: ...] and its background link, request ids
    if strpos(m, '[SQL: ') > 0 or strpos(m, 'Background on this error') > 0 then
        m := regexp_replace(m, '\s*\[SQL: .*$|\s*\(Background on this error at: [^)]*\)', '', 'g');
    end if;
    low := lower(m);
    if low like any (array['%request%id%', '%trace%id%', '%correlation%id%', '%event%id%']) then
        m := regexp_replace(m, '\(?\m(request|trace|correlation|event)[ _-]?id:?\s*[\w-]+\)?', '', 'gi');
    end if;
    -- hosts named where a host is expected, whatever their domain
    if low like any (array['%host%', '%enotfound%', '%eai_again%', '%getaddrinfo%']) then
        m := regexp_replace(m, '\m(ENOTFOUND|EAI_AGAIN|getaddrinfo|resolve host:?|host:?)\s+[\w-]+(\.[\w-]+)+(:\d+)?', '\1 <host>', 'g');
    end if;
    -- a TypeScript message repeats its code: "error TS2322: x" is "x"
    if strpos(m, 'TS') > 0 then
        m := regexp_replace(m, '(^|\s)((error|warning) )?TS\d+:\s*', '\1');
    end if;
    -- the scheme of a urllib3 pool is a variable part of the URL it serves
    m := replace(m, 'HTTPSConnectionPool', 'HTTPConnectionPool');
    -- URLs, e-mails, UUIDs
    if strpos(m, '://') > 0 then
        m := regexp_replace(m, '[a-zA-Z][a-zA-Z0-9+.-]*://[^\s''"<>()\[\]{}`]*[^\s''"<>()\[\]{}`.,;:]', '<url>', 'g');
    end if;
    if strpos(m, '@') > 0 then
        m := regexp_replace(m, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+', '<email>', 'g');
    end if;
    if has_digit then
        m := regexp_replace(m, '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g');
        -- dates and times: ISO 8601, RFC 2822, syslog, d/m/y, clock times
        if m like any (array['%Jan %', '%Feb %', '%Mar %', '%Apr %', '%May %', '%Jun %', '%Jul %', '%Aug %', '%Sep %', '%Oct %', '%Nov %', '%Dec %']) then
            m := regexp_replace(m,
                '\m(Mon|Tue|Wed|Thu|Fri|Sat|Sun),? \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}(:\d{2})?( GMT| UTC|\s?[+-]\d{4})?'
                || '|\m(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2},? (\d{4} )?\d{2}:\d{2}:\d{2}', '<date>', 'g');
        end if;
        m := regexp_replace(m,
            '\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?)?(Z|[+-]\d{2}:?\d{2}|\s?UTC)?'
            || '|\m\d{1,2}/\d{1,2}/\d{2,4}\M'
            || '|\m\d{1,2}:\d{2}:\d{2}([.,]\d+)?\M', '<date>', 'g');
    end if;
    -- addresses: IPv6 (also ::1, and bracketed with a port: "[::]:80"), IPv4, with a port; hostnames with a known top-level domain, localhost
    if has_digit and m like '%:%:%' then
        m := regexp_replace(m,
            '\[[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}\](:\d+)?|\[?(?<![\w:])::[0-9a-fA-F]{0,4}\M\]?(:\d+)?'
            || '|\[?(?<![\w:.])(?=[0-9a-fA-F:]*\d)(?=[0-9a-fA-F]{0,4}:[0-9a-fA-F]{0,4}:)([0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])\]?(:\d+)?',
            '<ip>', 'g');
    end if;
    if has_digit and m like '%.%.%.%' then
        m := regexp_replace(m, '\m\d{1,3}(\.\d{1,3}){3}(:\d+)?\M', '<ip>', 'g');
    end if;
    if strpos(low, 'localhost') > 0 or low like any (array['%.com%', '%.org%', '%.net%', '%.io%', '%.dev%', '%.ai%', '%.co%', '%.app%', '%.cloud%', '%.edu%', '%.gov%', '%.us%', '%.uk%', '%.de%', '%.fr%', '%.cn%', '%.jp%', '%.internal%', '%.local%', '%.localdomain%']) then
        m := regexp_replace(m,
            '\m([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+(com|org|net|io|dev|ai|co|app|cloud|edu|gov|us|uk|de|fr|cn|jp|internal|local|localdomain)\M(:\d+)?'
            || '|\mlocalhost(:\d+)?\M', '<host>', 'g');
    end if;
    -- paths: Windows; absolute, ~/, ./, ../ (not after a word: "and/or" stays); relative
    -- ones with a directory and a file extension
    if strpos(m, '/') > 0 or strpos(m, '\') > 0 then
        m := regexp_replace(m,
            '\m[A-Za-z]:\\[^\s''"<>|*?]+'
            || '|(?<![\w.~/<>-])(~|\.{1,2})?/([\w.@+-]+/)*[\w.@+-]+/?'
            || '|\m[\w.-]+(/[\w.-]+)+\.[A-Za-z][A-Za-z0-9]{0,5}\M',
            '<path>', 'g');
    end if;
    -- file names with a known extension (the LIKE test spares the big alternation most messages)
    if low like any (array['%.py%', '%.pyc%', '%.pyi%', '%.ipynb%', '%.js%', '%.mjs%', '%.cjs%', '%.jsx%', '%.ts%', '%.tsx%', '%.vue%', '%.svelte%', '%.json%', '%.jsonl%', '%.yaml%', '%.yml%', '%.toml%', '%.lock%', '%.txt%', '%.md%', '%.csv%', '%.tsv%', '%.html%', '%.css%', '%.scss%', '%.sh%', '%.ini%', '%.cfg%', '%.conf%', '%.log%', '%.xml%', '%.sql%', '%.db%', '%.sqlite%', '%.rb%', '%.go%', '%.rs%', '%.java%', '%.kt%', '%.c%', '%.h%', '%.cc%', '%.cpp%', '%.hpp%', '%.cs%', '%.php%', '%.swift%', '%.dart%', '%.env%', '%.pem%', '%.key%', '%.crt%', '%.zip%', '%.tar%', '%.gz%', '%.whl%']) then
        m := regexp_replace(m, '\m[\w.-]+\.(py|pyc|pyi|ipynb|js|mjs|cjs|jsx|ts|tsx|vue|svelte|json|jsonl|yaml|yml|toml|lock|txt|md|csv|tsv|html|css|scss|sh|ini|cfg|conf|log|xml|sql|db|sqlite|rb|go|rs|java|kt|c|h|cc|cpp|hpp|cs|php|swift|dart|env|pem|key|crt|zip|tar|gz|whl)\M', '<path>', 'g');
    end if;
    -- the generated names of a Deployment's pods ("web-6b7f9c8d4-2xkqz")
    if has_digit and strpos(m, '-') > 0 then
        m := regexp_replace(m, '(^|[\s"''(])[a-z][a-z0-9-]*-[a-z0-9]{8,10}-[a-z0-9]{5}\M', '\1<pod>', 'g');
    end if;
    -- secrets: API keys and tokens, masked or not
    if strpos(m, '****') > 0 or m like any (array['%sk-%', '%sk\_%', '%pk\_%', '%rk\_%', '%gh_\_%', '%github\_pat%', '%xox%', '%AKIA%', '%AIza%']) then
        m := regexp_replace(m, '\m(sk|pk|rk|ghp|gho|ghs|github_pat|xox[abpr]|AKIA|AIza)[-_][\w*-]{6,}|\m[\w-]*\*{4,}[\w-]*', '<secret>', 'g');
    end if;
    if has_digit then
        -- sizes: a number glued to its unit or not ("18734512kB", "2.00 GiB", "512 bytes")
        if m ~ '\d\s?([kKMGTP]i?B|bytes)\M' then
            m := regexp_replace(m, '\m\d+(\.\d+)?\s?([kKMGTP]i?B|B|bytes)\M', '<size>', 'g');
        end if;
        -- a process's name beside its pid: "Killed process 42 (python3)", "task x:42"
        if low like any (array['%process %(%', '%pid %(%', '%task %(%']) then
            m := regexp_replace(m, '\m(process|pid|task) \d+ \([^()\s]+\)', '\1 <n> (<proc>)', 'gi');
        end if;
        -- bus and MAC addresses: colon-separated hex groups ("0000:3b:00", "aa:bb:cc:dd:ee:ff")
        if m like '%:%:%' then
            m := regexp_replace(m, '\m[0-9a-fA-F]{2,4}(:[0-9a-fA-F]{2,4}){2,}(\.[0-9a-fA-F])?\M', '<addr>', 'g');
        end if;
        -- versions: pins (pkg==1.2, pkg>=3) go, version numbers become <version>, lists of them one
        if strpos(m, '=') > 0 then
            -- (a pin is written without spaces: "torch==2.1"; "assert 1 == 2" is no pin)
            m := regexp_replace(m, '([\w\]])(===?|>=|<=|~=|!=)v?\d+(\.[\w*+!-]+)*', '\1', 'g');
        end if;
        if strpos(m, '.') > 0 then
            m := regexp_replace(m, '\mv?\d+\.\d+\.\d+([-.+][0-9A-Za-z]+)*\M', '<version>', 'g');
        end if;
        -- random ids: 16+ characters mixing upper case, lower case and digits (org-OOhFjD3fpmItZT...)
        if lower(m) <> m and upper(m) <> m then
            m := regexp_replace(m, '\m(?=[\w-]*\d)(?=[\w-]*[A-Z])(?=[\w-]*[a-z])[\w-]{16,}\M', '<id>', 'g');
        end if;
        -- hex: 0x addresses, and hashes (git SHAs, MD5, SHA-1...) of 7 to 64 hex digits
        -- (no lookahead for "a digit among them": PostgreSQL runs lookarounds slowly)
        m := regexp_replace(m, '\m(0x[0-9a-fA-F]+|[0-9a-fA-F]{7,64})\M', '<hex>', 'g');
        -- durations, Go's compound ones among them ("1h0m0s", "2m11s", "4m50.5s")
        m := regexp_replace(m, '\m\d+h(\d+m)?(\d+(\.\d+)?s)?\M|\m\d+m\d+(\.\d+)?s\M', '<duration>', 'g');
        m := regexp_replace(m, '\m\d+(\.\d+)?\s?(ns|us|µs|ms|s|sec|secs|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\M', '<duration>', 'g');
    end if;
    if strpos(m, 'from versions: ') > 0 then
        m := regexp_replace(m, '\(from versions: [^)]*\)', '(from versions: <list>)', 'g');
    end if;
    -- values after a single '=' (not ==, !=, <=, >=)
    if strpos(m, '=') > 0 then
        m := regexp_replace(m, '(?<![=!<>])=(?!=)\s*(''[^''\n]*''|"[^"\n]*"|[^\s,;)\]}''"]+)', '=<v>', 'g');
    end if;
    -- an HTTP request line is data ("GET /x HTTP/1.1"); so is the context nginx
    -- appends to an error-log line (", client: ..., server: ..., request: ...")
    if strpos(m, 'HTTP/') > 0 or strpos(m, ', client: ') > 0 then
        m := regexp_replace(m, ',\s*client: .*$|"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|CONNECT) [^"\s]* HTTP/[\d.]+"', '', 'g');
    end if;
    -- keep HTTP status codes: protect them from the number rules, as ⟦404⟧: after a
    -- cue (HTTP, status, code), at the start of the message, or before their reason
    if has_digit then
        if low like any (array['%http%', '%status%', '%code%', '%returned%'])
           or translate(left(ltrim(m), 3), '0123456789', '') = '' then
            -- (an exit code is no status: hidden from the cue, without a slow lookbehind)
            m := replace(replace(m, 'exit code', 'exitʼcode'), 'exit status', 'exitʼstatus');  -- ʼ is a letter
            m := regexp_replace(m,
                '(\m(?:HTTP(?: Error)?(?:/\d(?:\.\d)?)?|[Ss]tatus(?: code)?:?|[Ee]rror code:?|code:?|returned|status_code=?)\s*'
                || '|^\s*(?=[1-5]\d\d [A-Z{(]))([1-5]\d\d)\M', '\1⟦\2⟧', 'g');
            m := replace(m, 'exitʼ', 'exit ');
        end if;
        if low like any (array['% client error%', '% server error%', '% not found%', '% forbidden%', '% unauthorized%',
                               '% bad request%', '% too many requests%', '% bad gateway%', '% service unavailable%',
                               '% gateway time%', '% conflict%', '% unprocessable entity%', '% method not allowed%',
                               '% payment required%', '% request timeout%', '% not acceptable%', '% gone%']) then
            m := regexp_replace(m, '\m([1-5]\d\d)(?= (?:Client Error|Server Error|Not Found|Forbidden|Unauthorized|Bad Request|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out|Conflict|Unprocessable Entity|Method Not Allowed|Payment Required|Request Timeout|Not Acceptable|Gone))', '⟦\1⟧', 'g');
        end if;
    end if;
    -- keep quoted NAMES of code things, protected as ⟪name⟫: after a word that says
    -- what is named ("No module named 'x'", "reading 'x'", column "x"), a whole
    -- message that is one quoted word (a KeyError), the type before "object", and
    -- Python and JavaScript type names. Each quoted word is matched by one small
    -- pattern and judged here: a pattern listing the naming words would be slow.
    if strpos(m, '''') > 0 or strpos(m, '"') > 0 or strpos(m, '`') > 0 or strpos(m, '‘') > 0 then
        whole := btrim(m);
        if length(whole) between 3 and 102 and left(whole, 1) in ('''', '"') and right(whole, 1) = left(whole, 1)
           and translate(substr(whole, 2, length(whole) - 2), ' ''"', '') = substr(whole, 2, length(whole) - 2) then
            m := '⟪' || substr(whole, 2, length(whole) - 2) || '⟫';  -- the whole message is one quoted name
        else
            for quoted in
                select q from regexp_matches(m,
                    '(?:(\m[A-Za-z]+):?\s+)?(''([^''"‘’`\s]{1,100})''|"([^''"‘’`\s]{1,100})"|‘([^''"‘’`\s]{1,100})’|`([^''"‘’`\s]{1,100})`)( object\M)?',
                    'g') as q
            loop
                name := coalesce(quoted[3], quoted[4], quoted[5], quoted[6]);
                if lower(quoted[1]) = any (array['named', 'name', 'module', 'modules', 'attribute', 'attr', 'key', 'column', 'relation', 'table', 'function', 'command', 'package', 'fixture', 'script', 'property', 'properties', 'method', 'class', 'field', 'variable', 'schema', 'database', 'role', 'constraint', 'index', 'sequence', 'view', 'trigger', 'import', 'from', 'export', 'option', 'argument', 'parameter', 'element', 'symbol', 'reading', 'setting', 'plugin', 'identifier', 'label', 'target', 'task', 'rule', 'member', 'resource', 'service', 'image', 'container', 'volume', 'extension', 'type', 'operator', 'user', 'queue', 'topic', 'bucket', 'quota'])
                   or quoted[7] is not null
                   or name = any (array['int', 'str', 'float', 'complex', 'list', 'dict', 'tuple', 'set', 'frozenset', 'bool', 'bytes', 'bytearray', 'NoneType', 'object', 'type', 'function', 'module', 'method', 'builtin_function_or_method', 'undefined', 'null', 'string', 'number', 'boolean']) then
                    m := replace(m, quoted[2], '⟪' || name || '⟫');
                end if;
            end loop;
        end if;
        -- every other quoted string is data (a b'..' or r".." prefix with it), unless
        -- it is prose, three words or more, as the message inside a wrapped error is
        m := regexp_replace(m,
            '(?<![\w''"])[bBrRuU]?''(?![^''\n]*\s[^''\n]*\s[^''\n]*'')[^''\n]*''(?![\w''])'
            || '|(?<![\w"])[bBrRuU]?"(?![^"\n]*\s[^"\n]*\s[^"\n]*")[^"\n]*"(?![\w"])', '<str>', 'g');
    end if;
    -- numbers (line and column numbers among them), but not protected status codes
    if has_digit then
        m := regexp_replace(m, '(?<![\w.⟦])-?\d+\.\d+([eE][+-]?\d+)?\M|(?<!⟦)\m\d+\M', '<n>', 'g');
    end if;
    -- a compiler's location before the message: "<path>(<n>,<n>): x", "<path>:<n>:<n> - x"
    if strpos(m, '<path>') > 0 then
        m := regexp_replace(m, '^\s*<path>(\(<n>,<n>\)|(:<n>){1,2})?(:| -)\s+', '');
    end if;
    -- a sign belongs to its number; a list of numbers is one ("shape[<n>,<n>,<n>]")
    if strpos(m, '<n>') > 0 then
        m := regexp_replace(regexp_replace(m, '([:=\s(\[])-<n>', '\1<n>', 'g'), '<n>(\s?[,x]\s?<n>)+', '<n>', 'g');
    end if;
    -- tails without information: requests' "for url: <url>", parentheses holding only
    -- placeholders "(<hex>/<n>)", pip's "(from -r requirements.txt (line <n>))"
    if strpos(m, '<') > 0 or strpos(m, '(from -r ') > 0 then
        m := regexp_replace(m,
            '\s+for url:\s*<url>\s*$|\s*\((<\w+>[\s/,:;-]*)+\)\s*$|\s*\(from -r [^()]*(\([^()]*\))?\)', '', 'g');
    end if;
    -- Python 2's tuple comma "x',))", a shell's script line "bash: line <n>: x"
    m := replace(replace(m, ', )', ')'), ',)', ')');
    if m like '%sh: line <n>: %' then
        m := regexp_replace(m, '^(\w*sh): line <n>: ', '\1: ');
    end if;
    -- restore what was protected, quoted names in one quote style
    m := replace(replace(replace(replace(m, '⟦', ''), '⟧', ''), '⟪', ''''), '⟫', '''');
    -- white space runs become one space
    return left(array_to_string(array_remove(string_to_array(translate(m, E'\n\r\t\f\v', '     '), ' '), ''), ' '), 2000);
end
$$;
comment on function debugloop.error_normalize(text) is 'An error message with its variable parts (paths, numbers, ids, hosts, times, data values) replaced by placeholders.';

-- debugloop._error_parts(error_type, message, stacktrace): the error's type
-- (without its module path) and message. A missing type is read from a
-- "Type: message" prefix of the message, else from the last "Type: message" line
-- of the stack trace; a message that repeats its type as a prefix loses it.
create or replace function debugloop._error_parts(error_type text, message text, stacktrace text,
                                                  out kind text, out body text)
language plpgsql
immutable
parallel safe
as $$
declare
    found text[];
    short text;
    -- "SomeError: the message" (the type with an optional module path)
    type_prefix constant text := '^\s*([A-Za-z_](?:[\w.]|::)*(Error|Exception|Warning|Exit|Interrupt|Failure|Fault|Timeout|Refused))(?:\[\w+\])?\s*:(?!:)\s?';
begin
    kind := nullif(btrim(error_type), '');
    body := coalesce(message, '');
    -- what a runtime prints before an uncaught exception: Java's 'Exception in thread
    -- "main" ', .NET's "Unhandled exception. "
    if strpos(body, 'xception') > 0 then
        body := regexp_replace(body, '^\s*(Exception in thread "[^"]*"|Unhandled exception\.)\s+', '');
    end if;
    -- Rust's panic: the message follows "panicked at <file>:<n>:<n>:" on the next line
    -- (Rust 1.73 and later) or stands quoted before the location (earlier releases)
    if strpos(body, ' panicked at ') > 0 then
        body := regexp_replace(body,
            '^\s*thread ''[^'']*'' panicked at (?:[^\s'']+:\d+:\d+:\s*\n\s*([^\n]+)|''(.*)'', [^\s'']+:\d+:\d+)(?:\n.*)?$',
            '\1\2');
    end if;
    -- Elixir's report "** (Type) the message", after a logger's prefix or alone
    if kind is null and strpos(body, '** (') > 0 then
        found := regexp_match(body, '\*\* \(([A-Z][\w.]*)\) (.*)$');
        if found is not null then
            kind := found[1];
            body := found[2];
        end if;
    end if;
    -- Ruby's report of an uncaught exception: "<file>:<n>:in `m': the message (Type)"
    if kind is null and strpos(body, ':in `') > 0 then
        found := regexp_match(body, '^\s*\S+:\d+:in [`''][^`'']*'': (.*) \(([A-Z]\w*(?:::\w+)*)\)\s*$');
        if found is not null then
            kind := found[2];
            body := found[1];
        end if;
    end if;
    if kind is null then
        found := regexp_match(body, type_prefix || '(.*)$');
        if found is not null then
            kind := found[1];
            body := found[3];
        elsif stacktrace is not null then
            -- the last "Type: message" line of the trace
            select m[1] into kind
              from regexp_matches(stacktrace, type_prefix || '(.*)$', 'gn') with ordinality as r(m, i)
             order by i desc limit 1;
        end if;
    elsif strpos(body, ':') > 0 then
        -- a message that repeats its type ("KeyError: 'x'", "builtins.KeyError: 'x'") loses the prefix
        short := btrim(split_part(replace(body, '::', '⁑'), ':', 1));
        short := replace(short, '⁑', '::');
        if short = kind or regexp_replace(short, '^.*\.', '') = regexp_replace(kind, '^.*\.', '') then
            body := ltrim(substr(body, length(short) + strpos(body, short) + 1), ' ');
        end if;
    end if;
    kind := regexp_replace(kind, '^(builtins|exceptions)\.', '');
    if btrim(body) = '' and stacktrace is not null and kind is not null then
        select m[3] into body
          from regexp_matches(stacktrace, type_prefix || '(.*)$', 'gn') with ordinality as r(m, i)
         where m[1] = kind or m[1] like '%.' || kind
         order by i desc limit 1;
        body := coalesce(body, '');
    end if;
end
$$;

-- debugloop._error_frames(stacktrace): the frames that identify where an error
-- happened, as "dir/file:function", innermost last, at most 5. Python tracebacks
-- (of a chain, only the last exception's), pytest output ("file.py:12: in test_x",
-- "____ test_x ____"), and Node/V8 stacks ("at fn (/path/file.js:1:2)") are read;
-- paths keep their last two parts; line numbers are dropped. Application frames
-- only, unless there are none: then the library frames. Locks: none.
create or replace function debugloop._error_frames(stacktrace text)
returns text[]
language plpgsql
immutable
parallel safe
as $$
declare
    trace text := stacktrace;
    lib_pattern constant text :=
        '(site-packages|dist-packages|/lib/python[0-9.]*/|\\lib\\|node_modules|^node:|internal/|<frozen |/usr/lib/|/usr/local/lib/|/\.pyenv/|/\.cache/|/opt/homebrew/|anaconda|/conda/|/\.venv/|/venv/)';
    app text[] := '{}';
    lib text[] := '{}';
    frame record;
    file text;
    name text;
begin
    if trace is null or btrim(trace) = '' then
        return '{}';
    end if;
    -- a chain of Python exceptions: only the last one raised
    trace := (regexp_split_to_array(trace,
        '\n\s*(During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)\s*\n'))[
        cardinality(regexp_split_to_array(trace,
        '\n\s*(During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)\s*\n'))];
    for frame in
        select coalesce(m[1], m[3], m[7], m[8], m[10], m[12]) as path,
               coalesce(m[2], m[4], m[5], m[6], m[9], m[11], m[13]) as fn, i
          from regexp_matches(trace,
               -- Python: File "path", line N, in fn
               '(?:^|\n)\s*File "([^"]+)", line \d+, in ([^\s]+)'
               -- pytest --tb=short: path.py:N: in fn
               || '|(?:^|\n)([^\s:]+\.py):\d+: in ([^\s]+)'
               -- pytest long: ____ test_name ____
               || '|(?:^|\n)_{3,} ([^\s]+) _{3,}'
               -- V8: at fn [as alias] (path:N:N) / at path:N:N
               || '|(?:^|\n)\s*at (?:async )?(?:new )?([^\s()]+)(?: \[as [^\]]+\])? \(([^()]+?):\d+(?::\d+)?\)'
               || '|(?:^|\n)\s*at (?:async )?([^\s()]+?):\d+(?::\d+)?\s*(?=\n|$)()'
               -- pytest summary: FAILED path::test
               || '|(?:^|\n)\s*(?:FAILED|ERROR) ([^\s:]+)::([^\s]+)'
               -- IPython / Jupyter: path.py in fn(...)
               || '|(?:^|\n)(\S+\.py) in (\w+)\('
               -- pytest's fixture errors: file path, line N
               || '|(?:^|\n)\s*file (\S+), line \d+()',
               'g') with ordinality as r(m, i)
         order by i
    loop
        name := coalesce(frame.fn, '');
        if frame.path is null then
            app := app || name;  -- a pytest test name
            continue;
        end if;
        file := regexp_replace(replace(frame.path, '\', '/'), '^.*/([^/]+/[^/]+)$', '\1');
        if frame.path ~ lib_pattern then
            lib := lib || (file || ':' || name);
        else
            app := app || (file || ':' || name);
        end if;
    end loop;
    if cardinality(app) = 0 then
        app := lib;
    end if;
    return app[greatest(1, cardinality(app) - 4):];
end
$$;

-- debugloop._error_failure_words(): the LIKE patterns of words that say something
-- failed, for _error_key_line.
create or replace function debugloop._error_failure_words()
returns text[]
language sql
immutable
parallel safe
as $$
    select array['%error%', '%fatal%', '%exception%', '%fail%', '%denied%', '%refused%',
                 '%not found%', '%cannot%', '%can''t%', '%could not%', '%unable%', '%invalid%',
                 '%unexpected%', '%missing%', '%timed out%', '%timeout%', '%no such%',
                 '%exit code%', '%exit status%', '%err!%', '%abort%', '%panic%',
                 '%not defined%', '%undefined%', '%does not exist%', '%too long%',
                 '%too many%', '%too large%', '%exceeded%', '%not supported%',
                 '%unrecognized%', '%no matching%', '%overloaded%']
$$;

-- debugloop._error_generic_words(): words that say that something failed, or where
-- in a tool's run, but not what: a line made of them only ("Build failed", "Test
-- suite failed to run", "INSTALLATION FAILED:", "Unhandled Runtime Error") is a
-- header, not the error. Why: _error_line_info counts the other words.
create or replace function debugloop._error_generic_words()
returns text[]
language sql
immutable
parallel safe
as $$
    select array['error', 'errors', 'err', 'fatal', 'warning', 'warn', 'exception', 'exceptions', 'failed',
                 'failure', 'fail', 'fails', 'build', 'compile', 'compilation', 'test', 'tests', 'suite', 'run',
                 'running', 'unhandled', 'uncaught', 'runtime', 'caught', 'thrown', 'the', 'and', 'for', 'with',
                 'was', 'were', 'has', 'had', 'following', 'what', 'went', 'wrong', 'message', 'line', 'file',
                 'step', 'job', 'process', 'completed', 'exit', 'exited', 'code', 'status', 'note', 'info',
                 'debug', 'see', 'more', 'details', 'detail', 'above', 'below', 'output', 'returned', 'non',
                 'zero', 'promise', 'installation', 'upgrade', 'execution', 'occurred', 'during', 'while',
                 'this', 'problem', 'problems', 'report', 'summary', 'traceback', 'stack', 'most', 'recent',
                 'call', 'last', 'task', 'stage', 'not', 'please', 'try', 'again', 'when', 'some', 'reason']
$$;

-- debugloop._error_line_info(line): how many words of a line say which error it is:
-- words of three letters or more (an identifier with dots or underscores is one),
-- not placeholders, paths or numbers, not _error_generic_words. Locks: none.
create or replace function debugloop._error_line_info(line text)
returns integer
language sql
immutable
parallel safe
as $$
    select count(*)::integer
      from string_to_table(translate(coalesce(line, ''), E'\t\r', '  '), ' ') as t(w),
           regexp_split_to_table(btrim(w, '()[]{}<>,.;:!?"''`*#=|+~^-'), '[_-]+') as p(part)
     where w !~ '<\w+>|[/\\]'
       and btrim(w, '()[]{}<>,.;:!?"''`*#=|+~^-') ~ '^[A-Za-z][A-Za-z_-]*[A-Za-z]$'
       and length(part) >= 3
       and lower(part) <> all (debugloop._error_generic_words())
$$;

-- debugloop._error_unwrap(message): the message inside a wrapper: a JSON body
-- ({"error": {"reason": "x"}}, {"errors": ["x"]}, {"level": "error", "msg": "x"})
-- gives its error field (error, err, errors, reason, detail, message, msg,
-- description, desc, title; nested objects and escaped JSON inside a string too);
-- a logfmt line ("level=error ts=... msg=\"x\" err=\"y\"") its err (else msg)
-- value, unescaped. Anything else is returned as it is. Locks: none.
create or replace function debugloop._error_unwrap(message text)
returns text
language plpgsql
immutable
parallel safe
as $$
declare
    m text := btrim(coalesce(message, ''));
    j jsonb;
    next_j jsonb;
    k text;
    i integer;
    found text[];
begin
    for i in 1..4 loop
        exit when not (left(m, 1) = '{' and right(m, 1) = '}');
        begin
            j := m::jsonb;
        exception when others then
            exit;
        end;
        -- down the error fields to a string
        loop
            if jsonb_typeof(j) = 'array' then
                j := j -> 0;
            elsif jsonb_typeof(j) = 'object' then
                next_j := null;
                foreach k in array array['error', 'err', 'errors', 'reason', 'detail', 'message', 'msg',
                                         'description', 'desc', 'title'] loop
                    if jsonb_typeof(j -> k) in ('string', 'object', 'array') then
                        next_j := j -> k;
                        exit;
                    end if;
                end loop;
                exit when next_j is null;
                j := next_j;
            else
                exit;
            end if;
        end loop;
        exit when jsonb_typeof(j) is distinct from 'string';
        m := btrim(j #>> '{}');
    end loop;
    -- a logfmt line: key=value pairs, a quoted value with its escapes
    if strpos(m, '=') > 0 and m ~ '^\s*([\w.-]+=("[^"]*"|\S*)\s+){2}' and m ~ '\m(msg|err|error)="' then
        found := coalesce(regexp_match(m, '\m(?:err|error)="((?:[^"\\]|\\.)*)"'), regexp_match(m, '\mmsg="((?:[^"\\]|\\.)*)"'));
        if found is not null then
            m := replace(replace(replace(found[1], '\n', E'\n'), '\t', E'\t'), '\"', '"');
        end if;
    end if;
    return m;
end
$$;

-- debugloop._error_key_line(message): the line of a multi-line message that says
-- what went wrong, its decorations (box drawing, bullets, "> ", "* ") removed: the
-- first line with a word of failure (error, fatal, failed, denied, not found, ...)
-- and at least two words that say which error (_error_line_info), else the first
-- line with two such words, else the first line with a word of failure, else the
-- first non-blank line. A header is passed over: a line that ends with a colon
-- before the lines it introduces ("CMake Error at x:3 (message):", "Could not fetch
-- resource:"), or that says only that something failed ("Build failed", "● Test
-- suite failed to run", an exception banner). Progress lines before it ("Cloning
-- into ...") and details after it (hints, SQL context, carets) do not take part.
create or replace function debugloop._error_key_line(message text)
returns text
language sql
immutable
parallel safe
as $$
    -- a line's level word or tag ("npm ERR!", "ERROR:", "[error]", "[tsl]", "error:")
    -- is no word of failure by itself: "npm ERR! code E404", "npm ERR! Darwin 21.6.0"
    -- and "[tsl] ERROR in src/x.ts(3,1)" precede the line that says what failed
    with raw as (
        -- (a banner's rule "══╡ EXCEPTION CAUGHT BY X ╞══" names no error either)
        select regexp_replace(regexp_replace(l, '^[\s│┃║╎┆╵╷|>*•●✘✖❌×⨯▶►»!═─━╡╞╔╚╗╝╠╣-]+', ''),
                              '[\s═─━╡╞╔╚╗╝╠╣│╵]+$', '') as l, i
          from string_to_table(message, E'\n') with ordinality as t(l, i)
         where i <= 200 and l !~ '[═─━]{3}'
    ), scored as (
        select l, row_number() over (order by i) as i, lower(l) as low,
               lower(regexp_replace(l, '^\s*((?:npm ERR!|npm error|npm WARN|##\[error\]|\[[\w-]+\]|error|fatal|warning|err|e)(?:\s*:)?\s+)+', '', 'i')) as said,
               debugloop._error_line_info(l) as info
          from raw
         where l <> ''
    ), lines as (
        -- a header: a colon ends it and the line after it says which error
        select s.*, (right(s.l, 1) = ':' and coalesce(lead(s.info) over (order by s.i), 0) >= 2) as header
          from scored s
    )
    select coalesce(
        (select l from lines where said like any (debugloop._error_failure_words()) and info >= 2 and not header order by i limit 1),
        (select l from lines where low like any (debugloop._error_failure_words()) and info >= 2 and not header order by i limit 1),
        (select l from lines where said like any (debugloop._error_failure_words()) and not header order by i limit 1),
        (select l from lines where low like any (debugloop._error_failure_words()) and not header order by i limit 1),
        (select l from lines where info >= 2 and not header order by i limit 1),
        (select l from lines order by i limit 1),
        '')
$$;


-- debugloop._error_key(normalized): what of a normalised message makes its group:
-- the message without what says nothing about the error itself, a level word
-- before it ("ERROR:", "fatal:", "Error:", "##[error]", "(error)", "npm ERR!";
-- twice: "Error: fatal: x"), the program that prints it ("docker: x", "make: x"),
-- a build step's number ("#12 x"), its full stops and a tail of placeholders only
-- ("No space left on device: <str>"); a number and a hex run are one kind of
-- variable part, a host and an IP address one kind of address. Why: the displayed
-- message (error_normalize) keeps these; the group does not depend on them.
create or replace function debugloop._error_key(normalized text)
returns text
language plpgsql
immutable
parallel safe
as $$
declare
    m text := normalized;
    lead text;
    i integer;
    levels constant text := 'Error response from daemon:|##\[error\]|\[error\]|\(error\)|npm ERR!|npm error|PHP (fatal error|warning|notice|parse error):|(fatal )?error:|fatal:|warning:|#<n> ';
begin
    -- where a linter or compiler points before its level word: "<n>:<n> error x"
    -- (ESLint), "<path> error CS0246: x" (MSBuild); a thread's tag ("Thread <n>: x")
    m := regexp_replace(m, '^\s*<n>:<n>\s+(error|warning)\s+', '');
    m := regexp_replace(m, '^\s*<path>\s+(?=(error|warning)\M)|^\s*Thread <n>:\s+', '');
    -- (the level words are grouped before the space after them: "Error:  x" loses "Error:  ")
    m := regexp_replace(m, '^\s*((?:' || levels || ')\s*){1,2}', '', 'i');
    -- a lead that only says that something failed, where, or how it was reported
    -- ("INSTALLATION FAILED: x", "Unhandled Exception: x", "Error message: x",
    -- "ERROR! x", "(in promise) x", "<path>:<n>: x"): what follows is the error
    for i in 1..3 loop
        exit when not (m ~ '^\s*(\([^()]{1,40}\)|[^:!()<>\s][^:!]{0,50}[:!]|<path>(:<n>){0,2}:)\s+\S');
        lead := substring(m from '^\s*(\([^()]{1,40}\)|[^:!]{1,50}[:!])\s');
        exit when lead is null or debugloop._error_line_info(lead) > 0 or lead ~ '[''"`‘]'
               or not (lead ~ '^\s*<path>' or lower(lead) ~ '\m(error|exception|fail|failed|failure|fatal|unhandled|uncaught|promise|err)\M');
        m := substr(ltrim(m), length(lead) + 1);
    end loop;
    -- "Uncaught Error: x" (PHP) is the error "x"
    if m like 'Uncaught %' then
        m := regexp_replace(regexp_replace(m, '^Uncaught\s+', ''), '^\s*((?:' || levels || ')\s*){1,2}', '', 'i');
    end if;
    -- a server's error code around its message: the MySQL client's "ERROR <n> (HY000): x",
    -- a driver's tuple "(<n>, 'x')", PDO's "SQLSTATE[HY000]: General error: <n> x"
    m := regexp_replace(m, '^\s*ERROR <n> \((\w+|<n>)\):\s+|^\s*(SQLSTATE\[(\w+|<n>)\]:\s+)?[A-Z][a-z]+( [a-z]+){0,5}:\s+<n>\s+(?=[A-Z])', '');
    m := regexp_replace(m, '^\s*\(<n>, ''(.*)''\)\s*$|^\s*\(<n>, "(.*)"\)\s*$', '\1\2');
    if m ~ '^\s*[a-z][\w-]*: ((?![\w-]+: )|(?=(error|fatal|warning): ))' then
        m := regexp_replace(regexp_replace(m, '^\s*[a-z][\w-]*: ', ''), '^\s*((?:' || levels || ')\s*){1,2}', '', 'i');
    end if;
    -- a logger's bracketed tags before the message ("[Note] [MY-<n>] [InnoDB] x", "[emerg] x"),
    -- after a thread or connection number or a dmesg stamp left by a cut ("[ <n>] x")
    m := regexp_replace(m, '^\s*(<n>\s+(?=\[)|\[\s*<n>\]\s*)?(\[[^\]\s]{1,24}\]:?\s*)*(?=[A-Za-z(])', '');
    -- a mapping's base and size ("in libc.so.<n>[<n>+1c5000]"): hex however short
    if strpos(m, '>+') > 0 then
        m := regexp_replace(m, '<(n|hex)>\+([0-9a-fA-F]+\M|<\w+>)', '<n>+<n>', 'g');
    end if;
    -- a wrapped server message: "connection failed: ... failed: FATAL: x" is "x"
    -- (upper case level words only: "error:" in prose stays)
    if m ~ '\m(FATAL|ERROR|PANIC): ' then
        m := regexp_replace(m, '^.*\m(FATAL|ERROR|PANIC):\s+', '');
    end if;
    -- a request is data: "Get <str>: dial unix" and "Post <str>: dial unix" are one
    m := regexp_replace(m, '\m(GET|POST|PUT|PATCH|DELETE|HEAD|Get|Post|Put|Patch|Delete|Head) (<str>|<url>|<path>)', '<request>', 'g');
    -- where the report points after the message: PostgreSQL's "at character <n>", MSBuild's project "[<path>]", PHP's "in <path>:<n>",
    -- Swift's ": file <path>, line <n>"
    m := regexp_replace(m, '(\s+at character <n>|\s+\[<path>\]?|\s+in <path>(:<n>)?|: file <path>, line <n>)\s*$', '');
    -- advice after the message says nothing more about it, and a cut output loses it:
    -- "x. This means ...", "x. Please ...", "x. For more information ..."
    if strpos(m, '. ') > 0 then
        m := regexp_replace(m, '\.\s+(This means|Anything in|Please|Preemption is|For more information|To resolve|See|Consider|If you|You can)\M.*$', '');
    end if;
    -- a report's structured tail after the message ("x, full error: {...}", "x {<str>: ...}")
    if right(rtrim(m), 1) = '}' and strpos(m, '{') > 0 then
        lead := regexp_replace(m, '(,\s*[\w ]{0,20}:)?\s*\{\s*(<str>|''|")[^{}]*(\{[^{}]*\}[^{}]*)*\}\s*$', '');
        if debugloop._error_line_info(lead) >= 3 then
            m := lead;
        end if;
    end if;
    -- a type's name before a message that names the error on its own
    -- ("PermissionDenied: Requires net access to <str>", "org.x.TimeoutException: Topic ...")
    if m ~ '^\s*([a-z_][\w$]*\.)*[A-Z][a-z0-9]+([A-Z][a-z0-9]*)+:\s' then
        lead := regexp_replace(m, '^\s*([a-z_][\w$]*\.)*[A-Z][a-z0-9]+([A-Z][a-z0-9]*)+:\s+', '');
        if cardinality(regexp_split_to_array(btrim(regexp_replace(lead, '<\w+>|[^A-Za-z]+', ' ', 'g')), '\s+')) >= 3 then
            m := lead;
        end if;
    end if;
    -- what is left of a cut ("(<n>) : x", quotes around the message)
    m := regexp_replace(m, '^\s*((\(<\w+>\)|<\w+>)\s*:\s*|[:"''`]\s*)+', '');
    m := regexp_replace(m, '(:\s*<\w+>|[.!,;"''`])+\s*$', '');
    return replace(replace(m, '<hex>', '<n>'), '<ip>', '<host>');
end
$$;

-- debugloop._error_group_kind(kind, key): what of an error's type takes part in its
-- group: its short name (no module or package path: "torch.cuda.OutOfMemoryError"
-- and "torch.OutOfMemoryError" are one type), and only when the group key says
-- little by itself, fewer than three words ("KeyError: 'x'", "Metaspace"). Why: a
-- message of three words or more names the error on its own (as does a type that only
-- spells the message's words), and one report
-- carries the type (a driver's exception class, a type field) while its twin from
-- a server log or a cut tool output does not; the words then agree, the types not.
-- One exception: a library's type that takes a standard exception's name
-- (requests.exceptions.JSONDecodeError, requests...HTTPError) wraps the standard
-- one and says which layer failed, so its package stays: the fix is another.
create or replace function debugloop._error_group_kind(kind text, key text)
returns text
language sql
immutable
parallel safe
as $$
    select case
        when kind is null then null
        -- a type that spells its message ("DeadlockDetected": "deadlock detected") adds nothing
        when lower(regexp_replace(regexp_replace(kind, '^.*(\.|::)', ''), '[^A-Za-z]', '', 'g'))
             = lower(regexp_replace(coalesce(key, ''), '[^A-Za-z]', '', 'g')) then null
        when cardinality(regexp_split_to_array(btrim(regexp_replace(coalesce(key, ''), '<\w+>|[^A-Za-z]+', ' ', 'g')), '\s+')) >= 3
            then case when strpos(kind, '.') > 0
                       and split_part(kind, '.', 1) <> all (array['builtins', 'exceptions', 'json', 'urllib', 'http', 'socket', 'ssl', 'asyncio', 'subprocess', 'sqlite3', 'concurrent', 'multiprocessing', 'java', 'javax', 'kotlin', 'System', 'Microsoft'])
                       and regexp_replace(kind, '^.*\.', '') = any (array['JSONDecodeError', 'ConnectionError', 'HTTPError', 'URLError', 'SSLError', 'TimeoutError', 'ValueError', 'TypeError', 'KeyError', 'IndexError', 'OSError', 'IOError', 'FileNotFoundError', 'PermissionError', 'RuntimeError', 'MemoryError', 'ImportError', 'AttributeError', 'NotImplementedError', 'UnicodeDecodeError', 'UnicodeEncodeError', 'ConnectionRefusedError', 'ConnectionResetError', 'BrokenPipeError', 'Exception'])
                      then split_part(kind, '.', 1) end
        else regexp_replace(kind, '^.*(\.|::)', '')
    end
$$;

-- debugloop._error_hash(kind, normalized, frames): the signature of an error's
-- parts; the one formula behind error_signature and error_describe.
create or replace function debugloop._error_hash(kind text, normalized text, frames text[])
returns text
language sql
immutable
parallel safe
as $$
    select debugloop.util_sha256(coalesce(kind, '') || E'\n' || coalesce(normalized, '') || E'\n'
                                 || array_to_string(frames, E'\n'))
$$;

-- debugloop._error_identity(error_type, message, stacktrace): what makes an
-- error's signature: its type, the normalised key line of its message, its
-- application frames, and the signature of those. Why: one path for
-- error_signature, error_describe and error_fixes. Locks: none.
create or replace function debugloop._error_identity(error_type text, message text, stacktrace text,
                                                     out signature text, out kind text,
                                                     out normalized_message text, out frames text[])
language plpgsql
immutable
parallel safe
as $$
declare
    parts record;
begin
    select * into parts from debugloop._error_parts(error_type, debugloop._error_unwrap(message), stacktrace);
    kind := parts.kind;
    normalized_message := coalesce(debugloop.error_normalize(debugloop._error_key_line(parts.body)), '');
    frames := debugloop._error_frames(stacktrace);
    -- the group is the message's (_error_key): frames are where it happened, a
    -- second level (error_location)
    signature := debugloop._error_hash(debugloop._error_group_kind(kind, debugloop._error_key(normalized_message)),
                                       lower(debugloop._error_key(normalized_message)), '{}');
end
$$;

-- debugloop._error_group_words(key): the words of a group key (_error_key), lower
-- case, without placeholders and punctuation: what a cut message is compared by.
create or replace function debugloop._error_group_words(key text)
returns text
language sql
immutable
parallel safe
as $$
    select btrim(regexp_replace(regexp_replace(regexp_replace(lower(coalesce(key, '')), '<\w+>', ' ', 'g'),
                                               '[^a-z0-9_.-]+', ' ', 'g'),
                                '(^|\s)[.-]+|[.-]+(?=\s|$)', '\1', 'g'))
$$;

-- debugloop._error_group_of(kind, words): the group that an error of this type and
-- these group words (_error_group_words) joins when its signature is new: of a
-- known signature of the same type whose words start with these (this one was cut)
-- or that start these (the known one was), the first seen; null when none, or when
-- the words are fewer than four telling ones (_error_line_info: "command not found"
-- starts too many messages). Why: the same error with its output cut is one group.
-- Locks: none.
create or replace function debugloop._error_group_of(kind text, words text, key text default null)
returns text
language plpgsql
stable
as $$
declare
    found text;
    parts text[];
    n integer;
    wrapped text;
begin
    if words is null or debugloop._error_line_info(words) < 4 then
        return null;
    end if;
    select s.group_signature into found
      from debugloop.debug_error_signatures s
     where s.group_words like replace(replace(replace(words, '\', '\\'), '%', '\%'), '_', '\_') || ' %'
       and s.error_type is not distinct from kind
     order by s.first_seen_at, s.signature
     limit 1;
    if found is not null then
        return found;
    end if;
    -- a wrapped error: one message is the other after the wrappers' "x: y: " ("failed to
    -- create task: OCI runtime create failed: z" and "OCI runtime create failed: z")
    if key is not null and strpos(key, ': ') > 0 then
        for wrapped in
            select btrim(substr(key, (p.at + 3)::integer)) from (
                select sum(length(x) + 2) over (order by i) - 2 as at
                  from string_to_table(key, ': ') with ordinality as t(x, i)) p
             where p.at + 3 < length(key)
        loop
            continue when debugloop._error_line_info(wrapped) < 4;
            select s.group_signature into found
              from debugloop.debug_error_signatures s
             where s.group_words = debugloop._error_group_words(wrapped) and s.error_type is not distinct from kind
             order by s.first_seen_at, s.signature
             limit 1;
            if found is not null then
                return found;
            end if;
        end loop;
    end if;
    select s.group_signature into found
      from debugloop.debug_error_signatures s
     where reverse(s.group_words) like reverse(replace(replace(replace(words, '\', '\\'), '%', '\%'), '_', '\_')) || ' %'
       and s.error_type is not distinct from kind
       and lower(debugloop._error_key(s.normalized_message)) like '%: ' || replace(replace(replace(lower(key), '\', '\\'), '%', '\%'), '_', '\_')
     order by s.first_seen_at, s.signature
     limit 1;
    if found is not null then
        return found;
    end if;
    parts := string_to_array(words, ' ');
    for n in reverse cardinality(parts) - 1 .. 1 loop
        exit when debugloop._error_line_info(array_to_string(parts[1:n], ' ')) < 4;
        select s.group_signature into found
          from debugloop.debug_error_signatures s
         where s.group_words = array_to_string(parts[1:n], ' ') and s.error_type is not distinct from kind
         order by s.first_seen_at, s.signature
         limit 1;
        if found is not null then
            return found;
        end if;
    end loop;
    return null;
end
$$;

-- debugloop._error_group(error_type, message, stacktrace): the error group of an
-- error: its signature's stored group, else the group it would join
-- (_error_group_of), else its own signature. Why: error_fixes and what records
-- errors find a group by one definition. Locks: none.
create or replace function debugloop._error_group(error_type text, message text, stacktrace text)
returns text
language plpgsql
stable
as $$
declare
    i record;
begin
    select * into i from debugloop._error_identity(error_type, message, stacktrace);
    return coalesce((select s.group_signature from debugloop.debug_error_signatures s where s.signature = i.signature),
                    debugloop._error_group_of(i.kind, debugloop._error_group_words(debugloop._error_key(i.normalized_message)),
                                                    debugloop._error_key(i.normalized_message)),
                    i.signature);
end
$$;

-- debugloop.error_signature(error_type, message, stacktrace): the hex SHA-256 that
-- groups errors: of the error type (builtins. dropped) and the group key
-- (_error_key) of the normalised key line of the message. The stack trace only
-- supplies a missing type or message: the same error with and without its trace
-- is one group; where it happened is error_location. Locks: none.
create or replace function debugloop.error_signature(error_type text, message text, stacktrace text default null)
returns text
language sql
immutable
parallel safe
as $$
    select (debugloop._error_identity(error_type, message, stacktrace)).signature
$$;
comment on function debugloop.error_signature(text, text, text) is 'Hex SHA-256 grouping errors by message: type and normalised key line (frames are error_location).';

-- debugloop.error_location(stacktrace): the second level of an error group: the
-- hex SHA-256 of the application frames of its stack trace (file:function,
-- innermost last, line numbers dropped), or null without frames. Why: a group is
-- the message's (error_signature); where it happened ranks fixes and known
-- failures within it. Locks: none.
create or replace function debugloop.error_location(stacktrace text)
returns text
language sql
immutable
parallel safe
set search_path = debugloop, pg_catalog, pg_temp
as $$
    select case when cardinality(f) > 0 then debugloop.util_sha256(array_to_string(f, E'\n')) end
      from debugloop._error_frames(stacktrace) f
$$;
comment on function debugloop.error_location(text) is 'Hex SHA-256 of a stack trace''s application frames: the location within an error group, or null.';

-- debugloop.error_classify(error_type, message, stacktrace): the kind of error:
-- syntax, import, type, attribute, key_index, value, assertion, timeout, network,
-- permission, rate_limit, context_length, tool or other. The most specific
-- evidence wins: what the message says (context length, rate limit, timeout,
-- network, permission) before what the type says. Locks: none.
create or replace function debugloop.error_classify(error_type text, message text, stacktrace text default null)
returns text
language plpgsql
immutable
parallel safe
as $$
-- Phrase tests with LIKE, not regular expressions: see the note in error_normalize.
declare
    p record;
    t text;
    m text;
begin
    select * into p from debugloop._error_parts(error_type, message, stacktrace);
    t := lower(coalesce(p.kind, ''));
    m := lower(coalesce(message, '') || ' ' || coalesce(p.body, ''));
    return case
        when m like any (array['%context_length%', '%context length%', '%maximum context%', '%context window%',
                               '%prompt is too long%', '%too many tokens%', '%token limit%', '%input is too long%',
                               '%reduce the length of the messages%', '%exceeds the model''s%'])
            then 'context_length'
        when t like any (array['%ratelimit%', '%toomanyrequests%', '%overloaded%', '%quota%'])
          or m like any (array['%rate limit%', '%rate_limit%', '%ratelimit%', '%rate-limit%', '%too many requests%',
                               '% 429%', '%429 %', '%quota%', '%overloaded%', '%resource exhausted%',
                               '%resource_exhausted%', '%throttl%'])
            then 'rate_limit'
        when t like any (array['%timeout%', '%timedout%'])
          or m like any (array['%timed out%', '%timeout%', '%time out%', '%deadline exceeded%', '%etimedout%'])
            then 'timeout'
        when t like any (array['%syntaxerror%', '%indentationerror%', '%taberror%', '%parseerror%', '%parsererror%'])
          or m like any (array['%syntax error%', '%unexpected token%', '%unexpected end of input%', '%invalid syntax%',
                               '%unexpected indent%', '%unterminated string%'])
            then 'syntax'
        when t like any (array['%modulenotfound%', '%importerror%', '%err_module_not_found%'])
          or m like any (array['%no module named%', '%cannot find module%', '%cannot import name%', '%module not found%',
                               '%no matching distribution%', '%could not find a version%', '%err_module_not_found%',
                               '%failed to resolve import%', '%unable to resolve dependency%', '%eresolve%',
                               '%declaration file for module%', '%install type definitions%', '%cannot find name%'])
            then 'import'
        when t like any (array['%httperror%', '%httpstatuserror%', '%clientresponseerror%'])
          or m like any (array['%http error %', '% client error%', '% server error%', '%http code %',
                               '%all connection attempts failed%', '%eaddrinuse%', '%address already in use%',
                               '%could not resolve host%', '%cannot connect to the docker daemon%',
                               '%failed to establish a new connection%', '%econnrefused%', '%econnreset%',
                               '%enotfound%', '%eai_again%', '%ehostunreach%', '%enetunreach%', '%connection refused%',
                               '%connection reset%', '%connection aborted%', '%name or service not known%',
                               '%temporary failure in name resolution%', '%nodename nor servname%',
                               '%max retries exceeded%', '%could not connect to server%', '%network is unreachable%',
                               '%no route to host%', '%ssl%', '%certificate verify failed%', '%broken pipe%',
                               '%remote end closed%', '%server closed the connection%', '%getaddrinfo%'])
          or (t like any (array['%connection%', '%network%', '%sslerror%', '%protocolerror%', '%remotedisconnected%',
                                '%maxretry%', '%gaierror%', '%operationalerror%'])
              and m like any (array['%connect%', '%network%', '%refused%', '%reset%', '%unreachable%', '%dns%',
                                    '%resolve%', '%host%', '%socket%']))
            then 'network'
        when t like any (array['%permission%', '%forbidden%', '%unauthorized%', '%authentication%', '%accessdenied%',
                               '%insufficientprivilege%'])
          or m like any (array['%permission denied%', '%eacces%', '%eperm%', '%operation not permitted%', '%401%',
                               '%403%', '%forbidden%', '%unauthorized%', '%unauthorised%', '%access denied%',
                               '%invalid api key%', '%incorrect api key%', '%authentication%'])
            then 'permission'
        when m like any (array['%tool_use_error%', '%has not been read yet%', '%string to replace not found%',
                               '%could not find the string to replace%', '%old_string%', '%old_str%',
                               '%inputvalidationerror%', '%modified since read%', '%unexpectedly modified%',
                               '%read it again before%', '%must read file%', '%before overwriting%',
                               '%no changes to make%', '%matches of the string%', '%unrecognized arguments%',
                               '%usage: %', '%is required for command%'])
            then 'tool'
        when t like any (array['%assertionerror%', '%asserterror%', '%testfailure%', '%failed%'])
          or m like any (array['assert %', '% assert %', '%assertionerror%', '%expect(%', '%expected % to %',
                               '%expected % but %', '%failed tests%', 'failed %::%'])
            then 'assertion'
        when t like any (array['keyerror%', 'indexerror%', 'lookuperror%', 'stopiteration%', '%arrayindexoutofbounds%'])
          or m like any (array['%index out of range%', '%out of bounds%', '%list index%', '%keyerror%'])
            then 'key_index'
        when t like 'attributeerror%' or m like any (array['%has no attribute%', '%is not a function%',
                                                           '%is not defined%', '%undefined method%'])
            then 'attribute'
        when t like 'typeerror%' or t like 'ts_%' or m like any (array['%not subscriptable%', '%not callable%',
                 '%not iterable%', '%unsupported operand%', '%cannot read propert%', '%argument of type%'])
            then 'type'
        when t like any (array['valueerror%', '%jsondecodeerror%', '%unicodedecodeerror%', '%unicodeencodeerror%',
                               'rangeerror%', '%decodeerror%', '%validationerror%', 'zerodivisionerror%',
                               'overflowerror%', '%invalidoperation%', '%dataerror%'])
          or m like any (array['%invalid literal%', '%could not convert%', '%invalid value%', '%invalid input%'])
            then 'value'
        when t like any (array['nameerror%', 'referenceerror%', 'unboundlocalerror%'])
            then 'attribute'
        else 'other'
    end;
end
$$;
comment on function debugloop.error_classify(text, text, text) is 'The kind of an error: syntax, import, type, attribute, key_index, value, assertion, timeout, network, permission, rate_limit, context_length, tool or other.';

-- debugloop.error_describe(error_type, message, stacktrace): everything debugloop
-- reads from an error at once: its signature, type, normalised message, frames
-- and category. Locks: none.
create or replace function debugloop.error_describe(error_type text, message text, stacktrace text default null,
                                                    out signature text, out kind text, out normalized_message text,
                                                    out frames text[], out category text)
language sql
immutable
parallel safe
as $$
    select i.signature, i.kind, i.normalized_message, i.frames,
           debugloop.error_classify(error_type, message, stacktrace)
      from debugloop._error_identity(error_type, message, stacktrace) i
$$;
comment on function debugloop.error_describe(text, text, text) is 'An error''s signature, type, normalised message, application frames and category.';

-- debugloop._error_record(error_type, message, stacktrace, attempt_id, seen_at):
-- the signature of an error, entered in debug_error_signatures (first seen, with
-- its group: _error_group_of, else its own; or its count and last seen raised).
-- Why: failed attempts are linked to their signature by a trigger. Locks: the
-- signature's row (upsert).
create or replace function debugloop._error_record(error_type text, message text, stacktrace text,
                                                   attempt_id uuid, seen_at timestamptz)
returns text
language plpgsql
volatile
as $$
declare
    e record;
    words text;
    joined text;
begin
    select * into e from debugloop.error_describe(error_type, message, stacktrace);
    words := debugloop._error_group_words(debugloop._error_key(e.normalized_message));
    -- a new signature joins the group of a known one it is cut from (or that is cut from it)
    if not exists (select from debugloop.debug_error_signatures s where s.signature = e.signature) then
        joined := debugloop._error_group_of(e.kind, words, debugloop._error_key(e.normalized_message));
    end if;
    insert into debugloop.debug_error_signatures as s (
        signature, error_type, normalized_message, frames, category, occurrences, first_seen_at, last_seen_at,
        example_message, example_stacktrace, example_attempt_id, group_signature, group_words)
    values (
        e.signature, e.kind, e.normalized_message, e.frames, e.category, 1, seen_at, seen_at,
        left(message, 4000), left(stacktrace, 20000), attempt_id, coalesce(joined, e.signature), words)
    on conflict on constraint debug_error_signatures_pkey do update
       set occurrences = s.occurrences + 1,
           group_words = coalesce(s.group_words, excluded.group_words),
           first_seen_at = least(s.first_seen_at, excluded.first_seen_at),
           last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at);
    return e.signature;
end
$$;

-- debugloop._error_set_signature(attempt): a failed attempt linked to the
-- signature of its error (_error_record), when it reports an error type or
-- message. Why: the error signature trigger's rule. Locks: the signature's row.
create or replace function debugloop._error_set_signature(attempt debugloop.debug_execution_attempts)
returns debugloop.debug_execution_attempts
language plpgsql
volatile
as $$
begin
    if coalesce(attempt.error_type, attempt.error_message) is not null then
        attempt.error_signature := debugloop._error_record(attempt.error_type, coalesce(attempt.error_message, ''),
                                                           attempt.error_stacktrace, attempt.attempt_id,
                                                           coalesce(attempt.completed_at, now()));
    end if;
    return attempt;
end
$$;

-- debugloop.error_wilson(successes, failures): the lower bound of the Wilson score
-- interval at 95% for successes/(successes+failures): a ranking that trusts
-- 95 of 100 over 1 of 1. 0 when there is no evidence. Raises DL001 for a count
-- that is null or negative. Locks: none.
create or replace function debugloop.error_wilson(successes bigint, failures bigint)
returns numeric
language plpgsql
immutable
parallel safe
as $$
declare
    n numeric := successes::numeric + failures;  -- numeric: two bigints may sum past bigint
    p numeric := successes / nullif(n, 0);
    z constant numeric := 1.96;
begin
    if successes is null or successes < 0 then
        raise exception 'successes must be a count (0 or more), got %', coalesce(successes::text, 'NULL')
            using errcode = 'DL001', column = 'successes';
    end if;
    if failures is null or failures < 0 then
        raise exception 'failures must be a count (0 or more), got %', coalesce(failures::text, 'NULL')
            using errcode = 'DL001', column = 'failures';
    end if;
    if n = 0 then
        return 0;
    end if;
    return round((p + z * z / (2 * n) - z * sqrt((p * (1 - p) + z * z / (4 * n)) / n)) / (1 + z * z / n), 4);
end
$$;
comment on function debugloop.error_wilson(bigint, bigint) is 'Wilson score lower bound (95%) of a success rate, for ranking.';

-- debugloop._error_set_mapping_scores(mapping, previous): a mapping with the
-- seed's confidence, max(0.10, min(1.00, s / (s + f))), and the Wilson lower bound
-- beside it, from its counts, whatever client writes the row; and the embedding of
-- its pattern when it is new (previous is null) or its pattern changed. Locks: none.
create or replace function debugloop._error_set_mapping_scores(mapping debugloop.debug_error_success_mappings,
                                                               previous debugloop.debug_error_success_mappings)
returns debugloop.debug_error_success_mappings
language plpgsql
stable
as $$
begin
    mapping.confidence_score := greatest(0.10, least(1.00,
        mapping.success_count::numeric / greatest(1, mapping.success_count + mapping.failure_count)));
    mapping.wilson_lower_bound := debugloop.error_wilson(mapping.success_count, mapping.failure_count);
    if previous.mapping_id is null or mapping.error_pattern is distinct from previous.error_pattern then
        mapping.pattern_embedding := debugloop.util_embed(mapping.error_pattern)::debugloop.halfvec;
    end if;
    return mapping;
end
$$;

-- debugloop._error_map_outcome(attempt): what a finished attempt teaches the
-- mappings. When it succeeds, every signature that failed earlier in its chain
-- maps to its approach (a new mapping, or the success count of the mapping with
-- the same approach raised; an attempt without an approach description is its own
-- approach). When it fails with an approach, each mapping that recommended that
-- approach for an error met earlier in the chain counts a failure. While
-- import_units runs (it sets debugloop.import_retries_only for its transaction: an
-- imported correlation is a whole session of unrelated actions), "earlier in the
-- chain" is the attempt's retry ancestry by parent links instead. Confidence
-- follows from the counts (_error_set_mapping_scores). Locks: the mappings' rows.
create or replace function debugloop._error_map_outcome(attempt debugloop.debug_execution_attempts)
returns void
language plpgsql
volatile
as $$
declare
    earlier record;
    approach text := coalesce(attempt.approach_hash, 'attempt:' || attempt.attempt_id);
    ancestors uuid[];
begin
    if current_setting('debugloop.import_retries_only', true) = 'on' then
        if attempt.parent_attempt_id is null then
            return;
        end if;
        with recursive up as (
            select p.attempt_id, p.parent_attempt_id, 1 as depth
              from debugloop.debug_execution_attempts p where p.attempt_id = attempt.parent_attempt_id
            union all
            select p.attempt_id, p.parent_attempt_id, up.depth + 1
              from up join debugloop.debug_execution_attempts p on p.attempt_id = up.parent_attempt_id
             where up.depth < 100
        )
        select array_agg(up.attempt_id) into ancestors from up;
    end if;
    if attempt.status = 'success' then
        for earlier in
            select a.error_signature, array_agg(a.attempt_id order by a.started_at) as attempt_ids,
                   min(s.normalized_message) as pattern, min(coalesce(s.error_type, s.category)) as error_type,
                   min(s.category) as category
              from debugloop.debug_execution_attempts a
              join debugloop.debug_error_signatures s on s.signature = a.error_signature
             where a.correlation_id = attempt.correlation_id and a.attempt_id <> attempt.attempt_id
               and a.status in ('error', 'timeout') and a.started_at <= attempt.started_at
               and (ancestors is null or a.attempt_id = any (ancestors))
             group by a.error_signature
        loop
            insert into debugloop.debug_error_success_mappings as m (
                signature, error_type, error_pattern, error_context, approach_key, successful_attempt_id,
                successful_stf_ids, successful_approach, failed_attempt_ids, success_count, last_success_at)
            values (
                earlier.error_signature, earlier.error_type, earlier.pattern,
                jsonb_build_object('category', earlier.category, 'model', attempt.model_used, 'tools', attempt.tools_used),
                approach, attempt.attempt_id, attempt.stf_ids, attempt.approach_description, earlier.attempt_ids, 1,
                coalesce(attempt.completed_at, now()))
            on conflict on constraint debug_error_success_mappings_signature_approach_key do update
               set success_count = m.success_count + 1,
                   successful_attempt_id = excluded.successful_attempt_id,
                   successful_stf_ids = coalesce(excluded.successful_stf_ids, m.successful_stf_ids),
                   successful_approach = coalesce(excluded.successful_approach, m.successful_approach),
                   failed_attempt_ids = (m.failed_attempt_ids || excluded.failed_attempt_ids)[greatest(1,
                       cardinality(m.failed_attempt_ids || excluded.failed_attempt_ids) - 99):],
                   last_success_at = excluded.last_success_at;
        end loop;
    elsif attempt.status in ('error', 'timeout') and attempt.approach_hash is not null then
        update debugloop.debug_error_success_mappings m
           set failure_count = m.failure_count + 1,
               last_failure_at = coalesce(attempt.completed_at, now())
         where m.approach_key = attempt.approach_hash
           and m.signature in (select a.error_signature
                                 from debugloop.debug_execution_attempts a
                                where a.correlation_id = attempt.correlation_id and a.attempt_id <> attempt.attempt_id
                                  and a.status in ('error', 'timeout') and a.error_signature is not null
                                  and a.started_at <= attempt.started_at
                                  and (ancestors is null or a.attempt_id = any (ancestors)));
    end if;
end
$$;

-- debugloop.error_fixes(message, error_type, stacktrace, k): the ranked fixes for
-- an error: mappings of its group first (_error_group: its signature and those of
-- the same error cut or whole; by Wilson lower bound), then of
-- the nearest error patterns by the cosine similarity of their embeddings
-- (debugloop.util_embed, >= 0.5), each with the approach that succeeded, its
-- confidence and counts. Raises DL001 for k outside 1..100. Locks: none.
create or replace function debugloop.error_fixes(message text, error_type text default null,
                                                 stacktrace text default null, k integer default 5)
returns table (rank integer, match text, similarity real, signature text, mapped_error_type text, error_pattern text,
               successful_approach text, successful_attempt_id uuid, model_used text,
               confidence_score numeric, wilson_lower_bound numeric, success_count integer, failure_count integer,
               last_success_at timestamptz, mapping_id uuid)
language plpgsql
stable
as $$
declare
    described record;
    wanted text;
    members text[];
    probe debugloop.halfvec;
begin
    perform debugloop._util_check_k(k, 100);
    select * into described from debugloop._error_identity(error_fixes.error_type, error_fixes.message, error_fixes.stacktrace);
    wanted := described.signature;
    -- the signatures of its group (_error_group): the same error, cut or whole
    members := array(select s.signature from debugloop.debug_error_signatures s
                      where s.group_signature = debugloop._error_group(error_fixes.error_type, error_fixes.message,
                                                                       error_fixes.stacktrace));
    members := members || wanted;
    -- similar errors only when the exact signature has fewer than k fixes
    if (select count(*) from (select from debugloop.debug_error_success_mappings m
                               where m.signature = any (members) limit k) e) < k then
        probe := debugloop.util_embed(described.normalized_message)::debugloop.halfvec;
    end if;
    return query
    with exact as (
        select m.*, 'exact'::text as how, 1::real as sim
          from debugloop.debug_error_success_mappings m
         where m.signature = any (members)
         order by m.wilson_lower_bound desc, m.success_count desc
         limit k
    ), near as (
        -- nearest patterns by cosine distance (HNSW index), then the similarity floor
        select n.* from (
            select m.*, 'similar'::text as how,
                   (1 - (m.pattern_embedding operator(debugloop.<=>) probe))::real as sim
              from debugloop.debug_error_success_mappings m
             where probe is not null and m.signature <> all (members)
             order by m.pattern_embedding operator(debugloop.<=>) probe
             limit k * 2) n
         where n.sim >= 0.5
    ), ranked as (
        select * from exact
        union all
        select * from near
    )
    select (row_number() over (order by (r.how = 'exact') desc, r.sim * r.wilson_lower_bound desc,
                                        r.success_count desc))::integer,
           r.how, r.sim, r.signature, r.error_type, r.error_pattern, r.successful_approach,
           r.successful_attempt_id, a.model_used, r.confidence_score, r.wilson_lower_bound,
           r.success_count, r.failure_count, r.last_success_at, r.mapping_id
      from ranked r
      left join debugloop.debug_execution_attempts a on a.attempt_id = r.successful_attempt_id
     order by 1
     limit k;
end
$$;
comment on function debugloop.error_fixes(text, text, text, integer) is 'Ranked fixes for an error: its exact signature''s mappings, then those of similar errors.';

-- debugloop._error_known_failures(fingerprint, similar, k): error_known_failures
-- for a request given by its fingerprint and those of its similar problems
-- (_problem_neighbours), so that the manifest finds them once for every section.
-- Locks: none.
create or replace function debugloop._error_known_failures(fingerprint text, similar_hashes text[], k integer)
returns table (approach_description text, approach_hash text, failures bigint, last_failed_at timestamptz,
               match text, errors jsonb)
language sql
stable
as $$
    with related as materialized (
        select r.*, case when r.user_request_hash = fingerprint then 'same request' else 'similar request' end as match
          from debugloop._related_attempts(fingerprint || similar_hashes, 200) r
    ), failed as (
        select r.approach_hash, max(r.approach_description) as approach_description, count(*) as failures,
               max(r.completed_at) as last_failed_at, min(r.match) as match
          from related r
         where r.approach_hash is not null and r.status in ('error', 'timeout')
         group by r.approach_hash
        having not exists (select from related ok where ok.approach_hash = r.approach_hash and ok.status = 'success')
    )
    select f.approach_description, f.approach_hash, f.failures, f.last_failed_at, f.match,
           (select coalesce(jsonb_agg(jsonb_build_object('error_type', e.error_type, 'signature', e.error_signature,
                                                         'message', e.message, 'count', e.n) order by e.n desc), '[]')
              from (select r.error_type, r.error_signature, left(min(r.error_message), 300) as message, count(*) as n
                      from related r
                     where r.approach_hash = f.approach_hash and r.status in ('error', 'timeout')
                     group by r.error_type, r.error_signature) e) as errors
      from failed f
     order by (f.match = 'same request') desc, f.failures desc, f.last_failed_at desc
     limit greatest(k, 0)
$$;

-- debugloop.error_known_failures(user_request, k): approaches that failed for this
-- request (same fingerprint) or similar problems (_problem_neighbours; the latest
-- 200 attempts of each) and never succeeded for any of them, most frequent first,
-- each with its failures and the errors they met. Attempts without an approach
-- description are left out: there is nothing to tell an agent to avoid. Raises
-- DL001 for an empty request or k outside 1..100. Locks: none.
create or replace function debugloop.error_known_failures(user_request text, k integer default 5)
returns table (approach_description text, approach_hash text, failures bigint, last_failed_at timestamptz,
               match text, errors jsonb)
language plpgsql
stable
as $$
begin
    if user_request is null or btrim(user_request) = '' then
        raise exception 'user_request must not be empty' using errcode = 'DL001', column = 'user_request';
    end if;
    perform debugloop._util_check_k(k, 100);
    return query
    select f.* from debugloop._problem_neighbours(user_request) n,
                    debugloop._error_known_failures(n.fingerprint, n.similar_hashes, k) f;
end
$$;
comment on function debugloop.error_known_failures(text, integer) is 'Approaches that failed for this or similar requests and never succeeded, with their errors.';

-- debugloop._error_likely_fixes(fingerprints, k): the errors met at these
-- requests (the latest 100 attempts of each), most frequent first, that have a
-- known fix, each with its best fix (highest Wilson lower bound). Locks: none.
create or replace function debugloop._error_likely_fixes(fingerprints text[], k integer)
returns table (signature text, error_type text, error_pattern text, category text, seen bigint,
               successful_approach text, model_used text, confidence_score numeric, wilson_lower_bound numeric,
               success_count integer, failure_count integer, mapping_id uuid)
language sql
stable
as $$
    with seen as (
        select r.error_signature, count(*) as n
          from debugloop._related_attempts(fingerprints, 100) r
         where r.error_signature is not null
         group by r.error_signature
    )
    select s.signature, coalesce(s.error_type, s.category), s.normalized_message, s.category, seen.n,
           m.successful_approach, a.model_used, m.confidence_score, m.wilson_lower_bound,
           m.success_count, m.failure_count, m.mapping_id
      from seen
      join debugloop.debug_error_signatures s on s.signature = seen.error_signature
     cross join lateral (select * from debugloop.debug_error_success_mappings m
                          where m.signature = seen.error_signature
                          order by m.wilson_lower_bound desc, m.success_count desc, m.mapping_id
                          limit 1) m
      left join debugloop.debug_execution_attempts a on a.attempt_id = m.successful_attempt_id
     order by seen.n desc, m.wilson_lower_bound desc, s.signature
     limit greatest(k, 0)
$$;

-- debugloop.error_likely_fixes(problem, k): the errors agents met at this
-- request or similar problems, most frequent first, that have a known fix, each
-- with its best fix: what the next agent should do if it meets them. Raises DL001
-- for an empty problem or k outside 1..100. Locks: none.
create or replace function debugloop.error_likely_fixes(problem text, k integer default 5)
returns table (signature text, error_type text, error_pattern text, category text, seen bigint,
               successful_approach text, model_used text, confidence_score numeric, wilson_lower_bound numeric,
               success_count integer, failure_count integer, mapping_id uuid)
language plpgsql
stable
as $$
begin
    perform debugloop._util_check_problem(problem, k, 100);
    return query
    select f.* from debugloop._problem_neighbours(problem) n,
                    debugloop._error_likely_fixes(n.fingerprint || n.similar_hashes, k) f;
end
$$;
comment on function debugloop.error_likely_fixes(text, integer) is 'Errors met at this or similar problems that have a known fix, most frequent first, each with its best fix.';

-- debugloop.error_get(signature): one signature by its full hex or a unique prefix
-- of at least 8 characters; DL002 when none, DL001 when the prefix is ambiguous.
create or replace function debugloop.error_get(signature text)
returns debugloop.debug_error_signatures
language plpgsql
stable
as $$
declare
    found_rows debugloop.debug_error_signatures[];
begin
    if signature is null or signature !~ '^[0-9a-f]{8,64}$' then
        raise exception 'signature must be 8 to 64 lower-case hex digits, got %', coalesce(quote_literal(signature), 'NULL')
            using errcode = 'DL001', column = 'signature';
    end if;
    select array_agg(s) into found_rows
      from (select * from debugloop.debug_error_signatures s
             where s.signature >= error_get.signature and s.signature < error_get.signature || 'g'
             limit 2) s;
    if found_rows is null then
        raise exception 'no error signature %', signature using errcode = 'DL002', column = 'signature';
    elsif cardinality(found_rows) > 1 then
        raise exception 'signature prefix % is ambiguous', signature
            using errcode = 'DL001', column = 'signature', hint = 'give more hex digits';
    end if;
    return found_rows[1];
end
$$;
comment on function debugloop.error_get(text) is 'One error signature by its hex or a unique prefix.';

-- debugloop.error_top(category, limit): the most frequent error signatures (of one
-- category, when given), the most recently seen first among equals, at most
-- `limit` (null: all). Locks: none.
create or replace function debugloop.error_top(category text default null, "limit" integer default 20)
returns setof debugloop.debug_error_signatures
language sql
stable
as $$
    select s.*
      from debugloop.debug_error_signatures s
     where error_top.category is null or s.category = error_top.category
     order by s.occurrences desc, s.last_seen_at desc
     limit debugloop._util_limit(error_top."limit")
$$;
comment on function debugloop.error_top(text, integer) is 'The most frequent error signatures, optionally of one category.';

-- debugloop.error_mappings(signature): the error->success mappings of one
-- signature (its full hex), most trusted first (Wilson lower bound, then
-- successes). Locks: none.
create or replace function debugloop.error_mappings(signature text)
returns setof debugloop.debug_error_success_mappings
language sql
stable
as $$
    select m.*
      from debugloop.debug_error_success_mappings m
     where m.signature = error_mappings.signature
     order by m.wilson_lower_bound desc, m.success_count desc
$$;
comment on function debugloop.error_mappings(text) is 'The error->success mappings of one signature, most trusted first.';

-- debugloop.v_error_signatures: signatures with how many fixes are known.
create or replace view debugloop.v_error_signatures as
select s.signature, s.error_type, s.category, s.normalized_message, s.occurrences, s.first_seen_at, s.last_seen_at,
       (select count(*) from debugloop.debug_error_success_mappings m where m.signature = s.signature) as fixes,
       s.example_message
  from debugloop.debug_error_signatures s;
comment on view debugloop.v_error_signatures is 'Error signatures with their category, occurrences and number of known fixes.';

-- debugloop.v_top_mappings: error->success mappings, most trusted first.
create or replace view debugloop.v_top_mappings as
select m.mapping_id, m.signature, m.error_type, m.error_pattern, m.successful_approach, m.confidence_score,
       m.wilson_lower_bound, m.success_count, m.failure_count, m.last_success_at
  from debugloop.debug_error_success_mappings m;
comment on view debugloop.v_top_mappings is 'Error->success mappings with confidence and Wilson lower bound (order by wilson_lower_bound desc).';
