//! Docker image references: parsing, normalisation and tag-version analysis.
//!
//! [`ImageRef::parse`] accepts exactly what Docker's own
//! `reference.ParseNormalizedNamed` (github.com/distribution/reference)
//! accepts, and normalises the same way:
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [domain "/"] path
//! domain           := host [":" port]            ; host: DNS-ish name, IPv4, or [IPv6]
//! path             := path-component ["/" path-component]*
//! path-component   := [a-z0-9]+ (separator [a-z0-9]+)*
//! separator        := "." | "_" | "__" | "-"+
//! tag              := [\w][\w.-]{0,127}          ; ASCII \w
//! digest           := algorithm ":" hex{32,}     ; sha256 needs exactly 64 lowercase hex
//! ```
//!
//! * The first `/`-separated component is a domain only if it is `localhost`,
//!   contains a `.` or `:`, or contains an uppercase letter (Docker's
//!   `splitDockerDomain`). A reference without a `/` never has a domain, so
//!   `localhost:5000` is the image `library/localhost` with tag `5000`.
//! * No domain means `docker.io`; `index.docker.io` is rewritten to
//!   `docker.io`; a single-component path on `docker.io` gets the `library/`
//!   prefix.
//! * The path (including an added `library/`) may be at most 255 bytes.
//! * A bare 64-character lowercase hex string is rejected: Docker reads it as
//!   an image ID, not a name.
//!
//! One quirk is reproduced faithfully: if the first component looks like a
//! domain (it contains a `.`) but is not a valid host name while still being
//! a valid path component (e.g. `foo_bar.com/app`), Docker keeps the whole
//! string as the path and the reference has **no** domain. [`ImageRef::domain`]
//! is empty in that case.
//!
//! [`TagVersion`] splits version-like tags such as `16.4-alpine3.21` into a
//! numeric [`Version`] and a variant (`alpine`, variant version `3.21`).
//!
//! ```
//! # use cdb_core::image::{ImageRef, Precision};
//! let r = ImageRef::parse("postgres:16.4-alpine3.21").unwrap();
//! assert_eq!(r.normalized(), "docker.io/library/postgres:16.4-alpine3.21");
//! assert_eq!(r.familiar_name(), "postgres");
//! let tv = r.tag_version().unwrap();
//! assert_eq!(tv.version().components(), &[16, 4]);
//! assert_eq!(tv.version().precision(), Precision::MajorMinor);
//! assert_eq!(tv.variant(), Some("alpine"));
//! assert_eq!(tv.variant_version().map(|v| v.as_str()), Some("3.21"));
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The registry domain used when a reference names none (Docker Hub).
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// Legacy Docker Hub domain, rewritten to [`DEFAULT_DOMAIN`] when parsing.
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Namespace of Docker Hub's official images, added to single-component paths.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag Docker assumes when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Maximum length in bytes of the repository path (without the domain).
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Maximum length in bytes of a tag.
pub const TAG_LENGTH_MAX: usize = 128;

