//! Signed plugins (docs/security.md, "Signed plugins"): minisign signatures beside plugin files, checked by the
//! real host against `[host] trusted_keys` on the bytes it then loads. The `ctor-mark` fixture appends a line to
//! a mark file the moment its library is mapped, so a refusal can be shown to have run nothing of the file. The
//! interoperability test runs Debian's `minisign` 0.11 (`apt-get install minisign`; `.ci/run` installs it).
#![cfg(target_os = "linux")]

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use openhost_tests::{Site, free_port, get_json, plugin_images, sha256, while_swapping, workspace_root};
use serde_json::Value;

const MARK_VARIABLE: &str = "OPENHOST_TEST_CTOR_MARK";

/// A key pair made by `openhost plugins keygen`.
struct Keys {
    secret: PathBuf,
    public_file: PathBuf,
    /// The line for `trusted_keys`.
    public: String,
    /// As minisign prints it.
    id: String,
}

impl Keys {
    /// `plugins keygen --out DIR` in the site's directory; with `password`, an encrypted secret key.
    fn new(site: &Site, dir: &str, password: Option<&str>) -> Keys {
        let out = site.dir.path().join(dir);
        std::fs::create_dir_all(&out).unwrap();
        let out_text = out.to_str().unwrap();
        let (status, stdout, stderr) = match password {
            Some(password) => site.cli_with_env(
                &["plugins", "keygen", "--out", out_text],
                &[("OPENHOST_SIGNING_PASSWORD", password)],
            ),
            None => site.cli(&["plugins", "keygen", "--out", out_text, "--unencrypted"]),
        };
        assert!(status.success(), "{stdout}{stderr}");
        Keys::read(&out.join("openhost.key"), &out.join("openhost.pub"))
    }

    /// A key pair from its files (minisign's formats).
    fn read(secret: &Path, public_file: &Path) -> Keys {
        let text = std::fs::read_to_string(public_file).unwrap();
        let mut lines = text.lines();
        // Read as a number and written as minisign writes it (`%PRIX64`, no leading zeros), as the host does too:
        // the comment may come from either.
        let comment_id = lines.next().unwrap().rsplit(' ').next().unwrap();
        let id = format!("{:X}", u64::from_str_radix(comment_id, 16).unwrap());
        Keys {
            secret: secret.to_owned(),
            public_file: public_file.to_owned(),
            public: lines.next().unwrap().to_owned(),
            id,
        }
    }

    /// `plugins sign FILE --key ...`.
    fn sign(&self, site: &Site, file: &Path) -> String {
        let (status, stdout, stderr) = site.cli(&[
            "plugins",
            "sign",
            file.to_str().unwrap(),
            "--key",
            self.secret.to_str().unwrap(),
        ]);
        assert!(status.success(), "{stdout}{stderr}");
        stdout
    }
}

fn signature_of(file: &Path) -> PathBuf {
    PathBuf::from(format!("{}.minisig", file.display()))
}

/// `trusted_keys = [...]` for `[host]`.
fn trusting(keys: &[&Keys]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("\"{}\"", k.public)).collect();
    format!("trusted_keys = [{}]\n", quoted.join(", "))
}

fn plugin<'a>(plugins: &'a Value, name: &str) -> &'a Value {
    plugins["plugins"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no plugin {name} in {plugins}"))
}

fn reload(site: &Site) -> (bool, String) {
    let config = site.config_path().display().to_string();
    let (status, stdout, stderr) = site.cli(&["plugins", "reload", "--config", &config]);
    (status.success(), format!("{stdout}{stderr}"))
}

