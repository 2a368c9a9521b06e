//! Keys derived from `secret_key` with HKDF-SHA256 (ring): one HMAC-SHA256 key signs cookies, one AES-256-GCM key
//! encrypts stored tokens. `previous_secret_keys` derive keys that still verify and decrypt, so a key can be
//! rotated without logging everyone out; new signatures and ciphertexts always use the current key.
//!
//! Signed value: `base64url(payload).base64url(HMAC-SHA256(payload))`, verified in constant time by
//! `ring::hmac::verify`. Sealed value: `nonce (96 random bits) || ciphertext || tag`, with associated data bound
//! by the caller (the user id for tokens).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::{aead, hkdf, hmac, rand::SecureRandom};

/// HKDF salt and info strings: part of the stored data's format, never change them.
const HKDF_SALT: &[u8] = b"openhost-enterprise/v1";
const INFO_COOKIE_MAC: &[u8] = b"cookie-mac";
const INFO_TOKEN_KEY: &[u8] = b"token-encryption";

struct KeySet {
    mac: hmac::Key,
    aead: aead::LessSafeKey,
}

impl KeySet {
    fn derive(secret: &[u8]) -> KeySet {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(secret);
        // `expand` fails only for an output longer than 255 hash lengths; these are 32 bytes.
        let mac = prk
            .expand(&[INFO_COOKIE_MAC], hmac::HMAC_SHA256)
            .map(hmac::Key::from)
            .expect("HKDF output of 32 bytes");
        let aead = prk
            .expand(&[INFO_TOKEN_KEY], &aead::AES_256_GCM)
            .map(aead::UnboundKey::from)
            .map(aead::LessSafeKey::new)
            .expect("HKDF output of 32 bytes");
        KeySet { mac, aead }
    }
}

/// The current key and the previous ones, current first.
pub struct Keyring {
    keys: Vec<KeySet>,
    random: ring::rand::SystemRandom,
}

impl Keyring {
    pub fn new(current: &[u8], previous: &[Vec<u8>]) -> Keyring {
        let mut keys = vec![KeySet::derive(current)];
        keys.extend(previous.iter().map(|secret| KeySet::derive(secret)));
        Keyring {
            keys,
            random: ring::rand::SystemRandom::new(),
        }
    }

    /// Signs `payload` with the current key.
    pub fn sign(&self, payload: &[u8]) -> String {
        let tag = hmac::sign(&self.keys[0].mac, payload);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    /// The payload of a value signed by any key of the ring.
    pub fn verify(&self, signed: &str) -> Option<Vec<u8>> {
        let (payload, tag) = signed.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.keys
            .iter()
            .any(|keys| hmac::verify(&keys.mac, &payload, &tag).is_ok())
            .then_some(payload)
    }

    /// Random bytes from the system generator.
    pub fn random<const N: usize>(&self) -> Result<[u8; N], ring::error::Unspecified> {
        let mut bytes = [0u8; N];
        self.random.fill(&mut bytes)?;
        Ok(bytes)
    }

    /// Encrypts with the current key and a fresh random nonce, binding `associated`.
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Result<Vec<u8>, ring::error::Unspecified> {
        let nonce_bytes: [u8; aead::NONCE_LEN] = self.random()?;
        let mut in_out = plaintext.to_vec();
        self.keys[0].aead.seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(nonce_bytes),
            aead::Aad::from(associated),
            &mut in_out,
        )?;
        let mut sealed = nonce_bytes.to_vec();
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    /// Decrypts with whichever key of the ring sealed it; `None` if none did or `associated` differs.
    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < aead::NONCE_LEN + aead::AES_256_GCM.tag_len() {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(aead::NONCE_LEN);
        self.keys.iter().find_map(|keys| {
            let nonce = aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
            let mut in_out = ciphertext.to_vec();
            let plaintext = keys
                .aead
                .open_in_place(nonce, aead::Aad::from(associated), &mut in_out)
                .ok()?;
            Some(plaintext.to_vec())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_ciphertexts_survive_rotation_and_reject_tampering() {
        let old = Keyring::new(&[1; 32], &[]);
        let rotated = Keyring::new(&[2; 32], &[vec![1; 32]]);
        let unrelated = Keyring::new(&[3; 32], &[]);

        let signed = old.sign(b"{\"uid\":\"github:1\"}");
        assert_eq!(rotated.verify(&signed).as_deref(), Some(&b"{\"uid\":\"github:1\"}"[..]));
        assert_eq!(unrelated.verify(&signed), None);
        let (payload, tag) = signed.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(b"{\"uid\":\"github:2\"}"));
        assert_eq!(old.verify(&forged), None);
        assert_eq!(old.verify(payload), None);

        let sealed = old.seal(b"token", b"github:1").unwrap();
        assert_eq!(rotated.open(&sealed, b"github:1").as_deref(), Some(&b"token"[..]));
        assert_eq!(rotated.open(&sealed, b"github:2"), None, "bound to the user id");
        assert_eq!(unrelated.open(&sealed, b"github:1"), None);
        assert_ne!(
            old.seal(b"token", b"github:1").unwrap(),
            sealed,
            "fresh nonce each time"
        );
    }
}
