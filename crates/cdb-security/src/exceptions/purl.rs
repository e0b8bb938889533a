//! Just enough of Package URLs (<https://github.com/package-url/purl-spec>) to map a purl to a
//! package name or to an image reference.

use cdb_core::image::ImageRef;

/// A parsed purl: `pkg:type/namespace/name@version?qualifiers#subpath`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Purl {
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: Vec<(String, String)>,
}

impl Purl {
    /// Parses `text`; `None` when it is not a purl.
    pub fn parse(text: &str) -> Option<Purl> {
        let rest = text.trim().strip_prefix("pkg:")?;
        let rest = rest.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (rest, version) = match rest.rsplit_once('@') {
            Some((r, v)) => (r, Some(decode(v)?)),
            None => (rest, None),
        };
        let (ty, path) = rest.split_once('/')?;
        let path = path.trim_matches('/');
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, name)) => (Some(decode(ns)?), decode(name)?),
            None => (None, decode(path)?),
        };
        if ty.is_empty() || name.is_empty() {
            return None;
        }
        let mut qualifiers = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=')?;
            qualifiers.push((key.to_ascii_lowercase(), decode(value)?));
        }
        Some(Purl {
            ty: ty.to_ascii_lowercase(),
            namespace,
            name,
            version: version.filter(|v| !v.is_empty()),
            qualifiers,
        })
    }

    fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Whether the purl names an image (`oci` or `docker` type).
    pub fn is_image(&self) -> bool {
        matches!(self.ty.as_str(), "oci" | "docker")
    }

    /// The image reference an `oci` or `docker` purl names, if it parses.
    ///
    /// * `pkg:oci/name@sha256:…?repository_url=registry/path/name&tag=t` →
    ///   `registry/path/name:t@sha256:…`; without `repository_url`, the name alone (Docker Hub);
    ///   a `repository_url` that does not end with the name gets it appended.
    /// * `pkg:docker/namespace/name@version?repository_url=registry` →
    ///   `registry/namespace/name` with the version as the digest if it is one (`sha256:…`),
    ///   else as the tag.
    pub fn image_reference(&self) -> Option<String> {
        let strip_scheme = |url: &str| {
            let url = url.split_once("://").map_or(url, |(_, rest)| rest);
            url.trim_end_matches('/').to_string()
        };
        let (repository, tag, digest) = match self.ty.as_str() {
            "oci" => {
                let repository = match self.qualifier("repository_url").map(strip_scheme) {
                    Some(url) if url.rsplit('/').next() == Some(self.name.as_str()) => url,
                    Some(url) => format!("{url}/{}", self.name),
                    None => self.name.clone(),
                };
                (
                    repository,
                    self.qualifier("tag").map(str::to_string),
                    self.version.clone(),
                )
            }
            "docker" => {
                let mut repository = String::new();
                if let Some(url) = self.qualifier("repository_url") {
                    repository.push_str(&strip_scheme(url));
                    repository.push('/');
                }
                if let Some(ns) = &self.namespace {
                    repository.push_str(ns);
                    repository.push('/');
                }
                repository.push_str(&self.name);
                match &self.version {
                    Some(v) if v.contains(':') => (repository, None, Some(v.clone())),
                    Some(v) => (repository, Some(v.clone()), None),
                    None => (repository, None, None),
                }
            }
            _ => return None,
        };
        let mut reference = repository.to_ascii_lowercase();
        if let Some(tag) = tag {
            reference.push(':');
            reference.push_str(&tag);
        }
        if let Some(digest) = digest {
            reference.push('@');
            reference.push_str(&digest);
        }
        ImageRef::parse(&reference).ok().map(|_| reference)
    }
}

/// Percent-decodes `text`; `None` on a malformed escape or invalid UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_package_purls() {
        let p =
            Purl::parse("pkg:deb/debian/tar@1.34+dfsg-1.2?arch=amd64&distro=debian-12").unwrap();
        assert_eq!(p.ty, "deb");
        assert_eq!(p.namespace.as_deref(), Some("debian"));
        assert_eq!(p.name, "tar");
        assert_eq!(p.version.as_deref(), Some("1.34+dfsg-1.2"));
        assert!(!p.is_image());
        let p = Purl::parse("pkg:npm/%40angular/animation@12.3.1").unwrap();
        assert_eq!(p.namespace.as_deref(), Some("@angular"));
        assert_eq!(p.name, "animation");
        assert_eq!(
            Purl::parse("pkg:deb/debian/libssl1.1").unwrap().name,
            "libssl1.1"
        );
        assert!(Purl::parse("CVE-2024-1").is_none());
        assert!(Purl::parse("pkg:deb").is_none());
        assert!(Purl::parse("pkg:deb/x%zz").is_none());
    }

    #[test]
    fn maps_image_purls() {
        let hex = "244fd47e07d1004f0aed9c244fd47e07d1004f0aed9c244fd47e07d1004f0aed";
        let cases = [
            (
                format!(
                    "pkg:oci/debian@sha256%3A{hex}?repository_url=docker.io/library/debian&arch=amd64&tag=latest"
                ),
                Some(format!("docker.io/library/debian:latest@sha256:{hex}")),
            ),
            (
                format!(
                    "pkg:oci/debian@sha256%3A{hex}?repository_url=index.docker.io%2Flibrary%2Fdebian"
                ),
                Some(format!("index.docker.io/library/debian@sha256:{hex}")),
            ),
            (
                "pkg:oci/python?repository_url=docker.io/library/python&tag=3.11-slim".into(),
                Some("docker.io/library/python:3.11-slim".into()),
            ),
            (
                "pkg:oci/hello-wasm?tag=v1".into(),
                Some("hello-wasm:v1".into()),
            ),
            (
                "pkg:oci/app?repository_url=https://ghcr.io/acme&tag=1.2".into(),
                Some("ghcr.io/acme/app:1.2".into()),
            ),
            (
                "pkg:docker/library/redis@7.2-alpine?repository_url=docker.io".into(),
                Some("docker.io/library/redis:7.2-alpine".into()),
            ),
            (
                format!("pkg:docker/customer/img@sha256%3A{hex}?repository_url=gcr.io"),
                Some(format!("gcr.io/customer/img@sha256:{hex}")),
            ),
            ("pkg:oci/bad@notadigest".into(), None),
            ("pkg:deb/debian/tar".into(), None),
        ];
        for (purl, expected) in cases {
            let p = Purl::parse(&purl).unwrap();
            assert_eq!(p.image_reference(), expected, "{purl}");
        }
    }
}
