//! One request context through the host (docs/architecture.md, "Requests"): a middleware changes the method, the
//! URI, the headers and (having asked for it) the body before routing, and routing sees the changed request;
//! plugin routes with `{name}` parameters and a `*` rest. The real host and the `rewriter` fixture library.

use openhost_tests::{Site, assert_error, client, get_json, send};
use serde_json::json;

fn rewriter_host() -> (Site, openhost_tests::Host) {
    let site = Site::new();
    site.add_plugin("fixture-rewriter");
    site.write_config("");
    let host = site.start();
    (site, host)
}

#[test]
fn a_middleware_rewrites_the_uri_and_routing_follows() {
    let (_site, host) = rewriter_host();
    let (status, headers, body) = get_json(&host.url("/old/widgets"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["path"], "/new/widgets");
    assert_eq!(body["query"], "from=old");
    assert_eq!(body["params"], json!([["name", "widgets"]]));
    // The chain's own headers still come with the answer.
    assert!(headers.contains_key("x-request-id"));
    // A path no rewrite touches is routed as it came.
    let (status, _, body) = get_json(&host.url("/new/direct"));
    assert_eq!((status, &body["query"]), (200, &json!("")));
}

#[test]
fn a_middleware_rewrites_the_method_and_headers() {
    let (_site, host) = rewriter_host();
    let request = client()
        .post(host.url("/items/42"))
        .header("x-method-override", "PUT")
        .header("x-drop-me", "secret-ish");
    let (status, _, body) = send(request);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["method"], "PUT");
    assert_eq!(body["params"], json!([["id", "42"]]));
    assert_eq!(body["x-drop-me"], json!(null));
    assert_eq!(body["x-added"], "by rewriter");
    // Without the override the POST finds no route: the path allows PUT only.
    let (status, headers, _) = send(client().post(host.url("/items/42")));
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "PUT");
}

#[test]
fn a_middleware_that_reads_the_body_replaces_it() {
    let (_site, host) = rewriter_host();
    let request = client()
        .post(host.url("/shout"))
        .header("content-type", "text/plain")
        .body("quiet please");
    let (status, _, body) = send(request);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["body"], "QUIET PLEASE");
    // The body limit holds for a body a middleware reads, as for a route's.
    let request = client().post(host.url("/shout")).body(vec![b'a'; 1024 * 1024 + 1]);
    assert_error(&send(request), 413, "payload_too_large");
}

#[test]
fn a_prefix_route_serves_everything_under_it() {
    let (_site, host) = rewriter_host();
    for (path, rest) in [
        ("/integrations/rewriter/a/b/c", "a/b/c"),
        ("/integrations/rewriter/", ""),
        ("/integrations/rewriter", ""),
    ] {
        let (status, _, body) = get_json(&host.url(path));
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["params"], json!([["*", rest]]), "{path}");
    }
    assert_error(&get_json(&host.url("/integrations/other/x")), 404, "not_found");
}

#[test]
fn an_invalid_rewrite_is_the_plugins_failure_not_the_hosts() {
    let (_site, host) = rewriter_host();
    assert_error(&get_json(&host.url("/bad-edit")), 500, "plugin_failed");
    host.wait_for_log(
        "made an invalid change to the request",
        std::time::Duration::from_secs(5),
    );
    // The host keeps serving.
    assert_eq!(get_json(&host.url("/healthz")).0, 200);
}
