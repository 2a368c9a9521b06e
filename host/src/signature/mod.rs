//! Signed plugins (docs/security.md, "Signed plugins"): who published a plugin file, told by a minisign signature
//! in `FILE.minisig` beside it and checked against `[host] trusted_keys` on the very bytes that are then loaded.
//!
//! - [`keys`]: the trusted keys and their ids, as `plugins.toml` writes them.
//! - [`verify`]: what a signature file says about a plugin's bytes ([`Signature`]), or why it is refused.
//! - [`policy`]: whether a plugin may load: a bad signature never, an unsigned one unless signatures are required
//!   and its table does not allow it.
//!
//! The authors' side, `openhost plugins keygen` and `openhost plugins sign`, is crate::publish.

mod keys;
mod policy;
mod verify;

pub use keys::{TrustedKey, TrustedKeys};
pub use policy::{Requirement, SignaturePolicy};
pub use verify::{Signature, SignatureError, signature_path};
