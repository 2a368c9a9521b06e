//! The host side of the http-wasm handler ABI (http-wasm.io, "HTTP Handler ABI"): every function of the
//! `http_handler` import module, over the [`Exchange`] of the call. Whatever the spec says a host traps on (a
//! failed read or write, a trailer set) traps here; an invalid header, method or URI does too, since the request
//! could not go on with it.

use abi_stable::std_types::RString;
use openhost_plugin_api::Header;
use wasmtime::{Caller, Error, Linker, Result};

use super::{
    exchange::{Exchange, SUPPORTED_FEATURES},
    memory::{range, read, read_text, split, write_if_fits, write_into},
    message::Headers,
};

/// The `http_handler` functions, by name: the imports a guest may have from this module.
pub const FUNCTIONS: &[&str] = &[
    "get_config",
    "enable_features",
    "log",
    "log_enabled",
    "get_header_names",
    "get_header_values",
    "set_header_value",
    "add_header_value",
    "remove_header",
    "read_body",
    "write_body",
    "get_method",
    "set_method",
    "get_uri",
    "set_uri",
    "get_protocol_version",
    "get_source_addr",
    "get_status_code",
    "set_status_code",
];

const MODULE: &str = "http_handler";

/// `log_level`: -1 debug, 0 info, 1 warn, 2 error, 3 none.
fn log_enabled(level: i32) -> bool {
    match level {
        i32::MIN..=-1 => tracing::enabled!(target: "openhost::plugin", tracing::Level::DEBUG),
        0 => tracing::enabled!(target: "openhost::plugin", tracing::Level::INFO),
        1 => tracing::enabled!(target: "openhost::plugin", tracing::Level::WARN),
        2 => tracing::enabled!(target: "openhost::plugin", tracing::Level::ERROR),
        _ => false,
    }
}

/// Puts `count << 32 | len` together (`count_len`, `eof_len`).
fn pair(high: usize, low: usize) -> i64 {
    ((high as u64) << 32 | (low as u64 & 0xffff_ffff)) as i64
}

/// NUL-terminated values, as the multi-value functions write them.
fn nul_terminated<'a>(values: impl Iterator<Item = &'a str>) -> (usize, Vec<u8>) {
    let mut count = 0;
    let mut bytes = Vec::new();
    for value in values {
        count += 1;
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
    }
    (count, bytes)
}

/// Writes a NUL-terminated list of `count` values if it fits, and answers its `count_len`.
fn write_list(caller: &mut Caller<'_, Exchange>, buf: u32, limit: u32, count: usize, bytes: &[u8]) -> Result<i64> {
    let (memory, _) = split(caller)?;
    write_if_fits(memory, buf, limit, bytes)?;
    Ok(pair(count, bytes.len()))
}

/// The headers of `kind` to change `name` in, or a trap for trailers, which this host does not support. A
/// request header's name is noted as changed.
fn headers_mut<'a>(caller: &'a mut Caller<'_, Exchange>, kind: u32, name: &str) -> Result<&'a mut Headers> {
    let exchange = caller.data_mut();
    if kind == 0 && !exchange.request.changed.headers.iter().any(|changed| changed == name) {
        exchange.request.changed.headers.push(name.to_owned());
    }
    exchange
        .headers_mut(kind)
        .ok_or_else(|| Error::msg(format!("header kind {kind}: trailers are not supported")))
}

/// A header name and value from the guest, checked as HTTP allows (RFC 9110: a name is a token, a value has no
/// control characters but tab), read in place; the name in lower case.
fn header(caller: &mut Caller<'_, Exchange>, name: (u32, u32), value: Option<(u32, u32)>) -> Result<Header> {
    let (memory, _) = split(caller)?;
    let name = range(memory, name.0, name.1)?;
    if name.is_empty() || !name.iter().all(|byte| is_token_byte(*byte)) {
        let name = String::from_utf8_lossy(name);
        return Err(Error::msg(format!("`{name}` is not a header name")));
    }
    let mut name = RString::from(std::str::from_utf8(name).unwrap_or_default());
    // A token is ASCII: lower case in place when it is not already.
    if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
        name = name.to_ascii_lowercase().into();
    }
    let value = match value {
        Some((ptr, len)) => std::str::from_utf8(range(memory, ptr, len)?)
            .ok()
            .filter(|value| {
                value
                    .bytes()
                    .all(|byte| byte == b'\t' || (byte >= b' ' && byte != 0x7f))
            })
            .ok_or_else(|| Error::msg(format!("the value of `{name}` is not a header value")))?,
        None => "",
    };
    Ok(Header {
        name,
        value: value.into(),
    })
}