/// Why a string is not a valid image reference.
///
/// The messages start like Docker's own, so they read familiar next to
/// `docker` output. Every variant knows the byte offset into the parsed input
/// where the problem starts ([`ImageRefError::offset`]); it always lies on a
/// UTF-8 character boundary and may equal the input length ("unexpected end").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageRefError {
    /// The reference is the empty string.
    #[error("invalid reference format: repository name must have at least one component")]
    Empty,
    /// The domain or repository path does not follow the grammar.
    #[error("invalid reference format")]
    InvalidFormat {
        /// Byte offset of the first character that cannot be part of a valid reference.
        offset: usize,
    },
    /// The tag (after `:`) does not follow `[\w][\w.-]{0,127}`.
    #[error("invalid reference format: invalid tag format")]
    InvalidTag {
        /// Byte offset of the first offending character of the tag.
        offset: usize,
    },
    /// The digest (after `@`) does not follow `algorithm:hex{32,}`.
    #[error("invalid reference format: invalid digest format")]
    InvalidDigest {
        /// Byte offset of the first offending character of the digest.
        offset: usize,
    },
    /// The repository name contains uppercase characters.
    #[error("invalid reference format: repository name ({name}) must be lowercase")]
    Uppercase {
        /// The repository name as Docker reports it (after normalisation, e.g. `library/Foo`).
        name: String,
        /// Byte offset of the first uppercase character.
        offset: usize,
    },
    /// The repository path is longer than [`NAME_TOTAL_LENGTH_MAX`] bytes.
    #[error("repository name must not be more than 255 characters (it has {length})")]
    NameTooLong {
        /// Length in bytes of the normalised path (including an added `library/`).
        length: usize,
        /// Byte offset of the first character beyond the limit.
        offset: usize,
    },
    /// The whole reference is a 64-character hex string, i.e. an image ID.
    #[error("invalid repository name ({name}), cannot specify 64-byte hexadecimal strings")]
    HexIdentifier {
        /// The rejected input.
        name: String,
    },
    /// The digest algorithm is syntactically fine but not one Docker supports
    /// (`sha256`, `sha384`, `sha512`).
    #[error("unsupported digest algorithm ({algorithm})")]
    UnsupportedDigest {
        /// The algorithm as written.
        algorithm: String,
        /// Byte offset of the algorithm.
        offset: usize,
    },
    /// The digest's algorithm or hex part breaks the checksum rules
    /// (uppercase algorithm or uppercase hex).
    #[error("invalid checksum digest format")]
    DigestFormat {
        /// Byte offset of the first offending character.
        offset: usize,
    },
    /// The digest's hex part has the wrong length for its algorithm.
    #[error("invalid checksum digest length (expected {expected} hex characters, got {actual})")]
    DigestLength {
        /// Number of hex characters the algorithm requires.
        expected: usize,
        /// Number of hex characters present.
        actual: usize,
        /// Byte offset of the hex part.
        offset: usize,
    },
}

impl ImageRefError {
    /// Byte offset into the parsed input where the problem starts
    /// (0 for [`Empty`](Self::Empty) and [`HexIdentifier`](Self::HexIdentifier)).
    #[must_use]
    pub fn offset(&self) -> usize {
        match self {
            Self::Empty | Self::HexIdentifier { .. } => 0,
            Self::InvalidFormat { offset }
            | Self::InvalidTag { offset }
            | Self::InvalidDigest { offset }
            | Self::Uppercase { offset, .. }
            | Self::NameTooLong { offset, .. }
            | Self::UnsupportedDigest { offset, .. }
            | Self::DigestFormat { offset }
            | Self::DigestLength { offset, .. } => *offset,
        }
    }
}

