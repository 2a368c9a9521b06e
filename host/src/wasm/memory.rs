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

/// The guest's memory and the call's exchange at once: a host function reads or writes the guest's bytes in
/// place while it looks at the exchange, with no copy between them.
pub fn split<'a>(caller: &'a mut Caller<'_, Exchange>) -> Result<(&'a mut [u8], &'a mut Exchange)> {
    let memory = memory(caller)?;
    Ok(memory.data_and_store_mut(caller))
}

/// The `len` bytes at `ptr` of `memory`.
pub fn range(memory: &[u8], ptr: u32, len: u32) -> Result<&[u8]> {
    let (start, len) = (ptr as usize, len as usize);
    start
        .checked_add(len)
        .and_then(|end| memory.get(start..end))
        .ok_or_else(|| Error::msg(format!("{len} bytes at {start} are outside the guest's memory")))
}

/// `len` bytes at `ptr`, copied out.
pub fn read(caller: &mut Caller<'_, Exchange>, ptr: u32, len: u32) -> Result<Vec<u8>> {
    let (memory, _) = split(caller)?;
    Ok(range(memory, ptr, len)?.to_vec())
}

/// `len` bytes at `ptr` as UTF-8 text.
pub fn read_text(caller: &mut Caller<'_, Exchange>, ptr: u32, len: u32, what: &str) -> Result<String> {
    String::from_utf8(read(caller, ptr, len)?).map_err(|_| Error::msg(format!("the {what} is not UTF-8")))
}

/// Writes `bytes` at `ptr` of `memory`.
pub fn write_into(memory: &mut [u8], ptr: u32, bytes: &[u8]) -> Result<()> {
    let start = ptr as usize;
    start
        .checked_add(bytes.len())
        .and_then(|end| memory.get_mut(start..end))
        .ok_or_else(|| Error::msg(format!("{} bytes at {ptr} are outside the guest's memory", bytes.len())))?
        .copy_from_slice(bytes);
    Ok(())
}

/// Writes `bytes` at `ptr`.
pub fn write(caller: &mut Caller<'_, Exchange>, ptr: u32, bytes: &[u8]) -> Result<()> {
    let (memory, _) = split(caller)?;
    write_into(memory, ptr, bytes)
}

/// The http-wasm `buf`/`buf_limit` rule: writes `bytes` at `buf` of `memory` only if they fit in `limit`, and
/// answers their length either way, so a guest can ask with a limit of 0 how much room it needs.
pub fn write_if_fits(memory: &mut [u8], buf: u32, limit: u32, bytes: &[u8]) -> Result<u32> {
    let len = u32::try_from(bytes.len()).map_err(|_| Error::msg("a value longer than 4 GiB"))?;
    if len <= limit && len > 0 {
        write_into(memory, buf, bytes)?;
    }
    Ok(len)
}
