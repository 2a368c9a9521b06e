//! The one wasmtime engine of the process: Cranelift, epoch interruption driven by a ticker thread (so a guest
//! that runs long yields to the runtime at every tick and never holds a worker thread), compiled once.

use std::{sync::OnceLock, time::Duration};

use wasmtime::{Config, Engine, OptLevel};

use super::WasmError;

/// How often running guests yield (and their deadlines are looked at).
pub const TICK: Duration = Duration::from_millis(1);

/// The engine, made (and its ticker started) on first use.
pub fn engine() -> Result<&'static Engine, WasmError> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.cranelift_opt_level(OptLevel::Speed);
        let engine = Engine::new(&config).map_err(|e| e.to_string())?;
        let ticking = engine.weak();
        std::thread::Builder::new()
            .name("openhost-wasm-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticking.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(TICK);
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(engine)
    });
    engine.as_ref().map_err(|reason| WasmError::Engine(reason.clone()))
}
