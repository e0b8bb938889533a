-- The critical path's records. Every table is keyed by an id derived from the signal's id, so
-- that a redelivered stream entry can never make a second row (INSERT … ON CONFLICT DO NOTHING).
-- Cross-table foreign keys are deliberately absent: the streams are at-least-once and not ordered
-- with respect to each other, so a fill may be written in the batch before its order is; the
-- order_status view joins them instead. Constraints only state what the writer guarantees, so
-- that no row a service produced can make a whole batch fail forever.
-- All timestamps are timestamptz (stored in UTC).

CREATE TABLE accounts (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE symbols (
    symbol       text PRIMARY KEY,
    base_asset   text NOT NULL,
    quote_asset  text NOT NULL
);

CREATE TABLE signals (
    id               text PRIMARY KEY,
    account          text NOT NULL,
    symbol           text NOT NULL,
    side             text NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity         numeric NOT NULL,
    strength         double precision NOT NULL,
    reference_price  numeric NOT NULL,
    created_at       timestamptz NOT NULL,
    stream_id        text NOT NULL,
    persisted_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX signals_account_idx ON signals (account, created_at);

CREATE TABLE risk_decisions (
    signal_id     text PRIMARY KEY,
    account       text NOT NULL,
    approved      boolean NOT NULL,
    reason        text,
    detail        text NOT NULL,
    decided_at    timestamptz NOT NULL,
    persisted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (approved = (reason IS NULL))
);
CREATE INDEX risk_decisions_reason_idx ON risk_decisions (reason) WHERE reason IS NOT NULL;

CREATE TABLE orders (
    id               text PRIMARY KEY,
    signal_id        text NOT NULL UNIQUE,
    account          text NOT NULL,
    symbol           text NOT NULL,
    side             text NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity         numeric NOT NULL,
    reference_price  numeric NOT NULL,
    created_at       timestamptz NOT NULL,
    persisted_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE fills (
    id            text PRIMARY KEY,
    order_id      text NOT NULL UNIQUE,
    symbol        text NOT NULL,
    side          text NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity      numeric NOT NULL,
    price         numeric NOT NULL,
    fee           numeric NOT NULL,
    filled_at     timestamptz NOT NULL,
    persisted_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE order_rejections (
    order_id      text PRIMARY KEY,
    reason        text NOT NULL,
    rejected_at   timestamptz NOT NULL,
    persisted_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Stream entries the writer could not read: kept, never silently dropped.
CREATE TABLE dead_letters (
    stream        text NOT NULL,
    entry_id      text NOT NULL,
    data          text,
    error         text NOT NULL,
    persisted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (stream, entry_id)
);

CREATE VIEW order_status AS
SELECT o.id AS order_id,
       o.signal_id,
       o.account,
       o.symbol,
       CASE WHEN f.id IS NOT NULL THEN 'filled'
            WHEN r.order_id IS NOT NULL THEN 'rejected'
            ELSE 'open' END AS status,
       f.price AS fill_price,
       f.filled_at,
       r.reason AS rejection_reason
FROM orders o
LEFT JOIN fills f ON f.order_id = o.id
LEFT JOIN order_rejections r ON r.order_id = o.id;