/// A parsed and normalised Docker image reference.
///
/// Equality compares the normalised parts, so `postgres` and
/// `docker.io/library/postgres` are equal. It serialises as (and deserialises
/// from, with validation) its [normalised](ImageRef::normalized) string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageRef {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// Parses a reference like Docker's `ParseNormalizedNamed` (see the
    /// [module docs](self)).
    ///
    /// # Errors
    /// Returns an [`ImageRefError`] carrying the byte offset of the problem
    /// when `reference` is not a valid image reference.
    pub fn parse(reference: &str) -> Result<ImageRef, ImageRefError> {
        if reference.is_empty() {
            return Err(ImageRefError::Empty);
        }
        if is_identifier(reference) {
            return Err(ImageRefError::HexIdentifier {
                name: reference.to_owned(),
            });
        }
        let full = Normalized::new(reference);

        // ParseNormalizedNamed: the remote name (up to the first ':') must be lowercase.
        let remainder = full.text.get(full.domain_len + 1..).unwrap_or("");
        let remote = remainder.split(':').next().unwrap_or("");
        if let Some(idx) = first_upper(remote) {
            return Err(ImageRefError::Uppercase {
                name: remote.to_owned(),
                offset: full.to_input(full.domain_len + 1 + idx),
            });
        }

        let caps = match match_reference(full.text.as_bytes()) {
            Ok(caps) => caps,
            Err(fail) => {
                // Parse: if the lowercased string would match, blame the case.
                let lower = go_to_lower(&full.text);
                if lower != full.text && match_reference(lower.as_bytes()).is_ok() {
                    let idx = first_upper(&full.text).unwrap_or(0);
                    let domain = full.text.get(..full.domain_len).unwrap_or("");
                    return Err(ImageRefError::Uppercase {
                        name: format!("{domain}/{remote}"),
                        offset: full.to_input(idx),
                    });
                }
                let offset = full.to_input(fail.pos);
                return Err(match fail.part {
                    Part::Name => ImageRefError::InvalidFormat { offset },
                    Part::Tag => ImageRefError::InvalidTag { offset },
                    Part::Digest => ImageRefError::InvalidDigest { offset },
                });
            }
        };

        let text = full.text.as_str();
        let path = sub(text, caps.path.clone());
        if path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ImageRefError::NameTooLong {
                length: path.len(),
                offset: full.to_input(caps.path.start + NAME_TOTAL_LENGTH_MAX),
            });
        }
        if let Some(range) = caps.digest.clone() {
            validate_digest(text, range, &full)?;
        }
        Ok(ImageRef {
            domain: caps
                .domain
                .map(|r| sub(text, r).to_owned())
                .unwrap_or_default(),
            path: path.to_owned(),
            tag: caps.tag.map(|r| sub(text, r).to_owned()),
            digest: caps.digest.map(|r| sub(text, r).to_owned()),
        })
    }

    /// The registry domain, with an optional `:port` (`docker.io`, `ghcr.io`,
    /// `localhost:5000`, `[::1]:5000`).
    ///
    /// Empty only in Docker's `foo_bar.com/app` quirk (see the module docs).
    #[must_use]
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path on the registry (`library/postgres`, `grafana/grafana`).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag as written, if any.
    #[must_use]
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest as written (`sha256:…`), if any.
    #[must_use]
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The digest algorithm (`sha256`), if the reference has a digest.
    #[must_use]
    pub fn digest_algorithm(&self) -> Option<&str> {
        self.digest
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .map(|(alg, _)| alg)
    }

    /// The hex part of the digest, if the reference has a digest.
    #[must_use]
    pub fn digest_hex(&self) -> Option<&str> {
        self.digest
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .map(|(_, hex)| hex)
    }

    /// The tag Docker resolves: the written tag, or [`DEFAULT_TAG`] (`latest`)
    /// when there is neither tag nor digest. `None` for a digest-only reference.
    #[must_use]
    pub fn effective_tag(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some(DEFAULT_TAG),
            (None, Some(_)) => None,
        }
    }

    /// Whether the image lives on Docker Hub (`docker.io`).
    #[must_use]
    pub fn is_docker_hub(&self) -> bool {
        self.domain == DEFAULT_DOMAIN
    }

    /// The fully qualified repository name without tag or digest
    /// (`docker.io/library/postgres`).
    #[must_use]
    pub fn repository(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The short name Docker shows in its UI, without tag or digest:
    /// `postgres`, `grafana/grafana`, `ghcr.io/x/y`.
    #[must_use]
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
                Some(rest) if !rest.contains('/') => rest.to_owned(),
                _ => self.path.clone(),
            }
        } else {
            self.repository()
        }
    }

    /// The familiar name with the tag and digest as written
    /// (`postgres:16`, `ghcr.io/x/y@sha256:…`).
    ///
    /// Like Docker's `FamiliarString`, this does not always parse back to the
    /// same reference: the familiar form of `docker.io/library/<64 hex chars>`
    /// is a bare image ID, and that of `docker.io/a.b/c` names the registry
    /// `a.b`. [`normalized`](Self::normalized) always round-trips.
    #[must_use]
    pub fn familiar(&self) -> String {
        self.with_suffixes(self.familiar_name())
    }

    /// The fully qualified reference with the tag and digest as written
    /// (`docker.io/library/postgres:16`). No default tag is added; use
    /// [`effective_tag`](Self::effective_tag) for that. Parsing this string
    /// yields an equal `ImageRef`.
    #[must_use]
    pub fn normalized(&self) -> String {
        self.with_suffixes(self.repository())
    }

    /// The tag split into version and variant, if the tag is version-like.
    #[must_use]
    pub fn tag_version(&self) -> Option<TagVersion> {
        self.tag.as_deref().and_then(TagVersion::parse)
    }

    fn with_suffixes(&self, mut name: String) -> String {
        if let Some(tag) = &self.tag {
            name.push(':');
            name.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            name.push('@');
            name.push_str(digest);
        }
        name
    }
}

