//! Turning arbitrary request headers and query into the borrowed ABI view, and reading it back with the SDK's
//! helpers, never panics; every header in the view is valid text.
#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use openhost_plugin_api::{RequestView, types::RSlice};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == b'\n');
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let mut headers = HeaderMap::new();
    for line in parts {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            headers.append(name, value);
        }
    }
    let views = openhost::server::header_views(openhost::server::text_headers(&headers));
    let view = RequestView {
        method: "GET".into(),
        path: "/api/settings".into(),
        query: query.as_str().into(),
        headers: RSlice::from_slice(&views),
        peer_addr: "127.0.0.1:1".into(),
        identity: None.into(),
        flags: 0,
    };
    for header in views.iter() {
        assert!(header.value.as_str().chars().all(|c| !c.is_control() || c == '\t'));
    }
    let _ = view.header("cookie");
    let _ = view.cookie("openhost_session");
    let _ = view.cookies("openhost_session").count();
    let _ = view.query_param("page");
});
