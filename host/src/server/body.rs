//! Request bodies: read only after the chain has let the request through, at most [`MAX_BODY_BYTES`] (413
//! beyond, also for chunked bodies that declare no length), and drained before a 413 so that a client still
//! sending reads the answer instead of a reset connection.

use bytes::Buf;
use http_body::Body;
use http_body_util::BodyExt;
use openhost_plugin_api::Response;

/// Request bodies larger than this are answered with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much of an oversized body is read and dropped before the 413. Larger bodies get the 413 at once.
pub const MAX_DRAINED_BYTES: u64 = 16 * 1024 * 1024;

/// The 413 answer.
pub fn body_too_large() -> Response {
    Response::error(
        413,
        "payload_too_large",
        &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
    )
}

/// The 408 answer to a body that did not arrive within `deadline`; the connection is closed after it, since the
/// rest of the body may still be on its way.
pub fn body_too_slow(deadline: std::time::Duration) -> Response {
    Response::error(
        408,
        "request_timeout",
        &format!("the request body did not arrive within {} s", deadline.as_secs()),
    )
    .with_header("connection", "close")
}

/// Reads and drops what is left of a refused body, up to [`MAX_DRAINED_BYTES`].
pub async fn drain<B: Body + Unpin>(body: &mut B) {
    let mut drained = 0u64;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            drained += data.remaining() as u64;
        }
        if drained > MAX_DRAINED_BYTES {
            break;
        }
    }
}

/// Reads a body, refusing it as soon as it grows past `limit`.
pub async fn read_body<B: Body + Unpin>(body: &mut B, limit: usize) -> Result<Vec<u8>, Response> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Response::error(400, "bad_request", "the request body could not be read"))?;
        let Ok(mut data) = frame.into_data() else {
            continue; // trailers
        };
        if bytes.len() + data.remaining() > limit {
            drain(body).await;
            return Err(body_too_large());
        }
        while data.has_remaining() {
            let part = data.chunk();
            bytes.extend_from_slice(part);
            let read = part.len();
            data.advance(read);
        }
    }
    Ok(bytes)
}