impl fmt::Display for ImageRef {
    /// Writes the [normalised](ImageRef::normalized) form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalized())
    }
}

impl FromStr for ImageRef {
    type Err = ImageRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageRef::parse(s)
    }
}

impl TryFrom<&str> for ImageRef {
    type Error = ImageRefError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        ImageRef::parse(s)
    }
}

impl TryFrom<String> for ImageRef {
    type Error = ImageRefError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        ImageRef::parse(&s)
    }
}

impl From<ImageRef> for String {
    fn from(r: ImageRef) -> String {
        r.normalized()
    }
}

// ---------------------------------------------------------------------------
// Normalisation (splitDockerDomain) and offset mapping
// ---------------------------------------------------------------------------

/// The string Docker hands to `Parse`: `domain "/" [library/] rest-of-input`,
/// with enough bookkeeping to map offsets back into the original input.
struct Normalized {
    text: String,
    /// Length of the domain at the start of `text`.
    domain_len: usize,
    /// Whether the domain (and its `/`) is copied verbatim from the input start.
    domain_from_input: bool,
    /// Length of the synthetic `library/` (0 or 8) following `domain/`.
    prefix_len: usize,
    /// Where the copied tail starts in the input.
    rest_start: usize,
}

impl Normalized {
    fn new(input: &str) -> Self {
        let (domain, from_input, rest_start) = match input.split_once('/') {
            None => (DEFAULT_DOMAIN, false, 0),
            Some((first, _)) => {
                let after = first.len() + 1;
                if first == "localhost" {
                    (first, true, after)
                } else if first == LEGACY_DEFAULT_DOMAIN {
                    (DEFAULT_DOMAIN, false, after)
                } else if first.contains(['.', ':']) || first_upper(first).is_some() {
                    (first, true, after)
                } else {
                    (DEFAULT_DOMAIN, false, 0)
                }
            }
        };
        let rest = input.get(rest_start..).unwrap_or("");
        let prefix = if domain == DEFAULT_DOMAIN && !rest.contains('/') {
            OFFICIAL_REPO_PREFIX
        } else {
            ""
        };
        Normalized {
            text: format!("{domain}/{prefix}{rest}"),
            domain_len: domain.len(),
            domain_from_input: from_input,
            prefix_len: prefix.len(),
            rest_start,
        }
    }

    /// Maps a byte offset in `text` back to the input.
    fn to_input(&self, off: usize) -> usize {
        let head = self.domain_len + 1;
        if off < head {
            if self.domain_from_input { off } else { 0 }
        } else if off < head + self.prefix_len {
            self.rest_start
        } else {
            off - head - self.prefix_len + self.rest_start
        }
    }
}

/// `^[a-f0-9]{64}$`
fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9'))
}

/// Go's `unicode.ToLower` per character (simple case mapping).
fn go_lower(c: char) -> Option<char> {
    if c == '\u{130}' {
        // Rust's full mapping yields "i\u{307}"; Go's simple mapping yields 'i'.
        return Some('i');
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => Some(l),
        _ => None,
    }
}

/// Go's `strings.ToLower`.
fn go_to_lower(s: &str) -> String {
    s.chars().map(|c| go_lower(c).unwrap_or(c)).collect()
}

/// Byte index of the first character that `strings.ToLower` would change.
fn first_upper(s: &str) -> Option<usize> {
    s.char_indices()
        .find(|&(_, c)| go_lower(c).is_some_and(|l| l != c))
        .map(|(i, _)| i)
}

fn sub(s: &str, r: Range<usize>) -> &str {
    s.get(r).unwrap_or("")
}

// ---------------------------------------------------------------------------
// Grammar matcher (equivalent to distribution/reference's ReferenceRegexp,
// but reporting where matching stops)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Part {
    Name,
    Tag,
    Digest,
}

#[derive(Debug, Clone, Copy)]
struct Fail {
    pos: usize,
    part: Part,
}

