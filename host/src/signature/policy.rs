//! Whether a plugin may load, by its signature: `[host] require_signatures` and `trusted_keys`, and a table's
//! `allow_unsigned`. A signature that is present and does not hold refuses the plugin whatever they say.

use std::path::Path;

use super::{
    keys::TrustedKeys,
    verify::{Signature, SignatureError, signature_path, verify},
};

/// `[host] trusted_keys` and `require_signatures`.
#[derive(Debug, Clone, Default)]
pub struct SignaturePolicy {
    pub trusted_keys: TrustedKeys,
    /// Refuse an unsigned plugin unless its table says `allow_unsigned = true`.
    pub required: bool,
}

impl SignaturePolicy {
    /// What one plugin must show; `allow_unsigned` is its table's.
    pub fn for_plugin(&self, allow_unsigned: bool) -> Requirement<'_> {
        Requirement {
            policy: self,
            allow_unsigned,
        }
    }
}

/// What one plugin must show to load.
#[derive(Debug, Clone, Copy)]
pub struct Requirement<'a> {
    policy: &'a SignaturePolicy,
    allow_unsigned: bool,
}

impl Requirement<'_> {
    /// Whether the plugin may load, decided on `bytes`: what was read from `file` and is what will be loaded.
    pub fn admit(&self, plugin: &str, file: &Path, bytes: &[u8]) -> Result<Signature, SignatureError> {
        match verify(plugin, file, bytes, &self.policy.trusted_keys)? {
            Some((key_id, trusted_comment)) => Ok(Signature::Verified {
                key_id,
                trusted_comment,
            }),
            None if self.policy.required && !self.allow_unsigned => Err(SignatureError::Required {
                file: signature_path(file),
                plugin: plugin.to_owned(),
            }),
            None => Ok(Signature::Unsigned),
        }
    }
}
