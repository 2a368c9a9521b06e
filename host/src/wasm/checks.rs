//! What a module must be to run as a sandboxed plugin, checked once it is compiled and before any of it runs:
//! it exports `memory` and `handle_request() -> i64`, and it imports nothing but the `http_handler` functions
//! and the few WASI functions [`super::wasi`] offers. Anything else is refused in one line that names it.

use wasmtime::{ExternType, Module, ValType};

use super::{WasmError, http_handler, wasi};

/// What the checks learnt of the module's exports.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// It exports `handle_response(ctx: i32, is_error: i32)`.
    pub handle_response: bool,
    /// The function an instance runs once when it is made: `_start`, else `_initialize`.
    pub start: Option<&'static str>,
}

fn is_offered(module: &str, name: &str) -> bool {
    match module {
        "http_handler" => http_handler::FUNCTIONS.contains(&name),
        wasi::MODULE => wasi::FUNCTIONS.contains(&name),
        _ => false,
    }
}

/// Checks the imports and exports.
pub fn check(module: &Module) -> Result<Shape, WasmError> {
    for import in module.imports() {
        let offered = matches!(import.ty(), ExternType::Func(_)) && is_offered(import.module(), import.name());
        if !offered {
            return Err(WasmError::ForbiddenImport {
                import: format!("{}.{}", import.module(), import.name()),
            });
        }
    }
    let mut memory = false;
    let mut handle_request = false;
    let mut shape = Shape {
        handle_response: false,
        start: None,
    };
    for export in module.exports() {
        match (export.name(), export.ty()) {
            ("memory", ExternType::Memory(_)) => memory = true,
            ("handle_request", ExternType::Func(func)) => {
                if func.params().len() != 0 || !matches!(func.results().collect::<Vec<_>>()[..], [ValType::I64]) {
                    return Err(WasmError::WrongExport {
                        export: "handle_request",
                        signature: "() -> i64",
                    });
                }
                handle_request = true;
            }
            ("handle_response", ExternType::Func(func)) => {
                let params: Vec<ValType> = func.params().collect();
                if !matches!(params[..], [ValType::I32, ValType::I32]) || func.results().len() != 0 {
                    return Err(WasmError::WrongExport {
                        export: "handle_response",
                        signature: "(i32, i32)",
                    });
                }
                shape.handle_response = true;
            }
            ("_start", ExternType::Func(_)) => shape.start = Some("_start"),
            ("_initialize", ExternType::Func(_)) if shape.start.is_none() => shape.start = Some("_initialize"),
            _ => {}
        }
    }
    if !memory {
        return Err(WasmError::MissingExport { export: "memory" });
    }
    if !handle_request {
        return Err(WasmError::MissingExport {
            export: "handle_request",
        });
    }
    Ok(shape)
}
