//! Live changes (docs/reliability.md): plugin reloads and a host upgrade under load drop no request and mix no
//! generations; a reload or upgrade that fails changes nothing and says why; the admin socket is the owner's.

use std::{os::unix::fs::PermissionsExt, time::Duration};

use openhost_tests::{
    Site, assert_error, get_json,
    live_load::{self, Built, NewProcess, Plan},
    post_json,
};

fn plan(host_keys: &str) -> Plan {
    Plan {
        concurrency: 64,
        reloads: 20,
        between: Duration::from_millis(150),
        steady: Duration::from_millis(700),
        upgrade: true,
        host_keys: host_keys.to_owned(),
    }
}

/// The proof of docs/reliability.md: 64 clients without pause, 20 reloads (SIGHUP and `openhost plugins
/// reload`), then `openhost upgrade`.
fn reloads_and_an_upgrade_under_load(host_keys: &str, env: &[(&str, &str)]) {
    let site = Site::new();
    live_load::prepare(&site, host_keys, live_load::built(1));
    let notify = tempfile::tempdir().expect("temp dir");
    let notify_path = notify.path().join("notify");
    let systemd = std::os::unix::net::UnixDatagram::bind(&notify_path).expect("bind the notify socket");
    let mut env = env.to_vec();
    let notify_text = notify_path.display().to_string();
    env.push(("NOTIFY_SOCKET", &notify_text));
    let host = site.start_with_env(&env);
    let plan = plan(host_keys);
    let report = live_load::run(&site, &host, &plan);
    let _new = report.new_pid.map(NewProcess);

    assert!(
        report.failures.is_empty(),
        "{} failed requests, e.g. {:?}",
        report.failures.len(),
        &report.failures[..report.failures.len().min(5)]
    );
    assert!(
        report.mixed.is_empty(),
        "{:?}",
        &report.mixed[..report.mixed.len().min(5)]
    );
    let last = plan.reloads as u64 + 2;
    for generation in [1, plan.reloads as u64 + 1, last] {
        assert!(
            report.generations_seen.contains(&generation),
            "generation {generation} served nothing: {:?}",
            report.generations_seen
        );
    }
    assert!(report.answers > 1000, "{} answers", report.answers);
    assert_eq!(report.plugins["generation"], last, "{}", report.plugins);
    let loaded = report.plugins["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .filter(|p| p["loaded"] == true)
        .count();
    assert_eq!(
        report.plugins["retained_libraries"], loaded,
        "a new process maps each plugin once: {}",
        report.plugins
    );
    let greeter = report.plugins["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .find(|p| p["name"] == "greeter")
        .cloned()
        .expect("greeter");
    assert_eq!(greeter["version"], live_load::built(last - 1).version);

    let logs = host.logs();
    assert!(
        logs.contains("shutting down plugin plugin=greeter generation=1"),
        "retired generations are shut down:\n{logs}"
    );
    assert!(
        logs.contains("retired generation drained and shut down generation=20"),
        "{logs}"
    );
    let new_pid = report.new_pid.expect("the upgrade names the new process");
    let mut said = Vec::new();
    let mut buffer = [0u8; 256];
    systemd.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    while let Ok(n) = systemd.recv(&mut buffer) {
        said.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
        if said.last().is_some_and(|s| s.contains("MAINPID")) {
            break;
        }
    }
    assert_eq!(said.first().map(String::as_str), Some("READY=1"), "{said:?}");
    assert!(said.contains(&format!("MAINPID={new_pid}\nREADY=1")), "{said:?}");
    eprintln!(
        "{} answers; reload p50 {:?}; p99 steady {:?}, during reloads {:?}; slowest during the upgrade {:?}",
        report.answers,
        report.reload_times[report.reload_times.len() / 2],
        report.steady_p99,
        report.reloading_p99,
        report.upgrade_max
    );
}

#[test]
fn sled_reloads_and_an_upgrade_under_load_drop_nothing() {
    reloads_and_an_upgrade_under_load("rate_limit_per_sec = 0", &[]);
}

#[test]
fn postgres_reloads_and_an_upgrade_under_load_drop_nothing() {
    let Some(url) = openhost_tests::test_database("live changes on PostgreSQL") else {
        return;
    };
    let keys = openhost_tests::postgres_config("http://127.0.0.1:9");
    reloads_and_an_upgrade_under_load(&keys, &openhost_tests::postgres_env(&url));
}

#[test]
fn a_failed_reload_changes_nothing_and_says_why() {
    let site = Site::new();
    live_load::prepare(
        &site,
        "",
        Built {
            stamp: true,
            version: "1.0.0",
        },
    );
    let host = site.start();
    let socket = site.data_dir().join("admin.sock");
    let mode = std::fs::metadata(&socket).expect("admin.sock").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "only the owner may reload");

    let config = site.config_path().display().to_string();
    let text = std::fs::read_to_string(site.config_path()).expect("config");
    std::fs::write(site.config_path(), format!("{text}[plugins.missing]\nenabled = true\n")).expect("config");
    let (status, stdout, stderr) = site.cli(&["plugins", "reload", "--config", &config]);
    assert_eq!(status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("`missing`"), "{stderr}");
    let (status, headers, body) = get_json(&host.url("/api/greeter"));
    assert_eq!((status, body["version"].as_str()), (200, Some("1.0.0")));
    assert_eq!(headers["openhost-generation"], "1");
    assert!(headers.contains_key(live_load::STAMP_HEADER));
    host.wait_for_log("reload refused, nothing changed", Duration::from_secs(5));

    // Host keys a reload cannot change are named, not silently ignored; the plugins change.
    std::fs::write(
        site.config_path(),
        text.replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:1\"")
            .replace(
                "enabled = true\n[plugins.header-stamp.config]",
                "enabled = false\n[plugins.header-stamp.config]",
            ),
    )
    .expect("config");
    let (status, stdout, stderr) = site.cli(&["plugins", "reload", "--config", &config]);
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.contains("generation 2 serving") && stdout.contains("restart or upgrade: listen"),
        "{stdout}"
    );
    let (_, headers, _) = get_json(&host.url("/api/greeter"));
    assert_eq!(headers["openhost-generation"], "2");
    assert!(
        !headers.contains_key(live_load::STAMP_HEADER),
        "the middleware is off in generation 2"
    );

    let (status, _, stderr) = site.cli(&["plugins", "reload", "--config", &config, "--data-dir", "/nonexistent"]);
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("cannot reach the running server"), "{stderr}");
}

