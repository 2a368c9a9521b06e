//! The host key: encrypts what the host keeps for users (settings with their LLM and search keys, git provider
//! tokens, custom secrets) before it reaches the store (docs/security.md, "Secrets at rest").
//!
//! The key is `[host] secret_key` (base64, at least 32 bytes; usually `"${OPENHOST_HOST_KEY}"`) or, when that
//! is unset, 32 random bytes created once in `data_dir/host.key` (mode 0600). Records are sealed with
//! AES-256-GCM under a key HKDF-derived from it, a random 96-bit nonce each time, and associated data naming the
//! record (namespace and user), so a record copied onto another user's key does not open.
//!
//! Sealed record: `MAGIC || nonce || ciphertext || tag`. Records written before encryption existed are plain JSON
//! (they start with `{`); they are read as such and sealed at startup ([`crate::user_records`]).

use std::{
    io::Write as _,
    path::{Path, PathBuf},
};

use ring::{
    aead, hkdf, hmac,
    rand::{SecureRandom, SystemRandom},
};

/// What a code tag covers: the context's length, the context, the code.
fn code_message(context: &[u8], code: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(8 + context.len() + code.len());
    message.extend_from_slice(&(context.len() as u64).to_le_bytes());
    message.extend_from_slice(context);
    message.extend_from_slice(code);
    message
}

/// Marks a sealed record. Part of the stored format: never change it.
const MAGIC: &[u8; 4] = b"OHS1";
/// HKDF salt and info: part of the stored format.
const HKDF_SALT: &[u8] = b"openhost-host/v1";
const INFO_RECORDS: &[u8] = b"record-encryption";
/// HKDF info of the key that authenticates compiled sandbox code (crate::wasm's cache).
const INFO_CODE: &[u8] = b"compiled-code";
const MIN_KEY_BYTES: usize = 32;
/// The file name of the generated key inside `data_dir`.
pub const KEY_FILE: &str = "host.key";

/// Why the host key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    #[error("host.secret_key is not base64")]
    NotBase64,
    #[error("host.secret_key decodes to {0} bytes; at least {MIN_KEY_BYTES} are needed")]
    TooShort(usize),
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    #[error("{}: holds {len} bytes, not a key of 32 (restore it from a backup)", path.display())]
    BadFile { len: usize, path: PathBuf },
    #[error("the system random generator failed")]
    Random,
}

/// A sealed record that does not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("it was sealed under another host key, or changed on disk")]
    WrongKeyOrDamaged,
    #[error("it is truncated")]
    Truncated,
}

/// The key records are sealed with. `Debug` prints nothing.
pub struct HostKey {
    key: aead::LessSafeKey,
    /// Authenticates compiled code this host wrote, before it is trusted again.
    code: hmac::Key,
    random: SystemRandom,
}

impl std::fmt::Debug for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostKey(***)")
    }
}

impl HostKey {
    /// The configured key (already `${VAR}`-expanded), or the one in `data_dir/host.key`, created on first use.
    pub fn resolve(configured: Option<&str>, data_dir: &Path) -> Result<HostKey, HostKeyError> {
        match configured {
            Some(text) => {
                let bytes = decode_base64(text).ok_or(HostKeyError::NotBase64)?;
                if bytes.len() < MIN_KEY_BYTES {
                    return Err(HostKeyError::TooShort(bytes.len()));
                }
                Ok(HostKey::derive(&bytes))
            }
            None => HostKey::from_file(&data_dir.join(KEY_FILE)),
        }
    }

    fn from_file(path: &Path) -> Result<HostKey, HostKeyError> {
        let file_error = |source| HostKeyError::File {
            path: path.to_owned(),
            source,
        };
        match std::fs::read(path) {
            Ok(bytes) if bytes.len() == MIN_KEY_BYTES => return Ok(HostKey::derive(&bytes)),
            Ok(bytes) => {
                return Err(HostKeyError::BadFile {
                    len: bytes.len(),
                    path: path.to_owned(),
                });
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(file_error(error)),
        }
        let mut bytes = [0u8; MIN_KEY_BYTES];
        SystemRandom::new().fill(&mut bytes).map_err(|_| HostKeyError::Random)?;
        // create_new: two processes racing here cannot both write a key; the loser reads the winner's.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(&bytes)
                    .and_then(|()| file.sync_all())
                    .map_err(file_error)?;
                tracing::info!(path = %path.display(), "created a host key for secrets at rest (back it up with the data)");
                Ok(HostKey::derive(&bytes))
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => HostKey::from_file(path),
            Err(error) => Err(file_error(error)),
        }
    }

