//! The version and end-of-life policy: which products the audit knows (matched by image
//! repository), their minimum versions, what counts as an exact version for each, the tag fixes
//! should point to, and a table of release cycles with their end-of-life dates.
//!
//! The policy is TOML (`security/policy.toml`; its comments document every key). The repository's
//! file is compiled in as [`default_policy`], so the default and the file users edit cannot drift.
//! [`load_policy`] validates a file strictly: unknown keys, bad dates, versions that do not parse
//! and contradictions (a recommended tag below the minimum, an image claimed by two products) are
//! diagnostics that point at their line.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use cdb_core::image::{ImageRef, Precision, TagVersion, Version};
use cdb_core::{Diagnostic, FileId, Location, SourceMap};
use jiff::civil::Date;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use toml::Spanned;

/// Diagnostic code: the policy file is not valid TOML.
pub const SYNTAX: &str = "policy-file::syntax";
/// Diagnostic code: a key or value the policy file does not accept.
pub const INVALID: &str = "policy-file::invalid";

/// Where the policy lives in the repository, relative to its root.
pub const DEFAULT_PATH: &str = "security/policy.toml";
/// Days before an end-of-life date from which `policy::eol-soon` warns, unless the policy says.
pub const DEFAULT_EOL_SOON_DAYS: i64 = 90;
/// The text of the repository's `security/policy.toml`, compiled in.
pub const DEFAULT_POLICY_TOML: &str = include_str!("../../../security/policy.toml");

/// A loaded policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The products, by name.
    pub products: Vec<Product>,
    /// The release cycles with an end-of-life date, in file order.
    pub eol: Vec<EolCycle>,
    /// Repositories (normalised, `docker.io/library/postgres`) or product names that must be
    /// pinned by digest.
    pub require_digest: Vec<String>,
    /// Days before an end-of-life date from which the audit warns.
    pub eol_soon_days: i64,
}

impl Default for Policy {
    /// An empty policy: no products, no cycles, the default warning window.
    fn default() -> Self {
        Policy {
            products: Vec::new(),
            eol: Vec::new(),
            require_digest: Vec::new(),
            eol_soon_days: DEFAULT_EOL_SOON_DAYS,
        }
    }
}

/// A product the policy knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// The name (`postgres`), also the `product` of its `[[eol]]` cycles.
    pub name: String,
    /// The repositories that carry it, normalised (`docker.io/library/postgres`).
    pub images: Vec<String>,
    /// The lowest allowed version.
    pub minimum: Option<Version>,
    /// What counts as an exact version: a tag less precise than this floats.
    pub precision: Precision,
    /// Whether a floating tag breaks the policy (not just a warning).
    pub exact: bool,
    /// Base distributions the tag must name (`alpine`); empty: any.
    pub bases: Vec<String>,
    /// The tag fix suggestions point to.
    pub recommended: Option<String>,
}

/// A release cycle and its end of life.
#[derive(Debug, Clone, PartialEq)]
pub struct EolCycle {
    /// The product (`postgres`, or a base distribution such as `alpine`, `debian`).
    pub product: String,
    /// The cycle as written (`14`, `3.21`, `bookworm`).
    pub cycle: String,
    /// The cycle as a version prefix, if it is one.
    pub version: Option<Version>,
    /// The codename tags use for the cycle (`bookworm`), if any.
    pub codename: Option<String>,
    /// The end-of-life date: from this day on, the cycle gets no fixes.
    pub date: Date,
}

impl Product {
    /// Whether `image` is one of the product's repositories.
    pub fn matches(&self, image: &ImageRef) -> bool {
        let repository = image.repository();
        self.images.contains(&repository)
    }

    /// The recommended tag, unless it is older than `version` (the version of the image at hand,
    /// if known): a suggestion or fix never downgrades.
    pub fn recommended_from(&self, version: Option<&Version>) -> Option<&str> {
        let recommended = self.recommended.as_deref()?;
        let rec_version = ImageRef::parse(recommended)
            .ok()
            .and_then(|r| r.tag_version());
        let newer = match (version, rec_version) {
            (Some(current), Some(rec)) => !below(rec.version(), current),
            _ => true,
        };
        newer.then_some(recommended)
    }
}

