-- Copytrader profiles and the copy pipeline, SQLite dialect. Keep in step
-- with ../postgres/0003_copy_pipeline.sql: same tables, columns, keys and
-- indexes; only the types differ.
--
-- Every user gets a profile "main" holding their old paper copy size; their
-- follows and open positions move into it, and their fills keep their
-- idempotency keys (profile:leader signature:side).

CREATE TABLE profiles (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_platform TEXT    NOT NULL,
    user_id       INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    -- lower-case name: names are unique per user, ignoring case
    name_key      TEXT    NOT NULL,
    -- the profile's settings as JSON (missing fields read as defaults)
    settings      TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    UNIQUE (user_platform, user_id, name_key),
    FOREIGN KEY (user_platform, user_id) REFERENCES users (platform, user_id) ON DELETE CASCADE
);

INSERT INTO profiles (user_platform, user_id, name, name_key, settings, created_ms)
SELECT platform, user_id, 'main', 'main', '{"buy_sol":' || copy_lamports || '}', created_ms
FROM users;

ALTER TABLE users ADD COLUMN active_profile INTEGER;
ALTER TABLE users ADD COLUMN notify TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users DROP COLUMN copy_lamports;

CREATE TABLE follows_v3 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id    INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    user_platform TEXT    NOT NULL,
    user_id       INTEGER NOT NULL,
    wallet        TEXT    NOT NULL,
    -- per-follow overrides of the profile's settings, JSON
    overrides     TEXT    NOT NULL DEFAULT '{}',
    created_ms    INTEGER NOT NULL,
    UNIQUE (profile_id, wallet)
);
INSERT INTO follows_v3 (profile_id, user_platform, user_id, wallet, created_ms)
SELECT p.id, f.user_platform, f.user_id, f.wallet, f.created_ms
FROM follows f JOIN profiles p ON p.user_platform = f.user_platform AND p.user_id = f.user_id
ORDER BY f.id;
DROP TABLE follows;
ALTER TABLE follows_v3 RENAME TO follows;
CREATE INDEX follows_by_wallet ON follows (wallet);
CREATE INDEX follows_by_user ON follows (user_platform, user_id, created_ms, id);

-- Open positions only: a position that reaches zero tokens is deleted.
CREATE TABLE positions_v3 (
    profile_id    INTEGER NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    user_platform TEXT    NOT NULL,
    user_id       INTEGER NOT NULL,
    leader        TEXT    NOT NULL,
    mint          TEXT    NOT NULL,
    mode          TEXT    NOT NULL CHECK (mode IN ('paper', 'live')),
    tokens        INTEGER NOT NULL CHECK (tokens > 0),
    cost          INTEGER NOT NULL CHECK (cost >= 0),
    realized_pnl  INTEGER NOT NULL,
    bought_sol    INTEGER NOT NULL CHECK (bought_sol >= 0),
    bought_tokens INTEGER NOT NULL CHECK (bought_tokens >= 0),
    sold_sol      INTEGER NOT NULL CHECK (sold_sol >= 0),
    opened_ms     INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    -- the exit rules' state (peak, take-profit and ladder steps done), JSON
    exit_state    TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (profile_id, leader, mint)
);
INSERT INTO positions_v3 (profile_id, user_platform, user_id, leader, mint, mode, tokens, cost,
                          realized_pnl, bought_sol, bought_tokens, sold_sol, opened_ms, updated_ms)
SELECT p.id, o.user_platform, o.user_id, o.leader, o.mint, 'paper', o.tokens, o.cost,
       o.realized_pnl, o.cost, o.tokens, 0, o.opened_ms, o.updated_ms
FROM positions o JOIN profiles p ON p.user_platform = o.user_platform AND p.user_id = o.user_id;
DROP TABLE positions;
ALTER TABLE positions_v3 RENAME TO positions;
CREATE INDEX positions_by_user ON positions (user_platform, user_id, opened_ms);

-- Every execution, once per order key. No foreign keys: history outlives
-- profiles.
CREATE TABLE fills_v3 (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    order_key     TEXT    NOT NULL UNIQUE,
    profile_id    INTEGER NOT NULL,
    user_platform TEXT    NOT NULL,
    user_id       INTEGER NOT NULL,
    mint          TEXT    NOT NULL,
    leader        TEXT    NOT NULL,
    side          TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    mode          TEXT    NOT NULL CHECK (mode IN ('paper', 'live')),
    sol           INTEGER NOT NULL CHECK (sol >= 0),
    tokens        INTEGER NOT NULL CHECK (tokens >= 0),
    fee           INTEGER NOT NULL CHECK (fee >= 0),
    realized_pnl  INTEGER NOT NULL,
    -- why a sell happened (exit reason JSON), NULL for buys
    reason        TEXT,
    tx            TEXT,
    timestamp_ms  INTEGER NOT NULL
);
INSERT INTO fills_v3 (order_key, profile_id, user_platform, user_id, mint, leader, side, mode, sol,
                      tokens, fee, realized_pnl, reason, timestamp_ms)
