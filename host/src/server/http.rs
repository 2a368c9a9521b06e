//! Between hyper's types and the interface's: the borrowed headers plugins see, response header changes, and the
//! conversion of a finished response.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header::HeaderName};
use http_body_util::Full;
use openhost_plugin_api::{HeaderView, Response};

/// The borrowed header array middleware sees: every header of [`text_headers`], no copies.
pub fn header_views<'h>(headers: impl Iterator<Item = (&'h str, &'h str)>) -> Vec<HeaderView<'h>> {
    headers
        .map(|(name, value)| HeaderView {
            name: name.into(),
            value: value.into(),
        })
        .collect()
}

/// The headers plugins see, borrowed: every header whose value is visible ASCII (others are left out, as
/// `RequestView` promises), lower-case names.
pub fn text_headers(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
}

/// Writes `value` into `buffer` and returns the text (empty if it does not fit).
pub fn format_into(buffer: &mut [u8], value: impl std::fmt::Display) -> &str {
    use std::io::Write as _;
    let mut cursor = std::io::Cursor::new(&mut buffer[..]);
    if write!(cursor, "{value}").is_err() {
        return "";
    }
    let written = usize::try_from(cursor.position()).unwrap_or(0);
    std::str::from_utf8(&buffer[..written]).unwrap_or("")
}

/// Converts a response into hyper's. A header a plugin made that HTTP cannot carry is dropped with a warning.
pub fn to_http(response: Response) -> http::Response<Full<Bytes>> {
    let mut out = http::Response::new(Full::new(Bytes::from(response.body.into_vec())));
    *out.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for header in response.headers {
        match (
            HeaderName::from_bytes(header.name.as_bytes()),
            HeaderValue::from_str(header.value.as_str()),
        ) {
            (Ok(name), Ok(value)) => {
                out.headers_mut().append(name, value);
            }
            _ => tracing::warn!(header = %header.name, "dropping a response header that is not valid HTTP"),
        }
    }
    out
}
