import Outbox
import ServiceRuntime
import Store

/// The `inventory` schema, one migration per change; never edit an applied one.
enum InventorySchema {
    static var migrations: [Migration] {
        [
            Outbox.migration(version: 1),
            IdempotencyKeys.migration(version: 2),
            Migration(version: 3, name: "create numbers", sql: """
                CREATE TABLE numbers (
                    id uuid PRIMARY KEY,
                    e164 text NOT NULL,
                    country text NOT NULL,
                    region text NOT NULL DEFAULT '',
                    number_type text NOT NULL,
                    provider text NOT NULL,
                    provider_number_id text NOT NULL DEFAULT '',
                    trunk_id text NOT NULL DEFAULT '',
                    vapi_phone_number_id text NOT NULL DEFAULT '',
                    voice boolean NOT NULL DEFAULT true,
                    sms boolean NOT NULL DEFAULT false,
                    mms boolean NOT NULL DEFAULT false,
                    fax boolean NOT NULL DEFAULT false,
                    monthly_cost_micros bigint NOT NULL DEFAULT 0,
                    currency text NOT NULL DEFAULT '',
                    label text NOT NULL DEFAULT '',
                    lifecycle text NOT NULL DEFAULT 'active',
                    owner_organization_id text,
                    credentials_key_id text,
                    credentials_ciphertext bytea,
                    version bigint NOT NULL DEFAULT 1,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    created_by text NOT NULL,
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    updated_by text NOT NULL,
                    retired_reason text,
                    -- The catalogue's identity: one row per E.164 number, enforced here.
                    CONSTRAINT numbers_e164_unique UNIQUE (e164),
                    CONSTRAINT numbers_e164_format CHECK (e164 ~ '^\\+[1-9][0-9]{6,14}$'),
                    CONSTRAINT numbers_lifecycle CHECK (lifecycle IN ('active', 'retired')),
                    CONSTRAINT numbers_cost CHECK (monthly_cost_micros >= 0),
                    CONSTRAINT numbers_credentials_pair CHECK ((credentials_key_id IS NULL) = (credentials_ciphertext IS NULL))
                );
                CREATE INDEX numbers_owner ON numbers (owner_organization_id, e164);
                CREATE INDEX numbers_country ON numbers (country, e164);
                CREATE INDEX numbers_provider ON numbers (provider, e164);
                CREATE INDEX numbers_credentials_key ON numbers (credentials_key_id) WHERE credentials_key_id IS NOT NULL;
                """),
            // Each secondary index costs about as much per imported row as the
            // row itself; listings walk e164 order and filter, so only the
            // selective owner index stays.
            Migration(version: 4, name: "drop country and provider indexes", sql: """
                DROP INDEX numbers_country;
                DROP INDEX numbers_provider;
                """),
            // Most imported numbers join the pool (no owner); the owner index
            // serves one organisation's listing, so pool rows need no entry in
            // it (measured: a fifth of Postgres' time per inserted row).
            Migration(version: 5, name: "owner index for owned numbers only", sql: """
                DROP INDEX numbers_owner;
                CREATE INDEX numbers_owner ON numbers (owner_organization_id, e164) WHERE owner_organization_id IS NOT NULL;
                """),
            // The same E.164 shape ('+', a non-zero digit, 7 to 15 digits in
            // all) without a regular expression, which cost a sixth of
            // Postgres' time per imported row.
            Migration(version: 6, name: "E.164 check without a regular expression", sql: """
                ALTER TABLE numbers DROP CONSTRAINT numbers_e164_format;
                ALTER TABLE numbers ADD CONSTRAINT numbers_e164_format CHECK (
                    octet_length(e164) BETWEEN 8 AND 16 AND left(e164, 1) = '+'
                    AND substr(e164, 2, 1) <> '0' AND ltrim(substr(e164, 2), '0123456789') = '');
                """),
            Outbox.dropTypeIndexMigration(version: 7),
        ]
    }
}