#[test]
fn a_failed_upgrade_leaves_the_old_process_serving_its_database() {
    let site = Site::new();
    live_load::prepare(
        &site,
        "",
        Built {
            stamp: false,
            version: "1.0.0",
        },
    );
    let host = site.start();
    let (status, _, body) = post_json(&host.url("/api/settings"), &serde_json::json!({"language": "de"}));
    assert_eq!(status, 200, "{body}");

    // The new process will refuse plugins.toml: a plugin init that fails (an invalid header name).
    let text = std::fs::read_to_string(site.config_path()).expect("config");
    std::fs::write(
        site.config_path(),
        text.replace(live_load::STAMP_HEADER, "not a header")
            .replace("enabled = false", "enabled = true"),
    )
    .expect("config");
    // By signal: the answer goes to the log.
    live_load::signal("-USR2", host.pid());
    host.wait_for_log("upgrade refused, this process serves on", Duration::from_secs(30));
    let config = site.config_path().display().to_string();
    let (status, stdout, stderr) = site.cli(&["upgrade", "--config", &config]);
    assert_eq!(status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("the new process failed its checks") && stderr.contains("not a valid header name"),
        "{stderr}"
    );

    // The old process took its database back and serves on, unchanged.
    let (status, headers, body) = get_json(&host.url("/api/settings"));
    assert_eq!((status, body["language"].as_str()), (200, Some("de")), "{body}");
    assert_eq!(headers["openhost-generation"], "1");
    let (status, _, _) = post_json(&host.url("/api/settings"), &serde_json::json!({"language": "fr"}));
    assert_eq!(status, 200);
    assert_error(&get_json(&host.url("/api/nothing")), 404, "not_found");
    let logs = host.logs();
    assert_eq!(
        logs.matches("upgrade refused, this process serves on").count(),
        2,
        "{logs}"
    );
}