#[test]
fn a_signed_plugin_shows_its_key_and_a_reload_picks_up_new_signatures() {
    let site = Site::new();
    let library = site.add_plugin("openhost-example-header-stamp");
    let old = Keys::new(&site, "old-key", None);
    let new = Keys::new(&site, "new-key", None);
    let metrics_port = free_port();
    let config = format!("metrics_listen = \"127.0.0.1:{metrics_port}\"\n{}", trusting(&[&old]));
    site.write_config(&config);
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let signature = &plugin(&plugins, "header-stamp")["signature"];
    assert_eq!(
        (signature["status"].as_str(), &signature["key_id"]),
        (Some("unsigned"), &Value::Null)
    );

    // Signed: a reload shows it, with the key and the trusted comment `sign` wrote.
    let said = old.sign(&site, &library);
    assert!(said.contains(&old.id), "{said}");
    let (status, _, stderr) = site.cli(&[
        "plugins",
        "sign",
        library.to_str().unwrap(),
        "--key",
        old.secret.to_str().unwrap(),
        "--name",
        "other",
    ]);
    assert!(!status.success() && stderr.contains("states its own name"), "{stderr}");
    let (ok, said) = reload(&site);
    assert!(ok, "{said}");
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let signature = &plugin(&plugins, "header-stamp")["signature"];
    assert_eq!(signature["status"], "verified", "{signature}");
    assert_eq!(signature["key_id"].as_str(), Some(old.id.as_str()));
    let version = plugin(&plugins, "header-stamp")["version"].as_str().unwrap().to_owned();
    assert_eq!(
        signature["trusted_comment"].as_str(),
        Some(format!("plugin=header-stamp version={version}").as_str())
    );
    let metrics = openhost_tests::client()
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let info = metrics
        .lines()
        .find(|line| {
            line.starts_with("openhost_plugin_info{")
                && line.contains("plugin=\"header-stamp\"")
                && line.ends_with(" 1")
        })
        .unwrap_or_else(|| panic!("no serving openhost_plugin_info:\n{metrics}"));
    assert!(info.contains("signed=\"true\""), "{info}");

    // A publisher rotates its key: both trusted while the new signature replaces the old one.
    new.sign(&site, &library);
    site.write_config(&format!(
        "metrics_listen = \"127.0.0.1:{metrics_port}\"\n{}",
        trusting(&[&old, &new])
    ));
    let (ok, said) = reload(&site);
    assert!(ok, "{said}");
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(
        plugin(&plugins, "header-stamp")["signature"]["key_id"].as_str(),
        Some(new.id.as_str())
    );
    let (status, table, stderr) = site.cli(&["plugins", "list", "--config", site.config_path().to_str().unwrap()]);
    assert!(status.success(), "{stderr}");
    assert!(table.contains(&format!("verified:{}", new.id)), "{table}");

    // Once the old key is dropped, a file still signed by it would be refused: the running set stays.
    old.sign(&site, &library);
    site.write_config(&format!(
        "metrics_listen = \"127.0.0.1:{metrics_port}\"\n{}",
        trusting(&[&new])
    ));
    let (ok, said) = reload(&site);
    assert!(!ok && said.contains("which host.trusted_keys does not list"), "{said}");
    let (_, headers, _) = get_json(&host.url("/healthz"));
    assert!(
        headers.contains_key("x-openhost-stamp"),
        "the running generation still serves"
    );
}

/// The host's one error line for this site, asserting that nothing of the library ran.
fn refused(site: &Site, mark: &Path) -> String {
    let mark_text = mark.to_str().unwrap();
    let failure = site.expect_startup_failure(&[(MARK_VARIABLE, mark_text)]);
    assert_eq!(failure.status.code(), Some(2));
    assert!(
        std::fs::read_to_string(mark).unwrap_or_default().is_empty(),
        "the refused library ran"
    );
    failure.error_line()
}

