//! Keeps the secrets that travel in paths out of the logs.
//!
//! Three kinds of address carry a secret in their path: calendar feeds (`/feeds/{token}.ics`,
//! the token is the subscription), RSVP links (`/rsvp/{token}`) and set-password links
//! (`/set-password/{token}`). Anything that logs a path, a URI or a `next` value passes it
//! through [`path`] first, at every level: a debug log shipped to a log service must not be a
//! list of working calendar subscriptions and password links.

use std::borrow::Cow;

/// What a secret path segment is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The first path segments after which everything is secret.
const SECRET_PREFIXES: [&str; 3] = ["feeds", "rsvp", "set-password"];

/// `path` with the secret part of a feed, RSVP or set-password address replaced by
/// `[redacted]`: `/feeds/[redacted].ics`, `/rsvp/[redacted]`, `/set-password/[redacted]`. A query
/// string (`?from=…`) is dropped with it. Other paths are returned as they are.
///
/// The first segment is compared case-insensitively and after percent-decoding, and leading
/// slashes are ignored, so `//Feeds/…` or `/%66eeds/…` (which Plenary does not serve, but a
/// mistyped or probing request may still carry a real token) are redacted too.
#[must_use]
pub fn path(path: &str) -> Cow<'_, str> {
    let rest = path.trim_start_matches('/');
    let Some((first, secret)) = rest.split_once('/') else {
        return Cow::Borrowed(path);
    };
    let decoded = percent_decode(first).to_ascii_lowercase();
    if !SECRET_PREFIXES.contains(&decoded.as_str()) || secret.is_empty() {
        return Cow::Borrowed(path);
    }
    let secret = secret.split(['?', '#']).next().unwrap_or_default();
    let suffix = if decoded == "feeds" && secret.to_ascii_lowercase().ends_with(".ics") { ".ics" } else { "" };
    Cow::Owned(format!("/{decoded}/{REDACTED}{suffix}"))
}

/// Percent-decodes a path segment (invalid escapes are kept as they are).
fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_segments_are_redacted() {
        assert_eq!(path("/feeds/plf_abcDEF123.ics"), "/feeds/[redacted].ics");
        assert_eq!(path("/feeds/plf_abcDEF123.ics?from=2027-01-01"), "/feeds/[redacted].ics");
        assert_eq!(path("/feeds/plf_abcDEF123"), "/feeds/[redacted]");
        assert_eq!(path("/rsvp/pla_secret"), "/rsvp/[redacted]");
        assert_eq!(path("/rsvp/pla_secret/extra"), "/rsvp/[redacted]");
        assert_eq!(path("/set-password/pls_secret"), "/set-password/[redacted]");
    }

    #[test]
    fn disguised_prefixes_are_redacted_too() {
        assert_eq!(path("//feeds/plf_x.ics"), "/feeds/[redacted].ics");
        assert_eq!(path("/FEEDS/plf_x.ICS"), "/feeds/[redacted].ics");
        assert_eq!(path("/%66eeds/plf_x.ics"), "/feeds/[redacted].ics");
        assert_eq!(path("/Set-Password/pls_x"), "/set-password/[redacted]");
    }

    #[test]
    fn other_paths_are_left_alone() {
        for other in [
            "/",
            "/feeds",
            "/feeds/",
            "/rsvp",
            "/api/v1/feeds/12",
            "/api/v1/meetings/3/seating.svg",
            "/meetings/4",
            "/subscriptions/feeds/2",
        ] {
            assert!(matches!(path(other), Cow::Borrowed(_)), "{other}");
            assert_eq!(path(other), other);
        }
    }
}