#[test]
fn the_enterprise_plugin_reloads_and_upgrades_with_its_sessions_and_tokens() {
    let fake = openhost_tests::fake_github::FakeGithub::start(1);
    let (site, host) = openhost_tests::enterprise_hosts(1, None, &fake, "")
        .pop()
        .expect("a host");
    let session = openhost_tests::sign_in_with_settings(&host, &fake, 7, "octo");
    let config = site.config_path().display().to_string();
    let user_info = |generation: &str| {
        let answer = openhost_tests::send(
            openhost_tests::manual_client()
                .get(host.url("/api/user/info"))
                .header("cookie", &session),
        );
        assert_eq!(answer.0, 200, "{}", answer.2);
        assert_eq!(answer.2["login"], "octo");
        assert_eq!(answer.1["openhost-generation"], generation);
    };
    user_info("1");
    let (status, stdout, stderr) = site.cli(&["plugins", "reload", "--config", &config]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("generation 2 serving, 1 plugins loaded"), "{stdout}");
    // The session and the user's GitHub tokens live in the store: the new generation's plugin reads them.
    user_info("2");
    let (status, stdout, stderr) = site.cli(&["upgrade", "--config", &config]);
    assert!(status.success(), "{stderr}\n{}", host.logs());
    let _new = stdout
        .split_whitespace()
        .nth(1)
        .and_then(|pid| pid.parse().ok())
        .map(NewProcess);
    user_info("3");
}

/// Whether descriptor `fd` of process `pid` is closed on exec (`O_CLOEXEC` in its fdinfo flags, octal).
fn closed_on_exec(pid: u32, fd: u32) -> bool {
    let info = std::fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).expect("fdinfo");
    let flags = info
        .lines()
        .find_map(|line| line.strip_prefix("flags:"))
        .and_then(|flags| u32::from_str_radix(flags.trim(), 8).ok())
        .expect("flags");
    flags & 0o2000000 != 0
}

/// docs/operating.md, "Reloading plugins and upgrading the host": the new process is the binary now at the path
/// this one was started from (a deployment switched `bin/openhost` to another release), and the sockets it
/// inherited are not passed on to what it starts.
#[test]
fn an_upgrade_starts_the_binary_now_at_the_started_path_and_keeps_its_sockets_to_itself() {
    use std::os::unix::fs::symlink;
    let site = Site::new();
    site.write_config(&format!(
        "metrics_listen = \"127.0.0.1:{}\"\n",
        openhost_tests::free_port()
    ));
    let releases = site.dir.path().join("releases");
    std::fs::create_dir_all(releases.join("v1")).expect("v1");
    std::fs::create_dir_all(releases.join("v2")).expect("v2");
    symlink(openhost_tests::host_binary(), releases.join("v1/openhost")).expect("v1 binary");
    // Release 2 marks that it ran, then is the same host.
    let marker = site.dir.path().join("v2-started");
    std::fs::write(
        releases.join("v2/openhost"),
        format!(
            "#!/bin/sh\ntouch '{}'\nexec '{}' \"$@\"\n",
            marker.display(),
            openhost_tests::host_binary().display()
        ),
    )
    .expect("v2 binary");
    std::fs::set_permissions(releases.join("v2/openhost"), std::fs::Permissions::from_mode(0o755)).expect("mode");
    let bin = site.dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    symlink(releases.join("v1/openhost"), bin.join("openhost")).expect("bin/openhost");

    let host = site.start_from(&bin.join("openhost"));
    // The deployment switches the link, then upgrades.
    let switched = bin.join("openhost.new");
    symlink(releases.join("v2/openhost"), &switched).expect("new link");
    std::fs::rename(&switched, bin.join("openhost")).expect("switch the link");
    let config = site.config_path().display().to_string();
    let (status, stdout, stderr) = site.cli(&["upgrade", "--config", &config]);
    assert!(status.success(), "{stdout}{stderr}");
    let new_pid: u32 = stdout
        .split("process ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {stdout}"));
    let _new = NewProcess(new_pid);
    assert!(marker.exists(), "the upgrade started the old release again");
    assert_eq!(get_json(&host.url("/healthz")).0, 200);
    for fd in [3, 4, 5] {
        assert!(
            closed_on_exec(new_pid, fd),
            "inherited descriptor {fd} would reach the children of the new process"
        );
    }
}
