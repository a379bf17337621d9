-- Every statement that the Python layer sends to PostgreSQL. Most are a call to
-- a public function of the SQL API; the rest are the migration runner's and the
-- embedded server's own bookkeeping.

-- name: version
select debugloop.version() as version

-- name: info
select component, version from debugloop.info()

-- name: api
select kind, name, arguments, returns, summary, security_definer from debugloop.v_api order by kind, name, arguments

-- name: settings_get
select debugloop.settings_get(%(key)s) as value

-- name: settings
select key, value, effective_value, value_type, overridable, min_value, max_value,
       description, updated_at, updated_by
  from debugloop.v_settings
 where %(key)s::text is null or key = %(key)s
 order by key

-- name: settings_set
select key from debugloop.settings_set(%(key)s, %(value)s)

-- name: migrate_lock
-- held until the migrator's connection closes
select pg_advisory_lock(hashtext('debugloop.migrate'))

-- name: schema_exists
select to_regclass('debugloop.schema_state') is not null as exists

-- name: schema_state
select version, code_checksum, migrated_at from debugloop.schema_state

-- name: schema_state_record
update debugloop.schema_state
   set version = %(version)s, code_checksum = %(code_checksum)s, migrated_at = now()

-- name: applied_migrations
select migration_id from _yoyo_migration order by applied_at_utc, migration_id

-- name: database_exists
select exists (select from pg_database where datname = %(name)s) as exists

-- name: create_database
create database {name}

-- name: server_version
select current_setting('server_version') as version
