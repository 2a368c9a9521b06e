//! `cargo serve` (an alias for `cargo run -p openhost-xtask -- serve`): builds the host and every plugin crate of
//! the workspace, copies the plugin libraries into the `plugin_dir` of `plugins.toml`, and runs
//! `openhost serve --config plugins.toml`, passing any further arguments on.
//!
//! Which files are plugins is read from cargo's own build messages (`cdylib` artifacts of crates under
//! `plugins/` and `examples/`), not guessed from file names.
//!
//! `openhost upgrade` makes the server start its successor and exit. So that the terminal keeps the server,
//! this task stays the parent of every server process: it is a child subreaper (Linux), so the successor is
//! handed to it when the old server exits, and it waits until no server is left. Ctrl-C reaches whichever server
//! runs through the terminal's process group; this task ignores it and exits with the last server's status.

use std::{
    io::BufRead,
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("serve") => match serve(args.collect()) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("xtask: {message}");
                ExitCode::FAILURE
            }
        },
        Some("stage") => match build_and_stage().map(|_| ()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("xtask: {message}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo serve [openhost serve flags...]   (or: cargo run -p openhost-xtask -- stage)");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Builds everything and copies the plugin libraries into `plugins/`; returns the host binary.
fn build_and_stage() -> Result<PathBuf, String> {
    let root = workspace_root();
    let mut child = openhost_xtask::cargo_command()
        .current_dir(&root)
        .args([
            "build",
            "--workspace",
            "--exclude",
            "openhost-tests",
            "--message-format=json-render-diagnostics",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("cargo has no stdout")?;
    let mut host_binary = None;
    let mut plugins = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading cargo output: {e}"))?;
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let manifest = message["manifest_path"].as_str().unwrap_or_default();
        let is_plugin_crate = ["plugins", "examples"]
            .iter()
            .any(|dir| Path::new(manifest).starts_with(root.join(dir)));
        let kinds = &message["target"]["kind"];
        if is_plugin_crate && kinds.as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib")) {
            plugins.extend(openhost_xtask::shared_libraries(&message));
        }
        if message["target"]["name"] == "openhost" && kinds.as_array().is_some_and(|k| k.iter().any(|k| k == "bin")) {
            host_binary = message["executable"].as_str().map(PathBuf::from);
        }
    }
    let status = child.wait().map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err("the build failed".to_owned());
    }
    let plugin_dir = root.join("plugins");
    for library in &plugins {
        let Some(name) = library.file_name() else { continue };
        std::fs::copy(library, plugin_dir.join(name)).map_err(|e| format!("staging {}: {e}", library.display()))?;
        eprintln!("xtask: staged {}", plugin_dir.join(name).display());
    }
    host_binary.ok_or_else(|| "cargo did not report the openhost binary".to_owned())
}

fn serve(extra: Vec<String>) -> Result<ExitCode, String> {
    let host = build_and_stage()?;
    let root = workspace_root();
    adopt_orphans();
    let server = Command::new(host)
        .current_dir(&root)
        .args(["serve", "--config"])
        .arg(root.join("plugins.toml"))
        .args(extra)
        .spawn()
        .map_err(|e| format!("cannot start openhost: {e}"))?;
    // The server handles Ctrl-C (it drains and shuts its plugins down); this task waits for it.
    ignore_interrupts();
    let last = wait_for_every_child(server.id());
    Ok(match last {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::SUCCESS,
    })
}

/// Makes this process the parent of its descendants whose parent exits (an upgraded server's successor).
fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_CHILD_SUBREAPER takes one integer flag and changes only this process's attributes.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

fn ignore_interrupts() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to ignore is async-signal-safe and affects this process only (the
    // server was started before, with the default disposition).
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
}

/// Waits until this process has no child left; the exit code of the last one (`None`: ended by a signal).
fn wait_for_every_child(first: u32) -> Option<i32> {
    #[cfg(unix)]
    {
        let mut last = None;
        loop {
            let mut status = 0;
            // SAFETY: waitpid(-1) reaps any child of this process and writes its status into `status`.
            let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
            if pid < 0 {
                if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return last; // ECHILD: no server is left
            }
            last = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
            if u32::try_from(pid).is_ok_and(|pid| pid != first) {
                eprintln!("xtask: server process {pid} ended");
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = first;
        None
    }
}
