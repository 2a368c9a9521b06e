//! The http-wasm conformance kit (TCK) against the real host: the kit's guest in front of the `tck-backend`
//! fixture (the kit's `BackendHandler`), and the cases of the kit's runner replayed here. Mirrors `tck/run.go` of
//! http-wasm/http-wasm-host-go at commit d9e0749 ("fix: moves the finalizer to guest creation").
//!
//! The guest (`tck/tck.wasm` of that repository) is a third-party binary and not in this repository: set
//! `OPENHOST_HTTP_WASM_TCK` to its path to run the kit. Without it the test says it was skipped.

use openhost_tests::{Site, client};
use reqwest::{Method, header::HeaderMap};

/// An answer, read whole.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    /// A header's value, or "".
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// The kit's `checkResponse`: the guest handled the request and reported no failed assertion.
    fn handled(&self) -> Result<(), String> {
        if self.header("x-httpwasm-tck-handled") != "1" {
            return Err(format!("x-httpwasm-tck-handled is missing (status {})", self.status));
        }
        if self.status == 500 {
            return Err(format!("assertion failed: {}", self.header("x-httpwasm-tck-failed")));
        }
        Ok(())
    }

    fn expect(&self, name: &str, want: &str) -> Result<(), String> {
        match self.header(name) {
            have if have == want => Ok(()),
            have => Err(format!("{name}: want {want:?}, have {have:?}")),
        }
    }
}

/// The kit run against one host: each case's id and what it found wrong.
struct Kit {
    base: String,
    results: Vec<(String, Result<(), String>)>,
}

impl Kit {
    /// Sends one case (`x-httpwasm-tck-testid: id`), checks the kit's common expectations, then `then`'s.
    fn case(
        &mut self,
        id: &str,
        (method, path): (Method, &str),
        headers: &[(&str, &str)],
        body: Option<String>,
        then: impl FnOnce(&Answer) -> Result<(), String>,
    ) {
        let mut request = client()
            .request(method, format!("{}{path}", self.base))
            .header("x-httpwasm-tck-testid", id);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let outcome = request
            .send()
            .map_err(|e| format!("no answer: {e}"))
            .map(|response| Answer {
                status: response.status().as_u16(),
                headers: response.headers().clone(),
                body: response.text().unwrap_or_default(),
            })
            .and_then(|answer| answer.handled().and_then(|()| then(&answer)));
        self.results.push((id.to_owned(), outcome));
    }

    /// A GET of `/` with these headers.
    fn get(&mut self, id: &str, headers: &[(&str, &str)], then: impl FnOnce(&Answer) -> Result<(), String>) {
        self.case(id, (Method::GET, "/"), headers, None, then);
    }
}

fn nothing_more(_: &Answer) -> Result<(), String> {
    Ok(())
}

#[test]
fn the_http_wasm_conformance_kit_passes() {
    let Some(guest) = std::env::var_os("OPENHOST_HTTP_WASM_TCK") else {
        eprintln!("skipped: OPENHOST_HTTP_WASM_TCK is not set (the path of http-wasm-host-go's tck/tck.wasm)");
        return;
    };
    let site = Site::new();
    site.add_plugin("fixture-tck-backend");
    site.add_file("tck.wasm", &std::fs::read(&guest).expect("the kit's guest"));
    site.write_config("rate_limit_per_sec = 0\n");
    let host = site.start();
    let mut kit = Kit {
        base: host.url(""),
        results: Vec::new(),
    };

    kit.case(
        "get_protocol_version",
        (Method::GET, "/get_protocol_version"),
        &[],
        None,
        |answer| match answer.body.as_str() {
            "HTTP/1.1" => Ok(()),
            other => Err(format!("the body is {other:?}, not the protocol HTTP/1.1")),
        },
    );
    for method in ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"] {
        let id = format!("get_method/{method}");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        kit.case(&id, (method, "/"), &[], None, nothing_more);
    }
    kit.get("set_method", &[], |answer| {
        answer.expect("x-httpwasm-next-method", "POST")
    });
    let uris = [
        ("simple", "/simple"),
        ("simple/escaping", "/simple%26clean"),
        ("query", "/animal?name=panda"),
        ("query/escaping", "/disney?name=chip%26dale"),
    ];
    for (name, uri) in uris {
        kit.case(&format!("get_uri/{name}"), (Method::GET, uri), &[], None, nothing_more);
    }
    for (name, uri) in uris {
        kit.get(&format!("set_uri/{name}"), &[], |answer| {
            answer.expect("x-httpwasm-next-uri", uri)
        });
    }
    let header_values: [(&str, &[(&str, &str)]); 4] = [
        ("lowercase-key", &[("single-header", "value")]),
        ("mixedcase-key", &[("Single-Header", "value")]),
        ("not-exists", &[]),
        (
            "multiple-values",
            &[("multi-header", "value1"), ("multi-header", "value2")],
        ),
    ];
    for (name, headers) in header_values {
        kit.get(&format!("get_header_values/request/{name}"), headers, nothing_more);
    }
    kit.get(
        "get_header_names/request",
        &[("a-header", "value1"), ("b-header", "2")],
        nothing_more,
    );
    let existing = [("existing-header", "bear")];
    for (name, header) in [("new", "new-header"), ("existing", "existing-header")] {
        kit.get(&format!("set_header_value/request/{name}"), &existing, |answer| {
            answer.expect(&format!("x-httpwasm-next-header-{header}-0"), "value")
        });
    }
    let added: [(&str, &str, &[&str]); 2] = [
        ("new", "new-header", &["value"]),
        ("existing", "existing-header", &["bear", "value"]),
    ];
    for (name, header, values) in added {
        kit.get(&format!("add_header_value/request/{name}"), &existing, |answer| {
            values.iter().enumerate().try_for_each(|(index, value)| {
                answer.expect(&format!("x-httpwasm-next-header-{header}-{index}"), value)
            })
        });
    }
    for (name, left) in [("new", "bear"), ("existing", "")] {
        kit.get(&format!("remove_header/request/{name}"), &existing, |answer| {
            answer.expect("x-httpwasm-next-header-existing-header-0", left)
        });
    }
    for (name, size) in [
        ("empty", 0),
        ("small", 5),
        ("medium", 2048),
        ("large", 4096),
        ("xlarge", 5000),
    ] {
        let body = Some("a".repeat(size));
        kit.case(
            &format!("read_body/request/{name}"),
            (Method::POST, "/"),
            &[],
            body,
            nothing_more,
        );
    }
    kit.get("get_source_addr", &[], nothing_more);

    let failed: Vec<String> = kit
        .results
        .iter()
        .filter_map(|(id, outcome)| outcome.as_ref().err().map(|problem| format!("{id}: {problem}")))
        .collect();
    eprintln!(
        "{} of {} cases of the kit pass",
        kit.results.len() - failed.len(),
        kit.results.len()
    );
    assert!(failed.is_empty(), "cases that fail:\n{}", failed.join("\n"));
    assert_eq!(kit.results.len(), 35, "every case of run.go at d9e0749");
}
