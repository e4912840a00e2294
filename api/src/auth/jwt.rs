//! Signing and checking HS256 access tokens.

use chrono::Utc;
use domain::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Shortest accepted signing secret.
pub const MIN_SECRET_LEN: usize = 32;
const ISSUER: &str = "attendance";

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The username at issue time.
    pub username: String,
    /// The role at issue time.
    pub role: Role,
    /// Issuer, always `attendance`.
    pub iss: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not valid before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
    /// The account's token generation at issue time (see
    /// [`crate::auth::users::UserView::token_generation`]); tokens issued before it existed
    /// carry none and count as generation 0.
    #[serde(default)]
    pub generation: i32,
    /// A random id, so that two tokens issued to one account in the same second differ
    /// (signing out of one must not sign out of the other). Absent from older tokens.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jti: String,
}

/// The signing and verifying keys and the token lifetime.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("JwtKeys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Keys from a secret of at least [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8], ttl: Duration) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "the JWT secret must be at least {MIN_SECRET_LEN} bytes"
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = 5;
        Ok(JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        })
    }

    /// Token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs a token for a user, in the account's current token generation.
    pub fn issue(
        &self,
        user_id: &str,
        username: &str,
        role: Role,
        generation: i32,
    ) -> Result<String, String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            username: username.to_string(),
            role,
            iss: ISSUER.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs() as i64,
            generation,
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| e.to_string())
    }

    /// Checks signature, algorithm, issuer and times; returns the claims. A token older than
    /// the lifetime (from its `iat`) is refused whatever its `exp` says, so that lowering
    /// `JWT_TTL_SECS` shortens the tokens already out.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        let age = Utc::now().timestamp() - claims.iat;
        let longest = self.ttl.as_secs() as i64 + self.validation.leeway as i64;
        (age <= longest).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn keys() -> JwtKeys {
        JwtKeys::new(SECRET, Duration::from_secs(3600)).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        use base64_url_free::encode;
        encode(bytes)
    }

    /// Minimal unpadded base64url, to forge tokens by hand.
    mod base64_url_free {
        pub fn encode(input: &[u8]) -> String {
            const A: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in input.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
                for i in 0..=chunk.len() {
                    out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }

    fn signed_with(secret: &[u8], claims: &Claims) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    fn claims(offset_exp: i64, offset_nbf: i64) -> Claims {
        let now = Utc::now().timestamp();
        Claims {
            sub: "u1".into(),
            username: "ada".into(),
            role: Role::Teacher,
            iss: ISSUER.into(),
            iat: now,
            nbf: now + offset_nbf,
            exp: now + offset_exp,
            generation: 0,
            jti: String::new(),
        }
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let token = keys().issue("u1", "ada", Role::Teacher, 0).unwrap();
        let claims = keys().verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.role), ("u1", Role::Teacher));
    }

    #[test]
    fn two_tokens_issued_in_the_same_second_differ() {
        let first = keys().issue("u1", "ada", Role::Teacher, 0).unwrap();
        let second = keys().issue("u1", "ada", Role::Teacher, 0).unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn secrets_shorter_than_32_bytes_are_refused() {
        assert!(JwtKeys::new(b"short", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let token = signed_with(b"another-secret-of-enough-length-000", &claims(3600, 0));
        assert!(keys().verify(&token).is_none());
    }

    #[test]
    fn expired_and_not_yet_valid_tokens_are_refused() {
        assert!(
            keys()
                .verify(&signed_with(SECRET, &claims(-60, -120)))
                .is_none()
        );
        assert!(
            keys()
                .verify(&signed_with(SECRET, &claims(3600, 600)))
                .is_none()
        );
    }

    #[test]
    fn a_token_older_than_the_lifetime_is_refused_whatever_its_expiry() {
        let mut old = claims(30 * 24 * 3600, 0);
        old.iat -= 2 * 3600;
        old.nbf = old.iat;
        assert!(keys().verify(&signed_with(SECRET, &old)).is_none());
        let mut recent = claims(30 * 24 * 3600, 0);
        recent.iat -= 600;
        assert!(keys().verify(&signed_with(SECRET, &recent)).is_some());
    }

    #[test]
    fn a_tampered_payload_is_refused() {
        let token = keys().issue("u1", "ada", Role::Student, 0).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged = claims(3600, 0);
        forged.role = Role::Admin;
        let payload = b64(&serde_json::to_vec(&forged).unwrap());
        assert!(
            keys()
                .verify(&format!("{}.{payload}.{}", parts[0], parts[2]))
                .is_none()
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64(&serde_json::to_vec(&claims(3600, 0)).unwrap());
        assert!(keys().verify(&format!("{header}.{payload}.")).is_none());
    }

    #[test]
    fn a_token_missing_claims_is_refused() {
        #[derive(Serialize)]
        struct Partial {
            sub: String,
            exp: i64,
        }
        let partial = Partial {
            sub: "u1".into(),
            exp: Utc::now().timestamp() + 3600,
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &partial,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(keys().verify(&token).is_none());
    }
}
