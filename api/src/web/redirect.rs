//! Where a request may send the browser next: the one check for every redirect target taken
//! from a request (`next` after logging in, `back` after a form).
//!
//! A target is followed only when it is a path on this site. Browsers are generous when they
//! resolve a `Location`: WHATWG URL parsing strips tabs and newlines anywhere (`/\t/evil`
//! becomes `//evil`, another host), reads `\` as `/`, and takes `//host` as a host. So the
//! target, as sent and percent-decoded, must start with a single `/` and contain no backslash
//! and no control character; it is then resolved with the `url` crate against the site's own
//! public address and must keep that origin. What goes out is the path as `url` wrote it, not
//! the text that came in.

use url::Url;

/// `candidate` as a path on this site, or `default` when it is missing or not one.
#[must_use]
pub fn local_or(candidate: Option<&str>, public_base: &str, default: &str) -> String {
    candidate.and_then(|candidate| local_target(candidate, public_base)).unwrap_or_else(|| default.to_owned())
}

/// Longest target followed: a real one is a path and a short query.
const MAX_TARGET: usize = 2048;
/// Percent-decodings tried: enough for double and triple encoding; more is refused.
const MAX_DECODINGS: usize = 4;

/// `candidate` as a path (with query and fragment) on the site at `public_base`, if it is one.
#[must_use]
pub fn local_target(candidate: &str, public_base: &str) -> Option<String> {
    if candidate.len() > MAX_TARGET {
        return None;
    }
    let mut text = candidate.to_owned();
    let mut settled = false;
    for _ in 0..MAX_DECODINGS {
        if !looks_local(&text) {
            return None;
        }
        let decoded = percent_decode(&text);
        if decoded == text {
            settled = true;
            break;
        }
        text = decoded;
    }
    if !settled {
        return None;
    }
    let base = Url::parse(public_base).ok()?;
    let target = base.join(candidate).ok()?;
    if target.origin() != base.origin() || !target.username().is_empty() || target.password().is_some() {
        return None;
    }
    let mut out = target.path().to_owned();
    if let Some(query) = target.query() {
        out.push('?');
        out.push_str(query);
    }
    if let Some(fragment) = target.fragment() {
        out.push('#');
        out.push_str(fragment);
    }
    looks_local(&out).then_some(out)
}

/// A single leading `/`, no backslash, no control character or line/paragraph separator.
fn looks_local(text: &str) -> bool {
    text.starts_with('/')
        && !text.starts_with("//")
        && !text.contains('\\')
        && !text.chars().any(|c| c.is_control() || (c.is_whitespace() && c != ' '))
}

/// `%XX` sequences decoded (invalid ones kept as they are); invalid UTF-8 becomes U+FFFD.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://plenary.example.org";

    #[test]
    fn paths_on_this_site_are_followed() {
        for (sent, followed) in [
            ("/", "/"),
            ("/organiser", "/organiser"),
            ("/organiser?x=1", "/organiser?x=1"),
            ("/meetings/12#seating", "/meetings/12#seating"),
            ("/subscriptions?q=a b", "/subscriptions?q=a%20b"),
            ("/organiser/meetings/3/invitations", "/organiser/meetings/3/invitations"),
            ("/a/../organiser", "/organiser"),
        ] {
            assert_eq!(local_target(sent, BASE).as_deref(), Some(followed), "{sent:?}");
        }
        assert_eq!(local_target("/delegation", "http://127.0.0.1:8080").as_deref(), Some("/delegation"));
    }

    #[test]
    fn hostile_targets_go_to_the_default_page() {
        for hostile in [
            "/%09/evil.example",
            "/\t/evil.example",
            "/\t/evil",
            "/\n/evil",
            "/\r/evil",
            "/%0a/evil",
            "/%0D%0A/evil",
            "/%00/evil",
            "/%2509/evil",
            "/%252509/evil",
            "//evil",
            "//evil.example/path",
            "/%2F/evil",
            "/%2f%2fevil",
            "///evil",
            "/\\evil",
            "\\\\evil",
            "/%5Cevil",
            "/%5cevil",
            "/a\\b",
            "https://evil",
            "https://evil.example/organiser",
            "http:evil",
            "javascript:alert(1)",
            "java\nscript:alert(1)",
            "data:text/html,hi",
            "evil.example",
            "organiser",
            "",
            " /organiser",
            "\t/organiser",
            "https://user:pass@plenary.example.org/",
            "//user@evil",
            "/\u{85}/evil",
            "/\u{2028}/evil",
            "/\u{7f}/evil",
            "/%E2%80%A8/evil",
        ] {
            assert_eq!(local_target(hostile, BASE), None, "{hostile:?} is refused");
            assert_eq!(local_or(Some(hostile), BASE, "/"), "/", "{hostile:?} goes to the default page");
        }
        assert_eq!(local_or(Some(&format!("/{}", "a".repeat(MAX_TARGET))), BASE, "/x"), "/x");
        assert_eq!(local_or(None, BASE, "/subscriptions"), "/subscriptions");
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("/a%20b%zz%4"), "/a b%zz%4");
        assert_eq!(percent_decode("%5C%09"), "\\\t");
    }
}
