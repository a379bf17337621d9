-- 0005 STFs: the registry of reusable functions (STFs), who produced each one,
-- their reuses and outcomes, and the approval workflow.

create table debugloop.debug_transform_functions (
    stf_id                 uuid primary key default gen_random_uuid(),

    -- identification
    stf_name               text not null constraint debug_transform_functions_name_nonempty check (btrim(stf_name) <> ''),
    stf_description        text,
    stf_hash               text not null constraint debug_transform_functions_hash_key unique,

    -- source (the first attempt that produced it; debug_stf_provenance holds all of them)
    source_execution_id    uuid,
    source_correlation_id  uuid,
    discovered_at          timestamptz not null default now(),
    contributor_agent_name text,

    -- content
    stf_code               text not null constraint debug_transform_functions_code_nonempty check (btrim(stf_code) <> ''),
    stf_language           text not null default 'python'
                           constraint debug_transform_functions_language_format check (stf_language ~ '^[a-z][a-z0-9+#-]*$'),
    normalized_code        text not null,
    stf_parameters         jsonb,
    docstring              text,

    -- classification
    problem_category       text,
    problem_signature      text,       -- the normalised request of the source attempt

    -- quality, each 0..1 (see debugloop._stf_rescore)
    quality_score          numeric(3, 2),
    complexity_score       numeric(3, 2),
    evidence_score         numeric(3, 2),
    reuse_score            numeric(3, 2),
    generality_score       numeric(3, 2),
    documentation_score    numeric(3, 2),
    size_score             numeric(3, 2),

    -- usage
    usage_count            integer not null default 0,
    success_count          integer not null default 0,
    failure_count          integer not null default 0,
    last_used_at           timestamptz,

    -- approval
    approval_status        text not null default 'pending'
                           constraint debug_transform_functions_approval_known check (approval_status in ('pending', 'approved', 'rejected')),
    approved_by            text,
    approved_at            timestamptz,

    -- search
    embedding              sparsevec(1048576), -- debugloop.util_embed_sparse of the search text
    embedding_neural       vector(384),    -- filled by the optional neural embedder (pip install debugloop[neural])
    embedding_model        text,           -- the model of embedding_neural
    search_text            text not null default '',
    search_document        tsvector,

    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now(),

    constraint debug_transform_functions_scores_range check (
        coalesce(quality_score, 0) between 0 and 1 and coalesce(complexity_score, 0) between 0 and 1
        and coalesce(evidence_score, 0) between 0 and 1 and coalesce(reuse_score, 0) between 0 and 1
        and coalesce(generality_score, 0) between 0 and 1 and coalesce(documentation_score, 0) between 0 and 1
        and coalesce(size_score, 0) between 0 and 1)
);
comment on table debugloop.debug_transform_functions is 'Reusable functions (STFs) extracted from successful attempts, deduplicated by normalised code.';

create index debug_transform_functions_category_idx on debugloop.debug_transform_functions (problem_category);
create index debug_transform_functions_quality_idx on debugloop.debug_transform_functions (quality_score desc);
create index debug_transform_functions_approval_idx on debugloop.debug_transform_functions (approval_status);
create index debug_transform_functions_usage_idx on debugloop.debug_transform_functions (usage_count desc);
create index debug_transform_functions_language_idx on debugloop.debug_transform_functions (stf_language);
-- m 32 and ef_construction 128: hashed word vectors are nearly orthogonal, a hard case
-- for HNSW; at 100k STFs the defaults (16, 64) found 0.81 of the exact top 5 at
-- ef_search 100, these 0.96 at the same query time, for a 3x longer build (bench/RESULTS.md)
create index debug_transform_functions_embedding_idx on debugloop.debug_transform_functions
    using hnsw (embedding sparsevec_cosine_ops) with (m = 32, ef_construction = 128);
create index debug_transform_functions_embedding_neural_idx on debugloop.debug_transform_functions
    using hnsw (embedding_neural vector_cosine_ops);
create index debug_transform_functions_search_idx on debugloop.debug_transform_functions using gin (search_document);

