//! Reading and writing the guest's linear memory for the host functions: every range is checked against the
//! memory's size before anything is copied, so a guest that passes a wild pointer or length traps instead of
//! making the host allocate or read out of bounds.

use wasmtime::{Caller, Error, Extern, Memory, Result};

use super::exchange::Exchange;

/// The guest's exported `memory`, looked up once per instance.
fn memory(caller: &mut Caller<'_, Exchange>) -> Result<Memory> {
    if let Some(memory) = caller.data().memory {
        return Ok(memory);
    }
    let memory = caller
        .get_export("memory")
        .and_then(Extern::into_memory)
        .ok_or_else(|| Error::msg("the guest exports no memory"))?;
    caller.data_mut().memory = Some(memory);
    Ok(memory)
}

/// `len` bytes at `ptr`.
pub fn read(caller: &mut Caller<'_, Exchange>, ptr: u32, len: u32) -> Result<Vec<u8>> {
    let memory = memory(caller)?;
    let (start, len) = (ptr as usize, len as usize);
    let end = start
        .checked_add(len)
        .filter(|end| *end <= memory.data_size(&*caller))
        .ok_or_else(|| Error::msg(format!("{len} bytes at {start} are outside the guest's memory")))?;
    Ok(memory.data(&*caller)[start..end].to_vec())
}

/// `len` bytes at `ptr` as UTF-8 text.
pub fn read_text(caller: &mut Caller<'_, Exchange>, ptr: u32, len: u32, what: &str) -> Result<String> {
    String::from_utf8(read(caller, ptr, len)?).map_err(|_| Error::msg(format!("the {what} is not UTF-8")))
}

/// Writes `bytes` at `ptr`.
pub fn write(caller: &mut Caller<'_, Exchange>, ptr: u32, bytes: &[u8]) -> Result<()> {
    let memory = memory(caller)?;
    memory
        .write(&mut *caller, ptr as usize, bytes)
        .map_err(|_| Error::msg(format!("{} bytes at {ptr} are outside the guest's memory", bytes.len())))
}

/// The http-wasm `buf`/`buf_limit` rule: writes `bytes` at `buf` only if they fit in `limit`, and answers their
/// length either way, so a guest can ask with a limit of 0 how much room it needs.
pub fn write_if_fits(caller: &mut Caller<'_, Exchange>, buf: u32, limit: u32, bytes: &[u8]) -> Result<u32> {
    let len = u32::try_from(bytes.len()).map_err(|_| Error::msg("a value longer than 4 GiB"))?;
    if len <= limit && len > 0 {
        write(caller, buf, bytes)?;
    }
    Ok(len)
}