#[derive(Debug, Clone)]
struct Caps {
    domain: Option<Range<usize>>,
    path: Range<usize>,
    tag: Option<Range<usize>>,
    digest: Option<Range<usize>>,
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a [u8], pos: usize, end: usize) -> Self {
        Cursor { s, pos, end }
    }

    fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            self.s.get(self.pos).copied()
        } else {
            None
        }
    }

    fn eat(&mut self, pred: impl Fn(u8) -> bool) -> bool {
        match self.peek() {
            Some(b) if pred(b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn eat_while(&mut self, pred: impl Fn(u8) -> bool) -> usize {
        let start = self.pos;
        while self.eat(&pred) {}
        self.pos - start
    }

    fn at_end(&self) -> bool {
        self.pos >= self.end
    }
}

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `^(?:(domainAndPort)/)?(remoteName)(?::(tag))?(?:@(digest))?$`
fn match_reference(s: &[u8]) -> Result<Caps, Fail> {
    let Some(slash) = s.iter().position(|&b| b == b'/') else {
        return match_remote(s, 0);
    };
    match match_domain(s, slash) {
        Ok(()) => {
            let caps = match_remote(s, slash + 1)?;
            Ok(Caps {
                domain: Some(0..slash),
                ..caps
            })
        }
        // Not a domain: the regex retries the first component as a path component.
        Err(domain_pos) => match match_remote(s, 0) {
            Ok(caps) => Ok(caps),
            Err(fail) if fail.pos > slash => Err(fail),
            Err(_) => Err(Fail {
                pos: domain_pos,
                part: Part::Name,
            }),
        },
    }
}

/// Whether `s[..end]` is `host(:port)?`; on failure, where it stops matching.
fn match_domain(s: &[u8], end: usize) -> Result<(), usize> {
    let mut c = Cursor::new(s, 0, end);
    if c.eat(|b| b == b'[') {
        // ipv6address: \[(?:[a-fA-F0-9:]+)\]
        if c.eat_while(|b| b.is_ascii_hexdigit() || b == b':') == 0 || !c.eat(|b| b == b']') {
            return Err(c.pos);
        }
    } else {
        // domainName: component(\.component)*, component alnum([alnum-]*alnum)?
        loop {
            if !c.eat(|b| b.is_ascii_alphanumeric()) {
                return Err(c.pos);
            }
            c.eat_while(|b| b.is_ascii_alphanumeric() || b == b'-');
            if c.s.get(c.pos.wrapping_sub(1)) == Some(&b'-') {
                return Err(c.pos);
            }
            if !c.eat(|b| b == b'.') {
                break;
            }
        }
    }
    if c.eat(|b| b == b':') && c.eat_while(|b| b.is_ascii_digit()) == 0 {
        return Err(c.pos);
    }
    if c.at_end() { Ok(()) } else { Err(c.pos) }
}

/// `^remoteName(?::tag)?(?:@digest)?$` starting at `start`.
fn match_remote(s: &[u8], start: usize) -> Result<Caps, Fail> {
    let mut c = Cursor::new(s, start, s.len());
    let name_fail = |pos| Fail {
        pos,
        part: Part::Name,
    };
    loop {
        match_path_component(&mut c).map_err(name_fail)?;
        if !c.eat(|b| b == b'/') {
            break;
        }
    }
    let path = start..c.pos;

    let mut tag = None;
    if c.eat(|b| b == b':') {
        let tag_start = c.pos;
        if !c.eat(is_word) {
            return Err(Fail {
                pos: c.pos,
                part: Part::Tag,
            });
        }
        while c.pos - tag_start < TAG_LENGTH_MAX && c.eat(|b| is_word(b) || b == b'.' || b == b'-')
        {
        }
        tag = Some(tag_start..c.pos);
    }

    let mut digest = None;
    if c.eat(|b| b == b'@') {
        let digest_start = c.pos;
        match_digest(&mut c).map_err(|pos| Fail {
            pos,
            part: Part::Digest,
        })?;
        digest = Some(digest_start..c.pos);
    }

    if !c.at_end() {
        let part = match (&tag, &digest) {
            (_, Some(_)) => Part::Digest,
            (Some(_), None) => Part::Tag,
            (None, None) => Part::Name,
        };
        return Err(Fail { pos: c.pos, part });
    }
    Ok(Caps {
        domain: None,
        path,
        tag,
        digest,
    })
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn match_path_component(c: &mut Cursor<'_>) -> Result<(), usize> {
    if !c.eat(is_lower_alnum) {
        return Err(c.pos);
    }
    loop {
        c.eat_while(is_lower_alnum);
        let separated = match c.peek() {
            Some(b'.') => c.eat(|_| true),
            Some(b'_') => {
                c.eat(|_| true);
                c.eat(|b| b == b'_');
                true
            }
            Some(b'-') => c.eat_while(|b| b == b'-') > 0,
            _ => false,
        };
        if !separated {
            return Ok(());
        }
        if !c.eat(is_lower_alnum) {
            return Err(c.pos);
        }
    }
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}` up to the end.
fn match_digest(c: &mut Cursor<'_>) -> Result<(), usize> {
    loop {
        if !c.eat(|b| b.is_ascii_alphabetic()) {
            return Err(c.pos);
        }
        c.eat_while(|b| b.is_ascii_alphanumeric());
        if !c.eat(|b| matches!(b, b'-' | b'_' | b'+' | b'.')) {
            break;
        }
    }
    if !c.eat(|b| b == b':') {
        return Err(c.pos);
    }
    let hex = c.eat_while(|b| b.is_ascii_hexdigit());
    if hex < 32 || !c.at_end() {
        return Err(c.pos);
    }
    Ok(())
}

/// go-digest `Digest.Validate` (v1.0.0, as vendored by Docker).
fn validate_digest(
    text: &str,
    range: Range<usize>,
    full: &Normalized,
) -> Result<(), ImageRefError> {
    let digest = sub(text, range.clone());
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(ImageRefError::DigestFormat {
            offset: full.to_input(range.start),
        });
    };
    let hex_start = range.start + algorithm.len() + 1;
    let expected = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            // Unknown algorithm: go-digest's DigestRegexp only allows lowercase ones.
            return Err(match first_upper(algorithm) {
                Some(i) => ImageRefError::DigestFormat {
                    offset: full.to_input(range.start + i),
                },
                None => ImageRefError::UnsupportedDigest {
                    algorithm: algorithm.to_owned(),
                    offset: full.to_input(range.start),
                },
            });
        }
    };
    if hex.len() != expected {
        return Err(ImageRefError::DigestLength {
            expected,
            actual: hex.len(),
            offset: full.to_input(hex_start),
        });
    }
    if let Some(i) = hex
        .bytes()
        .position(|b| !matches!(b, b'a'..=b'f' | b'0'..=b'9'))
    {
        return Err(ImageRefError::DigestFormat {
            offset: full.to_input(hex_start + i),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Tag versions
// ---------------------------------------------------------------------------

/// How many numeric components a [`Version`] has.
///
/// A policy typically treats [`Major`](Precision::Major) (`7`, `16-alpine`) as
/// floating and the others as pinned enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// One component: `17`.
    Major,
    /// Two components: `16.4`.
    MajorMinor,
    /// Three or more components: `7.4.2`.
    Full,
}

/// A dotted numeric version such as `16.4` or `2.53.0`.
///
/// Equality, ordering and hashing use the numeric components only (so `16.04`
/// equals `16.4`); ordering is lexicographic over the components, so
/// `1.2 < 1.2.0 < 1.10`.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    text: String,
    components: Vec<u64>,
}

impl Version {
    /// Parses `digits(.digits)*` exactly (no `v` prefix, no suffix).
    /// Returns `None` otherwise, or if a component does not fit in a `u64`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Version> {
        match Version::parse_prefix(s) {
            Some((v, "")) => Some(v),
            _ => None,
        }
    }

    /// Parses the longest `digits(.digits)*` prefix; returns it and the rest.
    fn parse_prefix(s: &str) -> Option<(Version, &str)> {
        let bytes = s.as_bytes();
        let mut components = Vec::new();
        let mut pos = 0;
        loop {
            let start = pos;
            while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            if pos == start {
                return None;
            }
            components.push(s.get(start..pos)?.parse::<u64>().ok()?);
            let next_is_digit = bytes.get(pos + 1).is_some_and(u8::is_ascii_digit);
            if bytes.get(pos) == Some(&b'.') && next_is_digit {
                pos += 1;
            } else {
                break;
            }
        }
        let version = Version {
            text: s.get(..pos)?.to_owned(),
            components,
        };
        Some((version, s.get(pos..)?))
    }

    /// The version as written (without a leading `v`).
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The numeric components, e.g. `[16, 4]`.
    #[must_use]
    pub fn components(&self) -> &[u64] {
        &self.components
    }

    /// The first component.
    #[must_use]
    pub fn major(&self) -> u64 {
        self.components.first().copied().unwrap_or(0)
    }

    /// The second component, if present.
    #[must_use]
    pub fn minor(&self) -> Option<u64> {
        self.components.get(1).copied()
    }

    /// The third component, if present.
    #[must_use]
    pub fn patch(&self) -> Option<u64> {
        self.components.get(2).copied()
    }

    /// How precise the version is.
    #[must_use]
    pub fn precision(&self) -> Precision {
        match self.components.len() {
            0 | 1 => Precision::Major,
            2 => Precision::MajorMinor,
            _ => Precision::Full,
        }
    }

    /// The version as a [`semver::Version`], missing components set to 0.
    /// `None` if it has more than three components.
    #[must_use]
    pub fn to_semver(&self) -> Option<semver::Version> {
        match self.components.as_slice() {
            [major] => Some(semver::Version::new(*major, 0, 0)),
            [major, minor] => Some(semver::Version::new(*major, *minor, 0)),
            [major, minor, patch] => Some(semver::Version::new(*major, *minor, *patch)),
            _ => None,
        }
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.components == other.components
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.components.hash(state);
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.components.cmp(&other.components)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Base distributions recognised in tag variants.
const DISTROS: &[&str] = &[
    "alpine",
    "almalinux",
    "amazonlinux",
    "bionic",
    "bookworm",
    "bullseye",
    "buster",
    "centos",
    "debian",
    "distroless",
    "fedora",
    "focal",
    "jammy",
    "jessie",
    "nanoserver",
    "noble",
    "oraclelinux",
    "rockylinux",
    "sid",
    "stretch",
    "trixie",
    "ubi",
    "ubuntu",
    "windowsservercore",
    "wolfi",
    "xenial",
];

/// Words that mark a pre-release when they start a tag's suffix.
const PRERELEASE: &[&str] = &[
    "alpha", "beta", "rc", "pre", "preview", "dev", "snapshot", "nightly", "canary",
];

/// A version-like tag split into its version and variant.
///
/// | tag                  | version  | variant         | variant version | base distro |
/// |----------------------|----------|-----------------|-----------------|-------------|
/// | `16.4-alpine3.21`    | `16.4`   | `alpine`        | `3.21`          | `alpine`    |
/// | `7.4.2-alpine`       | `7.4.2`  | `alpine`        |                 | `alpine`    |
/// | `3.12-slim-bookworm` | `3.12`   | `slim-bookworm` |                 | `bookworm`  |
/// | `v2.53.0`            | `2.53.0` |                 |                 |             |
///
/// Tags that do not start with a digit (after an optional `v`) are not
/// version-like: `latest`, `alpine`, `stable`, `lts`, `bookworm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagVersion {
    tag: String,
    v_prefix: bool,
    version: Version,
    build: Option<String>,
    suffix: Option<String>,
    variant: Option<String>,
    variant_version: Option<Version>,
    base_distro: Option<String>,
}

impl TagVersion {
    /// Splits a tag; `None` if it is not version-like.
    ///
    /// Grammar: `["v"] version ["_" build] [("-" | letter…) suffix]`, where
    /// `version` is `digits(.digits)*` and `suffix` is `-`-separated words.
    /// Each suffix word may end in a version (`alpine3.21`); the variant is
    /// the words with such versions stripped, joined by `-`.
    #[must_use]
    pub fn parse(tag: &str) -> Option<TagVersion> {
        let (v_prefix, body) = match tag.strip_prefix('v') {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        let (version, mut rest) = Version::parse_prefix(body)?;

        let mut build = None;
        if let Some(after) = rest.strip_prefix('_') {
            let end = after.find('-').unwrap_or(after.len());
            let b = after.get(..end)?;
            if b.is_empty() || !b.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.') {
                return None;
            }
            build = Some(b.to_owned());
            rest = after.get(end..)?;
        }

        let suffix = if rest.is_empty() {
            None
        } else if let Some(s) = rest.strip_prefix('-') {
            Some(s)
        } else if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            Some(rest)
        } else {
            return None;
        };
        let suffix = match suffix {
            Some(s) if s.is_empty() || s.split('-').any(str::is_empty) => return None,
            other => other,
        };

        let mut variant_words = Vec::new();
        let mut variant_version = None;
        let mut base_distro = None;
        for word in suffix.into_iter().flat_map(|s| s.split('-')) {
            let (name, ver) = split_word_version(word);
            if variant_version.is_none() {
                variant_version = ver;
            }
            if DISTROS.contains(&name) {
                base_distro = Some(name.to_owned());
            }
            variant_words.push(name);
        }
        let variant = (!variant_words.is_empty()).then(|| variant_words.join("-"));

        Some(TagVersion {
            tag: tag.to_owned(),
            v_prefix,
            version,
            build,
            suffix: suffix.map(str::to_owned),
            variant,
            variant_version,
            base_distro,
        })
    }

    /// The whole tag as written.
    #[must_use]
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Whether the tag starts with `v` (`v2.53.0`).
    #[must_use]
    pub fn has_v_prefix(&self) -> bool {
        self.v_prefix
    }

    /// The numeric version (`16.4`).
    #[must_use]
    pub fn version(&self) -> &Version {
        &self.version
    }

    /// Build metadata after `_` (`7` in `21.0.4_7-jdk-jammy`).
    #[must_use]
    pub fn build(&self) -> Option<&str> {
        self.build.as_deref()
    }

    /// Everything after the version (and build), without the leading `-`
    /// (`alpine3.21`, `slim-bookworm`).
    #[must_use]
    pub fn suffix(&self) -> Option<&str> {
        self.suffix.as_deref()
    }

    /// The variant name: the suffix with per-word versions stripped
    /// (`alpine` for `alpine3.21`, `slim-bookworm`, `ubuntu`).
    #[must_use]
    pub fn variant(&self) -> Option<&str> {
        self.variant.as_deref()
    }

    /// The first version found in the suffix (`3.21` in `alpine3.21`).
    #[must_use]
    pub fn variant_version(&self) -> Option<&Version> {
        self.variant_version.as_ref()
    }

    /// The base distribution named in the variant, if recognised
    /// (`alpine`, `bookworm`, `jammy`, `ubuntu`, …); the last one wins.
    #[must_use]
    pub fn base_distro(&self) -> Option<&str> {
        self.base_distro.as_deref()
    }

    /// Whether the suffix starts with a pre-release marker
    /// (`rc1`, `beta`, `alpha2`, …).
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.variant
            .as_deref()
            .and_then(|v| v.split('-').next())
            .map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'))
            .is_some_and(|w| PRERELEASE.contains(&w))
    }
}

/// Splits `alpine3.21` into (`alpine`, 3.21); words without a trailing
/// version, or without a name before it, are returned whole.
fn split_word_version(word: &str) -> (&str, Option<Version>) {
    let bytes = word.as_bytes();
    let mut start = bytes.len();
    while start > 0
        && bytes
            .get(start - 1)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
    {
        start -= 1;
    }
    // The version must start with a digit and the name must end with a letter.
    while start < bytes.len() && bytes.get(start) == Some(&b'.') {
        start += 1;
    }
    let name_ends_alpha = start > 0 && bytes.get(start - 1).is_some_and(u8::is_ascii_alphabetic);
    if start >= bytes.len() || !name_ends_alpha {
        return (word, None);
    }
    match (
        word.get(..start),
        word.get(start..).and_then(Version::parse),
    ) {
        (Some(name), Some(v)) => (name, Some(v)),
        _ => (word, None),
    }
}
