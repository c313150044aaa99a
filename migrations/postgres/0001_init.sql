-- alfabot schema, Postgres dialect. Keep in step with ../sqlite/0001_init.sql:
-- same tables, columns, keys and indexes; only the types differ.
-- Money and token amounts are integers (lamports, raw units); addresses and
-- signatures are base58 text; times are unix milliseconds.

CREATE TABLE users (
    platform           TEXT    NOT NULL,
    user_id            BIGINT  NOT NULL,
    locale             TEXT    NOT NULL,
    home_chat_platform TEXT    NOT NULL,
    home_chat_id       BIGINT  NOT NULL,
    copy_lamports      BIGINT  NOT NULL CHECK (copy_lamports >= 0),
    created_ms         BIGINT  NOT NULL,
    PRIMARY KEY (platform, user_id)
);

-- `id` only orders follows made in the same millisecond.
CREATE TABLE follows (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_platform TEXT    NOT NULL,
    user_id       BIGINT  NOT NULL,
    wallet        TEXT    NOT NULL,
    created_ms    BIGINT  NOT NULL,
    UNIQUE (user_platform, user_id, wallet),
    FOREIGN KEY (user_platform, user_id) REFERENCES users (platform, user_id) ON DELETE CASCADE
);
CREATE INDEX follows_by_wallet ON follows (wallet);

-- Open paper positions only: a position that reaches zero tokens is deleted.
CREATE TABLE positions (
    user_platform TEXT    NOT NULL,
    user_id       BIGINT  NOT NULL,
    leader        TEXT    NOT NULL,
    mint          TEXT    NOT NULL,
    tokens        BIGINT  NOT NULL CHECK (tokens > 0),
    cost          BIGINT  NOT NULL CHECK (cost >= 0),
    realized_pnl  BIGINT  NOT NULL,
    opened_ms     BIGINT  NOT NULL,
    updated_ms    BIGINT  NOT NULL,
    PRIMARY KEY (user_platform, user_id, leader, mint),
    FOREIGN KEY (user_platform, user_id) REFERENCES users (platform, user_id) ON DELETE CASCADE
);

-- Every execution; (user, leader_signature, side) is the idempotency key.
CREATE TABLE fills (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_platform    TEXT    NOT NULL,
    user_id          BIGINT  NOT NULL,
    mint             TEXT    NOT NULL,
    leader           TEXT    NOT NULL,
    leader_signature TEXT    NOT NULL,
    side             TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    sol              BIGINT  NOT NULL CHECK (sol >= 0),
    tokens           BIGINT  NOT NULL CHECK (tokens >= 0),
    fee              BIGINT  NOT NULL CHECK (fee >= 0),
    realized_pnl     BIGINT  NOT NULL,
    timestamp_ms     BIGINT  NOT NULL,
    UNIQUE (user_platform, user_id, leader_signature, side),
    FOREIGN KEY (user_platform, user_id) REFERENCES users (platform, user_id) ON DELETE CASCADE
);
CREATE INDEX fills_by_user_time ON fills (user_platform, user_id, timestamp_ms DESC, id DESC);

-- Messages to deliver. No foreign key to users: a chat is not a user, and a
-- message outlives whatever produced it.
CREATE TABLE outbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_platform TEXT    NOT NULL,
    chat_id       BIGINT  NOT NULL,
    user_platform TEXT    NOT NULL,
    user_id       BIGINT  NOT NULL,
    payload       TEXT    NOT NULL,
    created_ms    BIGINT  NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    sent_ms       BIGINT,
    last_error    TEXT,
    parked        BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_ms IS NULL AND NOT parked;
