//! Sandboxed plugins (docs/architecture.md, "Sandboxed plugins"): http-wasm guests run by the real host on
//! loopback. The guests are this project's own, in the WebAssembly text format (tests/fixtures/wasm), compiled
//! to binary modules by the `wat` crate; the `rewriter` fixture library's routes show what the guest's changes
//! did to the request. The http-wasm ABI mirrored is http-wasm/http-wasm at commit 0211df6 ("add
//! get_source_addr to ABI").

use std::{thread, time::Duration};

use openhost_tests::{Site, assert_error, client, get_json, send, wasm_example, workspace_root};
use serde_json::json;

/// A guest of tests/fixtures/wasm, as a binary module.
fn guest(name: &str) -> Vec<u8> {
    let path = workspace_root().join("tests/fixtures/wasm").join(format!("{name}.wat"));
    wat::parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A module from WebAssembly text.
fn module(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("valid WebAssembly text")
}

/// The `stamp` guest (order 400, before the rewriter fixture's middleware) with the rewriter's echo routes.
fn stamped_site(extra: &str) -> Site {
    let site = Site::new();
    site.add_plugin("fixture-rewriter");
    site.add_file("stamp.wasm", &guest("stamp"));
    // No rate limit: a test sends bursts from one address.
    site.write_config(&format!(
        "rate_limit_per_sec = 0\n[plugins.stamp]\norder = 400\n{extra}\n[plugins.stamp.config]\ngreeting = \"hi\"\n"
    ));
    site
}

#[test]
fn a_guest_rewrites_the_request_before_routing_and_the_response_after() {
    let site = stamped_site("");
    let host = site.start();

    let (status, headers, body) = get_json(&host.url("/moved"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["path"], &body["query"]),
        (&json!("/new/moved"), &json!("by=wasm"))
    );
    assert_eq!(body["params"], json!([["name", "moved"]]), "routed by the new URI");
    assert_eq!(body["x-added"], "by wasm", "a request header the guest added");
    assert_eq!(headers["x-wasm"], "stamped", "a response header set before next");
    assert_eq!(
        headers["x-wasm-response"], "seen",
        "handle_response ran with the guest's context"
    );
    assert_eq!(
        headers["x-config"], r#"{"greeting":"hi"}"#,
        "get_config: the table as JSON text"
    );
    assert!(headers.contains_key("x-request-id"), "the built-ins still run");

    // The body, rewritten by the guest, then upper-cased by the native middleware after it.
    let request = client()
        .post(host.url("/shout"))
        .header("content-type", "text/plain")
        .body("quiet please");
    let (status, _, body) = send(request);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["body"], "FROM WASM");

    // handle_response rewrites status and body.
    let answer = client().get(host.url("/new/rewrite-response")).send().expect("answer");
    assert_eq!(answer.status().as_u16(), 203);
    assert_eq!(answer.text().expect("body"), "replaced");

    // A response body written before next comes ahead of the route's (as in the reference host, which writes it
    // to the client at once; the http-wasm TCK's get_protocol_version case reads it so).
    let answer = client().get(host.url("/new/prefixed")).send().expect("answer");
    let text = answer.text().expect("body");
    assert!(text.starts_with("guest wrote: {"), "{text}");
    assert!(text.contains(r#""path":"/new/prefixed""#), "{text}");

    let logs = host.wait_for_log("hello from stdout", Duration::from_secs(5));
    assert!(logs.contains("stamped a request"), "the guest's log line:\n{logs}");
    assert!(
        logs.lines()
            .any(|line| line.contains("hello from stdout") && line.contains("stamp")),
        "stdout is logged, tagged with the plugin:\n{logs}"
    );
}

#[test]
fn a_rust_guest_written_with_the_guest_crate_stamps_responses() {
    let Some(module) = wasm_example("wasm-header-stamp", "a Rust guest") else {
        return;
    };
    let site = Site::new();
    site.add_library(&module);
    site.write_config("");
    let host = site.start();
    let (status, headers, _) = get_json(&host.url("/api/options/models"));
    assert_eq!(status, 200);
    assert_eq!(headers["x-openhost-stamp"], "wasm-header-stamp");
}

#[test]
fn a_guest_answers_without_calling_next() {
    let site = stamped_site("");
    let host = site.start();
    let answer = client().get(host.url("/answer")).send().expect("answer");
    assert_eq!(answer.status().as_u16(), 418);
    let headers = answer.headers().clone();
    assert_eq!(headers["content-type"], "text/plain");
    assert!(
        !headers.contains_key("x-wasm-response"),
        "no handle_response after next = 0"
    );
    assert!(
        headers.contains_key("x-request-id"),
        "earlier links' headers still come"
    );
    assert_eq!(answer.text().expect("body"), "short and stout");
}

#[test]
fn traps_timeouts_and_memory_bombs_cost_one_request_each() {
    let site = stamped_site("call_timeout_ms = 200\nmemory_limit_mib = 4");
    let host = site.start();

    assert_error(&get_json(&host.url("/trap")), 500, "plugin_failed");
    assert_error(&get_json(&host.url("/grow")), 500, "plugin_failed");
    // A header HTTP does not allow is a trap too: the request could not go on with it.
    assert_error(&get_json(&host.url("/bad-name")), 500, "plugin_failed");
    assert_error(&get_json(&host.url("/bad-value")), 500, "plugin_failed");

    // While one guest call spins until its deadline, other requests are served.
    let spin_url = host.url("/spin");
    let spinning = thread::spawn(move || get_json(&spin_url));
    for _ in 0..20 {
        let (status, _, body) = get_json(&host.url("/new/meanwhile"));
        assert_eq!(status, 200, "{body}");
    }
    assert_error(&spinning.join().expect("spinning request"), 504, "plugin_timeout");

    // The instances that failed were thrown away; fresh ones serve.
    let (status, headers, _) = get_json(&host.url("/new/after"));
    assert_eq!((status, &headers["x-wasm"]), (200, &"stamped".parse().unwrap()));
    let logs = host.logs();
    assert!(logs.contains("unreachable"), "the trap is logged:\n{logs}");
    assert!(logs.contains("`bad name` is not a header name"), "{logs}");
    assert!(logs.contains("the value of `x-wasm` is not a header value"), "{logs}");
}

#[test]
fn the_plugin_list_shows_a_sandboxed_plugin_with_its_limits() {
    let site = stamped_site("pool_size = 2");
    let host = site.start();
    let (status, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(status, 200);
    let stamp = plugins["plugins"]
        .as_array()
        .and_then(|plugins| plugins.iter().find(|p| p["name"] == "stamp"))
        .cloned()
        .expect("stamp is listed");
    assert_eq!(stamp["kind"], "wasm");
    assert_eq!(stamp["interface"], "http-wasm");
    assert_eq!(stamp["loaded"], true);
    assert_eq!(
        stamp["sha256"],
        openhost_tests::sha256(&site.plugin_dir().join("stamp.wasm"))
    );
    assert_eq!(
        stamp["limits"],
        json!({"memory_limit_mib": 16, "call_timeout_ms": 100, "pool_size": 2})
    );
    let chain = plugins["slots"]["middleware"].as_array().cloned().unwrap_or_default();
    assert!(chain.iter().any(|link| link["name"] == "stamp" && link["order"] == 400));

    let (status, stdout, stderr) = site.cli(&["plugins", "list"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("stamp"), "{stdout}");
}

/// Starts a host with `bytes` as `bad.wasm` and returns its one error line.
fn refusal(bytes: &[u8], table: &str) -> String {
    let site = Site::new();
    site.add_file("bad.wasm", bytes);
    site.write_config(&format!("[plugins.bad]\n{table}\n"));
    site.expect_startup_failure(&[]).error_line()
}

#[test]
fn modules_that_cannot_run_are_refused_in_one_line() {
    let minimal =
        |imports: &str, exports: &str| module(&format!(r#"(module {imports} (memory (export "memory") 1) {exports})"#));
    let handle = r#"(func (export "handle_request") (result i64) (i64.const 1))"#;

    let line = refusal(&minimal(r#"(import "env" "abort" (func))"#, handle), "");
    assert!(line.contains("bad.wasm") && line.contains("`env.abort`"), "{line}");
    let line = refusal(
        &minimal(r#"(import "wasi_snapshot_preview1" "path_open" (func))"#, handle),
        "",
    );
    assert!(line.contains("`wasi_snapshot_preview1.path_open`"), "no files: {line}");
    let line = refusal(&minimal("", ""), "");
    assert!(line.contains("exports no `handle_request`"), "{line}");
    let line = refusal(&module(&format!("(module {handle})")), "");
    assert!(line.contains("exports no `memory`"), "{line}");
    let line = refusal(
        &minimal("", r#"(func (export "handle_request") (result i32) (i32.const 1))"#),
        "",
    );
    assert!(line.contains("wrong signature"), "{line}");
    let line = refusal(
        &minimal("", &format!(r#"{handle} (func (export "_start") unreachable)"#)),
        "",
    );
    assert!(
        line.contains("failed to start") && line.contains("unreachable"),
        "{line}"
    );
    let line = refusal(
        &module(&format!(r#"(module (memory (export "memory") 128) {handle})"#)),
        "memory_limit_mib = 4",
    );
    assert!(
        line.contains("failed to start"),
        "8 MiB of memory under a 4 MiB limit: {line}"
    );
    let line = refusal(b"\0asm but not really", "");
    assert!(line.contains("not a valid WebAssembly module"), "{line}");
    let line = refusal(&minimal("", handle), &format!("sha256 = \"{}\"", "0".repeat(64)));
    assert!(
        line.contains("sha256"),
        "the pin is checked on the module's bytes: {line}"
    );
    let line = refusal(&minimal("", handle), "call_timeout_ms = 0");
    assert!(line.contains("call_timeout_ms"), "{line}");
}

#[test]
fn a_string_config_reaches_the_guest_as_its_bytes() {
    let site = Site::new();
    site.add_file("stamp.wasm", &guest("stamp"));
    site.write_config("[plugins.stamp]\nconfig = \"key=${STAMP_VALUE}\"\n");
    let host = site.start_with_env(&[("STAMP_VALUE", "value")]);
    let (status, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!((status, &headers["x-config"]), (200, &"key=value".parse().unwrap()));
}

#[test]
fn a_sandbox_key_on_a_native_plugin_is_refused() {
    for (table, key) in [
        ("memory_limit_mib = 8", "plugins.rewriter.memory_limit_mib"),
        ("config = \"bytes\"", "plugins.rewriter.config (as a string)"),
    ] {
        let site = Site::new();
        site.add_plugin("fixture-rewriter");
        site.write_config(&format!("[plugins.rewriter]\n{table}\n"));
        let line = site.expect_startup_failure(&[]).error_line();
        assert!(line.contains(key) && line.contains("sandboxed"), "{line}");
    }
}

/// Asks the running host to reload through its admin socket (what `openhost plugins reload` does, without a
/// process per reload); returns its answer line.
fn reload_through_the_socket(site: &Site) -> String {
    use std::io::{BufRead, BufReader, Write};
    let mut socket =
        std::os::unix::net::UnixStream::connect(site.data_dir().join("admin.sock")).expect("the admin socket");
    socket.write_all(b"reload\n").expect("send reload");
    let mut answer = String::new();
    BufReader::new(socket).read_line(&mut answer).expect("the answer");
    answer
}

#[test]
fn a_thousand_reloads_under_load_free_every_module() {
    let site = Site::new();
    site.add_file("stamp.wasm", &guest("stamp"));
    site.write_config("rate_limit_per_sec = 0\n[plugins.stamp]\npool_size = 2\n");
    let host = site.start();
    let url = host.url("/healthz");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (stop, url) = (std::sync::Arc::clone(&stop), url.clone());
        thread::spawn(move || {
            let mut answers = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, headers, _) = get_json(&url);
                assert_eq!((status, &headers["x-wasm"]), (200, &"stamped".parse().unwrap()));
                answers += 1;
            }
            answers
        })
    };
    for _ in 0..100 {
        assert!(reload_through_the_socket(&site).starts_with("ok"));
    }
    let after_100 = openhost_tests::rss_kib(host.pid());
    // The pool holds at most 1,000 instances: were a retired generation's module kept, its instances would run
    // it dry long before the thousandth reload.
    for _ in 100..1000 {
        let answer = reload_through_the_socket(&site);
        assert!(answer.starts_with("ok"), "{answer}");
    }
    let after_1000 = openhost_tests::rss_kib(host.pid());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answers = load.join().expect("the load");
    eprintln!(
        "RSS after 100 reloads {after_100} KiB, after 1,000 {after_1000} KiB; {answers} requests served meanwhile"
    );
    assert!(answers > 0);
    assert!(
        after_1000 < after_100 + after_100 / 5,
        "resident memory grew from {after_100} KiB to {after_1000} KiB over 900 reloads"
    );
}

#[test]
fn compiled_code_is_kept_and_a_tampered_entry_is_compiled_again() {
    let site = Site::new();
    site.add_file("stamp.wasm", &guest("stamp"));
    site.write_config("[plugins.stamp]\n");
    let loaded = |host: &openhost_tests::Host, code: &str| {
        host.wait_for_log("sandboxed plugin loaded", Duration::from_secs(5))
            .lines()
            .any(|line| line.contains("sandboxed plugin loaded") && line.contains(&format!("code=\"{code}\"")))
    };
    let host = site.start();
    assert!(loaded(&host, "compiled"), "{}", host.logs());
    drop(host);

    let cache = site.data_dir().join("wasm-cache");
    let entries: Vec<_> = std::fs::read_dir(&cache)
        .expect("the cache")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let host = site.start();
    assert!(loaded(&host, "cache"), "{}", host.logs());
    let (status, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!((status, &headers["x-wasm"]), (200, &"stamped".parse().unwrap()));
    drop(host);

    // One byte changed in the code: the tag no longer checks out, and the module is compiled again.
    let mut entry = std::fs::read(&entries[0]).expect("the entry");
    let last = entry.len() - 1;
    entry[last] ^= 0xff;
    std::fs::write(&entries[0], &entry).expect("tamper");
    let host = site.start();
    assert!(loaded(&host, "compiled"), "{}", host.logs());
    assert!(host.logs().contains("tag does not check out"), "{}", host.logs());
    let (status, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!((status, &headers["x-wasm"]), (200, &"stamped".parse().unwrap()));
}

#[test]
fn a_disabled_sandboxed_plugin_stops_nothing() {
    let site = Site::new();
    site.add_file("stamp.wasm", &guest("stamp"));
    site.write_config("[plugins.stamp]\nenabled = false\ncall_timeout_ms = 0\n");
    let host = site.start();
    let (status, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!(status, 200);
    assert!(!headers.contains_key("x-wasm"), "a disabled guest does not run");
}
