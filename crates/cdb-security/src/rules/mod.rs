//! The checks of `cargo xtask audit-images`, one module per check, each with its own stable rule
//! codes (cargo-deny style: `module::rule-name`). [`ALL`] is the public contract: a published code
//! keeps its meaning, and the table is snapshot-tested.
//!
//! - [`pin`] — how an image reference is pinned: `latest`, floating tags, digests.
//! - [`policy`] — the version policy of `security/policy.toml`: minimum versions, exactness,
//!   allowed bases, and end of life of the product and of its base distribution.

use jiff::civil::Date;

use crate::model::{Finding, ImageUse, Level};
use crate::policy::Policy;

pub mod pin;
pub mod policy;

/// `(code, default level, one-line meaning)` of every rule, in a stable order.
pub const ALL: &[(&str, Level, &str)] = &[
    (
        pin::INVALID_REFERENCE,
        Level::Block,
        "the image reference does not parse (Docker would refuse it)",
    ),
    (
        pin::LATEST,
        Level::Block,
        "the tag is `latest`, or there is neither tag nor digest (Docker pulls `latest`)",
    ),
    (
        pin::FLOATING,
        Level::Warn,
        "the tag moves: less precise than the product's versions (`7`, `16-alpine`) or not a version (`alpine`, `stable`)",
    ),
    (
        pin::NO_DIGEST,
        Level::Note,
        "no `@sha256:` digest: the tag can be re-pushed with other content",
    ),
    (
        pin::DIGEST_REQUIRED,
        Level::Block,
        "the policy's `require_digest` lists the image and it has no digest",
    ),
    (
        policy::BELOW_MINIMUM,
        Level::Block,
        "the version is below the product's minimum in the policy",
    ),
    (
        policy::NOT_EXACT,
        Level::Block,
        "the policy requires an exact version for the product and the tag floats",
    ),
    (
        policy::BASE_NOT_ALLOWED,
        Level::Warn,
        "the tag is not on a base distribution the policy allows for the product (`bases`)",
    ),
    (
        policy::EOL,
        Level::Block,
        "the product's release cycle is past its end of life on the audit date",
    ),
    (
        policy::VARIANT_EOL,
        Level::Block,
        "the base distribution named in the tag (`alpine3.21`, `bookworm`) is past its end of life",
    ),
    (
        policy::EOL_SOON,
        Level::Warn,
        "the product's or base's release cycle reaches its end of life within `eol_soon_days`",
    ),
];

/// The default level of rule `code`, if the code is known.
pub fn default_level(code: &str) -> Option<Level> {
    ALL.iter().find(|(c, _, _)| *c == code).map(|(_, l, _)| *l)
}

/// Runs the [`pin`] and [`policy`] checks on every image, in image order (pin findings of an
/// image before its policy findings).
pub fn check_images(images: &[ImageUse], policy: &Policy, date: Date) -> Vec<Finding> {
    images
        .iter()
        .flat_map(|image| {
            let mut findings = pin::check(image, policy);
            findings.extend(policy::check(image, policy, date));
            findings
        })
        .collect()
}

/// A finding of rule `code` about `image`, at the rule's default level.
pub(crate) fn finding(
    code: &'static str,
    image: &ImageUse,
    message: String,
    suggestion: Option<String>,
) -> Finding {
    Finding {
        code,
        level: default_level(code).unwrap_or(Level::Block),
        image: image.reference.clone(),
        message,
        suggestion,
        loc: Some(image.loc),
        vulnerability: None,
    }
}
