import Outbox
import Store

/// Lookup's own schema: one denormalised row per number (what inventory says
/// it is, sealed credentials, and who holds it per assignment), the
/// organisations, agents and schedules routes refer to, and the stream
/// positions they were built up to, all written in the same transactions.
enum LookupSchema {
    static let migrations: [Migration] = [
        ConsumerPositions.migration(version: 1),
        Migration(version: 2, name: "create route projection", sql: """
            CREATE TABLE numbers (
                number_id uuid PRIMARY KEY,
                e164 text NOT NULL,
                -- false until inventory's event for the number arrived.
                cataloged boolean NOT NULL DEFAULT false,
                country text NOT NULL DEFAULT '',
                region text NOT NULL DEFAULT '',
                number_type text NOT NULL DEFAULT '',
                provider text NOT NULL DEFAULT '',
                provider_number_id text NOT NULL DEFAULT '',
                trunk_id text NOT NULL DEFAULT '',
                vapi_phone_number_id text NOT NULL DEFAULT '',
                capabilities smallint NOT NULL DEFAULT 0,
                retired boolean NOT NULL DEFAULT false,
                owner_organization_id text,
                inventory_version bigint NOT NULL DEFAULT 0,
                credentials_key_id text,
                credentials_ciphertext bytea,
                -- From assignment: who holds the number.
                organization_id text,
                agent_id text,
                assignment_state text NOT NULL DEFAULT 'available',
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE UNIQUE INDEX numbers_e164 ON numbers (e164);
            CREATE TABLE organizations (
                id text PRIMARY KEY,
                slug text NOT NULL,
                external_id text NOT NULL,
                name text NOT NULL,
                time_zone text NOT NULL
            );
            CREATE TABLE agents (
                id text PRIMARY KEY,
                organization_id text NOT NULL,
                name text NOT NULL,
                external_assistant_id text NOT NULL
            );
            CREATE TABLE schedules (
                number_id uuid PRIMARY KEY,
                -- phonenumbers.assignment.v1.Schedule, encoded.
                schedule bytea NOT NULL
            );
            """),
    ]
}