SELECT p.id || ':' || f.leader_signature || ':' || CASE f.side WHEN 'buy' THEN 'b' ELSE 's' END,
       p.id, f.user_platform, f.user_id, f.mint, f.leader, f.side, 'paper', f.sol, f.tokens, f.fee,
       f.realized_pnl, CASE f.side WHEN 'sell' THEN '"leader_sold"' END, f.timestamp_ms
FROM fills f JOIN profiles p ON p.user_platform = f.user_platform AND p.user_id = f.user_id
ORDER BY f.id;
DROP TABLE fills;
ALTER TABLE fills_v3 RENAME TO fills;
CREATE INDEX fills_by_user_time ON fills (user_platform, user_id, timestamp_ms DESC, id DESC);
CREATE INDEX fills_by_time ON fills (timestamp_ms);
CREATE INDEX fills_by_profile_side ON fills (profile_id, side, mint);

-- Orders by idempotency key, recorded before they are sent.
CREATE TABLE orders (
    order_key     TEXT    PRIMARY KEY,
    profile_id    INTEGER NOT NULL,
    user_platform TEXT    NOT NULL,
    user_id       INTEGER NOT NULL,
    mode          TEXT    NOT NULL CHECK (mode IN ('paper', 'live')),
    mint          TEXT    NOT NULL,
    side          TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    -- the whole order, JSON
    body          TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'filled', 'rejected')),
    -- the last transaction sent (live) and how many were sent
    tx            TEXT,
    sends         INTEGER NOT NULL DEFAULT 0,
    -- the signing wallet's balances before the send, JSON
    balances      TEXT,
    -- why it was rejected, JSON
    reason        TEXT,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL
);
CREATE INDEX orders_unfinished ON orders (created_ms) WHERE status IN ('pending', 'sent');

-- Closed positions, for reports.
CREATE TABLE round_trips (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id    INTEGER NOT NULL,
    user_platform TEXT    NOT NULL,
    user_id       INTEGER NOT NULL,
    leader        TEXT    NOT NULL,
    mint          TEXT    NOT NULL,
    mode          TEXT    NOT NULL CHECK (mode IN ('paper', 'live')),
    opened_ms     INTEGER NOT NULL,
    closed_ms     INTEGER NOT NULL,
    cost          INTEGER NOT NULL CHECK (cost >= 0),
    proceeds      INTEGER NOT NULL CHECK (proceeds >= 0),
    pnl           INTEGER NOT NULL,
    exit          TEXT    NOT NULL,
    UNIQUE (profile_id, leader, mint, opened_ms)
);
CREATE INDEX round_trips_by_profile ON round_trips (profile_id, closed_ms);
CREATE INDEX round_trips_by_time ON round_trips (closed_ms);

-- The skip log: every copy decision, placed or skipped, and what the
-- executor made of placed ones.
CREATE TABLE decisions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id    INTEGER NOT NULL,
    user_platform TEXT    NOT NULL,
    user_id       INTEGER NOT NULL,
    leader        TEXT    NOT NULL,
    mint          TEXT    NOT NULL,
    side          TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    signature     TEXT,
    at_ms         INTEGER NOT NULL,
    -- the verdict and its reason, JSON
    verdict       TEXT    NOT NULL
);
CREATE INDEX decisions_by_user ON decisions (user_platform, user_id, id);
CREATE INDEX decisions_by_mint ON decisions (user_platform, user_id, mint, id);
CREATE INDEX decisions_by_leader ON decisions (user_platform, user_id, leader, id);

-- Users' wallet keys, sealed by the vault (they open only for their user).
CREATE TABLE wallet_keys (
    user_platform TEXT    NOT NULL,
    user_id       INTEGER NOT NULL,
    wallet        TEXT    NOT NULL,
    sealed        TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    PRIMARY KEY (user_platform, user_id, wallet),
    FOREIGN KEY (user_platform, user_id) REFERENCES users (platform, user_id) ON DELETE CASCADE
);

ALTER TABLE outbox ADD COLUMN silent BOOLEAN NOT NULL DEFAULT FALSE;
