//! What the signature beside a plugin file says about the bytes read from it.
//!
//! minisign-verify decides whether a signature holds. When it does not, the parts of the signature are checked
//! one by one, only to say which part failed: an edited trusted comment, another plugin's signature, or bytes
//! that changed after signing each get their own line.

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use base64::Engine;
use serde_json::{Value, json};

use super::keys::{KeyId, TrustedKeys};
use crate::text::{one_line, truncate};

/// The largest signature file read: minisign's are about 300 bytes, with a trusted comment of any length.
const MAX_SIGNATURE_BYTES: u64 = 64 << 10;

/// `FILE.minisig`: where the signature of a plugin file is.
pub fn signature_path(plugin_file: &Path) -> PathBuf {
    let mut path = plugin_file.as_os_str().to_owned();
    path.push(".minisig");
    PathBuf::from(path)
}

/// What a plugin file's signature says, as `/api/plugins` and `openhost plugins list` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// Signed by a trusted key, for this plugin.
    Verified { key_id: KeyId, trusted_comment: String },
    /// No `FILE.minisig`.
    Unsigned,
    /// A signature that does not hold; a plugin with one never loads.
    Invalid { key_id: Option<KeyId>, reason: String },
}

impl Signature {
    /// `verified`, `unsigned` or `invalid`.
    pub fn status(&self) -> &'static str {
        match self {
            Signature::Verified { .. } => "verified",
            Signature::Unsigned => "unsigned",
            Signature::Invalid { .. } => "invalid",
        }
    }

    /// What a refused plugin's signature shows.
    pub fn refused(refusal: &SignatureError) -> Signature {
        match refusal {
            SignatureError::Required { .. } => Signature::Unsigned,
            invalid => Signature::Invalid {
                key_id: invalid.key_id(),
                reason: invalid.to_string(),
            },
        }
    }

    /// The `/api/plugins` form.
    pub fn to_json(&self) -> Value {
        match self {
            Signature::Verified {
                key_id,
                trusted_comment,
            } => json!({
                "status": self.status(), "key_id": key_id.to_string(), "trusted_comment": trusted_comment,
            }),
            Signature::Unsigned => json!({"status": self.status(), "key_id": null, "trusted_comment": null}),
            Signature::Invalid { key_id, reason } => json!({
                "status": self.status(), "key_id": key_id.map(|id| id.to_string()), "trusted_comment": null,
                "error": reason,
            }),
        }
    }
}

/// One line for `openhost plugins list` and `check`.
impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signature::Verified {
                key_id,
                trusted_comment,
            } => write!(f, "verified: key {key_id}, `{}`", one_line(trusted_comment)),
            Signature::Unsigned => f.write_str("unsigned"),
            Signature::Invalid { reason, .. } => write!(f, "invalid: {reason}"),
        }
    }
}

/// Why a signature does not hold. Each names what an operator should look at.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("its signature {} cannot be read: {source}", file.display())]
    Read { file: PathBuf, source: std::io::Error },
    #[error("its signature {} is empty", file.display())]
    Empty { file: PathBuf },
    #[error("its signature {} is not a minisign signature", file.display())]
    Malformed { file: PathBuf },
    #[error(
        "its signature {} is in minisign's legacy form (the file signed, not its hash), which is not accepted; \
         sign it again with `openhost plugins sign` or minisign 0.8 or later",
        file.display()
    )]
    Legacy { file: PathBuf },
    #[error("it is signed by key {key_id}, which host.trusted_keys does not list")]
    UntrustedKey { key_id: KeyId },
    #[error("the trusted comment of its signature (key {key_id}) was changed after signing: `{comment}`")]
    CommentEdited { key_id: KeyId, comment: String },
    #[error("its signature (key {key_id}) is for plugin `{signed}`, not `{plugin}`: `{comment}`")]
    OtherPlugin {
        key_id: KeyId,
        plugin: String,
        signed: String,
        comment: String,
    },
    #[error("its signature (key {key_id}) names no plugin: the trusted comment `{comment}` has no `plugin=NAME`")]
    NoPluginNamed { key_id: KeyId, comment: String },
    #[error("the file is not what key {key_id} signed: its bytes changed after signing")]
    BytesChanged { key_id: KeyId },
    #[error(
        "it is not signed (there is no {}) and host.require_signatures is true; sign it (docs/operating.md, \
         \"Signed plugins\"), or set allow_unsigned = true in [plugins.{plugin}] for development",
        file.display()
    )]
    Required { file: PathBuf, plugin: String },
}

