//! The end-to-end test harness: builds the workspace once, starts the real `openhost` binary on a loopback port
//! with a temporary `plugins.toml`, `plugin_dir` and `data_dir`, and collects its log output.
//!
//! Tests load real plugin libraries built from this workspace: [`build_workspace`] runs `cargo build --workspace`
//! (cargo releases its build lock before it runs tests), then [`library`] finds a crate's `.so` in the target
//! directory. [`fake_github`] stands in for GitHub.
//!
//! A plugin crate outside this repository uses the same harness as a dev-dependency: `OPENHOST_BIN` names the
//! host binary to run, [`build_library`] builds the crate's own library before the test (`cargo test` does not
//! build a `cdylib` for integration tests), and [`Site::add_library`] stages it
//! (`examples/plugin-template/tests/end_to_end.rs`).

pub mod browser;
pub mod fake_github;
pub mod live_load;
pub mod oidc_provider;
pub mod out_of_tree;
pub mod soak;

use fake_github::{CLIENT_ID, CLIENT_SECRET, FakeGithub};
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, OnceLock, mpsc},
    time::{Duration, Instant},
};

/// How long a host may take to start or stop.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .expect("tests/ lives inside the workspace")
}

/// `target/debug` (or whatever profile directory the running test binary sits in).
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current executable");
    // A test binary lives in target/<profile>/deps/, a binary (fake-github, soak) in target/<profile>/.
    let dir = exe.parent().expect("executable has a directory");
    let dir = if dir.file_name().is_some_and(|name| name == "deps") {
        dir.parent().expect("deps has a parent")
    } else {
        dir
    };
    dir.to_path_buf()
}

pub use openhost_xtask::cargo_command;

/// Builds the host and every plugin crate once per test binary.
pub fn build_workspace() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let profile = profile_dir();
        let mut command = cargo_command();
        command
            .current_dir(workspace_root())
            .args(["build", "--workspace", "--exclude", "openhost-tests"]);
        if profile.file_name().is_some_and(|n| n == "release") {
            command.arg("--release");
        }
        let status = command.status().expect("run cargo build");
        assert!(status.success(), "cargo build --workspace failed");
    });
}

/// The environment variable that names the `openhost` binary to test against (a plugin outside this repository
/// sets it); unset, the binary of this workspace is built and used.
pub const HOST_BINARY_VARIABLE: &str = "OPENHOST_BIN";

/// The path of the `openhost` binary: `OPENHOST_BIN`, or this workspace's build.
pub fn host_binary() -> PathBuf {
    if let Some(path) = std::env::var_os(HOST_BINARY_VARIABLE) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{HOST_BINARY_VARIABLE}={} is not a file: point it at an openhost binary (target/debug/openhost of an \
             openhost checkout)",
            path.display()
        );
        return path;
    }
    build_workspace();
    let path = profile_dir().join(format!("openhost{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} was not built; outside the openhost workspace, set {HOST_BINARY_VARIABLE} to an openhost binary",
        path.display()
    );
    path
}

/// Builds the plugin crate at `crate_dir` (its `Cargo.toml` directory) with `cargo build` and returns the shared
/// library it made, so that a test never loads a stale one. Panics with cargo's output if the build fails or
/// makes no shared library.
pub fn build_library(crate_dir: &Path) -> PathBuf {
    let output = cargo_command()
        .current_dir(crate_dir)
        .args(["build", "--message-format=json-render-diagnostics"])
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo in {}: {e}", crate_dir.display()));
    assert!(
        output.status.success(),
        "cargo build in {} failed ({})",
        crate_dir.display(),
        output.status
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .flat_map(|message| openhost_xtask::shared_libraries(&message))
        .last()
        .unwrap_or_else(|| {
            panic!(
                "cargo build in {} made no shared library (is crate-type [\"cdylib\"]?)",
                crate_dir.display()
            )
        })
}

/// The shared library built from workspace crate `crate_name` (e.g. `fixture-panicky`).
pub fn library(crate_name: &str) -> PathBuf {
    build_workspace();
    let stem = crate_name.replace('-', "_");
    let file = format!("{}{stem}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    let path = profile_dir().join(file);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// Hex sha256 of a file.
pub fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read file to hash");
    hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes))
}