-- Every attempt and contributor that produced an STF's code, not only the first.
create table debugloop.debug_stf_provenance (
    provenance_id bigint generated always as identity primary key,
    stf_id        uuid not null constraint debug_stf_provenance_stf_fkey references debugloop.debug_transform_functions (stf_id),
    attempt_id    uuid constraint debug_stf_provenance_attempt_fkey references debugloop.debug_execution_attempts (attempt_id),
    contributor   text,
    registered_at timestamptz not null default now(),
    constraint debug_stf_provenance_once unique nulls not distinct (stf_id, attempt_id, contributor)
);
comment on table debugloop.debug_stf_provenance is 'Who produced each STF: every attempt and contributor that wrote the same normalised code.';

-- A reuse of an STF by an attempt, and whether that attempt succeeded.
create table debugloop.debug_stf_uses (
    use_id         bigint generated always as identity primary key,
    stf_id         uuid not null constraint debug_stf_uses_stf_fkey references debugloop.debug_transform_functions (stf_id),
    attempt_id     uuid not null constraint debug_stf_uses_attempt_fkey references debugloop.debug_execution_attempts (attempt_id),
    correlation_id uuid not null,
    success        boolean not null,
    used_at        timestamptz not null default now(),
    constraint debug_stf_uses_once unique (stf_id, attempt_id)
);
create index debug_stf_uses_stf_idx on debugloop.debug_stf_uses (stf_id);
comment on table debugloop.debug_stf_uses is 'Reuses of STFs by attempts, with their outcome.';

-- Approvals and rejections: who, when, why.
create table debugloop.debug_stf_reviews (
    review_id   bigint generated always as identity primary key,
    stf_id      uuid not null constraint debug_stf_reviews_stf_fkey references debugloop.debug_transform_functions (stf_id),
    decision    text not null constraint debug_stf_reviews_decision_known check (decision in ('approved', 'rejected', 'pending')),
    reviewed_by text not null,
    notes       text,
    reviewed_at timestamptz not null default now()
);
comment on table debugloop.debug_stf_reviews is 'The approval history of STFs.';

-- The thesaurus of debugloop.util_features: words that mean one thing to someone
-- looking for code ("folder" and "directory", "memoize" and "cache"). A word's
-- stem adds its concept as a feature, so a problem and a function that say one
-- thing in different words share it. Teams may add their own words; then
-- debugloop.stf_reembed() recomputes the STFs' embeddings. A line is a concept
-- (its first word) and its words; two lines may name one concept.
create table debugloop.util_synonyms (
    concept text not null,
    word    text not null constraint util_synonyms_word_format check (word ~ '^[a-z0-9]+$'),
    stem    text generated always as ((tsvector_to_array(to_tsvector('english', word)))[1]) stored,
    primary key (concept, word)
);
create index util_synonyms_stem_idx on debugloop.util_synonyms (stem);
grant insert, delete on debugloop.util_synonyms to debugloop_admin;
comment on table debugloop.util_synonyms is 'Words of one concept, for debugloop.util_features: a stem adds its concept as a feature.';

