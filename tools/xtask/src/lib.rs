//! What the developer tasks share with the test harness: running cargo from inside a cargo command, and reading
//! which libraries it built.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// `cargo` (the one running this process), without the variables cargo set for the package it runs
/// (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, ...). A nested build that inherited them would not be the build the
/// README's commands make (`ring`'s build script watches `CARGO_MANIFEST_DIR`), and each would rebuild what the
/// other built.
pub fn cargo_command() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let of_the_running_package = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || name == "CARGO_TARGET_TMPDIR";
        if of_the_running_package {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Whether `path` names a shared library (what a plugin crate's `cdylib` target makes).
pub fn is_shared_library(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("so" | "dylib" | "dll"))
}

/// The shared libraries among the files of one of cargo's `compiler-artifact` messages
/// (`--message-format=json`); none for any other message. A plugin crate may also build an rlib (for benchmarks),
/// which is left out.
pub fn shared_libraries(message: &serde_json::Value) -> Vec<PathBuf> {
    if message["reason"] != "compiler-artifact" {
        return Vec::new();
    }
    message["filenames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .filter(|f| is_shared_library(f))
        .collect()
}
