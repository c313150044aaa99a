-- Wallet analytics snapshot, Postgres dialect. Keep in step with
-- ../sqlite/0002_wallet_stats.sql.
-- One row per wallet: the analytics module's own serialized state (JSON
-- text, versioned by that module), written in batches and read at start.
-- `last_ms` (the wallet's last activity, unix ms) lets old rows be found.

CREATE TABLE wallet_stats (
    wallet  TEXT   PRIMARY KEY,
    last_ms BIGINT NOT NULL,
    data    TEXT   NOT NULL
);
CREATE INDEX wallet_stats_by_last ON wallet_stats (last_ms);
