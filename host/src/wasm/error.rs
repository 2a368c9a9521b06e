//! Why a sandboxed plugin is refused at load.

/// The runtime's error, kept as the cause.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A module that cannot run as a sandboxed plugin, each in one line.
#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    #[error("cannot run: this openhost was built without the sandbox (cargo feature `wasm`)")]
    NotBuiltIn,
    #[error("the WebAssembly runtime cannot start: {0}")]
    Engine(String),
    #[error("not a valid WebAssembly module")]
    Invalid(#[source] Cause),
    #[error(
        "imports `{import}`, which is not offered: only the http_handler functions and WASI's fd_write, \
         clock_time_get, random_get, args_*, environ_* and proc_exit are"
    )]
    ForbiddenImport { import: String },
    #[error("exports no `{export}`")]
    MissingExport { export: &'static str },
    #[error("exports `{export}` with the wrong signature (expected {signature})")]
    WrongExport {
        export: &'static str,
        signature: &'static str,
    },
    #[error("`{key}` must be {range}")]
    Limit { key: &'static str, range: &'static str },
    #[error("its imports do not match what openhost offers")]
    Link(#[source] Cause),
    #[error("its first instance failed to start: {0}")]
    Start(String),
    #[error("its first instance did not start within {0:?}")]
    StartTimeout(std::time::Duration),
}