#[test]
fn every_bad_signature_is_refused_in_its_own_line_and_runs_nothing() {
    let site = Site::new();
    let library = site.add_plugin("fixture-ctor-mark");
    let signature = signature_of(&library);
    let mark = site.dir.path().join("mark");
    let trusted = Keys::new(&site, "trusted", None);
    let stranger = Keys::new(&site, "stranger", None);
    // Signatures are not required: a present signature that does not hold refuses the plugin all the same.
    site.write_config(&trusting(&[&trusted]));
    let original = std::fs::read(&library).unwrap();

    // One bit of the library flipped, in the line its constructor would write.
    trusted.sign(&site, &library);
    let mut flipped = original.clone();
    let at = flipped
        .windows(16)
        .position(|w| w == b"ctor-mark loaded")
        .expect("the constructor's line is in the library");
    flipped[at] ^= 1;
    std::fs::write(&library, &flipped).unwrap();
    let line = refused(&site, &mark);
    assert!(line.contains("its bytes changed after signing"), "{line}");
    let (status, _, stderr) = site.cli_with_env(
        &["plugins", "check", library.to_str().unwrap()],
        &[(MARK_VARIABLE, mark.to_str().unwrap())],
    );
    assert!(
        !status.success() && stderr.contains("its bytes changed after signing") && stderr.contains("(not executed)"),
        "{stderr}"
    );
    std::fs::write(&library, &original).unwrap();

    // Signed by a key that is not trusted.
    stranger.sign(&site, &library);
    let line = refused(&site, &mark);
    assert!(
        line.contains(&format!(
            "signed by key {}, which host.trusted_keys does not list",
            stranger.id
        )),
        "{line}"
    );

    // The trusted comment edited.
    trusted.sign(&site, &library);
    let text = std::fs::read_to_string(&signature).unwrap();
    std::fs::write(&signature, text.replace("version=", "version=9")).unwrap();
    let line = refused(&site, &mark);
    assert!(line.contains("was changed after signing"), "{line}");

    // Another plugin's signature, renamed to this one's.
    let greeter = site.add_plugin("fixture-greeter");
    trusted.sign(&site, &greeter);
    std::fs::rename(signature_of(&greeter), &signature).unwrap();
    std::fs::remove_file(&greeter).unwrap();
    let line = refused(&site, &mark);
    assert!(line.contains("is for plugin `greeter`, not `ctor-mark`"), "{line}");

    // Garbage, and nothing at all.
    std::fs::write(&signature, b"untrusted comment: x\nnot base64 at all\n").unwrap();
    let line = refused(&site, &mark);
    assert!(line.contains("is not a minisign signature"), "{line}");
    std::fs::write(&signature, b"").unwrap();
    let line = refused(&site, &mark);
    assert!(line.contains(".minisig is empty"), "{line}");

    // Unsigned while signatures are required: refused, unless the table allows it.
    std::fs::remove_file(&signature).unwrap();
    site.write_config(&format!("{}require_signatures = true\n", trusting(&[&trusted])));
    let line = refused(&site, &mark);
    assert!(
        line.contains("is not signed") && line.contains("host.require_signatures is true"),
        "{line}"
    );
    site.write_config(&format!(
        "{}require_signatures = true\n[plugins.ctor-mark]\nallow_unsigned = true\n",
        trusting(&[&trusted])
    ));
    let host = site.start_with_env(&[(MARK_VARIABLE, mark.to_str().unwrap())]);
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugin(&plugins, "ctor-mark")["signature"]["status"], "unsigned");
    assert_eq!(
        std::fs::read_to_string(&mark).unwrap(),
        "ctor-mark loaded\n",
        "the mark works: an admitted library runs its constructor"
    );
    drop(host);

    // Config mistakes are refused in one line too.
    site.write_config("require_signatures = true\n");
    let line = site.expect_startup_failure(&[]).error_line();
    assert!(
        line.contains("host.require_signatures = true needs host.trusted_keys"),
        "{line}"
    );
    site.write_config("trusted_keys = [\"RWQnot-a-key\"]\n");
    let line = site.expect_startup_failure(&[]).error_line();
    assert!(
        line.contains("host.trusted_keys[0] is not a minisign public key"),
        "{line}"
    );
}

