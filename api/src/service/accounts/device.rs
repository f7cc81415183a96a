//! Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a browser
//! that has logged in successfully as a user keeps a signed cookie naming that user and a
//! random nonce. Its later logins as that user are counted against the nonce, not against the
//! username, so failures caused by someone else never lock it out.
//!
//! The cookie is `base64url(username) "." nonce "." base64url(HMAC-SHA256(secret, "device:" username ":" nonce)[..16])`,
//! signed with the server secret [`SECRET_NAME`] (made on first use and shared by every
//! replica through `server_secrets`). It is `HttpOnly`, `SameSite=Lax`, `Secure` over https and
//! lives a year; nothing is stored for it on the server but the failures counted against it.
//! The login use case ([`super::log_in`]) reads and issues it; the login page sets it.

use base64::Engine as _;
use chrono::TimeDelta;

use crate::{auth::new_secret, mail::rsvp::hmac_sha256};

/// The cookie's name.
pub const COOKIE: &str = "plenary_device";
/// The name of the signing secret in `server_secrets`.
pub const SECRET_NAME: &str = "login-device";
/// How long a browser stays trusted after its last successful login.
pub const LIFETIME: TimeDelta = TimeDelta::days(365);

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn signature(secret: &[u8], username: &str, nonce: &str) -> String {
    let mac = hmac_sha256(secret, format!("device:{username}:{nonce}").as_bytes());
    B64.encode(&mac[..16])
}

/// A new cookie value for `username`, with a fresh nonce.
#[must_use]
pub fn issue(secret: &[u8], username: &str) -> String {
    let nonce = new_secret("");
    format!("{}.{nonce}.{}", B64.encode(username), signature(secret, username, &nonce))
}

/// The nonce of `value` when it is a cookie signed with `secret` for `username`.
#[must_use]
pub fn nonce_for(secret: &[u8], value: &str, username: &str) -> Option<String> {
    let mut parts = value.split('.');
    let (named, nonce, sent) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || B64.decode(named).ok()? != username.as_bytes() {
        return None;
    }
    let expected = signature(secret, username, nonce);
    // Constant-time comparison: no early exit on the first differing byte.
    let same =
        sent.len() == expected.len() && sent.bytes().zip(expected.bytes()).fold(0_u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    same.then(|| nonce.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_vouches_for_its_own_username_only() {
        let value = issue(b"secret", "admin");
        let nonce = nonce_for(b"secret", &value, "admin").expect("valid");
        assert!(value.contains(&nonce));
        assert_eq!(nonce_for(b"secret", &value, "someone@else.example"), None);
        assert_eq!(nonce_for(b"another secret", &value, "admin"), None, "signed with this server's secret");
        assert_ne!(issue(b"secret", "admin"), value, "each cookie has its own nonce");
    }

    #[test]
    fn altered_cookies_are_refused() {
        let value = issue(b"secret", "admin");
        let (named, rest) = value.split_once('.').unwrap();
        let (nonce, mac) = rest.split_once('.').unwrap();
        let forged_name = format!("{}.{nonce}.{mac}", B64.encode("admim"));
        let forged_nonce = format!("{named}.x{nonce}.{mac}");
        for forged in [forged_name.as_str(), &forged_nonce, &format!("{value}.x"), named, "", "..", "a.b.c"] {
            assert_eq!(nonce_for(b"secret", forged, "admin"), None, "{forged}");
        }
    }
}
