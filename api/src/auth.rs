//! Who is calling: roles, bearer tokens and password hashing.
//!
//! API tokens carry 256 bits of randomness, so a single SHA-256 is enough to store them: nobody
//! can guess one, and a fast hash keeps every API call cheap. Passwords are chosen by people and
//! get argon2.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString, rand_core::OsRng},
};
use base64::Engine as _;
use rand::RngCore as _;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::ToSchema;

/// What a token or user may do.
///
/// Stored as its word in `users.role` and `api_tokens.role`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum, EnumIter, DeriveActiveEnum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything an organiser may do, and managing users.
    Admin,
    /// Plans meetings, sends invitations, sees every delegation's data.
    Organiser,
    /// Acts for one State's delegation only.
    Delegation,
}

impl Role {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Organiser => "organiser",
            Self::Delegation => "delegation",
        }
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// The State a delegation acts for; `None` for organisers.
    pub state: Option<String>,
    /// For the audit log: `token:12`, `user:admin`.
    pub actor: String,
}

impl Principal {
    #[must_use]
    pub fn is_organiser(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Organiser)
    }

    /// The principal of the command-line tool, for the audit log.
    #[must_use]
    pub fn command_line() -> Self {
        Self { role: Role::Admin, state: None, actor: "cli".into() }
    }
}

/// The cookie carrying a logged-in session's secret (see `web::session`).
pub const SESSION_COOKIE: &str = "plenary_session";

/// The value of cookie `name`, if the request has it.
#[must_use]
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A new random secret with a readable prefix (`plt_` for API tokens, `plf_` for feeds).
#[must_use]
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The hex SHA-256 under which a secret is stored.
#[must_use]
pub fn hash_secret(secret: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Every API call and feed fetch hashes its secret: one allocation, not one per byte.
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(secret.as_bytes()) {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

/// An argon2 PHC string for `password`.
///
/// # Errors
/// Only if argon2 itself fails (it does not for valid parameters).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("hashing a password failed: {error}"))
}

/// Whether `password` matches the stored PHC string; a malformed hash never matches.
#[must_use]
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hash_stably() {
        let a = new_secret("plt_");
        let b = new_secret("plt_");
        assert_ne!(a, b);
        assert!(a.len() >= 4 + 43, "{a}");
        assert_eq!(hash_secret(&a), hash_secret(&a));
        assert_ne!(hash_secret(&a), hash_secret(&b));
        // Lower-case hex of SHA-256, as stored in existing databases.
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct hors", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }
}
