-- agent: who is who. Claude Code hooks and MCP calls record which agent, session
-- and project they serve (debug_agent_sessions), so that Part 2 can bind a
-- database role, or an agent name and project, to a peer. A Claude Code session's
-- key is its session id, which is also the session key of its imported transcript
-- (debug_import_sessions, source claude-code): the two join on it.

-- debugloop._agent_caller(): the role that called, also inside a SECURITY DEFINER
-- function (where current_user is the function's owner): the role set by SET
-- ROLE, else the session's user. Why: a session belongs to the role that recorded
-- it first, and Part 2 binds roles to peers. Locks: none.
create or replace function debugloop._agent_caller()
returns text
language sql
stable
as $$
    select coalesce(nullif(current_setting('role'), 'none'), session_user::text)
$$;

-- debugloop.agent_session_record(agent_name, session_key, via, event, project,
-- transcript_path, model, prompt, os_user, client): record one call of a hook
-- (`via` 'hook') or an MCP tool ('mcp') for an agent's session, and return how
-- many calls the session has had, this one included. The first call creates the
-- session with the calling database role; later calls count, move last_seen_at
-- and keep what they do not give (a null project, model, prompt ... leaves the
-- stored one). Texts are trimmed; the prompt is redacted (util_redact) and kept to its first 4,000
-- characters. Raises DL001 for an empty agent name, session key or event or an
-- unknown `via`; DL040 when the session was recorded by another role (a role
-- cannot speak for another's session), then nothing changes. Locks: the session's
-- row.
create or replace function debugloop.agent_session_record(
    agent_name text,
    session_key text,
    via text,
    event text,
    project text default null,
    transcript_path text default null,
    model text default null,
    prompt text default null,
    os_user text default null,
    client text default null
)
returns bigint
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    caller text := debugloop._agent_caller();
    owner text;
    calls bigint;
begin
    if agent_name is null or btrim(agent_name) = '' then
        raise exception 'agent_name must not be empty' using errcode = 'DL001', column = 'agent_name';
    end if;
    if session_key is null or btrim(session_key) = '' then
        raise exception 'session_key must not be empty' using errcode = 'DL001', column = 'session_key';
    end if;
    if via is null or via not in ('hook', 'mcp') then
        raise exception 'via must be hook or mcp, got %', coalesce(quote_literal(via), 'NULL')
            using errcode = 'DL001', column = 'via';
    end if;
    if event is null or btrim(event) = '' then
        raise exception 'event must not be empty' using errcode = 'DL001', column = 'event';
    end if;
    insert into debugloop.debug_agent_sessions as s (
        agent_name, session_key, via, project, os_user, db_role, client, model, transcript_path, last_prompt, last_event)
    values (
        btrim(agent_session_record.agent_name), agent_session_record.session_key, agent_session_record.via,
        nullif(btrim(agent_session_record.project), ''), left(nullif(btrim(os_user), ''), 200), caller,
        left(nullif(btrim(agent_session_record.client), ''), 200), left(nullif(btrim(agent_session_record.model), ''), 200),
        nullif(btrim(agent_session_record.transcript_path), ''), left(debugloop.util_redact(nullif(btrim(prompt), '')), 4000),
        left(btrim(event), 100))
    on conflict on constraint debug_agent_sessions_pkey do update
       set via = excluded.via,
           project = coalesce(excluded.project, s.project),
           os_user = coalesce(excluded.os_user, s.os_user),
           client = coalesce(excluded.client, s.client),
           model = coalesce(excluded.model, s.model),
           transcript_path = coalesce(excluded.transcript_path, s.transcript_path),
           last_prompt = coalesce(excluded.last_prompt, s.last_prompt),
           last_event = excluded.last_event,
           events = s.events + 1,
           last_seen_at = now()
     where s.db_role = excluded.db_role
    returning s.events into calls;
    if calls is null then
        select s.db_role into owner from debugloop.debug_agent_sessions s
         where s.agent_name = btrim(agent_session_record.agent_name) and s.session_key = agent_session_record.session_key;
        raise exception 'session % of agent % was recorded by role %, not %', agent_session_record.session_key,
            btrim(agent_session_record.agent_name), owner, caller
            using errcode = 'DL040', column = 'session_key',
                  hint = 'each database role records its own sessions: connect as the role that started it';
    end if;
    return calls;
end
$$;
comment on function debugloop.agent_session_record(text, text, text, text, text, text, text, text, text, text)
    is 'Record a hook or MCP call for an agent''s session (who is who); returns the session''s number of calls.';
revoke execute on function debugloop.agent_session_record(text, text, text, text, text, text, text, text, text, text) from public;
grant execute on function debugloop.agent_session_record(text, text, text, text, text, text, text, text, text, text)
   to debugloop_agent, debugloop_admin;

-- debugloop.agent_session_list(agent_name, project, limit): the agent sessions,
-- latest first, of one agent and one project where each is given (null: any), at
-- most `limit` of them (null: all), each with who it served (project, OS user,
-- database role, client) and, for a session whose transcript was imported (a
-- Claude Code session id is its import session key), its correlation id, attempts
-- and cost. Why: what Part 2 binds to peers, and what `debugloop hooks sessions`
-- lists. Locks: none.
create or replace function debugloop.agent_session_list(
    agent_name text default null,
    project text default null,
    "limit" integer default 20
)
returns table (agent_name text, session_key text, via text, project text, os_user text, db_role text, client text,
               model text, transcript_path text, last_event text, events bigint, first_seen_at timestamptz,
               last_seen_at timestamptz, correlation_id uuid, attempts bigint, cost_usd numeric)
language sql
stable
as $$
    select s.agent_name, s.session_key, s.via, s.project, s.os_user, s.db_role, s.client, s.model, s.transcript_path,
           s.last_event, s.events, s.first_seen_at, s.last_seen_at, i.correlation_id,
           coalesce(a.attempts, 0), a.cost_usd
      from debugloop.debug_agent_sessions s
      left join debugloop.debug_import_sessions i on i.source = s.agent_name and i.session_key = s.session_key
      left join lateral (select count(*) as attempts, sum(x.cost_usd) as cost_usd
                           from debugloop.debug_execution_attempts x
                          where x.correlation_id = i.correlation_id) a on true
     where (agent_session_list.agent_name is null or s.agent_name = agent_session_list.agent_name)
       and (agent_session_list.project is null or s.project = agent_session_list.project)
     order by s.last_seen_at desc, s.agent_name, s.session_key
     limit agent_session_list."limit"
$$;
comment on function debugloop.agent_session_list(text, text, integer)
    is 'The agent sessions that hooks and MCP calls served, latest first, with their imported attempts and cost.';

-- debugloop.agent_session_prompt(agent_name, session_key): the latest prompt
-- recorded for an agent's session (null when none, or no such session). Why: a
-- Claude Code hook after a failed tool call is not given the prompt, and the
-- approaches that failed are known by the request. Locks: none.
create or replace function debugloop.agent_session_prompt(agent_name text, session_key text)
returns text
language sql
stable
as $$
    select s.last_prompt from debugloop.debug_agent_sessions s
     where s.agent_name = btrim(agent_session_prompt.agent_name) and s.session_key = agent_session_prompt.session_key
$$;
comment on function debugloop.agent_session_prompt(text, text) is 'The latest prompt recorded for an agent''s session.';