    fn derive(secret: &[u8]) -> HostKey {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(secret);
        // `expand` fails only for outputs longer than 255 hash lengths; this is 32 bytes.
        let key = prk
            .expand(&[INFO_RECORDS], &aead::AES_256_GCM)
            .map(aead::UnboundKey::from)
            .map(aead::LessSafeKey::new)
            .expect("HKDF output of 32 bytes");
        let code = prk
            .expand(&[INFO_CODE], hmac::HMAC_SHA256)
            .map(hmac::Key::from)
            .expect("HKDF output of 32 bytes");
        HostKey {
            key,
            code,
            random: SystemRandom::new(),
        }
    }

    /// The tag that authenticates `code` this host compiled, bound to `context` (which module, which runtime).
    pub fn sign_code(&self, context: &[u8], code: &[u8]) -> Vec<u8> {
        hmac::sign(&self.code, &code_message(context, code)).as_ref().to_vec()
    }

    /// Whether `tag` is [`HostKey::sign_code`]'s for `context` and `code` (compared in constant time).
    pub fn verify_code(&self, context: &[u8], code: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.code, &code_message(context, code), tag).is_ok()
    }

    /// Encrypts `plain`, binding `record` (which record this is) as associated data.
    pub fn seal(&self, record: &[u8], plain: &[u8]) -> Result<Vec<u8>, HostKeyError> {
        let mut nonce = [0u8; aead::NONCE_LEN];
        self.random.fill(&mut nonce).map_err(|_| HostKeyError::Random)?;
        let mut sealed = Vec::with_capacity(MAGIC.len() + nonce.len() + plain.len() + aead::AES_256_GCM.tag_len());
        sealed.extend_from_slice(MAGIC);
        sealed.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(record),
                &mut body,
            )
            .map_err(|_| HostKeyError::Random)?;
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    /// The plain bytes of a sealed record.
    pub fn open(&self, record: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
        let rest = sealed.strip_prefix(MAGIC.as_slice()).ok_or(OpenError::Truncated)?;
        if rest.len() < aead::NONCE_LEN + aead::AES_256_GCM.tag_len() {
            return Err(OpenError::Truncated);
        }
        let (nonce, body) = rest.split_at(aead::NONCE_LEN);
        let nonce = aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Truncated)?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, aead::Aad::from(record), &mut body)
            .map_err(|_| OpenError::WrongKeyOrDamaged)?;
        Ok(plain.to_vec())
    }
}

/// Whether stored bytes are a sealed record (and not plain JSON from before encryption).
pub fn is_sealed(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

/// Standard or URL-safe base64, padded or not.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::{
        Engine as _,
        engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD},
    };
    let text = text.trim().trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_records_open_only_with_their_key_and_name() {
        let key = HostKey::derive(&[7u8; 32]);
        let sealed = key.seal(b"settings\0alice", b"{\"llm_api_key\":\"sk-1\"}").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.windows(4).any(|w| w == b"sk-1"), "no plain text");
        assert_eq!(
            key.open(b"settings\0alice", &sealed).unwrap(),
            b"{\"llm_api_key\":\"sk-1\"}"
        );
        assert!(matches!(
            key.open(b"settings\0mallory", &sealed),
            Err(OpenError::WrongKeyOrDamaged)
        ));
        let other = HostKey::derive(&[8u8; 32]);
        assert!(matches!(
            other.open(b"settings\0alice", &sealed),
            Err(OpenError::WrongKeyOrDamaged)
        ));
        assert!(matches!(
            key.open(b"settings\0alice", &sealed[..10]),
            Err(OpenError::Truncated)
        ));
        assert_ne!(
            sealed,
            key.seal(b"settings\0alice", b"{\"llm_api_key\":\"sk-1\"}").unwrap(),
            "fresh nonce"
        );
    }

    #[test]
    fn a_generated_key_is_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = HostKey::resolve(None, dir.path()).unwrap();
        let sealed = first.seal(b"r", b"x").unwrap();
        let again = HostKey::resolve(None, dir.path()).unwrap();
        assert_eq!(again.open(b"r", &sealed).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn configured_keys_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            HostKey::resolve(Some("c2hvcnQ="), dir.path()),
            Err(HostKeyError::TooShort(5))
        ));
        assert!(matches!(
            HostKey::resolve(Some("not base64!"), dir.path()),
            Err(HostKeyError::NotBase64)
        ));
        let both = ["+/v7".repeat(11), "-_v7".repeat(11)];
        let a = HostKey::resolve(Some(&both[0]), dir.path()).unwrap();
        let b = HostKey::resolve(Some(&both[1]), dir.path()).unwrap();
        assert_eq!(b.open(b"r", &a.seal(b"r", b"x").unwrap()).unwrap(), b"x");
        assert!(!dir.path().join(KEY_FILE).exists(), "a configured key writes no file");
    }
}
