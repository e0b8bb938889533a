//! The Claire de Binare reference paper-trading stack: the services the E2E suite runs against.
//!
//! The critical path is signal-engine → risk-manager → execution → paper-exchange → db-writer →
//! PostgreSQL, over Redis Streams with consumer groups:
//!
//! ```text
//! signal-engine ──cdb:signals──► risk-manager ──cdb:orders──► execution ──HTTP──► paper-exchange
//!        │                           │                           │
//!        └──────────cdb:signals──────┴──cdb:decisions──┬─────────┴──cdb:executions
//!                                                     ▼
//!                                                 db-writer ──► PostgreSQL
//! ```
//!
//! One static binary, `cdb-paper`, runs every role (`cdb-paper <role>`); `cdb-paper healthcheck`
//! is the Docker healthcheck of a `FROM scratch` image. Each service serves `GET /health` (200
//! with a JSON body of its checks when its dependencies answer, 503 otherwise) and
//! `GET /metrics` (Prometheus text format) on port 8080, is configured by environment variables
//! ([`config`]), and shuts down gracefully on SIGTERM or SIGINT: it stops reading, finishes and
//! acknowledges what it has read, and exits 0.
//!
//! The contract other implementations must honour — stream names, the message JSON, the tables —
//! is [`model`] and `migrations/`.

#![deny(missing_docs)]

pub mod config;
pub mod db;
pub mod errors;
pub mod http;
pub mod metrics;
pub mod model;
pub mod risk;
pub mod roles;
pub mod service;
pub mod shutdown;
pub mod streams;
