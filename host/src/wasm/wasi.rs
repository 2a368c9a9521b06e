//! The WASI preview1 functions that TinyGo and Rust guests import, and nothing else: standard output and error
//! go to the log (tagged with the plugin), the clocks and random numbers are real, the arguments and the
//! environment are empty, and `proc_exit` ends the call as a trap. No file, socket or environment variable is
//! reachable: no other WASI function exists here, and a guest importing one is refused at load.

use std::{
    sync::OnceLock,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use ring::rand::{SecureRandom, SystemRandom};
use wasmtime::{Caller, Error, Linker, Result};

use super::{
    exchange::Exchange,
    memory::{read, write},
};

pub const MODULE: &str = "wasi_snapshot_preview1";

/// The functions, by name.
pub const FUNCTIONS: &[&str] = &[
    "fd_write",
    "clock_time_get",
    "random_get",
    "args_sizes_get",
    "args_get",
    "environ_sizes_get",
    "environ_get",
    "proc_exit",
];

const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_INVAL: i32 = 28;
const ERRNO_IO: i32 = 29;
/// The most of one `fd_write` the log keeps; the guest is told everything was written.
const MAX_LOGGED_BYTES: usize = 4096;
/// The most iovecs one `fd_write` may pass (Linux's IOV_MAX).
const MAX_IOVECS: u32 = 1024;

/// The monotonic clock's zero.
fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Writes `value` little-endian at `ptr`.
fn write_u32(caller: &mut Caller<'_, Exchange>, ptr: u32, value: u32) -> Result<()> {
    write(caller, ptr, &value.to_le_bytes())
}

/// Adds the functions to `linker`.
pub fn add_to(linker: &mut Linker<Exchange>) -> Result<()> {
    linker.func_wrap(
        MODULE,
        "fd_write",
        |mut caller: Caller<'_, Exchange>, fd: u32, iovs: u32, iovs_len: u32, written: u32| -> Result<i32> {
            if fd != 1 && fd != 2 {
                return Ok(ERRNO_BADF);
            }
            if iovs_len > MAX_IOVECS {
                return Ok(ERRNO_INVAL);
            }
            let table = read(&mut caller, iovs, iovs_len * 8)?;
            let mut text = Vec::new();
            let mut total: u32 = 0;
            for iovec in table.chunks_exact(8) {
                let ptr = u32::from_le_bytes([iovec[0], iovec[1], iovec[2], iovec[3]]);
                let len = u32::from_le_bytes([iovec[4], iovec[5], iovec[6], iovec[7]]);
                let bytes = read(&mut caller, ptr, len)?;
                let room = MAX_LOGGED_BYTES.saturating_sub(text.len());
                text.extend_from_slice(&bytes[..bytes.len().min(room)]);
                total = total.saturating_add(len);
            }
            let text = String::from_utf8_lossy(&text);
            let text = text.trim_end();
            if !text.is_empty() {
                let plugin = &*caller.data().plugin;
                match fd {
                    1 => tracing::info!(target: "openhost::plugin", plugin, stream = "stdout", "{text}"),
                    _ => tracing::warn!(target: "openhost::plugin", plugin, stream = "stderr", "{text}"),
                }
            }
            write_u32(&mut caller, written, total)?;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "clock_time_get",
        |mut caller: Caller<'_, Exchange>, clock: u32, _precision: u64, time: u32| -> Result<i32> {
            let nanos = match clock {
                0 => SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |since| since.as_nanos()),
                1 => process_start().elapsed().as_nanos(),
                _ => return Ok(ERRNO_INVAL),
            };
            let nanos = u64::try_from(nanos).unwrap_or(u64::MAX);
            write(&mut caller, time, &nanos.to_le_bytes())?;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "random_get",
        |mut caller: Caller<'_, Exchange>, buf: u32, len: u32| -> Result<i32> {
            // Checked against the memory before anything is allocated.
            read(&mut caller, buf, len)?;
            let mut bytes = vec![0u8; len as usize];
            if SystemRandom::new().fill(&mut bytes).is_err() {
                return Ok(ERRNO_IO);
            }
            write(&mut caller, buf, &bytes)?;
            Ok(ERRNO_SUCCESS)
        },
    )?;
    for (sizes, values) in [("args_sizes_get", "args_get"), ("environ_sizes_get", "environ_get")] {
        linker.func_wrap(
            MODULE,
            sizes,
            |mut caller: Caller<'_, Exchange>, count: u32, size: u32| -> Result<i32> {
                write_u32(&mut caller, count, 0)?;
                write_u32(&mut caller, size, 0)?;
                Ok(ERRNO_SUCCESS)
            },
        )?;
        linker.func_wrap(MODULE, values, |_: Caller<'_, Exchange>, _pointers: u32, _buf: u32| {
            ERRNO_SUCCESS
        })?;
    }
    linker.func_wrap(
        MODULE,
        "proc_exit",
        |_: Caller<'_, Exchange>, code: u32| -> Result<()> {
            Err(Error::msg(format!("the guest exited (proc_exit({code}))")))
        },
    )?;
    Ok(())
}