impl EolCycle {
    /// Whether `version` belongs to the cycle: the cycle's components are a prefix of the
    /// version's (`14` holds `14.13`; `3.1` does not hold `3.10`). A version less precise than the
    /// cycle (`3` for `3.12`) does not belong to it.
    pub fn matches(&self, version: &Version) -> bool {
        self.version.as_ref().is_some_and(|cycle| {
            let c = cycle.components();
            version.components().get(..c.len()) == Some(c)
        })
    }
}

impl Policy {
    /// The product whose `images` include the image's repository.
    pub fn product_for(&self, image: &ImageRef) -> Option<&Product> {
        self.products.iter().find(|p| p.matches(image))
    }

    /// The product called `name`.
    pub fn product(&self, name: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.name == name)
    }

    /// The cycles of `product`, in file order.
    pub fn cycles<'a>(&'a self, product: &str) -> impl Iterator<Item = &'a EolCycle> {
        self.eol.iter().filter(move |c| c.product == product)
    }

    /// The most specific cycle of `product` that `version` belongs to. A version older than
    /// every tracked cycle of the product counts as a cycle of its own that ended no later than
    /// the oldest tracked one: an old base (`alpine3.16`, `debian:9`) must not pass because the
    /// table starts later.
    pub fn eol_cycle(&self, product: &str, version: &Version) -> Option<Cow<'_, EolCycle>> {
        if let Some(c) = self
            .cycles(product)
            .filter(|c| c.matches(version))
            .max_by_key(|c| c.version.as_ref().map_or(0, |v| v.components().len()))
        {
            return Some(Cow::Borrowed(c));
        }
        let tracked: Vec<&EolCycle> = self
            .cycles(product)
            .filter(|c| c.version.is_some())
            .collect();
        let oldest = tracked.iter().min_by(|a, b| a.version.cmp(&b.version))?;
        let oldest_version = oldest.version.as_ref()?;
        let width = oldest_version
            .components()
            .len()
            .min(version.components().len())
            .max(1);
        if !below(version, oldest_version) {
            return None;
        }
        let text = version
            .components()
            .iter()
            .take(width)
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".");
        let earliest = tracked.iter().map(|c| c.date).min().unwrap_or(oldest.date);
        Some(Cow::Owned(EolCycle {
            product: product.to_string(),
            cycle: format!(
                "{text} (older than the oldest tracked cycle, {})",
                oldest.cycle
            ),
            version: Version::parse(&text),
            codename: None,
            date: earliest,
        }))
    }

    /// The cycle with codename `codename` (of any product).
    pub fn eol_codename(&self, codename: &str) -> Option<&EolCycle> {
        self.eol
            .iter()
            .find(|c| c.codename.as_deref() == Some(codename))
    }

    /// The reference to move `image` to: its product's recommended tag, unless the image's version
    /// is newer (a fix never downgrades). `None` for an image of no product, or of a product
    /// without `recommended`.
    pub fn recommended_for(&self, image: &ImageRef) -> Option<&str> {
        let version = image.tag_version().map(|t| t.version().clone());
        self.product_for(image)?.recommended_from(version.as_ref())
    }

    /// Whether the policy requires `image` to carry a digest.
    pub fn requires_digest(&self, image: &ImageRef) -> bool {
        let repository = image.repository();
        self.require_digest.iter().any(|entry| {
            *entry == repository || self.product(entry).is_some_and(|p| p.matches(image))
        })
    }
}

/// The repository's `security/policy.toml`, compiled in. It is tested to load; were it ever
/// broken, this returns the empty [`Policy::default`] (use [`load_default_policy`] to get the
/// diagnostic instead).
pub fn default_policy() -> Policy {
    load_default_policy(&mut SourceMap::new()).unwrap_or_default()
}

