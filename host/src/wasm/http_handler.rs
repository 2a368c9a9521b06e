//! The host side of the http-wasm handler ABI (http-wasm.io, "HTTP Handler ABI"): every function of the
//! `http_handler` import module, over the [`Exchange`] of the call. Whatever the spec says a host traps on (a
//! failed read or write, a trailer set) traps here; an invalid header, method or URI does too, since the request
//! could not go on with it.

use wasmtime::{Caller, Error, Linker, Result};

use super::{
    exchange::{Exchange, SUPPORTED_FEATURES},
    memory::{read, read_text, write, write_if_fits},
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
    write_if_fits(caller, buf, limit, bytes)?;
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

/// A header name and value from the guest, checked as HTTP allows; the name in lower case.
fn header(caller: &mut Caller<'_, Exchange>, name: (u32, u32), value: Option<(u32, u32)>) -> Result<(String, String)> {
    let name = read_text(caller, name.0, name.1, "header name")?.to_ascii_lowercase();
    http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::msg(format!("`{name}` is not a header name")))?;
    let value = match value {
        Some((ptr, len)) => read_text(caller, ptr, len, "header value")?,
        None => String::new(),
    };
    http::HeaderValue::from_str(&value)
        .map_err(|_| Error::msg(format!("the value of `{name}` is not a header value")))?;
    Ok((name, value))
}

/// Adds a `get_*(buf, buf_limit) -> len` function that answers `value` of the exchange.
fn add_getter(linker: &mut Linker<Exchange>, name: &str, value: fn(&Exchange) -> Vec<u8>) -> Result<()> {
    linker.func_wrap(
        MODULE,
        name,
        move |mut caller: Caller<'_, Exchange>, buf: u32, limit: u32| {
            let value = value(caller.data());
            write_if_fits(&mut caller, buf, limit, &value)
        },
    )?;
    Ok(())
}

/// Adds every `http_handler` function to `linker`.
pub fn add_to(linker: &mut Linker<Exchange>) -> Result<()> {
    add_getter(linker, "get_config", |exchange| exchange.config.to_vec())?;
    add_getter(linker, "get_method", |exchange| {
        exchange.request.method.clone().into_bytes()
    })?;
    add_getter(linker, "get_uri", |exchange| exchange.request.uri.clone().into_bytes())?;
    add_getter(linker, "get_protocol_version", |exchange| {
        exchange.request.version.as_bytes().to_vec()
    })?;
    add_getter(linker, "get_source_addr", |exchange| {
        exchange.request.source.clone().into_bytes()
    })?;
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
            for (name, _) in caller.data().headers(kind) {
                if !names.contains(&name.as_str()) {
                    names.push(name);
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
            let name = read_text(&mut caller, name, name_len, "header name")?.to_ascii_lowercase();
            let values = caller.data().headers(kind).iter().filter(|(n, _)| *n == name);
            let (count, bytes) = nul_terminated(values.map(|(_, value)| value.as_str()));
            write_list(&mut caller, buf, limit, count, &bytes)
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
            let (name, value) = header(&mut caller, (name, name_len), Some((value, value_len)))?;
            let headers = headers_mut(&mut caller, kind, &name)?;
            match headers.iter().position(|(n, _)| *n == name) {
                Some(first) => {
                    headers[first].1 = value;
                    let mut index = 0;
                    headers.retain(|(n, _)| {
                        index += 1;
                        index - 1 == first || *n != name
                    });
                }
                None => headers.push((name, value)),
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
            headers_mut(&mut caller, kind, &header.0)?.push(header);
            Ok(())
        },
    )?;
    linker.func_wrap(
        MODULE,
        "remove_header",
        |mut caller: Caller<'_, Exchange>, kind: u32, name: u32, name_len: u32| -> Result<()> {
            let (name, _) = header(&mut caller, (name, name_len), None)?;
            headers_mut(&mut caller, kind, &name)?.retain(|(n, _)| *n != name);
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
            let body = caller
                .data_mut()
                .body_mut(kind)
                .ok_or_else(|| Error::msg(format!("body kind {kind} does not exist")))?;
            let start = body.read.min(body.bytes.len());
            let end = start.saturating_add(buf_len as usize).min(body.bytes.len());
            let chunk = body.bytes[start..end].to_vec();
            body.read = end;
            let eof = end == body.bytes.len();
            if !chunk.is_empty() {
                write(&mut caller, buf, &chunk)?;
            }
            Ok(pair(usize::from(eof), chunk.len()))
        },
    )?;
    linker.func_wrap(
        MODULE,
        "write_body",
        |mut caller: Caller<'_, Exchange>, kind: u32, body: u32, len: u32| -> Result<()> {
            let bytes = read(&mut caller, body, len)?;
            caller
                .data_mut()
                .body_mut(kind)
                .ok_or_else(|| Error::msg(format!("body kind {kind} does not exist")))?
                .write(&bytes);
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
