//! One module per service role.

pub mod db_writer;
pub mod execution;
pub mod migrate;
pub mod paper_exchange;
pub mod risk_manager;
pub mod signal_engine;