/// A temporary directory with `plugins/`, `data/` and a `plugins.toml`.
pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Default for Site {
    fn default() -> Self {
        Self::new()
    }
}

impl Site {
    pub fn new() -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("plugins")).expect("plugins dir");
        Site { dir }
    }

    pub fn plugin_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("plugins.toml")
    }

    /// Copies the library of workspace crate `crate_name` into `plugins/`; returns the copy.
    pub fn add_plugin(&self, crate_name: &str) -> PathBuf {
        self.add_library(&library(crate_name))
    }

    /// Copies the plugin library at `path` (from [`build_library`], say) into `plugins/`; returns the copy.
    pub fn add_library(&self, path: &Path) -> PathBuf {
        let name = path
            .file_name()
            .unwrap_or_else(|| panic!("{} names no file", path.display()));
        let target = self.plugin_dir().join(name);
        std::fs::copy(path, &target)
            .unwrap_or_else(|e| panic!("cannot copy the plugin library {}: {e}", path.display()));
        target
    }

    /// The data directory of this site's config.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The files under the data directory that contain `secret` anywhere in their bytes.
    pub fn data_files_holding(&self, secret: &[u8]) -> Vec<PathBuf> {
        files_under(&self.data_dir())
            .into_iter()
            .filter(|file| {
                let bytes = std::fs::read(file).unwrap_or_default();
                bytes.windows(secret.len()).any(|w| w == secret)
            })
            .collect()
    }

    /// Writes a file into `plugins/`.
    pub fn add_file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let target = self.plugin_dir().join(name);
        std::fs::write(&target, bytes).expect("write file");
        target
    }

    /// Writes `plugins.toml`: a `[host]` table listening on an ephemeral loopback port, then `rest`.
    pub fn write_config(&self, rest: &str) {
        self.write_config_on(0, rest);
    }

    /// [`Site::write_config`] listening on `port` (for a `public_url` that must be known in advance).
    pub fn write_config_on(&self, port: u16, rest: &str) {
        let text =
            format!("[host]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"data\"\nplugin_dir = \"plugins\"\n{rest}\n");
        std::fs::write(self.config_path(), text).expect("write plugins.toml");
    }

    fn command(&self, env: &[(&str, &str)]) -> Command {
        self.command_of(&host_binary(), env)
    }

    fn command_of(&self, program: &Path, env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.dir.path())
            .env("RUST_LOG", "info")
            .env_remove("OPENHOST_LISTEN")
            .env_remove("OPENHOST_DATA_DIR")
            .args(["serve", "--config"])
            .arg(self.config_path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }

    /// Starts the host and waits until it listens. Panics with its output if it exits instead.
    pub fn start(&self) -> Host {
        self.start_with_env(&[])
    }

    /// [`Site::start`] with extra environment variables.
    pub fn start_with_env(&self, env: &[(&str, &str)]) -> Host {
        self.start_or_panic(self.command(env))
    }

    /// Starts the host with an open-file limit of `soft` descriptors (at most `hard`), as a shell's `ulimit -n`
    /// or a systemd unit's `LimitNOFILE=` would set it.
    pub fn start_with_open_file_limit(&self, soft: u64, hard: u64) -> Host {
        use std::os::unix::process::CommandExt;
        let mut command = self.command(&[]);
        // SAFETY: only setrlimit, which is async-signal-safe, runs between fork and exec.
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        self.start_or_panic(command)
    }

    /// Starts the host binary through another path to it (a symbolic link, as a deployment's `bin/openhost`).
    pub fn start_from(&self, program: &Path) -> Host {
        self.start_or_panic(self.command_of(program, &[]))
    }

    /// Starts `command` and waits until it listens; panics with its output if it exits instead.
    fn start_or_panic(&self, command: Command) -> Host {
        match self.start_command(command) {
            Ok(host) => host,
            Err(failure) => panic!("host did not start ({:?}):\n{}", failure.status, failure.stderr),
        }
    }

    /// Starts the host, returning how it failed if it exits before listening.
    pub fn try_start(&self, env: &[(&str, &str)]) -> Result<Host, StartFailure> {
        self.start_command(self.command(env))
    }

    fn start_command(&self, mut command: Command) -> Result<Host, StartFailure> {
        let program = command.get_program().to_owned();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", Path::new(&program).display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let logs = Arc::new(Mutex::new(String::new()));
        let (listening_tx, listening_rx) = mpsc::channel();
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let addr = addr.split_whitespace().next().unwrap_or_default().to_owned();
                    let _ = listening_tx.send(addr);
                }
                let mut text = sink.lock().expect("log buffer");
                text.push_str(&line);
                text.push('\n');
            }
        });
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(addr) = listening_rx.recv_timeout(Duration::from_millis(20)) {
                return Ok(Host {
                    child,
                    base_url: format!("http://{addr}"),
                    logs,
                });
            }
            if let Some(status) = child.try_wait().expect("poll host") {
                // Let the reader thread drain what the process wrote before it exited.
                std::thread::sleep(Duration::from_millis(100));
                let stderr = logs.lock().expect("log buffer").clone();
                return Err(StartFailure { status, stderr });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "host did not listen within {STARTUP_TIMEOUT:?}:\n{}",
                    logs.lock().expect("logs")
                );
            }
        }
    }

    /// Runs the host expecting it to refuse to start.
    pub fn expect_startup_failure(&self, env: &[(&str, &str)]) -> StartFailure {
        match self.try_start(env) {
            Ok(host) => panic!("host started but should not have:\n{}", host.logs()),
            Err(failure) => failure,
        }
    }

    /// Runs `openhost ARGS...` to completion in this site's directory.
    pub fn cli(&self, args: &[&str]) -> (ExitStatus, String, String) {
        self.cli_with_env(args, &[])
    }

    /// [`Site::cli`] with extra environment variables.
    pub fn cli_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
        let output = Command::new(host_binary())
            .current_dir(self.dir.path())
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .args(args)
            .output()
            .expect("run openhost");
        (
            output.status,
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// A host that exited before it listened.
#[derive(Debug)]
pub struct StartFailure {
    pub status: ExitStatus,
    pub stderr: String,
}

impl StartFailure {
    /// The one `openhost: error: ...` line, asserting there is exactly one.
    pub fn error_line(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("openhost: error:"))
            .collect();
        assert_eq!(lines.len(), 1, "expected one error line, got:\n{}", self.stderr);
        lines[0].to_owned()
    }
}