#[test]
fn a_sandboxed_module_is_signed_under_its_plugin_name() {
    let site = Site::new();
    let keys = Keys::new(&site, "keys", None);
    let guest = wat::parse_file(workspace_root().join("tests/fixtures/wasm/stamp.wat")).unwrap();
    let stamp = site.add_file("stamp.wasm", &guest);
    let said = keys.sign(&site, &stamp);
    assert!(said.contains("plugin=stamp"), "{said}");
    site.write_config(&format!("{}require_signatures = true\n", trusting(&[&keys])));
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let signature = &plugin(&plugins, "stamp")["signature"];
    assert_eq!(
        (signature["status"].as_str(), signature["key_id"].as_str()),
        (Some("verified"), Some(keys.id.as_str()))
    );
    drop(host);
    let line = checked_signature(&site, &stamp);
    assert!(line.contains(&format!("verified: key {}", keys.id)), "{line}");

    // The same bytes and signature under another plugin's name.
    std::fs::rename(&stamp, site.plugin_dir().join("other.wasm")).unwrap();
    std::fs::rename(signature_of(&stamp), site.plugin_dir().join("other.wasm.minisig")).unwrap();
    let line = site.expect_startup_failure(&[]).error_line();
    assert!(line.contains("is for plugin `stamp`, not `other`"), "{line}");
    let other = site.plugin_dir().join("other.wasm");
    let config = site.config_path();
    let (status, _, stderr) = site.cli(&[
        "plugins",
        "check",
        other.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(
        !status.success() && stderr.contains("is for plugin `stamp`, not `other`"),
        "{stderr}"
    );
}

/// Runs Debian's `minisign`, feeding `stdin`; `None` when it is not installed (outside CI only).
fn minisign(args: &[&str], stdin: &str) -> Option<(bool, String)> {
    use std::io::Write;
    let child = Command::new("minisign")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            openhost_tests::skip(
                "the minisign interoperability test",
                "minisign is not installed (apt-get install minisign)",
            );
            return None;
        }
        Err(e) => panic!("cannot run minisign: {e}"),
    };
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((output.status.success(), text))
}

