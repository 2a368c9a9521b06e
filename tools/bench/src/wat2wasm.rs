//! `wat2wasm FILE.wat > FILE.wasm`: a WebAssembly text module as a binary module, for the load scripts that run
//! this project's own test guests (tests/fixtures/wasm) in a release host.

fn main() -> std::process::ExitCode {
    use std::io::Write;
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: wat2wasm FILE.wat > FILE.wasm");
        return std::process::ExitCode::from(2);
    };
    match wat::parse_file(&path) {
        Ok(binary) => match std::io::stdout().write_all(&binary) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wat2wasm: cannot write the module: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("wat2wasm: {path}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