/// The sealed memory files process `pid` loaded plugin `label`'s libraries from (crate `openhost`'s
/// `loader::image`): (inode, descriptor path). Reading a path gives the bytes that were loaded.
#[cfg(target_os = "linux")]
pub fn plugin_images(pid: u32, label: &str) -> Vec<(u64, PathBuf)> {
    use std::os::unix::fs::MetadataExt;
    let wanted = format!("/memfd:openhost-plugin-{label}");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the host's descriptors")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let target = std::fs::read_link(&path).ok()?;
            target.to_string_lossy().starts_with(&wanted).then_some(())?;
            Some((std::fs::metadata(&path).ok()?.ino(), path))
        })
        .collect()
}

/// Runs `during` while another thread replaces `file` with each of `variants` in turn, as fast as it can (each
/// one whole: written beside it, then renamed over it). The swapping stops when `during` returns or panics.
pub fn while_swapping<R>(file: &Path, variants: &[Vec<u8>], during: impl FnOnce() -> R) -> R {
    use std::sync::atomic::{AtomicBool, Ordering};
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = AtomicBool::new(false);
    let mut staging = file.as_os_str().to_owned();
    staging.push(".swap");
    let staging = PathBuf::from(staging);
    std::thread::scope(|scope| {
        let _stop = Stop(&stop);
        scope.spawn(|| {
            let mut turn = 0;
            while !stop.load(Ordering::Relaxed) {
                std::fs::write(&staging, &variants[turn % variants.len()]).expect("write a variant");
                std::fs::rename(&staging, file).expect("swap it in");
                turn += 1;
            }
        });
        during()
    })
}

