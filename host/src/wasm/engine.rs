//! The one wasmtime engine of the process: Cranelift, epoch interruption driven by a ticker thread (so a guest
//! that runs long yields to the runtime at every tick and never holds a worker thread), and the pooling
//! allocator: instances, their memories and the stacks their calls run on come from slots reserved once, so a
//! call maps nothing and an instance is made without a system call per part.

use std::{sync::OnceLock, time::Duration};

use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use super::WasmError;

/// How often running guests yield (and their deadlines are looked at).
pub const TICK: Duration = Duration::from_millis(1);
/// Instances alive at once, over every sandboxed plugin and generation: pooled, lent to a request, or starting.
/// Each reserves address space for the largest memory a plugin may be allowed (4 GiB), not memory.
pub const MAX_INSTANCES: u32 = 1000;
/// What stays resident of a returned memory or call stack, so that reusing one costs no page faults.
const KEEP_RESIDENT: usize = 64 << 10;

/// The engine, made (and its ticker started) on first use.
pub fn engine() -> Result<&'static Engine, WasmError> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.cranelift_opt_level(OptLevel::Speed);
        let mut pooling = PoolingAllocationConfig::new();
        pooling
            .total_core_instances(MAX_INSTANCES)
            .total_memories(MAX_INSTANCES)
            .total_tables(MAX_INSTANCES)
            .total_stacks(MAX_INSTANCES)
            .max_memory_size(4096 << 20)
            .linear_memory_keep_resident(KEEP_RESIDENT)
            .async_stack_keep_resident(KEEP_RESIDENT);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
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