/// `plugins check FILE` against this site's config: the signature line.
fn checked_signature(site: &Site, file: &Path) -> String {
    let (status, stdout, stderr) = site.cli(&[
        "plugins",
        "check",
        file.to_str().unwrap(),
        "--config",
        site.config_path().to_str().unwrap(),
    ]);
    assert!(status.success(), "{stdout}{stderr}");
    stdout
        .lines()
        .find(|line| line.starts_with("signature:"))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn keys_and_signatures_interoperate_with_the_minisign_tool() {
    let site = Site::new();
    let library = site.add_plugin("openhost-example-header-stamp");
    let path = |file: &Path| file.to_str().unwrap().to_owned();
    let Some((ok, said)) = minisign(&["-v"], "") else {
        return;
    };
    assert!(ok, "{said}");

    // An encrypted openhost key; minisign signs with it (the password on its standard input) and the host
    // verifies; minisign verifies what `openhost plugins sign` wrote.
    let ours = Keys::new(&site, "ours", Some("correct horse"));
    let (ok, said) = minisign(
        &[
            "-S",
            "-s",
            &path(&ours.secret),
            "-m",
            &path(&library),
            "-t",
            "plugin=header-stamp version=0.1.0",
        ],
        "correct horse\n",
    )
    .unwrap();
    assert!(ok, "{said}");
    site.write_config(&trusting(&[&ours]));
    let line = checked_signature(&site, &library);
    assert!(line.contains(&format!("verified: key {}", ours.id)), "{line}");
    let (status, stdout, stderr) = site.cli_with_env(
        &["plugins", "sign", &path(&library), "--key", &path(&ours.secret)],
        &[("OPENHOST_SIGNING_PASSWORD", "correct horse")],
    );
    assert!(status.success(), "{stdout}{stderr}");
    let (ok, said) = minisign(&["-V", "-p", &path(&ours.public_file), "-m", &path(&library)], "").unwrap();
    assert!(ok && said.contains("plugin=header-stamp"), "{said}");

    // A wrong password is refused and writes nothing.
    std::fs::remove_file(signature_of(&library)).unwrap();
    let (status, _, stderr) = site.cli_with_env(
        &["plugins", "sign", &path(&library), "--key", &path(&ours.secret)],
        &[("OPENHOST_SIGNING_PASSWORD", "wrong")],
    );
    assert!(!status.success() && stderr.contains("Wrong password"), "{stderr}");
    assert!(!signature_of(&library).exists());

    // A minisign key; `openhost plugins sign` signs with it, and both minisign and the host verify.
    let theirs_dir = site.dir.path().join("theirs");
    std::fs::create_dir_all(&theirs_dir).unwrap();
    let (secret, public) = (theirs_dir.join("minisign.key"), theirs_dir.join("minisign.pub"));
    let (ok, said) = minisign(
        &["-G", "-p", &path(&public), "-s", &path(&secret)],
        "battery staple\nbattery staple\n",
    )
    .unwrap();
    assert!(ok, "{said}");
    let theirs = Keys::read(&secret, &public);
    let (status, stdout, stderr) = site.cli_with_env(
        &["plugins", "sign", &path(&library), "--key", &path(&secret)],
        &[("OPENHOST_SIGNING_PASSWORD", "battery staple")],
    );
    assert!(status.success(), "{stdout}{stderr}");
    let (ok, said) = minisign(&["-V", "-p", &path(&public), "-m", &path(&library)], "").unwrap();
    assert!(ok, "{said}");
    site.write_config(&trusting(&[&ours, &theirs]));
    let line = checked_signature(&site, &library);
    assert!(line.contains(&format!("verified: key {}", theirs.id)), "{line}");

    // The secret key is never shown, and keygen never overwrites one.
    let key_text = std::fs::read_to_string(&ours.secret).unwrap();
    let (status, stdout, stderr) = site.cli(&[
        "plugins",
        "keygen",
        "--out",
        &path(&site.dir.path().join("ours")),
        "--unencrypted",
    ]);
    assert!(
        !status.success() && stderr.contains("already exists"),
        "{stdout}{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&ours.secret).unwrap(), key_text);
    let secret_line = key_text.lines().nth(1).unwrap();
    assert!(!stdout.contains(secret_line) && !stderr.contains(secret_line));
}

#[test]
fn the_bytes_loaded_are_the_bytes_verified_while_the_file_is_swapped() {
    let site = Site::new();
    let real = site.add_plugin("fixture-greeter");
    let keys = Keys::new(&site, "keys", None);
    keys.sign(&site, &real);
    let signed = std::fs::read(&real).unwrap();
    let signed_digest = sha256(&real);
    // The same plugin with other bytes (a trailer after the ELF image: it would load), which the signature does
    // not cover.
    let mut unsigned = signed.clone();
    unsigned.extend_from_slice(&[0u8; 4096]);
    site.write_config(&format!("{}require_signatures = true\n", trusting(&[&keys])));
    let host = site.start();
    let pid = host.pid();

    let (mut loaded, mut refused) = (0, 0);
    while_swapping(&real, &[signed, unsigned], || {
        let mut seen: Vec<u64> = plugin_images(pid, "greeter").into_iter().map(|(ino, _)| ino).collect();
        for round in 0..30 {
            let (ok, said) = reload(&site);
            let new: Vec<_> = plugin_images(pid, "greeter")
                .into_iter()
                .filter(|(ino, _)| !seen.contains(ino))
                .collect();
            if ok {
                loaded += 1;
                assert_eq!(new.len(), 1, "round {round}: one new image per reload");
                seen.push(new[0].0);
                assert_eq!(
                    sha256(&new[0].1),
                    signed_digest,
                    "round {round}: the host loaded bytes other than the signed ones"
                );
            } else {
                refused += 1;
                assert!(
                    said.contains("its bytes changed after signing"),
                    "round {round}: {said}"
                );
                assert!(new.is_empty(), "round {round}: a refused file was loaded");
            }
        }
    });
    assert!(
        loaded > 0 && loaded + refused == 30,
        "{loaded} loaded, {refused} refused"
    );
}
