//! Trusted publisher keys: minisign public keys as `[host] trusted_keys` lists them (the base64 line of a
//! `minisign.pub` file), each with the id minisign prints for it.

use base64::Engine;

/// A minisign key id: eight bytes, shown as minisign shows them: the little-endian number in upper-case hex
/// without leading zeros (`%PRIX64`), so that an operator comparing the host's id with minisign's sees one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyId([u8; 8]);

impl KeyId {
    /// The key id of a minisign key or signature: the eight bytes after its two-byte algorithm (`Ed`, `ED`).
    pub(super) fn after_algorithm(bytes: &[u8]) -> Option<KeyId> {
        bytes.get(2..10)?.try_into().ok().map(KeyId)
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}", u64::from_le_bytes(self.0))
    }
}

/// Why a `trusted_keys` entry is not a minisign public key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not base64")]
    NotBase64(#[source] base64::DecodeError),
    #[error("{0} bytes where a minisign public key has 42")]
    WrongLength(usize),
    #[error("not an Ed25519 key (minisign public keys start with `RW`)")]
    NotEd25519,
}

/// One trusted publisher key.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub id: KeyId,
    /// What minisign-verify checks signatures with.
    pub(super) key: minisign_verify::PublicKey,
    /// The raw Ed25519 key, to tell which half of a failed signature failed (verify.rs).
    pub(super) ed25519: [u8; 32],
}

impl TrustedKey {
    /// Reads the base64 line of a `minisign.pub` file (`RWQ...`); surrounding blanks are ignored.
    pub fn parse(text: &str) -> Result<TrustedKey, KeyError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(KeyError::NotBase64)?;
        let bytes: [u8; 42] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength(bytes.len()))?;
        if &bytes[..2] != b"Ed" {
            return Err(KeyError::NotEd25519);
        }
        let key = minisign_verify::PublicKey::from_base64(text.trim()).map_err(|_| KeyError::NotEd25519)?;
        let id = KeyId::after_algorithm(&bytes).ok_or(KeyError::WrongLength(bytes.len()))?;
        let mut ed25519 = [0u8; 32];
        ed25519.copy_from_slice(&bytes[10..]);
        Ok(TrustedKey { id, key, ed25519 })
    }
}

/// The keys `[host] trusted_keys` lists; two at once while a publisher rotates its key.
#[derive(Debug, Clone, Default)]
pub struct TrustedKeys(Vec<TrustedKey>);

impl TrustedKeys {
    pub fn new(keys: Vec<TrustedKey>) -> TrustedKeys {
        TrustedKeys(keys)
    }

    /// The trusted key with this id.
    pub fn get(&self, id: KeyId) -> Option<&TrustedKey> {
        self.0.iter().find(|key| key.id == id)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_id_is_written_as_minisign_writes_it() {
        let id = super::KeyId(0x0328_27B3_ECB8_52A0_u64.to_le_bytes());
        assert_eq!(
            id.to_string(),
            "32827B3ECB852A0",
            "no leading zero, as minisign's `%PRIX64`"
        );
    }
}
