//! Hostile plugins and hostile input: the host stays up, answers every other request, and never answers 500 for
//! bad input.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use openhost_tests::{Answer, Site, assert_error, client, get_json, send};
use serde_json::json;

#[test]
fn a_hostile_plugin_costs_only_its_own_requests() {
    let site = Site::new();
    site.add_plugin("fixture-hostile");
    site.write_config("rate_limit_per_sec = 0\nplugin_timeout_secs = 1\n");
    let host = site.start();

    // A future that never completes, and a synchronous call that never returns.
    for hanging in ["/hostile/hang", "/api/options/config"] {
        let hung = std::thread::scope(|scope| {
            let hang = scope.spawn(|| {
                let started = Instant::now();
                (get_json(&host.url(hanging)), started.elapsed())
            });
            std::thread::sleep(Duration::from_millis(100));
            let (status, _, _) = get_json(&host.url("/healthz"));
            assert_eq!(status, 200, "served while {hanging} hangs in the plugin");
            hang.join().unwrap()
        });
        assert_error(&hung.0, 504, "plugin_timeout");
        assert!(
            hung.1 < Duration::from_secs(5),
            "{hanging} timed out after {:?}",
            hung.1
        );
    }

    let cases: Vec<(&str, Answer)> = vec![
        ("panic inside poll", get_json(&host.url("/hostile/poll-panic"))),
        ("error", get_json(&host.url("/hostile/error"))),
        (
            "panic building a route future",
            get_json(&host.url("/hostile/route-panic")),
        ),
        ("panic in server_config", get_json(&host.url("/api/options/config"))),
        (
            "panic in user_auth",
            send(client().get(host.url("/api/settings")).header("x-hostile", "auth")),
        ),
        ("panic in git_service", get_json(&host.url("/api/user/info"))),
    ];
    for (what, answer) in &cases {
        assert_eq!(
            (answer.0, answer.2["code"].as_str()),
            (500, Some("plugin_failed")),
            "{what}: {}",
            answer.2
        );
        assert_eq!(get_json(&host.url("/healthz")).0, 200, "after {what}");
    }
    assert_eq!(
        get_json(&host.url("/hostile/flood")).0,
        404,
        "flooded the log, then fell through to routing"
    );
    assert_eq!(get_json(&host.url("/healthz")).0, 200);
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugins["plugins"][0]["panics"], 5, "{plugins}");
    let logs = host.wait_for_log("line=19999", Duration::from_secs(10));
    assert!(logs.contains("deliberate panic inside poll") && logs.contains("plugin call timed out"));
    let (exit, _) = host.stop();
    assert!(
        exit.success(),
        "stops cleanly although a plugin call still holds a thread: {exit}"
    );

    site.write_config("[plugins.hostile.config]\npanic_in_init = true\n");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let line = failure.error_line();
    assert!(
        line.contains("hostile") && line.contains("deliberate panic in init"),
        "{line}"
    );
}

/// One row of a hostile-input table: what was sent, the answer, the expected status and error code.
type Row<'a> = (&'a str, Answer, u16, Option<&'a str>);