/// Loads the compiled-in policy, registered in `sources` as [`DEFAULT_PATH`].
///
/// # Errors
/// As [`load_policy`].
pub fn load_default_policy(sources: &mut SourceMap) -> Result<Policy, Diagnostic> {
    load_policy(Path::new(DEFAULT_PATH), DEFAULT_POLICY_TOML, sources)
}

/// Reads and loads the policy file at `path`.
///
/// # Errors
/// An [`INVALID`] diagnostic when the file cannot be read, else as [`load_policy`].
pub fn load_policy_file(path: &Path, sources: &mut SourceMap) -> Result<Policy, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error(INVALID, format!("cannot read {}: {e}", path.display())).with_help(
            format!("the policy lives in {DEFAULT_PATH} of the repository"),
        )
    })?;
    load_policy(path, &text, sources)
}

/// Parses `text` as the policy file `path`, registering it in `sources` so that diagnostics
/// point into it.
///
/// # Errors
/// A [`SYNTAX`] diagnostic for invalid TOML and an [`INVALID`] one for an unknown key, a value of
/// the wrong type, a date that is not a `YYYY-MM-DD` calendar date, a version or repository that
/// does not parse, a recommended tag that contradicts its product, an image claimed by two
/// products and a cycle listed twice — each at the offending line.
pub fn load_policy(path: &Path, text: &str, sources: &mut SourceMap) -> Result<Policy, Diagnostic> {
    let file = sources.add(path.to_path_buf(), text.to_string());
    let loader = Loader { path, text, file };
    let deserializer =
        toml::Deserializer::parse(text).map_err(|e| loader.toml_error(&e, SYNTAX))?;
    let raw = RawPolicy::deserialize(deserializer).map_err(|e| loader.toml_error(&e, INVALID))?;
    loader.build(raw)
}

