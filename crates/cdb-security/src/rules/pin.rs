//! How an image reference is pinned.
//!
//! | code                      | level | when                                                      |
//! |---------------------------|-------|-----------------------------------------------------------|
//! | `pin::invalid-reference`  | block | the reference does not parse                              |
//! | `pin::latest`             | block | the tag is `latest`, or there is neither tag nor digest   |
//! | `pin::floating`           | warn  | the tag moves (see below); no digest pins it              |
//! | `pin::no-digest`          | note  | no digest                                                 |
//! | `pin::digest-required`    | block | no digest and the policy's `require_digest` lists the image |
//!
//! A tag floats when it is less precise than the product's versions — the product's `precision`
//! in the policy, `full` (`7.4.6`) unless the policy says `major-minor` (postgres: `16.4` is
//! exact) — or when it is not a version at all (`alpine`, `stable`, `lts`, `bookworm`, `slim`).
//! A digest pins the content whatever the tag says, so `redis:7@sha256:…` does not float. For a
//! product whose policy says `exact = true`, a floating tag is the stricter
//! `policy::not-exact` instead (one finding, not two).

use cdb_core::image::{ImageRef, Precision, TagVersion};

use crate::model::{Finding, ImageUse};
use crate::policy::Policy;
use crate::rules::finding;

/// The reference does not parse.
pub const INVALID_REFERENCE: &str = "pin::invalid-reference";
/// `:latest`, or neither tag nor digest.
pub const LATEST: &str = "pin::latest";
/// A tag that moves to new releases.
pub const FLOATING: &str = "pin::floating";
/// No digest.
pub const NO_DIGEST: &str = "pin::no-digest";
/// No digest, and the policy requires one for this image.
pub const DIGEST_REQUIRED: &str = "pin::digest-required";

/// Whether Docker resolves the reference to the `latest` tag: `:latest`, or neither tag nor
/// digest.
pub fn is_latest(image: &ImageRef) -> bool {
    match (image.tag(), image.digest()) {
        (Some(tag), _) => tag == "latest",
        (None, digest) => digest.is_none(),
    }
}

/// Whether `tag` is an exact version at `precision`.
pub fn is_exact(tag: &str, precision: Precision) -> bool {
    TagVersion::parse(tag).is_some_and(|t| t.version().precision() >= precision)
}

/// The pin findings of one image.
pub fn check(image: &ImageUse, policy: &Policy) -> Vec<Finding> {
    let r = match &image.parsed {
        Ok(r) => r,
        Err(why) => {
            return vec![finding(
                INVALID_REFERENCE,
                image,
                format!(
                    "`{}` is not a valid image reference: {why}",
                    image.reference
                ),
                Some("write `name[:tag][@sha256:digest]`, e.g. `postgres:17.6-alpine3.22`".into()),
            )];
        }
    };
    let product = policy.product_for(r);
    let version = r.tag_version().map(|t| t.version().clone());
    let recommended = product.and_then(|p| p.recommended_from(version.as_ref()));
    let use_recommended =
        |fallback: String| Some(recommended.map_or(fallback, |rec| format!("use {rec}")));
    let mut findings = Vec::new();

    if is_latest(r) {
        let message = match r.tag() {
            Some(_) => format!(
                "`{}` uses the `latest` tag: every pull may bring another release",
                image.reference
            ),
            None => format!(
                "`{}` has no tag: Docker pulls `latest`, and every pull may bring another release",
                image.reference
            ),
        };
        findings.push(finding(
            LATEST,
            image,
            message,
            use_recommended("pin an exact version tag (and a digest)".into()),
        ));
    } else if let Some(tag) = r.tag()
        && r.digest().is_none()
        && !product.is_some_and(|p| p.exact)
    {
        let precision = product.map_or(Precision::Full, |p| p.precision);
        if !is_exact(tag, precision) {
            let message = match TagVersion::parse(tag) {
                Some(tv) => format!(
                    "`{}` is a floating tag: `{}` moves to every new {}.x release{}",
                    image.reference,
                    tag,
                    tv.version(),
                    match product {
                        Some(p) =>
                            format!(" ({} versions are {})", p.name, precision_name(precision)),
                        None => String::new(),
                    }
                ),
                None => format!(
                    "`{}` is a floating tag: `{tag}` is not a version and moves with every release",
                    image.reference
                ),
            };
            findings.push(finding(
                FLOATING,
                image,
                message,
                use_recommended(format!(
                    "pin the {} version the tag points to now",
                    precision_name(precision)
                )),
            ));
        }
    }

    if r.digest().is_none() {
        let inspect = format!(
            "append @sha256:<digest> (`docker buildx imagetools inspect {}` prints it)",
            image.reference
        );
        if policy.requires_digest(r) {
            findings.push(finding(
                DIGEST_REQUIRED,
                image,
                format!(
                    "`{}` has no digest, and the policy requires one for {}",
                    image.reference,
                    r.familiar_name()
                ),
                Some(inspect),
            ));
        } else {
            findings.push(finding(
                NO_DIGEST,
                image,
                format!(
                    "`{}` is not pinned by digest: the tag can be re-pushed with other content",
                    image.reference
                ),
                Some(inspect),
            ));
        }
    }
    findings
}

