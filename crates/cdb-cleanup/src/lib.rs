//! `cdb-cleanup` will own Docker disk audit and pruning that can never lose data: named volumes
//! and the images the stack uses are protected, every run is a dry run first, a snapshot is
//! taken before anything destructive, and disk usage is exported as metrics.
//!
//! It owns the `[cleanup]` section of `cdb.toml`. Nothing is implemented yet.

#![deny(missing_docs)]