fn check_table(table: &[Row<'_>]) {
    for (what, answer, status, code) in table {
        assert_eq!(answer.0, *status, "{what}: {}", answer.2);
        if let Some(code) = code {
            assert_error(answer, *status, code);
        }
    }
}

/// Sends raw bytes and returns the status code of the answer.
fn raw_status(base_url: &str, request: &[u8]) -> u16 {
    let addr = base_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let read = stream.read(&mut buffer).unwrap();
        if read == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..read]);
    }
    let line = String::from_utf8_lossy(&answer);
    line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn malformed_requests_get_clear_errors_never_a_500() {
    let site = Site::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    site.write_config(&format!(
        "rate_limit_per_sec = 0\ngithub_api_url = \"http://{closed}\"\n"
    ));
    let host = site.start();
    let post = |path: &str, body: &str| {
        send(
            client()
                .post(host.url(path))
                .header("content-type", "application/json")
                .body(body.to_owned()),
        )
    };
    let long = "x".repeat(5000);
    let table: Vec<Row<'_>> = vec![
        (
            "truncated JSON",
            post("/api/settings", "{"),
            400,
            Some("invalid_settings"),
        ),
        (
            "JSON array",
            post("/api/settings", "[1]"),
            400,
            Some("invalid_settings"),
        ),
        (
            "wrong type",
            post("/api/settings", r#"{"language": 5}"#),
            400,
            Some("invalid_settings"),
        ),
        (
            "wrong bool",
            post("/api/settings", r#"{"confirmation_mode": "yes"}"#),
            400,
            Some("invalid_settings"),
        ),
        (
            "oversized value",
            post("/api/settings", &json!({"language": long}).to_string()),
            400,
            Some("invalid_settings"),
        ),
        (
            "unknown key",
            post("/api/settings", r#"{"__proto__": {}}"#),
            400,
            Some("invalid_settings"),
        ),
        (
            "not JSON",
            post("/api/add-git-providers", "token=x"),
            400,
            Some("invalid_request"),
        ),
        (
            "token with spaces",
            post(
                "/api/add-git-providers",
                r#"{"provider_tokens":{"github":{"token":"a b"}}}"#,
            ),
            400,
            Some("invalid_request"),
        ),
        (
            "page not a number",
            get_json(&host.url("/api/user/repositories?page=abc")),
            400,
            Some("invalid_request"),
        ),
        (
            "page zero",
            get_json(&host.url("/api/user/repositories?page=0")),
            400,
            Some("invalid_request"),
        ),
        (
            "repeated keys: the first wins",
            get_json(&host.url("/api/user/repositories?page=1&page=abc")),
            401,
            Some("git_token_missing"),
        ),
        (
            "repository traversal",
            get_json(&host.url("/api/user/repository/branches?repository=../..%2Fetc")),
            400,
            Some("invalid_request"),
        ),
        (
            "invalid UTF-8 in a query",
            get_json(&host.url("/api/user/search/repositories?query=%FF%FE")),
            401,
            Some("git_token_missing"),
        ),
        (
            "invalid UTF-8 in a path",
            get_json(&host.url("/api/%FF%FE")),
            404,
            Some("not_found"),
        ),
        (
            "unknown method",
            send(client().request(reqwest::Method::from_bytes(b"BREW").unwrap(), host.url("/healthz"))),
            405,
            Some("method_not_allowed"),
        ),
        (
            "oversized cookie",
            send(
                client()
                    .get(host.url("/healthz"))
                    .header("cookie", format!("openhost_session={}", "a".repeat(8000))),
            ),
            200,
            None,
        ),
        (
            "64 KiB header",
            send(
                client()
                    .get(host.url("/healthz"))
                    .header("x-big", "b".repeat(64 * 1024)),
            ),
            200,
            None,
        ),
    ];
    check_table(&table);

    // Below HTTP parsing: hyper answers, the host never sees these.
    assert_eq!(
        raw_status(&host.base_url, b"GET /api/\xff\xfe HTTP/1.1\r\nhost: localhost\r\n\r\n"),
        400,
        "invalid UTF-8 in the request line"
    );
    let header_value = "h".repeat(1024 * 1024);
    let huge = format!("GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-huge: {header_value}\r\n\r\n");
    assert_eq!(raw_status(&host.base_url, huge.as_bytes()), 431, "a 1 MiB header");
    assert_eq!(
        raw_status(
            &host.base_url,
            b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nx-bad: \xff\xfe\r\n\r\n"
        ),
        200,
        "a header value that is not UTF-8 is left out of the plugin view"
    );

    let (_, logs) = host.stop();
    assert!(!logs.contains("panicked"), "{logs}");
    assert!(!logs.contains(" 500 "), "{logs}");
}

/// docs/security.md, "Cross-site writes" and "Host names": what a page of another site can make a browser send
/// is refused before any route runs; scripts, same-origin pages and declared webhooks are not.
#[test]
fn cross_site_writes_and_foreign_host_names_are_refused() {
    let site = Site::new();
    site.add_plugin("fixture-hostile");
    site.write_config("rate_limit_per_sec = 0\n");
    let host = site.start();
    let settings = host.url("/api/settings");
    let json_post = |url: &str| {
        client()
            .post(url)
            .header("content-type", "application/json")
            .body(r#"{"language": "en"}"#)
    };
    let table: Vec<Row<'_>> = vec![
        (
            "a form post from a foreign page",
            send(
                client()
                    .post(&settings)
                    .header("origin", "https://evil.example")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("language=en"),
            ),
            403,
            Some("cross_site_request"),
        ),
        (
            "JSON from a foreign origin",
            send(json_post(&settings).header("origin", "https://evil.example")),
            403,
            Some("cross_site_request"),
        ),
        (
            "an opaque origin (sandboxed frame, file://)",
            send(json_post(&settings).header("origin", "null")),
            403,
            Some("cross_site_request"),
        ),
        (
            "marked cross-site by the browser, no Origin",
            send(json_post(&settings).header("sec-fetch-site", "cross-site")),
            403,
            Some("cross_site_request"),
        ),
        (
            "a DELETE from a foreign origin",
            send(
                client()
                    .delete(host.url("/api/secrets/X"))
                    .header("origin", "http://attacker.localhost.example"),
            ),
            403,
            Some("cross_site_request"),
        ),
        (
            "a text/plain body without Origin (an old browser's form)",
            send(
                client()
                    .post(&settings)
                    .header("content-type", "text/plain")
                    .body(r#"{"language": "en"}"#),
            ),
            415,
            Some("unsupported_media_type"),
        ),
        (
            "a form body to a plugin's JSON route",
            send(
                client()
                    .post(host.url("/hostile/json"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("a=1"),
            ),
            415,
            Some("unsupported_media_type"),
        ),
        (
            "a webhook a foreign site posts to (declared cross-site)",
            send(
                client()
                    .post(host.url("/hostile/webhook"))
                    .header("origin", "https://github.example")
                    .header("sec-fetch-site", "cross-site")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("payload=1"),
            ),
            200,
            None,
        ),
        (
            "the local frontend (same site)",
            send(
                json_post(&settings)
                    .header("origin", "http://localhost:3001")
                    .header("sec-fetch-site", "same-site"),
            ),
            200,
            None,
        ),
        ("a script: no Origin, JSON", send(json_post(&settings)), 200, None),
        (
            "a foreign page with a bearer no middleware accepts (the local user is not the bearer's)",
            send(
                json_post(&settings)
                    .header("origin", "https://evil.example")
                    .header("authorization", "Bearer junk"),
            ),
            403,
            Some("cross_site_request"),
        ),
        (
            "a foreign GET is not a write",
            send(
                client()
                    .get(host.url("/healthz"))
                    .header("origin", "https://evil.example"),
            ),
            200,
            None,
        ),
        (
            "DNS rebinding: a page's own name resolving to 127.0.0.1",
            send(client().get(&settings).header("host", "rebind.evil.example")),
            421,
            Some("unknown_host"),
        ),
        (
            "DNS rebinding, with the port",
            send(client().get(&settings).header("host", "rebind.evil.example:3000")),
            421,
            Some("unknown_host"),
        ),
        (
            "localhost by name",
            send(client().get(host.url("/healthz")).header("host", "LOCALHOST:1")),
            200,
            None,
        ),
    ];
    check_table(&table);
    assert_eq!(get_json(&settings).2["language"], "en", "the allowed writes landed");
    host.stop();

    // An operator's own name for a loopback host.
    site.write_config("rate_limit_per_sec = 0\nallowed_hosts = [\"openhost.internal\"]\n");
    let host = site.start();
    let named = send(
        client()
            .get(host.url("/healthz"))
            .header("host", "openhost.internal:8080"),
    );
    assert_eq!(named.0, 200);
}

/// Reads until the peer closes the connection; how long that took, and what it sent.
fn until_closed(stream: &mut TcpStream, limit: Duration) -> (Duration, Vec<u8>) {
    stream.set_read_timeout(Some(limit)).unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("still open after {:?}: {e}", started.elapsed()),
        }
    }
    (started.elapsed(), received)
}

/// docs/security.md, "Slow and many clients": a client that stalls in its headers, its body or between requests
/// is cut off at the deadline, and one address cannot hold more than its share of connections.
#[test]
fn slow_and_numerous_clients_are_cut_off() {
    let site = Site::new();
    site.write_config(
        "rate_limit_per_sec = 0\nheader_timeout_secs = 1\nbody_timeout_secs = 1\nidle_timeout_secs = 2\n\
         max_connections_per_ip = 4\n",
    );
    let host = site.start();
    let addr = host.base_url.trim_start_matches("http://").to_owned();
    let connect = || TcpStream::connect(&addr).unwrap();

    // Half a header, then nothing.
    let mut stalled = connect();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n")
        .unwrap();
    let (after, _) = until_closed(&mut stalled, Duration::from_secs(10));
    assert!(
        after < Duration::from_secs(5),
        "header deadline: closed after {after:?}"
    );

    // A body that stops halfway: 408, then the connection closes.
    let mut slow_body = connect();
    slow_body
        .write_all(
            b"POST /api/settings HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{\"language\":",
        )
        .unwrap();
    let (after, answer) = until_closed(&mut slow_body, Duration::from_secs(10));
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("request_timeout") && after < Duration::from_secs(5),
        "{after:?}"
    );

    // A keep-alive connection that served a request, then idles.
    let mut idle = connect();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .unwrap();
    let (after, answer) = until_closed(&mut idle, Duration::from_secs(10));
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    assert!(
        after >= Duration::from_millis(1500) && after < Duration::from_secs(6),
        "idle deadline: closed after {after:?}"
    );

    // Four connections from this address are the cap; a fifth is closed at once, and a slot frees on close.
    let mut held: Vec<TcpStream> = (0..4).map(|_| connect()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut fifth = connect();
    let (after, answer) = until_closed(&mut fifth, Duration::from_secs(10));
    assert!(answer.is_empty() && after < Duration::from_secs(1), "{after:?}");
    held.pop();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        raw_status(&host.base_url, b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n"),
        200
    );
    drop(held);

    let (_, logs) = host.stop();
    assert!(!logs.contains("panicked"), "{logs}");
}

#[test]
fn paths_in_plugin_names_and_files_are_refused() {
    let site = Site::new();
    site.write_config("[plugins.x]\nfile = \"../../../lib/x86_64-linux-gnu/libz.so.1\"\n");
    let line = site.expect_startup_failure(&[]).error_line();
    assert!(line.contains("plugins.x.file") && line.contains("not a path"), "{line}");
    site.write_config("[plugins.\"../evil\"]\nenabled = true\n");
    let line = site.expect_startup_failure(&[]).error_line();
    assert!(line.contains("plugin name"), "{line}");
}

/// Raises this test process's own open-file limit to the hard one (it holds the flood's other ends).
fn raise_own_open_file_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write one `rlimit`.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
}

/// docs/security.md, "Slow and many clients": at a soft open-file limit of 256, four client addresses holding
/// 150 connections each would leave the server no descriptor for anyone else. It raises its limit to the hard
/// one (here 1024) and fits `max_connections` under it, so `/healthz` still answers.
#[test]
fn a_descriptor_flood_from_several_addresses_leaves_healthz_answering() {
    raise_own_open_file_limit();
    let site = Site::new();
    site.write_config("rate_limit_per_sec = 0\nmax_connections_per_ip = 150\n");
    let host = site.start_with_open_file_limit(256, 1024);
    let addr: std::net::SocketAddr = host.base_url.trim_start_matches("http://").parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let flood = runtime.block_on(async {
        let mut flood = Vec::new();
        for last in 2..=5u8 {
            for _ in 0..150 {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind(std::net::SocketAddr::from(([127, 0, 0, last], 0))).unwrap();
                flood.push(socket.connect(addr).await.unwrap());
            }
        }
        flood
    });
    // Let the server take them all from the backlog.
    std::thread::sleep(Duration::from_millis(500));
    let answered = send(client().get(host.url("/healthz")).timeout(Duration::from_secs(5)));
    assert_eq!(answered.0, 200, "{}", answered.2);
    drop(flood);
    // The default max_connections (10000) does not fit 1024 descriptors: the start said so.
    host.wait_for_log("does not fit the open-file limit", Duration::from_secs(5));
    let (_, logs) = host.stop();
    assert!(!logs.contains("Too many open files"), "{logs}");
}

/// A client that pipelines requests and never reads the answers is closed once an answer has waited
/// `write_timeout_secs` for it (no read deadline runs while the server waits to write).
#[test]
fn a_client_that_never_reads_its_answers_is_closed_at_the_write_deadline() {
    let site = Site::new();
    site.write_config("rate_limit_per_sec = 0\nwrite_timeout_secs = 1\n");
    let host = site.start();
    let mut stream = TcpStream::connect(host.base_url.trim_start_matches("http://")).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    let chunk = b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n".repeat(200);
    let started = Instant::now();
    let error = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "still writing after a minute"
        );
        if let Err(e) = stream.write_all(&chunk) {
            break e;
        }
    };
    let after = started.elapsed();
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
        "the server did not close the connection; the write ended after {after:?} with: {error}"
    );
    assert!(after < Duration::from_secs(15), "closed only after {after:?}");
    assert_eq!(get_json(&host.url("/healthz")).0, 200);
}
