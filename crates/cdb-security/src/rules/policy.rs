//! The version policy of `security/policy.toml`, checked on a given audit date.
//!
//! | code                       | level | when                                                     |
//! |----------------------------|-------|----------------------------------------------------------|
//! | `policy::below-minimum`    | block | the tag's version is below the product's `minimum`       |
//! | `policy::not-exact`        | block | the product says `exact = true` and the tag floats       |
//! | `policy::base-not-allowed` | warn  | the tag names none of the product's `bases`              |
//! | `policy::eol`              | block | the product's cycle (postgres 14) reached its end of life |
//! | `policy::variant-eol`      | block | the base named in the tag (`alpine3.21`, `bookworm`) did |
//! | `policy::eol-soon`         | warn  | either reaches it within `eol_soon_days` (default 90)    |
//!
//! An image whose repository no product lists gets no product findings; the base distribution
//! named in its tag is still checked (`nginx:1.27.3-alpine3.19` is on an alpine past its end of
//! life whoever maintains nginx). A cycle reaches its end of life on its date: on that day it is
//! `policy::eol`, the day before `policy::eol-soon`. Suggestions point to the product's
//! `recommended` tag when that tag is itself supported on the audit date, else to the oldest
//! cycle still supported beyond the warning window.

use cdb_core::image::{Precision, TagVersion, Version};
use jiff::civil::Date;
use std::borrow::Cow;

use crate::model::{Finding, ImageUse};
use crate::policy::{EolCycle, Policy, Product, below};
use crate::rules::{finding, pin};

/// The version is below the product's minimum.
pub const BELOW_MINIMUM: &str = "policy::below-minimum";
/// The product requires an exact version and the tag floats.
pub const NOT_EXACT: &str = "policy::not-exact";
/// The tag is not on a base distribution the policy allows for the product.
pub const BASE_NOT_ALLOWED: &str = "policy::base-not-allowed";
/// The product's release cycle is past its end of life.
pub const EOL: &str = "policy::eol";
/// The base distribution named in the tag is past its end of life.
pub const VARIANT_EOL: &str = "policy::variant-eol";
/// The product's or the base's cycle reaches its end of life soon.
pub const EOL_SOON: &str = "policy::eol-soon";

/// The policy findings of one image on the audit date `date`.
pub fn check(image: &ImageUse, policy: &Policy, date: Date) -> Vec<Finding> {
    let Ok(r) = &image.parsed else {
        return Vec::new();
    };
    // No tag (latest or digest only) or `latest`: no version to hold against the policy;
    // `pin::latest` reports what matters.
    let Some(tag) = r.tag().filter(|t| *t != "latest") else {
        return Vec::new();
    };
    let version = TagVersion::parse(tag).map(|t| t.version().clone());
    let words = tag_words(tag);
    let product = policy.product_for(r);
    let ctx = Ctx {
        image,
        policy,
        product,
        version: version.clone(),
        date,
    };
    let mut findings = Vec::new();

    if let Some(p) = product {
        if p.exact && !pin::is_exact(tag, p.precision) {
            findings.push(finding(
                NOT_EXACT,
                image,
                format!(
                    "`{}` does not name an exact {} version ({}): the policy requires one",
                    image.reference,
                    p.name,
                    precision_name(p.precision)
                ),
                ctx.suggest_or("pin the exact version the tag points to now".into()),
            ));
        }
        if let (Some(v), Some(min)) = (&version, &p.minimum)
            && below(v, min)
        {
            findings.push(finding(
                BELOW_MINIMUM,
                image,
                format!(
                    "{} {v} (`{}`) is below the policy minimum {min}",
                    p.name, image.reference
                ),
                ctx.suggest_or(format!("use {} {min} or newer", p.name)),
            ));
        }
        let cycle = match &version {
            Some(v) => policy.eol_cycle(&p.name, v),
            None => words
                .iter()
                .filter_map(|(name, _)| policy.eol_codename(name))
                .find(|c| c.product == p.name)
                .map(Cow::Borrowed),
        };
        if let Some(cycle) = cycle {
            findings.extend(ctx.eol(&cycle, false));
        }
        if !p.bases.is_empty() && !words.iter().any(|(name, _)| p.bases.contains(name)) {
            findings.push(finding(
                BASE_NOT_ALLOWED,
                image,
                format!(
                    "`{}` is not on {}, which the policy requires for {}",
                    image.reference,
                    p.bases.join(" or "),
                    p.name
                ),
                ctx.suggest_or(format!(
                    "use the {} variant of the tag",
                    p.bases.first().map_or("allowed", String::as_str)
                )),
            ));
        }
    }

    let mut bases_seen: Vec<(String, String)> = Vec::new();
    for (name, word_version) in &words {
        let cycle = match word_version {
            Some(v) => policy.eol_cycle(name, v),
            None => policy.eol_codename(name).map(Cow::Borrowed),
        };
        let Some(cycle) = cycle else { continue };
        let key = (cycle.product.clone(), cycle.cycle.clone());
        if product.is_some_and(|p| p.name == cycle.product) || bases_seen.contains(&key) {
            continue;
        }
        bases_seen.push(key);
        findings.extend(ctx.eol(&cycle, true));
    }
    findings
}

