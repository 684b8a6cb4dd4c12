import Outbox
import ServiceRuntime
import Store

/// The `assignment` schema, one migration per change; never edit an applied one.
enum AssignmentSchema {
    static var migrations: [Migration] {
        [
            Outbox.migration(version: 1),
            ConsumerPositions.migration(version: 2),
            IdempotencyKeys.migration(version: 3),
            Migration(version: 4, name: "create directory, catalogue, pool, schedules, history", sql: """
                CREATE TABLE organizations (
                    id text PRIMARY KEY,
                    slug text NOT NULL DEFAULT '',
                    external_id text NOT NULL DEFAULT '',
                    name text NOT NULL DEFAULT '',
                    time_zone text NOT NULL,
                    numbers_per_agent text NOT NULL DEFAULT 'one' CHECK (numbers_per_agent IN ('one', 'many')),
                    updated_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE TABLE agents (
                    id text PRIMARY KEY,
                    organization_id text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
                    name text NOT NULL DEFAULT '',
                    external_assistant_id text NOT NULL DEFAULT '',
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    UNIQUE (id, organization_id)
                );
                -- What inventory says each number is (from its events; never read from its schema).
                CREATE TABLE catalog (
                    number_id uuid PRIMARY KEY,
                    e164 text NOT NULL UNIQUE,
                    country text NOT NULL,
                    region text NOT NULL,
                    number_type text NOT NULL,
                    provider text NOT NULL,
                    voice boolean NOT NULL,
                    sms boolean NOT NULL,
                    mms boolean NOT NULL,
                    fax boolean NOT NULL,
                    monthly_cost_micros bigint NOT NULL,
                    currency text NOT NULL,
                    active boolean NOT NULL,
                    owner_organization_id text,
                    version bigint NOT NULL
                );
                CREATE INDEX catalog_pool ON catalog (country, e164) WHERE active AND owner_organization_id IS NULL;
                CREATE TABLE holds (
                    id uuid PRIMARY KEY,
                    organization_id text NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
                    expires_at timestamptz NOT NULL,
                    created_by text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                -- A row per number that is not available: reserved under a hold, or
                -- assigned to an organisation. The primary key is what makes double
                -- allocation impossible, whatever the races.
                CREATE TABLE assignments (
                    number_id uuid PRIMARY KEY REFERENCES catalog (number_id),
                    organization_id text NOT NULL,
                    state text NOT NULL CHECK (state IN ('reserved', 'assigned')),
                    hold_id uuid REFERENCES holds (id) ON DELETE CASCADE,
                    agent_id text,
                    -- Equals agent_id when the organisation allows one number per agent.
                    exclusive_agent_id text UNIQUE,
                    owned boolean NOT NULL DEFAULT false,
                    assigned_at timestamptz NOT NULL DEFAULT now(),
                    CHECK ((state = 'reserved') = (hold_id IS NOT NULL)),
                    CHECK (agent_id IS NULL OR state = 'assigned'),
                    CHECK (exclusive_agent_id IS NULL OR exclusive_agent_id = agent_id),
                    -- The agent must belong to the number's organisation.
                    FOREIGN KEY (agent_id, organization_id) REFERENCES agents (id, organization_id) ON DELETE SET NULL (agent_id)
                );
                CREATE INDEX assignments_organization ON assignments (organization_id);
                CREATE INDEX assignments_agent ON assignments (agent_id) WHERE agent_id IS NOT NULL;
                -- exclusive_agent_id follows agent_id and the organisation's policy,
                -- so the database itself enforces one agent, one number.
                CREATE FUNCTION assignments_exclusive_agent() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    NEW.exclusive_agent_id := CASE
                        WHEN NEW.agent_id IS NOT NULL AND (SELECT numbers_per_agent FROM organizations WHERE id = NEW.organization_id) = 'one'
                        THEN NEW.agent_id END;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER assignments_exclusive_agent BEFORE INSERT OR UPDATE ON assignments
                    FOR EACH ROW EXECUTE FUNCTION assignments_exclusive_agent();
                -- Released numbers rest here before the pool offers them again.
                CREATE TABLE cooldowns (
                    number_id uuid PRIMARY KEY REFERENCES catalog (number_id),
                    available_at timestamptz NOT NULL
                );
                CREATE TABLE schedules (
                    number_id uuid PRIMARY KEY REFERENCES assignments (number_id) ON DELETE CASCADE,
                    organization_id text NOT NULL,
                    schedule bytea NOT NULL,
                    version bigint NOT NULL DEFAULT 1,
                    updated_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE TABLE history (
                    id bigserial PRIMARY KEY,
                    at timestamptz NOT NULL DEFAULT now(),
                    actor text NOT NULL,
                    action text NOT NULL,
                    number_id uuid,
                    organization_id text,
                    agent_id text,
                    detail text NOT NULL DEFAULT ''
                );
                CREATE INDEX history_number ON history (number_id, id);
                CREATE INDEX history_organization ON history (organization_id, id);
                """),
            Outbox.dropTypeIndexMigration(version: 5),
        ]
    }
}
