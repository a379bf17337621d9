-- 0016 who is who: the agent sessions that Claude Code hooks and MCP calls serve.
-- A hook or an MCP tool call records which agent it serves (Claude Code's hooks:
-- `claude-code`, as the importer names its attempts), in which session (Claude
-- Code's session id, which is also the session key of its imported transcript)
-- and for which project (the working directory), with the operating-system user
-- it claims and the database role it connected as. Part 2 binds these to peers: a
-- database role, or an agent name and project, to a peer_id.

create table debugloop.debug_agent_sessions (
    agent_name      text not null
                    constraint debug_agent_sessions_agent_trimmed check (agent_name = btrim(agent_name) and agent_name <> ''),
    session_key     text not null constraint debug_agent_sessions_key_not_empty check (btrim(session_key) <> ''),
    via             text not null constraint debug_agent_sessions_via_known check (via in ('hook', 'mcp')),
    project         text,            -- the working directory the agent runs in
    os_user         text,            -- the operating-system user the caller says it runs as (a claim)
    db_role         text not null,   -- the role that called (SET ROLE, else the session's user): not an argument
    client          text,            -- the client's own name and version (MCP's clientInfo)
    model           text,            -- the model the agent said it uses (Claude Code's SessionStart)
    transcript_path text,            -- where the agent writes its transcript (imported as it grows)
    last_prompt     text,            -- the latest prompt, for what is said after a tool call fails
    last_event      text not null,   -- the hook event or MCP tool of the latest call
    events          bigint not null default 1 constraint debug_agent_sessions_events_positive check (events >= 1),
    first_seen_at   timestamptz not null default now(),
    last_seen_at    timestamptz not null default now(),
    constraint debug_agent_sessions_pkey primary key (agent_name, session_key)
);
create index debug_agent_sessions_project_idx on debugloop.debug_agent_sessions (project, last_seen_at desc);
create index debug_agent_sessions_seen_idx on debugloop.debug_agent_sessions (last_seen_at desc);
comment on table debugloop.debug_agent_sessions is
    'Who is who: per agent and session, the project, OS user, database role and client that hooks and MCP calls served.';

-- Written only through debugloop.agent_session_record (SECURITY DEFINER). Where the
-- NOLOGIN owner of the definer functions exists, it gets the rights that function uses.
do $$
begin
    if exists (select from pg_roles where rolname = 'debugloop_owner') then
        grant insert, update on debugloop.debug_agent_sessions to debugloop_owner;
    end if;
end
$$;