struct Ctx<'a> {
    image: &'a ImageUse,
    policy: &'a Policy,
    product: Option<&'a Product>,
    /// The version of the image's tag, if version-like.
    version: Option<Version>,
    date: Date,
}

impl Ctx<'_> {
    /// `policy::eol`/`policy::variant-eol` or `policy::eol-soon` for `cycle`, if due.
    fn eol(&self, cycle: &EolCycle, base: bool) -> Option<Finding> {
        let name = cycle_name(cycle);
        let reference = &self.image.reference;
        let days = days_between(self.date, cycle.date);
        let (code, message) = if days <= 0 {
            let ago = match -days {
                0 => "today".to_string(),
                1 => "1 day before the audit".to_string(),
                n => format!("{n} days before the audit"),
            };
            let message = if base {
                format!(
                    "`{reference}` is built on {name}, which reached its end of life on {} ({ago}): its packages get no more security fixes",
                    cycle.date
                )
            } else {
                format!(
                    "{name} (`{reference}`) reached its end of life on {} ({ago}): it gets no more security fixes",
                    cycle.date
                )
            };
            (if base { VARIANT_EOL } else { EOL }, message)
        } else if days <= self.policy.eol_soon_days {
            let what = if base {
                format!("{name}, the base of `{reference}`,")
            } else {
                format!("{name} (`{reference}`)")
            };
            let message = format!(
                "{what} reaches its end of life on {}, in {days} day{}",
                cycle.date,
                if days == 1 { "" } else { "s" }
            );
            (EOL_SOON, message)
        } else {
            return None;
        };
        let fallback = match self.next_supported(cycle) {
            Some(next) if base => format!(
                "rebuild on {} or newer (supported until {})",
                cycle_name(next),
                next.date
            ),
            Some(next) => format!(
                "move to {} or newer (supported until {})",
                cycle_name(next),
                next.date
            ),
            None => format!("move to a supported {} release", cycle.product),
        };
        Some(finding(
            code,
            self.image,
            message,
            self.suggest_or(fallback),
        ))
    }

    /// "use <recommended>" when the product's recommended tag is supported on the audit date and
    /// not older than the image, else `fallback`.
    fn suggest_or(&self, fallback: String) -> Option<String> {
        let recommended = self.product.and_then(|p| {
            p.recommended_from(self.version.as_ref())
                .filter(|r| self.supported(p, r))
        });
        Some(recommended.map_or(fallback, |r| format!("use {r}")))
    }

    /// Whether `reference` (a product's recommended tag) is past no end of life on the audit date.
    fn supported(&self, product: &Product, reference: &str) -> bool {
        let Some(tag) = reference.rsplit_once(':').map(|(_, t)| t) else {
            return true;
        };
        let product_ok = TagVersion::parse(tag)
            .and_then(|t| self.policy.eol_cycle(&product.name, t.version()))
            .is_none_or(|c| c.date > self.date);
        let bases_ok = tag_words(tag).iter().all(|(name, v)| {
            let cycle = match v {
                Some(v) => self.policy.eol_cycle(name, v),
                None => self.policy.eol_codename(name).map(Cow::Borrowed),
            };
            cycle.is_none_or(|c| c.date > self.date)
        });
        product_ok && bases_ok
    }

    /// The closest later cycle of the same product that is still supported past the warning
    /// window and not below the product's minimum: the smallest upgrade that fixes `current`.
    fn next_supported(&self, current: &EolCycle) -> Option<&EolCycle> {
        let minimum = self
            .policy
            .product(&current.product)
            .and_then(|p| p.minimum.as_ref());
        self.policy
            .cycles(&current.product)
            .filter(|c| days_between(self.date, c.date) > self.policy.eol_soon_days)
            .filter_map(|c| c.version.as_ref().map(|v| (c, v)))
            .filter(|(_, v)| match &current.version {
                Some(cur) => !below(v, cur) && !current.matches(v),
                None => true,
            })
            .filter(|(_, v)| minimum.is_none_or(|min| !below(v, min)))
            .min_by(|(_, a), (_, b)| a.cmp(b))
            .map(|(c, _)| c)
    }
}