impl SignatureError {
    /// The key that made the signature, when it can be told.
    pub fn key_id(&self) -> Option<KeyId> {
        match self {
            SignatureError::UntrustedKey { key_id }
            | SignatureError::CommentEdited { key_id, .. }
            | SignatureError::OtherPlugin { key_id, .. }
            | SignatureError::NoPluginNamed { key_id, .. }
            | SignatureError::BytesChanged { key_id } => Some(*key_id),
            _ => None,
        }
    }
}

/// The signature beside `plugin_file` checked on `bytes` (what was read from it, and what will be loaded):
/// `None` when there is none.
pub fn verify(
    plugin: &str,
    plugin_file: &Path,
    bytes: &[u8],
    keys: &TrustedKeys,
) -> Result<Option<(KeyId, String)>, SignatureError> {
    let file = signature_path(plugin_file);
    let Some(text) = read_signature(&file)? else {
        return Ok(None);
    };
    let malformed = || SignatureError::Malformed { file: file.clone() };
    if text.trim().is_empty() {
        return Err(SignatureError::Empty { file });
    }
    let signature = minisign_verify::Signature::decode(&text).map_err(|_| malformed())?;
    let parts = Parts::read(&text).ok_or_else(malformed)?;
    let comment = truncate(one_line(signature.trusted_comment()), 240);
    let key = keys
        .get(parts.key_id)
        .ok_or(SignatureError::UntrustedKey { key_id: parts.key_id })?;
    match key.key.verify(bytes, &signature, false) {
        Ok(()) => match named_plugin(signature.trusted_comment()) {
            Some(signed) if signed == plugin => Ok(Some((key.id, signature.trusted_comment().to_owned()))),
            Some(signed) => Err(SignatureError::OtherPlugin {
                key_id: key.id,
                plugin: plugin.to_owned(),
                signed: signed.to_owned(),
                comment,
            }),
            None => Err(SignatureError::NoPluginNamed {
                key_id: key.id,
                comment,
            }),
        },
        Err(minisign_verify::Error::UnexpectedAlgorithm) => Err(SignatureError::Legacy { file }),
        Err(minisign_verify::Error::InvalidSignature) => {
            // Which half failed: the trusted comment's signature, or (the comment being genuine) the file's.
            let mut signed_comment = parts.signature.to_vec();
            signed_comment.extend_from_slice(signature.trusted_comment().as_bytes());
            let comment_holds = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key.ed25519)
                .verify(&signed_comment, &parts.comment_signature)
                .is_ok();
            Err(match named_plugin(signature.trusted_comment()) {
                _ if !comment_holds => SignatureError::CommentEdited {
                    key_id: key.id,
                    comment,
                },
                Some(signed) if signed != plugin => SignatureError::OtherPlugin {
                    key_id: key.id,
                    plugin: plugin.to_owned(),
                    signed: signed.to_owned(),
                    comment,
                },
                _ => SignatureError::BytesChanged { key_id: key.id },
            })
        }
        Err(_) => Err(malformed()),
    }
}

/// The text of a signature file, bounded; `None` when there is no such file.
fn read_signature(file: &Path) -> Result<Option<String>, SignatureError> {
    let read_error = |source| SignatureError::Read {
        file: file.to_owned(),
        source,
    };
    let opened = match std::fs::File::open(file) {
        Ok(opened) => opened,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_error(e)),
    };
    let mut bytes = Vec::new();
    opened
        .take(MAX_SIGNATURE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_SIGNATURE_BYTES {
        return Err(SignatureError::Malformed { file: file.to_owned() });
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| SignatureError::Malformed { file: file.to_owned() })
}

/// The parts of a signature minisign-verify keeps to itself: the key id and the two Ed25519 signatures.
struct Parts {
    key_id: KeyId,
    signature: [u8; 64],
    comment_signature: [u8; 64],
}

impl Parts {
    /// Reads a signature file's second line (algorithm, key id, signature) and fourth (the comment's signature).
    fn read(text: &str) -> Option<Parts> {
        let decode = |line: Option<&str>| base64::engine::general_purpose::STANDARD.decode(line?.trim()).ok();
        let mut lines = text.lines();
        let first = decode(lines.nth(1))?;
        let second = decode(lines.nth(1))?;
        let first: &[u8; 74] = first.as_slice().try_into().ok()?;
        Some(Parts {
            key_id: KeyId::after_algorithm(first)?,
            signature: first[10..].try_into().ok()?,
            comment_signature: second.as_slice().try_into().ok()?,
        })
    }
}

/// The plugin a trusted comment names: its `plugin=NAME` (`plugins sign` writes `plugin=NAME version=VERSION`).
fn named_plugin(comment: &str) -> Option<&str> {
    comment
        .split_whitespace()
        .find_map(|field| field.strip_prefix("plugin="))
}
