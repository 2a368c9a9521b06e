//! The keys themselves: `ohk_` and 43 characters of base64url (256 random bits), identified in the store by the
//! SHA-256 digest of the whole key. A key is shown once, when made; what is kept cannot be turned back into it.

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};

/// How every key starts, so that a leaked one is recognisable (secret scanners) and routed to this plugin.
pub const KEY_PREFIX: &str = "ohk_";
/// How much of a key is kept to tell keys apart in a list: `ohk_` and 8 characters.
const SHOWN_CHARACTERS: usize = 8;

/// A new key, before it is stored.
pub struct NewKey {
    /// The key itself: handed to its owner once, never stored.
    pub secret: String,
    pub digest: String,
    pub prefix: String,
    pub id: String,
}

/// A random value failed to come from the operating system.
#[derive(Debug, thiserror::Error)]
#[error("the system's random number generator failed")]
pub struct NoRandomness;

fn random<const N: usize>() -> Result<[u8; N], NoRandomness> {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes).map_err(|_| NoRandomness)?;
    Ok(bytes)
}

impl NewKey {
    pub fn generate() -> Result<NewKey, NoRandomness> {
        let secret = format!(
            "{KEY_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<32>()?)
        );
        Ok(NewKey {
            digest: digest(&secret),
            prefix: secret[..KEY_PREFIX.len() + SHOWN_CHARACTERS].to_owned(),
            id: hex::encode(random::<16>()?),
            secret,
        })
    }
}

/// The hex SHA-256 of a key: what the store knows it by.
pub fn digest(key: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()))
}

/// The API key in an `Authorization` header, if it carries one (`Bearer ohk_...`, the scheme in any case).
/// Other bearer tokens are not this plugin's.
pub fn from_authorization(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && token.starts_with(KEY_PREFIX)).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_known_by_their_digest_only() {
        let key = NewKey::generate().unwrap();
        assert_eq!(key.secret.len(), 4 + 43);
        assert!(key.secret.starts_with(&key.prefix));
        assert_eq!(key.digest, digest(&key.secret));
        assert_ne!(key.secret, NewKey::generate().unwrap().secret);
        assert_eq!(
            from_authorization(&format!("bearer {}", key.secret)),
            Some(key.secret.as_str())
        );
        assert_eq!(from_authorization("Bearer gho_other"), None);
        assert_eq!(from_authorization("Basic ohk_x"), None);
    }
}