fn precision_name(precision: Precision) -> &'static str {
    match precision {
        Precision::Major => "major",
        Precision::MajorMinor => "major.minor",
        Precision::Full => "major.minor.patch",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Level, Origin};
    use crate::policy::load_policy;
    use cdb_core::{FileId, Location, SourceMap};
    use std::path::Path;

    fn use_of(reference: &str) -> ImageUse {
        ImageUse {
            reference: reference.into(),
            parsed: ImageRef::parse(reference).map_err(|e| e.to_string()),
            origin: Origin::Compose {
                service: "s".into(),
            },
            loc: Location::new(FileId(0), 4, 12),
        }
    }

    fn policy() -> Policy {
        load_policy(
            Path::new("p.toml"),
            "require_digest = [\"ghcr.io/org/app\"]\n\
             [products.postgres]\nprecision = \"major-minor\"\nrecommended = \"postgres:17.6-alpine3.22\"\n\
             [products.grafana]\nimages = [\"grafana/grafana\"]\nexact = true\n",
            &mut SourceMap::new(),
        )
        .unwrap()
    }

    fn codes(reference: &str) -> Vec<(&'static str, Level)> {
        check(&use_of(reference), &policy())
            .into_iter()
            .map(|f| (f.code, f.level))
            .collect()
    }

    #[test]
    fn exact_versions_pass_except_for_the_digest_note() {
        assert_eq!(codes("redis:7.4.6-alpine3.22"), [(NO_DIGEST, Level::Note)]);
        assert_eq!(codes("postgres:16.4"), [(NO_DIGEST, Level::Note)]);
        let digest = "@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(codes(&format!("redis:7.4.6{digest}")), []);
        assert_eq!(codes(&format!("redis{digest}")), []);
        assert_eq!(codes(&format!("redis:7{digest}")), []);
    }

    #[test]
    fn latest_and_no_tag_block() {
        assert_eq!(
            codes("redis"),
            [(LATEST, Level::Block), (NO_DIGEST, Level::Note)]
        );
        assert_eq!(
            codes("redis:latest"),
            [(LATEST, Level::Block), (NO_DIGEST, Level::Note)]
        );
    }

    #[test]
    fn floating_tags_warn() {
        for r in [
            "redis:7",
            "redis:7.4",
            "redis:7-alpine",
            "postgres:16-alpine",
            "python:slim",
            "debian:bookworm",
            "node:lts",
        ] {
            assert_eq!(
                codes(r),
                [(FLOATING, Level::Warn), (NO_DIGEST, Level::Note)],
                "{r}"
            );
        }
    }

    #[test]
    fn exact_products_leave_floating_to_the_policy_rule() {
        assert_eq!(codes("grafana/grafana:12"), [(NO_DIGEST, Level::Note)]);
    }

    #[test]
    fn required_digest_replaces_the_note() {
        assert_eq!(
            codes("ghcr.io/org/app:1.2.3"),
            [(DIGEST_REQUIRED, Level::Block)]
        );
    }

    #[test]
    fn invalid_references_block_alone() {
        let image = ImageUse {
            parsed: Err("invalid reference format".into()),
            ..use_of("x")
        };
        let findings = check(&image, &policy());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, INVALID_REFERENCE);
        assert_eq!(findings[0].loc, Some(Location::new(FileId(0), 4, 12)));
    }

    #[test]
    fn suggestions_use_the_recommended_tag() {
        let f = check(&use_of("postgres:16"), &policy());
        assert_eq!(f[0].code, FLOATING);
        assert_eq!(
            f[0].suggestion.as_deref(),
            Some("use postgres:17.6-alpine3.22")
        );
        assert!(
            f[0].message.contains("postgres versions are major.minor"),
            "{}",
            f[0].message
        );
        // Never a downgrade: postgres:18 is newer than the recommended 17.6.
        let f = check(&use_of("postgres:18"), &policy());
        assert_eq!(
            f[0].suggestion.as_deref(),
            Some("pin the major.minor version the tag points to now")
        );
    }
}
