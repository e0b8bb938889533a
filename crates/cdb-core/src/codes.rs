//! Every diagnostic code cdb-core emits, with what it means. The codes are a public contract
//! (scripts and CI filters match on them): a published code keeps its meaning, and this table
//! is snapshot-tested.

use crate::compose::{env, loader, normalize_codes as normalize, validate};
use crate::config;

/// `(code, meaning)` for every code, in a stable order.
pub const ALL: &[(&str, &str)] = &[
    (
        loader::YAML,
        "a Compose file is not valid YAML (syntax, duplicate key, alias bomb)",
    ),
    (
        loader::NOT_A_MAPPING,
        "the top level of a Compose file is not a mapping",
    ),
    (loader::EMPTY, "the Compose files define nothing"),
    (loader::NO_FILE, "no Compose file was given or found"),
    (
        env::MISSING_FILE,
        "a Compose file, env file or extended file does not exist",
    ),
    (env::DOTENV, "a .env or env_file line cannot be parsed"),
    (
        loader::REQUIRED_VARIABLE,
        "${VAR:?message} or ${VAR?message} with VAR missing",
    ),
    (
        loader::INTERPOLATION,
        "a ${...} expression cannot be parsed",
    ),
    (
        loader::UNSET_VARIABLE,
        "warning: a variable is used but set nowhere; it becomes empty",
    ),
    (
        loader::EXTENDS,
        "extends names a service or file that does not exist",
    ),
    (loader::EXTENDS_CYCLE, "extends forms a cycle"),
    (
        loader::INCLUDE,
        "an include that cannot be applied (cycle, conflicting resource)",
    ),
    (
        crate::compose::merge::MERGE,
        "a later file overrides a value with one of another type",
    ),
    (
        loader::OBSOLETE_VERSION,
        "warning: the top-level `version` is obsolete and ignored",
    ),
    (validate::UNKNOWN_KEY, "an attribute Compose does not know"),
    (validate::INVALID_VALUE, "a value of the wrong type or form"),
    (normalize::PROJECT_NAME, "an invalid or empty project name"),
    (
        normalize::INVALID_SERVICE,
        "a service Compose rejects (network_mode with networks, no image nor build)",
    ),
    (
        normalize::UNDEFINED_REFERENCE,
        "a reference to a service, network or volume that is not defined",
    ),
    (config::TOML_SYNTAX, "cdb.toml is not valid TOML"),
    (config::INVALID, "a key or value cdb.toml does not accept"),
    (config::UNKNOWN_SECTION, "a section cdb.toml does not know"),
];
