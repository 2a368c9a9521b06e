//! Compiled sandbox code kept in `data_dir/wasm-cache` between starts and reloads: compiling a module costs far
//! more than loading its compiled form. Loading compiled code trusts its bytes (they are machine code), so an
//! entry is used only if its tag, an HMAC under a key derived from the host key (which only this host holds),
//! checks out for this module's sha256 and this runtime's build; any other entry is ignored and overwritten.
//!
//! Entry: `tag (32 bytes) || wasmtime's serialized module`, named `<sha256>-<runtime>.cwasm`.

use std::{path::PathBuf, sync::Arc};

use crate::host_key::HostKey;

/// Where the compiled code lives, inside `data_dir`.
pub const CACHE_DIR: &str = "wasm-cache";
const TAG_BYTES: usize = 32;

/// The cache of one host.
pub struct CodeCache {
    dir: PathBuf,
    key: Arc<HostKey>,
}

/// Where a module's code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    Cache,
    Compiled,
}

impl CodeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeSource::Cache => "cache",
            CodeSource::Compiled => "compiled",
        }
    }
}

impl CodeCache {
    pub fn new(dir: PathBuf, key: Arc<HostKey>) -> CodeCache {
        CodeCache { dir, key }
    }

    /// What a tag binds the code to: the module's sha256 and the runtime's build.
    fn context(sha256: &str, runtime: &str) -> Vec<u8> {
        format!("{sha256}/{runtime}").into_bytes()
    }

    fn path(&self, sha256: &str, runtime: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{runtime}.cwasm"))
    }

    /// The code kept for this module and runtime, if its tag checks out.
    pub fn load(&self, sha256: &str, runtime: &str) -> Option<Vec<u8>> {
        let path = self.path(sha256, runtime);
        let entry = std::fs::read(&path).ok()?;
        if entry.len() > TAG_BYTES {
            let (tag, code) = entry.split_at(TAG_BYTES);
            if self.key.verify_code(&Self::context(sha256, runtime), code, tag) {
                return Some(code.to_vec());
            }
        }
        tracing::warn!(path = %path.display(), "ignoring compiled code whose tag does not check out; compiling again");
        None
    }

    /// Keeps `code` for this module and runtime: written aside, then renamed over any earlier entry. A cache
    /// that cannot be written costs the next start a compile, nothing else.
    pub fn store(&self, sha256: &str, runtime: &str, code: &[u8]) {
        let path = self.path(sha256, runtime);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&self.dir)?;
            let mut entry = self.key.sign_code(&Self::context(sha256, runtime), code);
            entry.extend_from_slice(code);
            crate::replace_file::replace_file(&path, &entry, 0o600)
        };
        if let Err(e) = write() {
            tracing::warn!(path = %path.display(), "cannot keep compiled code: {e}");
        }
    }
}
