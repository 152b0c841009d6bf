-- pgfailover's PostgreSQL roles, with the least privilege the controller needs (PostgreSQL 15 or
-- newer: GRANT ALTER SYSTEM ON PARAMETER came with 15). Idempotent: run it again to change a
-- password or after an upgrade of pgfailover.
--
-- Run it on the primary as a superuser, with the two passwords as psql variables that never reach
-- a command line or a logged environment: read them from files only their owner can read.
--
--   { echo "\set controller_pw \`cat /root/controller_pw\`"
--     echo "\set replication_pw \`cat /root/replication_pw\`"
--     cat config/roles.sql; } | sudo -u postgres psql -v ON_ERROR_STOP=1 -f -
--
-- The CloudFormation stack's boot script applies exactly this file (a test compares the two).

-- The controller's login role: probes, promotion and a switchover's write stop. Never a superuser.
SELECT 'CREATE ROLE pgfailover LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pgfailover') \gexec
ALTER ROLE pgfailover WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
  PASSWORD :'controller_pw';
-- Probes read pg_stat_wal_receiver, pg_stat_replication and pg_stat_activity in full.
GRANT pg_monitor TO pgfailover;
-- Promotion of a standby.
GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO pgfailover;
-- A switchover's write stop on the old primary (and its removal): ALTER SYSTEM on this one
-- parameter, a configuration reload, and ending client sessions (not superusers' sessions: see the
-- README on application roles).
GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO pgfailover;
-- replication: {mode: sync}: which standby the primary waits for.
GRANT ALTER SYSTEM ON PARAMETER synchronous_standby_names TO pgfailover;
GRANT EXECUTE ON FUNCTION pg_reload_conf() TO pgfailover;
GRANT pg_signal_backend TO pgfailover;
-- The write check's heartbeat table lives in a schema the controller owns.
CREATE SCHEMA IF NOT EXISTS pgfailover AUTHORIZATION pgfailover;

-- The standby's replication role.
SELECT 'CREATE ROLE replicator LOGIN REPLICATION'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') \gexec
ALTER ROLE replicator WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE
  PASSWORD :'replication_pw';
-- The node agent's rejoin (failoverctl agent) runs pg_rewind as this role on an ordinary
-- connection to the postgres database, where these functions read the new primary's files
-- (PostgreSQL 15 documentation, pg_rewind, Notes). Function privileges belong to one database:
-- run this file in postgres (psql as the postgres user connects there). pg_checkpoint lets the
-- agent checkpoint a just promoted primary first, so that pg_rewind reads the new timeline from
-- its control file.
GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO replicator;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO replicator;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO replicator;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO replicator;
GRANT pg_checkpoint TO replicator;