/// Resident memory of a process (`VmRSS`), in KiB; 0 if it cannot be read.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The most resident memory a process has had (`VmHWM`), in KiB; 0 if it cannot be read.
pub fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A running host; killed when dropped.
pub struct Host {
    child: Child,
    pub base_url: String,
    logs: Arc<Mutex<String>>,
}

impl Host {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Everything the host logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().expect("log buffer").clone()
    }

    /// Waits until the log contains `needle`, or panics after `timeout`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let logs = self.logs();
            if logs.contains(needle) {
                return logs;
            }
            assert!(Instant::now() < deadline, "log never contained {needle:?}:\n{logs}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL, as a crash would, and waits for it.
    pub fn kill_hard(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.logs()
    }

    /// Sends SIGTERM and waits for a clean exit; returns the full log.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("poll host") {
                break exit;
            }
            assert!(Instant::now() < deadline, "host did not stop:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100));
        (exit, self.logs())
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("ephemeral port")
        .port()
}

/// A client that does not follow redirects, as a test of a redirect flow needs.
pub fn manual_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// A blocking HTTP client for tests.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// Status, headers and body (as JSON; `Null` if not JSON) of an answer.
pub type Answer = (u16, reqwest::header::HeaderMap, serde_json::Value);

/// Sends a request and reads the answer.
pub fn send(request: reqwest::blocking::RequestBuilder) -> Answer {
    let response = request.send().expect("send request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().expect("body");
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// GETs a URL.
pub fn get_json(url: &str) -> Answer {
    send(client().get(url))
}

/// POSTs a JSON body.
pub fn post_json(url: &str, body: &serde_json::Value) -> Answer {
    send(client().post(url).json(body))
}

/// Asserts an API error answer: `status`, and a body `{"error": <non-empty sentence>, "code": code}`.
#[track_caller]
pub fn assert_error(answer: &Answer, status: u16, code: &str) {
    assert_eq!(
        (answer.0, answer.2["code"].as_str()),
        (status, Some(code)),
        "{}",
        answer.2
    );
    assert!(
        answer.2["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{}",
        answer.2
    );
}

/// Signs in through the enterprise plugin's OAuth flow, the fake GitHub approving at once, as a browser would:
/// the `openhost_session=...` cookie pair, or `None` if any step failed (e.g. the host died).
pub fn try_sign_in(host: &Host) -> Option<String> {
    let http = manual_client();
    let start = http.get(host.url("/oauth/github/login")).send().ok()?;
    let state = start
        .headers()
        .get("set-cookie")?
        .to_str()
        .ok()?
        .split(';')
        .next()?
        .to_owned();
    let approved = http.get(start.headers().get("location")?.to_str().ok()?).send().ok()?;
    let callback = approved.headers().get("location")?.to_str().ok()?.to_owned();
    let signed_in = http.get(callback).header("cookie", state).send().ok()?;
    if signed_in.status().as_u16() != 302 {
        return None;
    }
    signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("openhost_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

/// The next page of a repository list, read the way the OpenHands frontend reads it
/// (`frontend/src/utils/extract-next-page-from-link.ts`): `<...?page=N...>; rel="next"` in the first item's
/// `link_header`.
pub fn next_page(repositories: &serde_json::Value) -> Option<u64> {
    let link = repositories.get(0)?.get("link_header")?.as_str()?;
    let target = link.split(',').find(|part| part.trim_end().ends_with("rel=\"next\""))?;
    let url = target.split('<').nth(1)?.split('>').next()?;
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|page| page.parse().ok())
}

/// The `full_name`s of a repository list.
pub fn repository_names(repositories: &serde_json::Value) -> Vec<String> {
    repositories
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|r| r["full_name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every file below `dir`, recursively (symbolic links not followed).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(kind) if kind.is_dir() => files.extend(files_under(&path)),
            Ok(kind) if kind.is_file() => files.push(path),
            _ => {}
        }
    }
    files
}

/// Says `what` was skipped and why: a test that needs something this machine lacks (a database, a browser, a
/// command). In CI (`CI` set) every test must run, so there a skip is a failure.
pub fn skip(what: &str, why: &str) {
    assert!(std::env::var_os("CI").is_none(), "{what} must run in CI: {why}");
    eprintln!("skipped: {why} ({what})");
}

/// A PostgreSQL URL for one test, in a schema of its own (so tests sharing the database never meet):
/// `OPENHOST_TEST_DATABASE_URL` with a fresh schema first on its search path. Without the variable, prints that
/// `what` was skipped and returns `None`; in CI (`CI` set) a skip is a failure.
pub fn test_database(what: &str) -> Option<String> {
    let Ok(url) = std::env::var("OPENHOST_TEST_DATABASE_URL") else {
        skip(what, "OPENHOST_TEST_DATABASE_URL is not set");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let schema = format!("t{}_{nanos}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("OPENHOST_TEST_DATABASE_URL: cannot connect");
        tokio::spawn(connection);
        // Schemas of runs over an hour old are leftovers (a test never drops its own: it may still be read when
        // the test fails); dropping them here keeps a long-lived CI database from filling up.
        let an_hour_ago = nanos.saturating_sub(3_600 * 1_000_000_000);
        let old: Vec<String> = client
            .query(
                "SELECT schema_name FROM information_schema.schemata WHERE schema_name ~ '^t[0-9]+_[0-9]+$'",
                &[],
            )
            .await
            .expect("list test schemas")
            .into_iter()
            .map(|row| row.get::<_, String>(0))
            .filter(|name| {
                name.rsplit('_')
                    .next()
                    .and_then(|n| n.parse::<u128>().ok())
                    .is_some_and(|made| made < an_hour_ago)
            })
            .collect();
        for name in old {
            // Another run may be dropping it too: losing that race is fine.
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await;
        }
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create the test schema");
    });
    let separator = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{separator}options=-c%20search_path%3D{schema}"))
}

/// The host key every PostgreSQL test host shares (hosts on one database must seal with one key).
pub const SHARED_HOST_KEY: &str = "c2hhcmVkLWhvc3Qta2V5LWZvci1vcGVuaG9zdC10ZXN0cy0w";

/// `[host]` keys of a host on PostgreSQL talking to the GitHub at `github_api_url`: the URL and the key come from
/// the environment of [`postgres_env`], as an operator's would.
pub fn postgres_config(github_api_url: &str) -> String {
    format!(
        "github_api_url = \"{github_api_url}\"\nrate_limit_per_sec = 0\nstore = \"postgres\"\n\
         database_url = \"${{TEST_DATABASE_URL}}\"\nsecret_key = \"${{TEST_HOST_KEY}}\"\n"
    )
}

/// The environment [`postgres_config`] reads.
pub fn postgres_env(database_url: &str) -> [(&'static str, &str); 2] {
    [("TEST_DATABASE_URL", database_url), ("TEST_HOST_KEY", SHARED_HOST_KEY)]
}

/// `count` hosts with the enterprise plugin on the PostgreSQL database `url`, as behind one load balancer: the
/// first listens where `public_url` says (GitHub sends the browser back there), the others anywhere. `extra` goes
/// into the plugin's config.
pub fn enterprise_on_postgres(count: usize, url: &str, fake: &FakeGithub, extra: &str) -> Vec<(Site, Host)> {
    enterprise_hosts(count, Some(url), fake, extra)
}

/// Like [`enterprise_on_postgres`], on PostgreSQL if `database_url` is given, else each on its own sled store.
pub fn enterprise_hosts(count: usize, database_url: Option<&str>, fake: &FakeGithub, extra: &str) -> Vec<(Site, Host)> {
    let public_port = free_port();
    let base = match database_url {
        Some(_) => postgres_config(&fake.base_url),
        None => format!("github_api_url = \"{}\"\nrate_limit_per_sec = 0\n", fake.base_url),
    };
    (0..count)
        .map(|i| {
            let site = Site::new();
            site.add_plugin("openhost-enterprise");
            site.write_config_on(
                if i == 0 { public_port } else { 0 },
                &format!(
                    r#"{base}
[plugins.enterprise.config]
github_client_id = "{CLIENT_ID}"
github_client_secret = "{CLIENT_SECRET}"
public_url = "http://127.0.0.1:{public_port}"
secret_key = "c2VjcmV0LWtleS1mb3Itb3Blbmhvc3QtdGVzdHMtMDE"
github_web_url = "{fake}"
github_api_url = "{fake}"
{extra}
"#,
                    fake = fake.base_url
                ),
            );
            let host = match database_url {
                Some(url) => site.start_with_env(&postgres_env(url)),
                None => site.start(),
            };
            (site, host)
        })
        .collect()
}

/// Adds the fake GitHub user `id`, signs them in on an enterprise `host` and stores settings for them (so that
/// `GET /api/settings` answers 200, not the first-run 404); their session cookie.
pub fn sign_in_with_settings(host: &Host, fake: &FakeGithub, id: u64, login: &str) -> String {
    fake.add_user(id, login);
    let session = try_sign_in(host).expect("sign in");
    let stored = manual_client()
        .post(host.url("/api/settings"))
        .header("cookie", &session)
        .json(&serde_json::json!({"language": "en"}))
        .send()
        .expect("store settings");
    assert!(stored.status().is_success(), "{}", stored.status());
    session
}

/// `per_session` concurrent `GET /api/user/info` for each cookie of `sessions`, spread round-robin over the hosts
/// at `urls`: each answer's status (0: no answer) and latency, in order.
pub fn user_info_burst(urls: &[String], sessions: &[String], per_session: usize) -> Vec<(u16, Duration)> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = sessions
            .iter()
            .flat_map(|session| std::iter::repeat_n(session, per_session))
            .enumerate()
            .map(|(n, session)| {
                let url = &urls[n % urls.len()];
                scope.spawn(move || {
                    let sent = Instant::now();
                    let answer = manual_client()
                        .get(format!("{url}/api/user/info"))
                        .header("cookie", session)
                        .send();
                    (answer.map_or(0, |a| a.status().as_u16()), sent.elapsed())
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("request thread")).collect()
    })
}

/// Stores the fake GitHub's personal access token through `POST /api/add-git-providers`, as a user does.
pub fn store_pat(host: &Host) {
    let (status, _, body) = post_json(
        &host.url("/api/add-git-providers"),
        &serde_json::json!({"provider_tokens": {"github": {"token": fake_github::PAT, "host": null}}}),
    );
    assert_eq!(status, 200, "{body}");
}

/// An example guest of `examples/NAME`, built for `wasm32-unknown-unknown` (in `target/wasm`), as a sandboxed
/// plugin file. Without that target installed (`rustup target add wasm32-unknown-unknown`), prints that `what`
/// was skipped and returns `None`; in CI (`CI` set) a skip is a failure.
pub fn wasm_example(name: &str, what: &str) -> Option<PathBuf> {
    let root = workspace_root();
    let target_dir = root.join("target/wasm");
    let output = openhost_xtask::cargo_command()
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "--manifest-path",
        ])
        .arg(root.join("examples").join(name).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir)
        .output()
        .expect("run cargo");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let no_target =
            stderr.contains("target may not be installed") || stderr.contains("can't find crate for `core`");
        assert!(no_target, "building examples/{name} for wasm32 failed:\n{stderr}");
        skip(what, "the wasm32-unknown-unknown target is not installed");
        return None;
    }
    Some(
        target_dir
            .join("wasm32-unknown-unknown/release")
            .join(format!("{}.wasm", name.replace('-', "_"))),
    )
}