/// Days from `from` to `to` (negative when `to` is earlier).
fn days_between(from: Date, to: Date) -> i64 {
    from.until(to).map_or(0, |span| i64::from(span.get_days()))
}

/// `postgres 14`, `debian 12 (bookworm)`.
fn cycle_name(cycle: &EolCycle) -> String {
    match &cycle.codename {
        Some(c) if *c != cycle.cycle => format!("{} {} ({c})", cycle.product, cycle.cycle),
        _ => format!("{} {}", cycle.product, cycle.cycle),
    }
}

fn precision_name(precision: Precision) -> &'static str {
    match precision {
        Precision::Major => "major",
        Precision::MajorMinor => "major.minor",
        Precision::Full => "major.minor.patch",
    }
}

/// The `-`-separated words of a tag, each split into a name and a trailing version:
/// `3.12-slim-bookworm` → (`3.12`), (`slim`), (`bookworm`); `alpine3.21` → (`alpine`, 3.21).
/// Words without a letter before their digits keep no name.
fn tag_words(tag: &str) -> Vec<(String, Option<Version>)> {
    tag.split('-')
        .filter_map(|word| {
            let name = word.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
            if !name.ends_with(|c: char| c.is_ascii_alphabetic()) {
                return None;
            }
            let rest = word.get(name.len()..).unwrap_or("").trim_start_matches('.');
            let version = if rest.is_empty() {
                None
            } else {
                Some(Version::parse(rest)?)
            };
            Some((name.to_ascii_lowercase(), version))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Level, Origin};
    use crate::policy::load_policy;
    use cdb_core::image::ImageRef;
    use cdb_core::{FileId, Location, SourceMap};
    use jiff::civil::date;
    use std::path::Path;

    const POLICY: &str = r#"
[products.postgres]
minimum = "16"
precision = "major-minor"
recommended = "postgres:17.6-alpine3.22"

[products.redis]
minimum = "7.4"
bases = ["alpine"]

[products.debian]
precision = "major-minor"

[[eol]]
product = "postgres"
cycle = "14"
date = "2026-11-12"
[[eol]]
product = "postgres"
cycle = "15"
date = "2027-11-11"
[[eol]]
product = "postgres"
cycle = "17"
date = "2029-11-08"
[[eol]]
product = "alpine"
cycle = "3.21"
date = "2026-11-01"
[[eol]]
product = "alpine"
cycle = "3.22"
date = "2027-05-01"
[[eol]]
product = "alpine"
cycle = "3.23"
date = "2027-11-01"
[[eol]]
product = "debian"
cycle = "11"
codename = "bullseye"
date = "2026-08-31"
[[eol]]
product = "debian"
cycle = "12"
codename = "bookworm"
date = "2028-06-30"
"#;

    fn policy() -> Policy {
        load_policy(Path::new("p.toml"), POLICY, &mut SourceMap::new()).unwrap()
    }

    fn run(reference: &str, on: Date) -> Vec<Finding> {
        let image = ImageUse {
            reference: reference.into(),
            parsed: ImageRef::parse(reference).map_err(|e| e.to_string()),
            origin: Origin::Compose {
                service: "s".into(),
            },
            loc: Location::new(FileId(0), 1, 1),
        };
        check(&image, &policy(), on)
    }

    fn codes(reference: &str, on: Date) -> Vec<(&'static str, Level)> {
        run(reference, on)
            .into_iter()
            .map(|f| (f.code, f.level))
            .collect()
    }

    const AUDIT: Date = date(2026, 12, 3);

    #[test]
    fn supported_versions_pass() {
        assert_eq!(codes("postgres:17.6-alpine3.22", AUDIT), []);
        assert_eq!(codes("redis:7.4.6-alpine3.22", AUDIT), []);
        assert_eq!(codes("nginx:1.27.3", AUDIT), []);
    }

    #[test]
    fn eol_is_due_on_its_date() {
        assert_eq!(codes("postgres:16.4", date(2026, 11, 11)), []);
        let f = run("postgres:14.13", date(2026, 11, 12));
        let eol: Vec<_> = f.iter().filter(|f| f.code == EOL).collect();
        assert_eq!(eol.len(), 1);
        assert!(
            eol[0].message.contains("2026-11-12 (today)"),
            "{}",
            eol[0].message
        );
        let f = run("postgres:14.13", date(2026, 11, 11));
        assert!(
            f.iter()
                .any(|f| f.code == EOL_SOON && f.message.contains("in 1 day"))
        );
    }

    #[test]
    fn below_minimum_and_eol_are_both_reported() {
        let f = run("postgres:14.13", AUDIT);
        let codes: Vec<_> = f.iter().map(|f| f.code).collect();
        assert_eq!(codes, [BELOW_MINIMUM, EOL]);
        assert!(f[1].message.contains("postgres 14"), "{}", f[1].message);
        assert!(
            f[1].message.contains("21 days before the audit"),
            "{}",
            f[1].message
        );
        assert_eq!(
            f[1].suggestion.as_deref(),
            Some("use postgres:17.6-alpine3.22")
        );
    }

    #[test]
    fn eol_soon_within_the_window() {
        assert_eq!(
            codes("postgres:15.8", date(2027, 9, 1)),
            [(BELOW_MINIMUM, Level::Block), (EOL_SOON, Level::Warn)]
        );
        assert_eq!(
            codes("postgres:15.8", date(2027, 8, 1)),
            [(BELOW_MINIMUM, Level::Block)]
        );
    }

    #[test]
    fn variant_eol_for_alpine_and_debian_codenames() {
        assert_eq!(
            codes("redis:7.4.6-alpine3.21", AUDIT),
            [(VARIANT_EOL, Level::Block)]
        );
        assert_eq!(
            codes("nginx:1.27.3-alpine3.21.3", AUDIT),
            [(VARIANT_EOL, Level::Block)]
        );
        assert_eq!(
            codes("python:3.12.8-slim-bullseye", AUDIT),
            [(VARIANT_EOL, Level::Block)]
        );
        assert_eq!(codes("python:3.12.8-slim-bookworm", AUDIT), []);
        assert_eq!(
            codes("redis:7.4.6-alpine3.22", date(2027, 3, 1)),
            [(EOL_SOON, Level::Warn)]
        );
        // An unversioned alpine floats to the newest alpine: nothing to hold against it.
        assert_eq!(codes("redis:7.4.6-alpine", AUDIT), []);
    }

    #[test]
    fn the_product_s_own_codename_is_a_product_cycle() {
        assert_eq!(codes("debian:bullseye-slim", AUDIT), [(EOL, Level::Block)]);
        assert_eq!(codes("debian:11.11", AUDIT), [(EOL, Level::Block)]);
        assert_eq!(codes("debian:bookworm", AUDIT), []);
    }

    #[test]
    fn variant_suggestion_names_the_next_supported_base() {
        let f = run("nginx:1.27.3-alpine3.21", AUDIT);
        assert_eq!(
            f[0].suggestion.as_deref(),
            Some("rebuild on alpine 3.22 or newer (supported until 2027-05-01)")
        );
    }

    #[test]
    fn base_not_allowed() {
        assert_eq!(
            codes("redis:7.4.6-bookworm", AUDIT),
            [(BASE_NOT_ALLOWED, Level::Warn)]
        );
        assert_eq!(
            codes("redis:7.4.6", AUDIT),
            [(BASE_NOT_ALLOWED, Level::Warn)]
        );
    }

    #[test]
    fn floating_and_latest_tags_are_left_to_pin() {
        assert_eq!(codes("postgres", AUDIT), []);
        assert_eq!(codes("postgres:latest", AUDIT), []);
        // A floating tag is still checked where it says enough: 14 is past its end of life.
        assert_eq!(
            codes("postgres:14-alpine3.22", AUDIT),
            [(BELOW_MINIMUM, Level::Block), (EOL, Level::Block)]
        );
        // `7` may be 7.4 or later: not below the minimum.
        assert_eq!(codes("redis:7-alpine3.22", AUDIT), []);
    }

    #[test]
    fn not_exact_for_exact_products() {
        let p = load_policy(
            Path::new("p.toml"),
            "[products.grafana]\nimages = [\"grafana/grafana\"]\nexact = true\n",
            &mut SourceMap::new(),
        )
        .unwrap();
        let image = |r: &str| ImageUse {
            reference: r.into(),
            parsed: ImageRef::parse(r).map_err(|e| e.to_string()),
            origin: Origin::Compose {
                service: "g".into(),
            },
            loc: Location::new(FileId(0), 1, 1),
        };
        let codes = |r: &str| -> Vec<_> {
            check(&image(r), &p, AUDIT)
                .into_iter()
                .map(|f| f.code)
                .collect()
        };
        assert_eq!(codes("grafana/grafana:12.4"), [NOT_EXACT]);
        assert_eq!(codes("grafana/grafana:main"), [NOT_EXACT]);
        assert_eq!(codes("grafana/grafana:12.4.5"), Vec::<&str>::new());
    }

    #[test]
    fn recommended_past_its_end_of_life_is_not_suggested() {
        let f = run("postgres:14.13", date(2030, 1, 1));
        let eol = f.iter().find(|f| f.code == EOL).unwrap();
        assert_eq!(
            eol.suggestion.as_deref(),
            Some("move to a supported postgres release")
        );
    }

    #[test]
    fn suggestions_never_downgrade() {
        let p = load_policy(
            Path::new("p.toml"),
            "[products.grafana]\nimages = [\"grafana/grafana\"]\nrecommended = \"grafana/grafana:12.4.5\"\n\
             [[eol]]\nproduct = \"grafana\"\ncycle = \"12.4\"\ndate = \"2027-05-24\"\n\
             [[eol]]\nproduct = \"grafana\"\ncycle = \"13.0\"\ndate = \"2027-01-09\"\n\
             [[eol]]\nproduct = \"grafana\"\ncycle = \"13.1\"\ndate = \"2027-03-20\"\n",
            &mut SourceMap::new(),
        )
        .unwrap();
        let image = ImageUse {
            reference: "grafana/grafana:13.0.3".into(),
            parsed: ImageRef::parse("grafana/grafana:13.0.3").map_err(|e| e.to_string()),
            origin: Origin::Compose {
                service: "g".into(),
            },
            loc: Location::new(FileId(0), 1, 1),
        };
        let f = check(&image, &p, AUDIT);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, EOL_SOON);
        assert_eq!(
            f[0].suggestion.as_deref(),
            Some("move to grafana 13.1 or newer (supported until 2027-03-20)")
        );
    }

    #[test]
    fn words_of_tags() {
        let w = tag_words("3.12-slim-bookworm");
        let names: Vec<_> = w.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["slim", "bookworm"]);
        assert_eq!(
            tag_words("16.4-alpine3.21"),
            [("alpine".to_string(), Version::parse("3.21"))]
        );
    }
}
