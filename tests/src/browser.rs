//! What the browser tests need and share: Debian's Chromium driven from Node.js through playwright-core (the npm
//! packages of `tests/browser`, installed by `.ci/run`), and for the OpenHands walks the frontend build and
//! `tools/frontend/serve.mjs` in front of the host. A test that cannot run says why and is skipped; in CI a skip
//! is a failure.

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::workspace_root;

/// Why the browser tests cannot run here, if they cannot.
pub fn unavailable() -> Option<String> {
    if !Path::new("/usr/bin/chromium").exists() {
        return Some("/usr/bin/chromium is not installed (apt-get install chromium)".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        return Some("tests/browser has no node_modules (cd tests/browser && npm ci)".into());
    }
    None
}

/// The folder of the browser scripts and their npm packages.
pub fn browser_dir() -> PathBuf {
    workspace_root().join("tests/browser")
}

/// Runs `tests/browser/SCRIPT` with `args` under Node.js and waits for it.
pub fn run_script(script: &str, args: &[&str]) -> Output {
    Command::new("node")
        .arg(browser_dir().join(script))
        .args(args)
        .output()
        .expect("run node")
}

/// The build of the OpenHands web frontend (v0.62.0) the walks use: `OPENHOST_FRONTEND_BUILD`, or the copy beside
/// the repository (`../shared/openhands-frontend/build`, where CI lays it).
pub fn frontend_build() -> Result<PathBuf, String> {
    let build = std::env::var_os("OPENHOST_FRONTEND_BUILD").map_or_else(
        || workspace_root().join("../shared/openhands-frontend/build"),
        PathBuf::from,
    );
    if build.join("index.html").is_file() {
        Ok(build)
    } else {
        Err(format!(
            "no OpenHands frontend build at {} (set OPENHOST_FRONTEND_BUILD)",
            build.display()
        ))
    }
}

/// `tools/frontend/serve.mjs`: the frontend's files and the host's routes from one loopback origin, as the
/// OpenHands server serves them. Stopped when dropped.
pub struct FrontendServer {
    child: Child,
    pub port: u16,
}

impl FrontendServer {
    /// Serves `build` on loopback `port` in front of the host at `host_url`: over https with `tls`, else http.
    pub fn start(build: &Path, host_url: &str, port: u16, tls: Option<&TestCertificate>) -> FrontendServer {
        let tls_files = tls.map(|tls| [&tls.cert, &tls.key]);
        let child = Command::new("node")
            .arg(workspace_root().join("tools/frontend/serve.mjs"))
            .arg(build)
            .arg(port.to_string())
            .arg(host_url)
            .args(tls_files.iter().flatten())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run node tools/frontend/serve.mjs");
        let server = FrontendServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "serve.mjs never listened on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for FrontendServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A throwaway self-signed certificate for `localhost` (made with the `openssl` command), as the SaaS sign-in's
/// https origin needs. Its files live as long as it does.
pub struct TestCertificate {
    _dir: tempfile::TempDir,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCertificate {
    /// Makes one, or says why it cannot (no `openssl`).
    pub fn localhost() -> Result<TestCertificate, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let made = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .args([
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
            ])
            .output()
            .map_err(|e| format!("openssl is not installed ({e})"))?;
        if !made.status.success() {
            return Err(format!("openssl req failed: {}", String::from_utf8_lossy(&made.stderr)));
        }
        Ok(TestCertificate { _dir: dir, cert, key })
    }
}
