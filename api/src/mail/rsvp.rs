//! Signed accept/decline links: the token names the meeting, the answer and the recipient, and
//! carries an HMAC-SHA256 over them with a server secret, so it can be neither forged nor
//! altered (changing "decline" to "accept" breaks the signature). The pages the links open are
//! in `crate::web`.
//!
//! HMAC is written out here (RFC 2104, a dozen lines over `sha2`) rather than adding a crate.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// The name of the secret in `server_secrets`.
pub const SECRET_NAME: &str = "rsvp";

/// A recipient's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    Declined,
}

impl Answer {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Declined => "declined",
        }
    }
}

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rsvp {
    pub meeting_id: i32,
    pub answer: Answer,
    /// The delegation invited; `None` for an official guest.
    pub iso2: Option<String>,
    pub email: String,
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The token for `rsvp`, signed with `secret`.
#[must_use]
pub fn sign(secret: &[u8], rsvp: &Rsvp) -> String {
    let answer = match rsvp.answer {
        Answer::Accepted => 'a',
        Answer::Declined => 'd',
    };
    let payload =
        format!("{}:{answer}:{}:{}", rsvp.meeting_id, rsvp.iso2.as_deref().unwrap_or("-"), rsvp.email.to_lowercase());
    let signature = hmac_sha256(secret, payload.as_bytes());
    format!("{}.{}", B64.encode(payload), B64.encode(&signature[..16]))
}

/// What `token` says, when it was signed with `secret` and not altered.
#[must_use]
pub fn verify(secret: &[u8], token: &str) -> Option<Rsvp> {
    let (payload, signature) = token.split_once('.')?;
    let payload = B64.decode(payload).ok()?;
    let signature = B64.decode(signature).ok()?;
    let expected = hmac_sha256(secret, &payload);
    // Constant-time comparison: no early exit on the first differing byte.
    if signature.len() != 16 || signature.iter().zip(&expected[..16]).fold(0_u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
        return None;
    }
    let payload = String::from_utf8(payload).ok()?;
    let mut parts = payload.splitn(4, ':');
    let meeting_id = parts.next()?.parse().ok()?;
    let answer = match parts.next()? {
        "a" => Answer::Accepted,
        "d" => Answer::Declined,
        _ => return None,
    };
    let iso2 = Some(parts.next()?.to_owned()).filter(|code| code != "-");
    let email = parts.next()?.to_owned();
    Some(Rsvp { meeting_id, answer, iso2, email })
}

pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0_u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn a_token_round_trips_and_tampering_is_refused() {
        let rsvp =
            Rsvp { meeting_id: 7, answer: Answer::Declined, iso2: Some("AT".into()), email: "a@example.org".into() };
        let token = sign(b"secret", &rsvp);
        assert_eq!(verify(b"secret", &token), Some(rsvp.clone()));
        assert_eq!(verify(b"other", &token), None);
        let accepted = sign(b"secret", &Rsvp { answer: Answer::Accepted, ..rsvp });
        let (_, signature) = token.split_once('.').unwrap();
        let (payload, _) = accepted.split_once('.').unwrap();
        assert_eq!(verify(b"secret", &format!("{payload}.{signature}")), None);
        assert_eq!(verify(b"secret", "garbage"), None);
    }
}
