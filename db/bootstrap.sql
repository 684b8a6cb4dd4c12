-- Database bootstrap: one login role per service, each owning one schema of the
-- same name, and nothing else. Idempotent: safe to run on every start.
--
-- Run with psql as a superuser, connected to the application database:
--   psql -v ON_ERROR_STOP=1 -v inventory_password=... -f db/bootstrap.sql
-- Passwords come from psql variables (inventory_password, assignment_password,
-- lookup_password); each defaults to the role name, which is for development only.
-- The same file runs as a Postgres container init script, where no variables are set.

\if :{?inventory_password}
\else
\set inventory_password inventory
\endif
\if :{?assignment_password}
\else
\set assignment_password assignment
\endif
\if :{?lookup_password}
\else
\set lookup_password lookup
\endif

SET client_min_messages = warning;

-- Roles. CREATE ROLE has no IF NOT EXISTS, so generate the statement only when missing.
SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY['inventory', 'assignment', 'lookup']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
\gexec

-- Passwords are (re)set every run so a changed secret takes effect; psql quotes
-- the values as literals (:'var'), so they are never spliced into SQL text.
ALTER ROLE inventory WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'inventory_password';
ALTER ROLE assignment WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'assignment_password';
ALTER ROLE lookup WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'lookup_password';

-- Each service owns exactly one schema; no role is granted usage on another's.
CREATE SCHEMA IF NOT EXISTS inventory AUTHORIZATION inventory;
CREATE SCHEMA IF NOT EXISTS assignment AUTHORIZATION assignment;
CREATE SCHEMA IF NOT EXISTS lookup AUTHORIZATION lookup;

-- Unqualified names resolve in the service's own schema.
ALTER ROLE inventory SET search_path = inventory;
ALTER ROLE assignment SET search_path = assignment;
ALTER ROLE lookup SET search_path = lookup;

-- Close the shared spaces: nobody may create objects in public, or new schemas
-- or temporary tables in this database, unless granted.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SELECT format('REVOKE CREATE, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database())
\gexec