insert into debugloop.util_synonyms (concept, word)
select g[1], w
  from (values
    ('directory folder dir subdirectory subfolder'),
    ('file document'),
    ('path filepath filename pathname'),
    ('url uri link href address web'),
    ('http https request response header'),
    ('delete remove drop erase discard purge'),
    ('create make build construct generate produce'),
    ('copy clone duplicate replicate'),
    ('compare equal equality same identical match'),
    ('find search lookup locate seek'),
    ('get fetch retrieve obtain read load'),
    ('set assign store put save write persist'),
    ('update modify change alter mutate patch'),
    ('convert transform turn translate coerce cast'),
    ('parse decode deserialize interpret'),
    ('serialize encode stringify dump marshal'),
    ('format render display show print pretty present'),
    ('split divide separate break chop partition tokenize'),
    ('join concatenate concat combine merge glue union'),
    ('list array sequence slice vector items elements'),
    ('dict dictionary map mapping hashmap object record'),
    ('key field property attribute'),
    ('count number tally total amount quantity'),
    ('size length width'),
    ('sum add plus accumulate'),
    ('average mean median'),
    ('maximum max largest biggest highest greatest'),
    ('minimum min smallest lowest least'),
    ('first head initial leading start beginning begin prefix'),
    ('last tail final trailing end ending suffix'),
    ('unique distinct dedupe deduplicate duplicates'),
    ('sort order sorted ordering rank arrange'),
    ('filter select keep choose pick'),
    ('reverse backwards invert'),
    ('flatten unnest flat'),
    ('chunk batch group partition bucket window'),
    ('iterate loop walk traverse visit enumerate'),
    ('recursive recursively nested deep deeply'),
    ('cache memoize memo memoization cached caching lru'),
    ('retry retries again repeat reattempt backoff'),
    ('wait sleep delay pause'),
    ('timeout deadline expire expiry expiration'),
    ('schedule timer interval periodic'),
    ('thread concurrent concurrency parallel lock mutex synchronized'),
    ('async asynchronous promise future await coroutine'),
    ('queue buffer stack'),
    ('error exception failure fail fault raise throw'),
    ('validate valid validation check verify ensure assert'),
    ('email mail'),
    ('password secret credential token auth authorization authentication login'),
    ('user username account'),
    ('hash digest checksum fingerprint sha md5 crc'),
    ('encrypt cipher crypto'),
    ('random shuffle sample'),
    ('compress compression gzip zip deflate zlib archive'),
    ('decompress uncompress inflate unzip extract'),
    ('escape sanitize sanitise clean quote'),
    ('unescape unquote'),
    ('base64 b64'),
    ('hex hexadecimal'),
    ('binary bytes byte octet'),
    ('string str text characters chars'),
    ('character char letter symbol glyph'),
    ('word token term'),
    ('line row newline'),
    ('whitespace blank space indentation indent tab'),
    ('trim strip'),
    ('uppercase upper capital capitalize'),
    ('lowercase lower'),
    ('camelcase camel snakecase snake kebab'),
    ('slug slugify'),
    ('truncate shorten abbreviate cut ellipsis'),
    ('pad padding fill justify align'),
    ('wrap wrapping wordwrap'),
    ('template placeholder interpolate substitute'),
    ('regex regexp regular pattern expression wildcard glob'),
    ('number numeric integer int float decimal digit'),
    ('round rounding ceil floor'),
    ('percent percentage ratio fraction proportion'),
    ('humanize human readable friendly natural'),
    ('plural pluralize'),
    ('ordinal'),
    ('date day calendar'),
    ('time clock timestamp datetime'),
    ('duration elapsed period seconds minutes hours milliseconds'),
    ('year month week weekday'),
    ('timezone tz utc'),
    ('now today current'),
    ('version semver release'),
    ('config configuration settings options preferences'),
    ('environment env variable'),
    ('command cli shell terminal console argument args argv'),
    ('log logging logger warn warning debug'),
    ('json yaml toml xml csv ini'),
    ('html markup tag browser page'),
    ('cookie session'),
    ('query querystring params parameters'),
    ('host hostname domain server endpoint port'),
    ('ip ipv4 ipv6 network subnet cidr'),
    ('proxy gateway'),
    ('download fetch'),
    ('upload post send'),
    ('stream streaming chunked'),
    ('close shutdown cleanup dispose release'),
    ('temporary temp tmp scratch'),
    ('atomic safely safe'),
    ('lazy lazily generator yield iterator'),
    ('default fallback'),
    ('empty missing none null undefined nil optional'),
    ('contains includes has member membership'),
    ('index position offset location'),
    ('range span interval'),
    ('color colour rgb hsv hsl'),
    ('image picture photo'),
    ('kilobytes megabytes gigabytes kb mb gb'),
    ('callback hook listener handler'),
    ('event emit emitter'),
    ('function func callable fn method'),
    ('class type instance'),
    ('diff difference delta'),
    ('similar similarity fuzzy approximate'),
    ('clamp limit bound constrain restrict'),
    ('normalize canonical canonicalize standardize'),
    ('identifier id name'),
    ('unicode accents diacritics ascii'),
    ('mime mimetype media content'),
    ('yes true on enable enabled'),
    ('no false off disable disabled'),
    ('negative minus'),
    ('positive plus'),
    ('ascending increasing'),
    ('descending decreasing'),
    ('tree hierarchy nested'),
    ('parent ancestor root'),
    ('child children descendant'),
    ('graph node edge vertex'),
    ('client caller consumer'),
    ('body payload content'),
    ('status code'),
    ('permission access rights privilege'),
    ('owner ownership'),
    ('encoding charset utf8 codec'),
    ('locale language i18n translation'),
    ('money currency price cost amount'),
    ('distance coordinate latitude longitude point'),
    ('matrix grid table'),
    ('column col'),
    ('cell'),
    ('screen display monitor viewport'),
    ('keyboard keystroke'),
    ('paginate pagination page'),
    ('cancel abort stop terminate kill'),
    ('start begin launch run execute invoke'),
    ('exit quit'),
    ('process subprocess spawn'),
    ('memory ram'),
    ('disk storage'),
    ('database db sql'),
    ('transaction commit rollback'),
    ('connection connect socket'),
    ('listen bind'),
    ('message msg'),
    ('notify notification alert'),
    ('subscribe publish pubsub'),
    ('equivalent equal'),
    ('greater larger more above exceed'),
    ('less smaller fewer below under'),
    ('before prior previous earlier preceding'),
    ('after next later subsequent following'),
    ('between within inside'),
    ('outside beyond'),
    ('exclude omit skip ignore except'),
    ('allow permit whitelist allowlist'),
    ('deny block blacklist blocklist forbid'),
    ('pair tuple couple'),
    ('swap exchange'),
    ('rotate shift cycle'),
    ('apply call'),
    ('partial curry'),
    ('predicate condition'),
    ('statistics stats'),
    ('variance deviation stddev'),
    ('percentile quantile'),
    ('exponential exponent power'),
    ('square sqrt'),
    ('absolute abs'),
    ('modulo remainder mod'),
    ('divide division quotient'),
    ('multiply product times'),
    ('increment increase grow'),
    ('decrement decrease shrink'),
    ('scale resize'),
    ('bit bitwise mask'),
    ('uuid guid'),
    ('boolean bool truthy flag'),
    ('precision decimals places'),
    ('debounce quiet burst'),
    ('pipe chain compose pipeline'),
    ('frequency occurrence histogram'),
    ('subset subsets powerset combination'),
    ('prime primes'),
    ('throttle rate'),
    ('seed'),
    ('permutation shuffle'),
    -- abbreviations that code uses for the words that people write
    ('string str'),
    ('number num nr'),
    ('index idx'),
    ('length len'),
    ('function fn func'),
    ('callback cb'),
    ('context ctx'),
    ('array arr'),
    ('object obj'),
    ('message msg'),
    ('error err'),
    ('value val'),
    ('config cfg conf'),
    ('directory dir'),
    ('temporary tmp'),
    ('buffer buf'),
    ('source src'),
    ('destination dst dest'),
    ('position pos'),
    ('sequence seq'),
    ('element elem'),
    ('attribute attr'),
    ('parameter param'),
    ('argument arg'),
    ('result res ret'),
    ('request req'),
    ('response resp'),
    ('previous prev'),
    ('current cur curr'),
    ('count cnt'),
    ('character ch'),
    ('separator sep delim delimiter'),
    ('milliseconds ms msec'),
    ('seconds sec secs'),
    ('timestamp ts'),
    ('iterator iter'),
    ('expression expr'),
    ('reference ref'),
    ('pointer ptr'),
    ('address addr'),
    ('description desc'),
    ('information info'),
    ('extension ext'),
    ('format fmt'),
    ('utility util'),
    ('initialize init'),
    ('allocate alloc'),
    ('calculate calc compute'),
    ('generate gen'),
    ('environment env'),
    ('specification spec'),
    ('repository repo'),
    ('package pkg'),
    ('library lib'),
    ('image img')
       ) v(line), string_to_array(v.line, ' ') g, unnest(g) w
on conflict do nothing;

insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description) values
    ('stf_recommend_min_quality', '0.5', 'numeric', false, 0, 1,
     'A pending STF is recommended only at this quality or above; approved ones always, rejected ones never.'),
    ('stf_max_scan_tuples', '20000', 'integer', false, 100, 10000000,
     'How many index tuples a filtered STF search may visit (pgvector hnsw.max_scan_tuples) before it falls back to an exact search.'),
    ('stf_exact_search_below', '2000', 'integer', false, 0, 1000000,
     'When fewer STFs than this pass a search''s filters (or the registry is this small), stf_match compares them all instead of using the HNSW index; 0 always uses the index.');
