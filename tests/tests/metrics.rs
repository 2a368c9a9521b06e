//! Prometheus metrics (docs/operating.md, "Metrics"): after known traffic, including a plugin that panics and one
//! that never answers, `/metrics` on `metrics_listen` counts every request by route, method and status and every
//! plugin call by plugin, slot and outcome, exactly; and the public listener does not serve it.

use std::{collections::BTreeMap, time::Duration};

use openhost_tests::{Site, client, free_port, get_json, post_json, send};
use serde_json::json;

/// One sample of the exposition text: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|pair| !pair.is_empty())
                .filter_map(|pair| {
                    let (key, value) = pair.split_once("=\"")?;
                    Some((key.to_owned(), value.trim_end_matches('"').to_owned()))
                })
                .collect();
            Some((name.to_owned(), labels, value.parse().ok()?))
        })
        .collect()
}

/// The value of the one sample named `name` whose labels include `labels`; 0 if there is none.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
        .collect();
    assert!(matching.len() <= 1, "{name} {labels:?} is ambiguous: {matching:?}");
    matching.first().map_or(0.0, |(_, _, v)| *v)
}

#[test]
fn metrics_count_requests_and_plugin_calls_exactly() {
    let site = Site::new();
    site.add_plugin("fixture-panicky");
    site.add_plugin("fixture-hostile");
    site.add_plugin("openhost-example-header-stamp");
    let metrics_port = free_port();
    site.write_config(&format!(
        "metrics_listen = \"127.0.0.1:{metrics_port}\"\nplugin_timeout_secs = 1\nrate_limit_per_sec = 0\n\
         [host.overrides]\nserver_config = \"host\"\nuser_auth = \"host\"\ngit_service = \"host\"\n\
         [plugins.header-stamp.config]\nblock_paths = [\"/blocked\"]\n"
    ));
    let host = site.start();
    let scrape = || {
        let response = client()
            .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .send()
            .expect("scrape");
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
        parse(&response.text().unwrap())
    };

    for _ in 0..3 {
        assert_eq!(get_json(&host.url("/fixture/sleep")).0, 200);
    }
    for _ in 0..2 {
        assert_eq!(get_json(&host.url("/fixture/panic")).0, 500);
        assert_eq!(get_json(&host.url("/hostile/hang")).0, 504);
    }
    assert_eq!(get_json(&host.url("/hostile/error")).0, 500);
    assert_eq!(get_json(&host.url("/panic")).0, 500);
    for _ in 0..2 {
        assert_eq!(post_json(&host.url("/api/settings"), &json!({"language": "en"})).0, 200);
    }
    assert_eq!(send(client().delete(host.url("/api/secrets/nope"))).0, 404);
    assert_eq!(send(client().delete(host.url("/api/options/config"))).0, 405);
    assert_eq!(get_json(&host.url("/metrics")).0, 404, "never on the public listener");
    for _ in 0..2 {
        assert_eq!(get_json(&host.url("/blocked")).0, 403);
    }

    let samples = scrape();
    let requests = |route: &str, method: &str, status: &str| {
        value(
            &samples,
            "openhost_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(requests("/fixture/sleep", "GET", "200"), 3.0);
    assert_eq!(requests("/fixture/panic", "GET", "500"), 2.0);
    assert_eq!(
        requests("unmatched", "GET", "504"),
        2.0,
        "the hanging middleware's requests"
    );
    assert_eq!(requests("/api/settings", "POST", "200"), 2.0);
    assert_eq!(
        requests("/api/secrets/{id}", "DELETE", "404"),
        1.0,
        "labelled with the declared path"
    );
    assert_eq!(requests("unmatched", "DELETE", "405"), 1.0);
    assert_eq!(
        value(
            &samples,
            "openhost_http_request_duration_seconds_count",
            &[("route", "/fixture/sleep")]
        ),
        3.0
    );

    let calls = |plugin: &str, slot: &str, outcome: &str| {
        value(
            &samples,
            "openhost_plugin_calls_total",
            &[("plugin", plugin), ("slot", slot), ("outcome", outcome)],
        )
    };
    assert_eq!(calls("panicky", "routes", "ok"), 3.0);
    assert_eq!(calls("panicky", "routes", "panic"), 2.0);
    assert_eq!(calls("panicky", "middleware", "panic"), 1.0);
    assert_eq!(calls("hostile", "middleware", "timeout"), 2.0);
    assert_eq!(calls("hostile", "middleware", "error"), 1.0);
    assert_eq!(calls("host", "git_service", "ok"), 0.0, "no git call was made");
    assert_eq!(
        value(
            &samples,
            "openhost_plugin_call_duration_seconds_count",
            &[("plugin", "panicky"), ("slot", "routes")]
        ),
        5.0
    );
    // The two timeouts waited a second each: they sit in the histogram's top buckets.
    assert_eq!(
        value(
            &samples,
            "openhost_plugin_call_duration_seconds_bucket",
            &[("plugin", "hostile"), ("slot", "middleware"), ("le", "0.5")]
        ) + 2.0,
        value(
            &samples,
            "openhost_plugin_call_duration_seconds_bucket",
            &[("plugin", "hostile"), ("slot", "middleware"), ("le", "2.5")]
        )
    );
    let current = format!("1.{}", openhost_plugin_api::INTERFACE_MINOR);
    for plugin in ["panicky", "hostile"] {
        let info = samples
            .iter()
            .find(|(name, labels, _)| name == "openhost_plugin_info" && labels["plugin"] == plugin)
            .unwrap_or_else(|| panic!("no openhost_plugin_info for {plugin}"));
        assert_eq!(
            (
                info.1.get("interface").map(String::as_str),
                info.1.get("generation").map(String::as_str),
                info.2
            ),
            (Some(current.as_str()), Some("1"), 1.0)
        );
    }
    assert!(
        value(
            &samples,
            "openhost_store_operation_duration_seconds_count",
            &[("op", "compare_and_swap")]
        ) >= 2.0,
        "the two settings writes"
    );

    // A plugin's own metric, through the host service (interface 1.4).
    assert_eq!(
        value(
            &samples,
            "openhost_plugin_header_stamp_blocked_total",
            &[("plugin", "header-stamp"), ("path", "/blocked")]
        ),
        2.0
    );
    assert_eq!(requests("unmatched", "GET", "403"), 2.0);

    let logs = host.wait_for_log("slow plugin call", Duration::from_secs(5));
    assert!(
        logs.lines().any(|line| line.contains("slow plugin call")
            && line.contains("plugin=\"hostile\"")
            && line.contains("slot=\"middleware\"")),
        "{logs}"
    );
    let other = client()
        .get(format!("http://127.0.0.1:{metrics_port}/other"))
        .send()
        .unwrap();
    assert_eq!(other.status(), 404);
}

/// Interface 1.6: the host calls only the hooks a middleware declares. header-stamp writes only `on_request` and
/// audit-log only `on_response` (both with `#[middleware]`); rewriter declares nothing, so both of its hooks run.
#[test]
fn a_middleware_is_called_only_for_the_hooks_it_declares() {
    let site = Site::new();
    for plugin in [
        "openhost-example-header-stamp",
        "openhost-example-audit-log",
        "fixture-rewriter",
    ] {
        site.add_plugin(plugin);
    }
    let metrics_port = free_port();
    site.write_config(&format!(
        "metrics_listen = \"127.0.0.1:{metrics_port}\"\nrate_limit_per_sec = 0\n"
    ));
    let host = site.start();
    const REQUESTS: usize = 48;
    for _ in 0..REQUESTS {
        let (status, headers, _) = get_json(&host.url("/healthz"));
        assert_eq!(status, 200);
        assert!(
            headers.contains_key("x-openhost-stamp"),
            "header-stamp's on_request ran"
        );
    }
    let text = client()
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .and_then(|response| response.text())
        .expect("scrape");
    let samples = parse(&text);
    let calls = |plugin: &str| {
        value(
            &samples,
            "openhost_plugin_calls_total",
            &[("plugin", plugin), ("slot", "middleware"), ("outcome", "ok")],
        )
    };
    let requests = REQUESTS as f64;
    assert_eq!(calls("header-stamp"), requests, "one call a request: on_request only");
    assert_eq!(calls("audit-log"), requests, "one call a request: on_response only");
    assert_eq!(calls("rewriter"), 2.0 * requests, "nothing declared: both hooks");
}

#[test]
fn without_metrics_listen_nothing_listens_for_metrics() {
    let site = Site::new();
    site.write_config("");
    let host = site.start();
    assert_eq!(get_json(&host.url("/metrics")).0, 404);
    assert!(!host.logs().contains("metrics at"));
}

/// The metrics listener has caps of its own and answers only loopback `Host` names on loopback (DNS rebinding).
#[test]
fn the_metrics_listener_caps_connections_and_checks_host_names() {
    use std::io::Read;
    let site = Site::new();
    let metrics_port = free_port();
    site.write_config(&format!("metrics_listen = \"127.0.0.1:{metrics_port}\"\n"));
    let _host = site.start();

    // Eight connections from one address are the cap; a ninth is closed at once.
    let connect = || std::net::TcpStream::connect(("127.0.0.1", metrics_port)).unwrap();
    let held: Vec<_> = (0..8).map(|_| connect()).collect();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let mut ninth = connect();
    ninth.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let mut buffer = [0u8; 16];
    let read = ninth.read(&mut buffer);
    assert!(
        matches!(&read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the ninth connection stayed open: {read:?}"
    );
    drop(held);

    // Checked after the cap, on connections of their own: a keep-alive connection of these requests that the
    // server had not yet seen close would hold a slot during the count above.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let metrics = format!("http://127.0.0.1:{metrics_port}/metrics");
    let rebound = send(client().get(&metrics).header("host", "evil.example"));
    assert_eq!(
        (rebound.0, rebound.2["code"].as_str()),
        (421, Some("unknown_host")),
        "{}",
        rebound.2
    );
    assert_eq!(send(client().get(&metrics).header("host", "localhost:9464")).0, 200);
}