/// A `tchar` of RFC 9110, section 5.6.2.
fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Adds a `get_*(buf, buf_limit) -> len` function that answers `value` of the exchange, written from where it
/// is kept.
fn add_getter(linker: &mut Linker<Exchange>, name: &str, value: fn(&Exchange) -> &[u8]) -> Result<()> {
    linker.func_wrap(
        MODULE,
        name,
        move |mut caller: Caller<'_, Exchange>, buf: u32, limit: u32| {
            let (memory, exchange) = split(&mut caller)?;
            write_if_fits(memory, buf, limit, value(exchange))
        },
    )?;
    Ok(())
}

/// Adds every `http_handler` function to `linker`.
pub fn add_to(linker: &mut Linker<Exchange>) -> Result<()> {
    add_getter(linker, "get_config", |exchange| &exchange.config)?;
    add_getter(linker, "get_method", |exchange| exchange.request.method.as_bytes())?;
    add_getter(linker, "get_uri", |exchange| exchange.request.uri.as_bytes())?;
    add_getter(linker, "get_protocol_version", |exchange| {
        exchange.request.version.as_bytes()
    })?;
    add_getter(linker, "get_source_addr", |exchange| exchange.request.source.as_bytes())?;
    // As the reference host (http-wasm-host-go) answers: the features enabled now, the supported ones of those
    // asked for added. Buffering is what openhost does anyway, so enabling changes nothing else.
    linker.func_wrap(
        MODULE,
        "enable_features",
        |mut caller: Caller<'_, Exchange>, features: u32| {
            let exchange = caller.data_mut();
            exchange.features |= features & SUPPORTED_FEATURES;
            exchange.features
        },
    )?;
    linker.func_wrap(
        MODULE,
        "log",
        |mut caller: Caller<'_, Exchange>, level: i32, message: u32, len: u32| -> Result<()> {
            if !log_enabled(level) {
                return Ok(());
            }
            // A message that cannot be read is ignored, as the spec asks of a host.
            let Ok(bytes) = read(&mut caller, message, len) else {
                return Ok(());
            };
            let text = String::from_utf8_lossy(&bytes);
            let plugin = &*caller.data().plugin;
            match level {
                i32::MIN..=-1 => tracing::debug!(target: "openhost::plugin", plugin, "{text}"),
                0 => tracing::info!(target: "openhost::plugin", plugin, "{text}"),
                1 => tracing::warn!(target: "openhost::plugin", plugin, "{text}"),
                _ => tracing::error!(target: "openhost::plugin", plugin, "{text}"),
            }
            Ok(())
        },
    )?;
    linker.func_wrap(MODULE, "log_enabled", |_: Caller<'_, Exchange>, level: i32| {
        u32::from(log_enabled(level))
    })?;
    linker.func_wrap(
        MODULE,
        "get_header_names",
        |mut caller: Caller<'_, Exchange>, kind: u32, buf: u32, limit: u32| -> Result<i64> {
            let mut names: Vec<&str> = Vec::new();
            for header in caller.data().headers(kind) {
                if !names.contains(&header.name.as_str()) {
                    names.push(&header.name);
                }
            }
            let (count, bytes) = nul_terminated(names.into_iter());
            write_list(&mut caller, buf, limit, count, &bytes)
        },
    )?;
    linker.func_wrap(
        MODULE,
        "get_header_values",
        |mut caller: Caller<'_, Exchange>, kind: u32, name: u32, name_len: u32, buf: u32, limit: u32| -> Result<i64> {
            let (memory, exchange) = split(&mut caller)?;
            let name = range(memory, name, name_len)?;
            let values = exchange
                .headers(kind)
                .iter()
                .filter(|header| header.name.as_bytes().eq_ignore_ascii_case(name));
            let (count, bytes) = nul_terminated(values.map(|header| header.value.as_str()));
            write_if_fits(memory, buf, limit, &bytes)?;
            Ok(pair(count, bytes.len()))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "set_header_value",
        |mut caller: Caller<'_, Exchange>,
         kind: u32,
         name: u32,
         name_len: u32,
         value: u32,
         value_len: u32|
         -> Result<()> {
            let header = header(&mut caller, (name, name_len), Some((value, value_len)))?;
            let headers = headers_mut(&mut caller, kind, &header.name)?;
            match headers.iter().position(|h| h.name == header.name) {
                Some(first) => {
                    let mut index = 0;
                    headers.retain(|h| {
                        index += 1;
                        index - 1 == first || h.name != header.name
                    });
                    headers[first] = header;
                }
                None => headers.push(header),
            }
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "add_header_value",
        |mut caller: Caller<'_, Exchange>,
         kind: u32,
         name: u32,
         name_len: u32,
         value: u32,
         value_len: u32|
         -> Result<()> {
            let header = header(&mut caller, (name, name_len), Some((value, value_len)))?;
            headers_mut(&mut caller, kind, &header.name)?.push(header);
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "remove_header",
        |mut caller: Caller<'_, Exchange>, kind: u32, name: u32, name_len: u32| -> Result<()> {
            let Header { name, .. } = header(&mut caller, (name, name_len), None)?;
            headers_mut(&mut caller, kind, &name)?.retain(|h| h.name != name);
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "read_body",
        |mut caller: Caller<'_, Exchange>, kind: u32, buf: u32, buf_len: u32| -> Result<i64> {
            if buf_len == 0 {
                return Err(Error::msg("read_body with a zero buf_len"));
            }
            let (memory, exchange) = split(&mut caller)?;
            let body = exchange
                .body_mut(kind)
                .ok_or_else(|| Error::msg(format!("body kind {kind} does not exist")))?;
            let start = body.read.min(body.bytes.len());
            let end = start.saturating_add(buf_len as usize).min(body.bytes.len());
            let chunk = &body.bytes[start..end];
            if !chunk.is_empty() {
                write_into(memory, buf, chunk)?;
            }
            body.read = end;
            let eof = end == body.bytes.len();
            Ok(pair(usize::from(eof), end - start))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "write_body",
        |mut caller: Caller<'_, Exchange>, kind: u32, body: u32, len: u32| -> Result<()> {
            let (memory, exchange) = split(&mut caller)?;
            let bytes = range(memory, body, len)?;
            exchange
                .body_mut(kind)
                .ok_or_else(|| Error::msg(format!("body kind {kind} does not exist")))?
                .write(bytes);
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "set_method",
        |mut caller: Caller<'_, Exchange>, ptr: u32, len: u32| -> Result<()> {
            let method = read_text(&mut caller, ptr, len, "method")?;
            http::Method::from_bytes(method.as_bytes())
                .map_err(|_| Error::msg(format!("`{method}` is not an HTTP method")))?;
            let request = &mut caller.data_mut().request;
            request.method = method;
            request.changed.method = true;
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "set_uri",
        |mut caller: Caller<'_, Exchange>, ptr: u32, len: u32| -> Result<()> {
            let uri = read_text(&mut caller, ptr, len, "URI")?;
            let uri = if uri.is_empty() { "/".to_owned() } else { uri };
            if !uri.starts_with('/') || uri.parse::<http::uri::PathAndQuery>().is_err() {
                return Err(Error::msg(format!("`{uri}` is not a path and query")));
            }
            let request = &mut caller.data_mut().request;
            request.uri = uri;
            request.changed.uri = true;
            Ok(())
        },
    )?;
    linker.func_wrap(MODULE, "get_status_code", |caller: Caller<'_, Exchange>| {
        u32::from(caller.data().response.status)
    })?;
    linker.func_wrap(
        MODULE,
        "set_status_code",
        |mut caller: Caller<'_, Exchange>, status: u32| -> Result<()> {
            let status = u16::try_from(status)
                .ok()
                .filter(|status| (100..=999).contains(status))
                .ok_or_else(|| Error::msg(format!("{status} is not a status code")))?;
            caller.data_mut().response.status = status;
            Ok(())
        },
    )?;
    Ok(())
}