// ---------------------------------------------------------------------------------------------
// The file as written
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    eol_soon_days: Option<Spanned<i64>>,
    #[serde(default)]
    require_digest: Vec<Spanned<String>>,
    #[serde(default)]
    products: BTreeMap<String, RawProduct>,
    #[serde(default)]
    eol: Vec<RawEol>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProduct {
    #[serde(default)]
    images: Vec<Spanned<String>>,
    #[serde(default)]
    minimum: Option<Spanned<VersionText>>,
    #[serde(default)]
    precision: Option<PrecisionSetting>,
    #[serde(default)]
    exact: bool,
    #[serde(default)]
    bases: Vec<Spanned<String>>,
    #[serde(default)]
    recommended: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEol {
    product: Spanned<String>,
    cycle: Spanned<VersionText>,
    #[serde(default)]
    codename: Option<Spanned<String>>,
    date: DateValue,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum PrecisionSetting {
    Major,
    MajorMinor,
    Full,
}

impl From<PrecisionSetting> for Precision {
    fn from(p: PrecisionSetting) -> Precision {
        match p {
            PrecisionSetting::Major => Precision::Major,
            PrecisionSetting::MajorMinor => Precision::MajorMinor,
            PrecisionSetting::Full => Precision::Full,
        }
    }
}

/// A version or cycle: a string, or an integer (`minimum = 16`); floats are refused because
/// `7.10` would read as `7.1`.
struct VersionText(String);

impl<'de> Deserialize<'de> for VersionText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = VersionText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a version as a string, e.g. \"7.4\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VersionText, E> {
                Ok(VersionText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<VersionText, E> {
                Ok(VersionText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VersionText, E> {
                Ok(VersionText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<VersionText, E> {
                Err(E::custom(format!(
                    "write versions as strings (\"{v}\"): as a number, 7.10 would read as 7.1"
                )))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A `YYYY-MM-DD` date, quoted or a TOML local date.
struct DateValue(Date);

impl<'de> Deserialize<'de> for DateValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DateValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date as \"YYYY-MM-DD\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DateValue, E> {
                parse_date(v).map(DateValue).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DateValue, A::Error> {
                // A TOML date/time arrives as a one-entry map holding its text.
                let Some((_, text)) = map.next_entry::<String, String>()? else {
                    return Err(de::Error::custom("expected a date as \"YYYY-MM-DD\""));
                };
                parse_date(&text).map(DateValue).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape {
        return Err(format!("invalid date `{text}`: write dates as YYYY-MM-DD"));
    }
    text.parse::<Date>()
        .map_err(|e| format!("invalid date `{text}`: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

struct Loader<'a> {
    path: &'a Path,
    text: &'a str,
    file: FileId,
}

impl Loader<'_> {
    fn location(&self, offset: usize) -> Location {
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Location::new(self.file, line as u32, col as u32)
    }

    fn toml_error(&self, e: &toml::de::Error, code: &'static str) -> Diagnostic {
        Diagnostic::error(
            code,
            format!("{}: {}", self.path.display(), e.message().trim()),
        )
        .at_opt(e.span().map(|s| self.location(s.start)))
        .with_help(HELP)
    }

    fn invalid(&self, span: Option<Range<usize>>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(
            INVALID,
            format!("{}: {}", self.path.display(), message.into()),
        )
        .at_opt(span.map(|s| self.location(s.start)))
        .with_help(HELP)
    }

    /// The offset of `[products.<name>]` (or a dotted `products.<name>` key), for problems of a
    /// product that have no value to point at.
    fn product_span(&self, name: &str) -> Option<Range<usize>> {
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let header = trimmed.trim_start_matches('[').trim_start();
            if header.starts_with(&format!("products.{name}"))
                || header.starts_with(&format!("products.\"{name}\""))
            {
                return Some(offset + indent..offset + line.len());
            }
            offset += line.len();
        }
        None
    }

    fn build(&self, raw: RawPolicy) -> Result<Policy, Diagnostic> {
        let eol_soon_days = match raw.eol_soon_days {
            Some(days) if *days.get_ref() < 0 => {
                return Err(self.invalid(Some(days.span()), "eol_soon_days must not be negative"));
            }
            Some(days) => days.into_inner(),
            None => DEFAULT_EOL_SOON_DAYS,
        };

        let mut products = Vec::new();
        let mut owners: BTreeMap<String, String> = BTreeMap::new();
        for (name, raw_product) in raw.products {
            let product = self.product(&name, raw_product, &mut owners)?;
            products.push(product);
        }

        let mut require_digest = Vec::new();
        for entry in raw.require_digest {
            let text = entry.get_ref();
            if products.iter().any(|p| p.name == *text) {
                require_digest.push(text.clone());
                continue;
            }
            let repository = self.repository(text, Some(entry.span()), "require_digest")?;
            require_digest.push(repository);
        }

        let mut eol = Vec::new();
        let mut seen = BTreeSet::new();
        for raw_cycle in raw.eol {
            let cycle = self.cycle(raw_cycle, &mut seen)?;
            eol.push(cycle);
        }

        Ok(Policy {
            products,
            eol,
            require_digest,
            eol_soon_days,
        })
    }

    /// A repository name without tag or digest, normalised.
    fn repository(
        &self,
        text: &str,
        span: Option<Range<usize>>,
        what: &str,
    ) -> Result<String, Diagnostic> {
        let image = ImageRef::parse(text).map_err(|e| {
            self.invalid(
                span.clone(),
                format!("`{text}` in {what} is not a repository name: {e}"),
            )
        })?;
        if image.tag().is_some() || image.digest().is_some() {
            return Err(self.invalid(
                span,
                format!("`{text}` in {what}: write the repository without tag or digest"),
            ));
        }
        Ok(image.repository())
    }

    fn product(
        &self,
        name: &str,
        raw: RawProduct,
        owners: &mut BTreeMap<String, String>,
    ) -> Result<Product, Diagnostic> {
        let what = format!("products.{name}");
        let entries: Vec<(String, Option<Range<usize>>)> = if raw.images.is_empty() {
            vec![(name.to_string(), self.product_span(name))]
        } else {
            raw.images
                .into_iter()
                .map(|s| (s.get_ref().clone(), Some(s.span())))
                .collect()
        };
        let mut images = Vec::new();
        for (text, span) in entries {
            let repository = self.repository(&text, span.clone(), &format!("{what}.images"))?;
            if let Some(other) = owners.insert(repository.clone(), name.to_string()) {
                return Err(self.invalid(
                    span,
                    format!("`{text}` is already an image of products.{other}"),
                ));
            }
            images.push(repository);
        }

        let minimum = match raw.minimum {
            Some(m) => Some(Version::parse(&m.get_ref().0).ok_or_else(|| {
                self.invalid(
                    Some(m.span()),
                    format!(
                        "{what}.minimum `{}` is not a version: use digits and dots, e.g. \"16\" or \"7.4\"",
                        m.get_ref().0
                    ),
                )
            })?),
            None => None,
        };
        let precision: Precision = raw.precision.map_or(Precision::Full, Precision::from);

        let mut bases = Vec::new();
        for base in raw.bases {
            let text = base.get_ref().to_ascii_lowercase();
            if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(self.invalid(
                    Some(base.span()),
                    format!(
                        "{what}.bases: `{}` is not a distribution name",
                        base.get_ref()
                    ),
                ));
            }
            bases.push(text);
        }

        let recommended = match raw.recommended {
            Some(r) => {
                let text = r.get_ref().clone();
                let span = Some(r.span());
                let image = ImageRef::parse(&text).map_err(|e| {
                    self.invalid(
                        span.clone(),
                        format!("{what}.recommended `{text}` is not an image reference: {e}"),
                    )
                })?;
                if !images.contains(&image.repository()) {
                    return Err(self.invalid(
                        span,
                        format!("{what}.recommended `{text}` is not one of the product's images"),
                    ));
                }
                let version = image.tag_version();
                let Some(version) = version else {
                    return Err(self.invalid(
                        span,
                        format!("{what}.recommended `{text}` must have a version tag"),
                    ));
                };
                if version.version().precision() < precision {
                    return Err(self.invalid(
                        span,
                        format!("{what}.recommended `{text}` is not an exact version"),
                    ));
                }
                if let Some(min) = &minimum
                    && below(version.version(), min)
                {
                    return Err(self.invalid(
                        span,
                        format!("{what}.recommended `{text}` is below the minimum {min}"),
                    ));
                }
                Some(text)
            }
            None => None,
        };

        Ok(Product {
            name: name.to_string(),
            images,
            minimum,
            precision,
            exact: raw.exact,
            bases,
            recommended,
        })
    }

    fn cycle(
        &self,
        raw: RawEol,
        seen: &mut BTreeSet<(String, String)>,
    ) -> Result<EolCycle, Diagnostic> {
        let product = raw.product.get_ref().clone();
        if product.is_empty() {
            return Err(self.invalid(Some(raw.product.span()), "[[eol]] product is empty"));
        }
        let cycle_span = raw.cycle.span();
        let cycle = raw.cycle.into_inner().0;
        let version = Version::parse(&cycle);
        let codename = match (raw.codename, &version) {
            (Some(c), _) => {
                let text = c.get_ref().to_ascii_lowercase();
                if !is_codename(&text) {
                    return Err(self.invalid(
                        Some(c.span()),
                        format!("codename `{}` must be a lowercase word", c.get_ref()),
                    ));
                }
                Some(text)
            }
            (None, None) if is_codename(&cycle.to_ascii_lowercase()) => {
                Some(cycle.to_ascii_lowercase())
            }
            (None, None) => {
                return Err(self.invalid(
                    Some(cycle_span),
                    format!(
                        "cycle `{cycle}` is neither a version (\"3.12\") nor a codename (\"bookworm\")"
                    ),
                ));
            }
            (None, Some(_)) => None,
        };
        let key = version.as_ref().map_or_else(
            || cycle.to_ascii_lowercase(),
            |v| {
                v.components()
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(".")
            },
        );
        if !seen.insert((product.clone(), key)) {
            return Err(self.invalid(
                Some(cycle_span),
                format!("{product} {cycle} is listed twice in [[eol]]"),
            ));
        }
        Ok(EolCycle {
            product,
            cycle,
            version,
            codename,
            date: raw.date.0,
        })
    }
}

const HELP: &str = "the comments at the top of security/policy.toml list the accepted keys";

fn is_codename(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase())
}

/// Whether `version` is below `minimum`, comparing only the components both have: `7` is not
/// below `7.4` (it may be 7.4 or later), `7.2.5` is.
pub fn below(version: &Version, minimum: &Version) -> bool {
    let n = version.components().len().min(minimum.components().len());
    version.components().get(..n) < minimum.components().get(..n)
}

/// The version of a tag, if it is version-like (`16.4` of `16.4-alpine3.21`).
pub fn tag_version(tag: &str) -> Option<Version> {
    TagVersion::parse(tag).map(|t| t.version().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Policy, Diagnostic> {
        load_policy(Path::new("policy.toml"), text, &mut SourceMap::new())
    }

    fn line(e: &Diagnostic) -> Option<u32> {
        e.location.map(|l| l.line)
    }

    #[test]
    fn the_default_policy_loads_and_encodes_the_roadmap() {
        let p = load_default_policy(&mut SourceMap::new()).unwrap();
        assert_eq!(p, default_policy());
        let min = |name: &str| p.product(name).and_then(|p| p.minimum.clone());
        assert_eq!(min("postgres"), Version::parse("16"));
        assert_eq!(min("redis"), Version::parse("7.4"));
        assert_eq!(min("python"), Version::parse("3.12"));
        assert!(p.product("grafana").unwrap().exact);
        assert!(p.product("prometheus").unwrap().exact);
        assert_eq!(p.product("redis").unwrap().bases, ["alpine"]);
        assert_eq!(
            p.product("postgres").unwrap().precision,
            Precision::MajorMinor
        );
        assert_eq!(p.eol_soon_days, 90);
        for product in [
            "postgres",
            "redis",
            "python",
            "grafana",
            "prometheus",
            "alpine",
            "debian",
        ] {
            assert!(p.cycles(product).count() > 0, "{product} has no cycles");
        }
    }

    #[test]
    fn images_match_by_normalised_repository() {
        let p = load("[products.pg]\nimages = [\"library/postgres\"]\n").unwrap();
        for r in [
            "postgres:16",
            "docker.io/library/postgres",
            "index.docker.io/postgres:1",
        ] {
            let image = ImageRef::parse(r).unwrap();
            assert_eq!(
                p.product_for(&image).map(|p| p.name.as_str()),
                Some("pg"),
                "{r}"
            );
        }
        let other = ImageRef::parse("ghcr.io/x/postgres:16").unwrap();
        assert!(p.product_for(&other).is_none());
    }

    #[test]
    fn images_default_to_the_product_name() {
        let p = load("[products.redis]\nminimum = \"7.4\"\n").unwrap();
        assert_eq!(p.products[0].images, ["docker.io/library/redis"]);
    }

    #[test]
    fn dates_quoted_or_bare() {
        let p = load(
            "[[eol]]\nproduct = \"a\"\ncycle = \"1\"\ndate = \"2026-01-02\"\n\
             [[eol]]\nproduct = \"a\"\ncycle = 2\ndate = 2027-03-04\n",
        )
        .unwrap();
        assert_eq!(p.eol[0].date, jiff::civil::date(2026, 1, 2));
        assert_eq!(p.eol[1].date, jiff::civil::date(2027, 3, 4));
        assert_eq!(p.eol[1].cycle, "2");
    }

    #[test]
    fn bad_dates_point_at_their_line() {
        for bad in [
            "\"2026-02-30\"",
            "\"2026-2-3\"",
            "\"soon\"",
            "2026-11-12T10:00:00",
            "17",
        ] {
            let text = format!(
                "eol_soon_days = 5\n\n[[eol]]\nproduct = \"a\"\ncycle = \"1\"\ndate = {bad}\n"
            );
            let e = load(&text).unwrap_err();
            assert_eq!(e.code, INVALID, "{bad}");
            assert_eq!(line(&e), Some(6), "{bad}: {}", e.message);
        }
        let e =
            load("[[eol]]\nproduct = \"a\"\ncycle = \"1\"\ndate = \"2026-13-01\"\n").unwrap_err();
        assert!(e.message.contains("2026-13-01"), "{}", e.message);
    }

    #[test]
    fn unknown_fields_point_at_their_line() {
        let e = load("[products.redis]\nminimum = \"7.4\"\nminimun = \"7\"\n").unwrap_err();
        assert_eq!(e.code, INVALID);
        assert_eq!(line(&e), Some(3));
        assert!(e.message.contains("minimun"), "{}", e.message);
        let e = load("\n\nwarn_days = 3\n").unwrap_err();
        assert_eq!(line(&e), Some(3));
        let e =
            load("[[eol]]\nproduct = \"a\"\ncycle = \"1\"\ndate = \"2026-01-01\"\nlts = true\n")
                .unwrap_err();
        assert_eq!(line(&e), Some(5));
    }

    #[test]
    fn syntax_errors_have_their_own_code() {
        let e = load("[products.redis\n").unwrap_err();
        assert_eq!(e.code, SYNTAX);
        assert_eq!(line(&e), Some(1));
    }

    #[test]
    fn float_versions_are_refused() {
        let e = load("[products.redis]\n\nminimum = 7.4\n").unwrap_err();
        assert_eq!(line(&e), Some(3));
        assert!(e.message.contains("as strings"), "{}", e.message);
    }

    #[test]
    fn contradictions_are_errors() {
        let cases = [
            (
                "[products.a]\nimages = [\"postgres:16\"]\n",
                2,
                "without tag",
            ),
            (
                "[products.a]\nimages = [\"Bad Name\"]\n",
                2,
                "not a repository",
            ),
            (
                "[products.a]\nimages = [\"x\"]\n[products.b]\nimages = [\"library/x\"]\n",
                4,
                "already",
            ),
            (
                "[products.a]\nimages = [\"x\"]\nminimum = \"seven\"\n",
                3,
                "not a version",
            ),
            (
                "[products.a]\nimages = [\"x\"]\nminimum = \"16\"\nrecommended = \"x:15.2.1\"\n",
                4,
                "below the minimum",
            ),
            (
                "[products.a]\nimages = [\"x\"]\nrecommended = \"y:1.2.3\"\n",
                3,
                "not one of",
            ),
            (
                "[products.a]\nimages = [\"x\"]\nrecommended = \"x:alpine\"\n",
                3,
                "version tag",
            ),
            (
                "[products.a]\nimages = [\"x\"]\nrecommended = \"x:1.2\"\n",
                3,
                "not an exact",
            ),
            (
                "[products.a]\nprecision = \"minor\"\n",
                2,
                "unknown variant",
            ),
            ("[products.a]\nbases = [\"alpine 3\"]\n", 2, "distribution"),
            ("require_digest = [\"x:1\"]\n", 1, "without tag"),
            ("eol_soon_days = -1\n", 1, "negative"),
            (
                "[[eol]]\nproduct = \"a\"\ncycle = \"1.0\"\ndate = \"2026-01-01\"\n[[eol]]\nproduct = \"a\"\ncycle = \"1.00\"\ndate = \"2026-01-01\"\n",
                7,
                "twice",
            ),
            (
                "[[eol]]\nproduct = \"a\"\ncycle = \"3.x\"\ndate = \"2026-01-01\"\n",
                3,
                "neither",
            ),
            (
                "[[eol]]\nproduct = \"a\"\ndate = \"2026-01-01\"\n",
                1,
                "cycle",
            ),
        ];
        for (text, expected_line, fragment) in cases {
            let e = load(text).unwrap_err();
            assert_eq!(e.code, INVALID, "{text}");
            assert_eq!(line(&e), Some(expected_line), "{text}: {}", e.message);
            assert!(e.message.contains(fragment), "{text}: {}", e.message);
        }
    }

    #[test]
    fn a_product_without_images_is_located_at_its_header() {
        let e = load("# x\n[products.\"Bad Name\"]\n").unwrap_err();
        assert_eq!(line(&e), Some(2), "{}", e.message);
    }

    #[test]
    fn cycles_match_by_prefix_and_the_most_specific_wins() {
        let p = load(
            "[[eol]]\nproduct = \"p\"\ncycle = \"3\"\ndate = \"2030-01-01\"\n\
             [[eol]]\nproduct = \"p\"\ncycle = \"3.1\"\ndate = \"2026-01-01\"\n",
        )
        .unwrap();
        let cycle = |v: &str| {
            p.eol_cycle("p", &Version::parse(v).unwrap())
                .map(|c| c.cycle.clone())
        };
        assert_eq!(cycle("3.1.4").as_deref(), Some("3.1"));
        assert_eq!(cycle("3.10").as_deref(), Some("3"));
        assert_eq!(cycle("3").as_deref(), Some("3"));
        assert_eq!(cycle("4"), None);
        // Older than every tracked cycle: a cycle of its own, ended by the oldest tracked date.
        let older = p.eol_cycle("p", &Version::parse("2.7").unwrap()).unwrap();
        assert!(older.cycle.starts_with("2 (older than"), "{}", older.cycle);
    }

    #[test]
    fn codename_cycles() {
        let p = load(
            "[[eol]]\nproduct = \"debian\"\ncycle = \"12\"\ncodename = \"Bookworm\"\ndate = \"2028-06-30\"\n\
             [[eol]]\nproduct = \"ubuntu\"\ncycle = \"jammy\"\ndate = \"2027-06-01\"\n",
        )
        .unwrap();
        assert_eq!(
            p.eol_codename("bookworm").map(|c| c.cycle.as_str()),
            Some("12")
        );
        assert_eq!(
            p.eol_codename("jammy").map(|c| c.product.as_str()),
            Some("ubuntu")
        );
        assert!(p.eol[1].version.is_none());
    }

    #[test]
    fn require_digest_by_repository_or_product() {
        let p = load(
            "require_digest = [\"ghcr.io/org/app\", \"pg\"]\n[products.pg]\nimages = [\"postgres\"]\n",
        )
        .unwrap();
        let needs = |r: &str| p.requires_digest(&ImageRef::parse(r).unwrap());
        assert!(needs("ghcr.io/org/app:1.0.0"));
        assert!(needs("postgres:17.6"));
        assert!(!needs("redis:7.4.6"));
    }

    #[test]
    fn recommended_for_never_downgrades() {
        let p = load("[products.postgres]\nprecision = \"major-minor\"\nrecommended = \"postgres:17.6-alpine3.22\"\n")
            .unwrap();
        let rec = |r: &str| p.recommended_for(&ImageRef::parse(r).unwrap());
        assert_eq!(rec("postgres:14.13"), Some("postgres:17.6-alpine3.22"));
        assert_eq!(rec("postgres:17"), Some("postgres:17.6-alpine3.22"));
        assert_eq!(rec("postgres"), Some("postgres:17.6-alpine3.22"));
        assert_eq!(rec("postgres:18.1"), None);
        assert_eq!(rec("redis:7.4.6"), None);
    }

    #[test]
    fn below_compares_common_components() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert!(below(&v("15.8"), &v("16")));
        assert!(below(&v("7.2.5"), &v("7.4")));
        assert!(!below(&v("7"), &v("7.4")));
        assert!(!below(&v("7.4.6"), &v("7.4")));
        assert!(!below(&v("16"), &v("16")));
        assert!(!below(&v("17.1"), &v("16.4")));
    }
}
