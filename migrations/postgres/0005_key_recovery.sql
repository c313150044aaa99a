-- Safer key custody, Postgres dialect. Keep in step with
-- ../sqlite/0005_key_recovery.sql.
--
-- wallet_keys learns when a key was last exported (the time only: whether
-- the user holds a copy decides if deleting it can lose funds) and whether
-- it is archived (hidden from /wallet, still stored and usable again at
-- any time).
--
-- A deleted key is not dropped: it moves to deleted_wallet_keys, still
-- sealed, and can be restored until purge_at_ms; a sweeper removes it
-- after that. One tombstone per user and wallet: a wallet deleted again
-- replaces its older tombstone (the same address always has the same
-- secret).

ALTER TABLE wallet_keys ADD COLUMN exported_ms BIGINT;
ALTER TABLE wallet_keys ADD COLUMN archived_ms BIGINT;

CREATE TABLE deleted_wallet_keys (
    user_platform TEXT   NOT NULL,
    user_id       BIGINT NOT NULL,
    wallet        TEXT   NOT NULL,
    sealed        TEXT   NOT NULL,
    created_ms    BIGINT NOT NULL,
    exported_ms   BIGINT,
    deleted_ms    BIGINT NOT NULL,
    purge_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (user_platform, user_id, wallet),
    FOREIGN KEY (user_platform, user_id) REFERENCES users (platform, user_id) ON DELETE CASCADE
);

CREATE INDEX deleted_wallet_keys_due ON deleted_wallet_keys (purge_at_ms);
