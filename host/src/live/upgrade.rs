//! Host upgrade: the running process starts the binary at its own path, hands it the listening sockets, and
//! steps aside once the new process serves (docs/operating.md, "Reloading plugins and upgrading the host").
//!
//! The two processes talk over a socket pair, one line per message:
//!
//! ```text
//! new -> old   release-store     (sled only: one process may open the database) old stops accepting, drains its
//! old -> new   released           connections, lets go of the database; new connections wait in the backlog
//! new -> old   ready              its checks passed and it accepts: the old stops accepting, drains and exits
//! new -> old   failed <why>       it stops; the old takes the database back and serves on
//! ```
//!
//! The sockets travel as inherited descriptors 3 (the public listener), 4 (the socket pair), 5 (the metrics
//! listener, when there is one) and 6 (the admin API's listener, when there is one), named by `OPENHOST_UPGRADE_FDS`, as systemd passes sockets. If the new process
//! dies, says `failed`, or is not ready within [`READY_WITHIN`], nothing has changed for clients of the old one.

use std::{
    ffi::OsString,
    os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
    path::PathBuf,
    sync::OnceLock,
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::UnixStream,
};

use crate::{app::App, server::Steering};

/// Names the inherited descriptors: `listen=3,control=4[,metrics=5][,admin=6]`.
pub const FDS_VARIABLE: &str = "OPENHOST_UPGRADE_FDS";
/// The generation the old process serves: the new one's first is the next, so that `openhost-generation` names
/// one registry across processes too.
pub const GENERATION_VARIABLE: &str = "OPENHOST_UPGRADE_GENERATION";
const LISTEN_FD: RawFd = 3;
const CONTROL_FD: RawFd = 4;
const METRICS_FD: RawFd = 5;
const ADMIN_FD: RawFd = 6;

/// How long the new process may take to be ready (it loads and initialises every plugin, connects to its store).
pub const READY_WITHIN: Duration = Duration::from_secs(120);
/// How long the old process lets responses end their connections before it closes the idle ones.
pub const DRAIN_GRACE: Duration = Duration::from_millis(500);
/// How long draining may take before the old process goes on without the connections still open.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// How long the new process waits for the old to let go of a sled database once it said `released`.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

static EXECUTABLE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Remembers the path this process was started from (docs/operating.md, "Reloading plugins and upgrading the
/// host"). An upgrade starts whatever is at this path then: a replaced file, or the target of a symbolic link a
/// deployment switched (`bin/openhost -> v2/openhost`). `current_exe` would not do: it reads `/proc/self/exe`, the
/// file this process runs, links resolved. Call it before anything changes the working directory.
pub fn remember_executable() {
    EXECUTABLE.get_or_init(|| started_from().or_else(|| std::env::current_exe().ok()));
}

/// The path in `argv[0]`, made absolute: against the working directory when it names a directory, else found
/// in `PATH` as the shell found it.
fn started_from() -> Option<PathBuf> {
    let named = PathBuf::from(std::env::args_os().next()?);
    if named.is_absolute() {
        return Some(named);
    }
    if named.components().count() > 1 {
        return Some(std::env::current_dir().ok()?.join(named));
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(&named))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Why an upgrade left the old process serving.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("cannot tell which binary this process runs")]
    NoExecutable,
    #[error("cannot start {}: {source}", path.display())]
    Spawn { path: PathBuf, source: std::io::Error },
    #[error("cannot pass the sockets on: {0}")]
    Sockets(std::io::Error),
    #[error("the new process failed its checks: {0}")]
    Failed(String),
    #[error("the new process ended before it was ready ({0}); its log says why")]
    Exited(String),
    #[error("the new process was not ready within {} s and was stopped", READY_WITHIN.as_secs())]
    NotReady,
    #[error("cannot hand the database over: {0}")]
    Store(String),
    #[error(transparent)]
    HandedOn(#[from] super::generations::HandedOn),
}

/// The listening sockets a running server hands on.
#[derive(Debug, Clone, Copy)]
pub struct Sockets {
    pub listen: RawFd,
    pub metrics: Option<RawFd>,
    pub admin: Option<RawFd>,
}

/// What the new process reports: its pid, for the answer to `openhost upgrade`.
pub struct HandedOver {
    pub pid: u32,
}

/// The old process's side: starts the new process and waits until it serves. On success this process must stop
/// accepting, drain and exit; on error it serves on as before (the database taken back if it was handed over).
pub async fn hand_over(app: &App, steering: &Steering, sockets: Sockets) -> Result<HandedOver, UpgradeError> {
    // Held to the end: a plugin change through the admin API waits, and once the new process serves it is
    // refused here (the new process read plugins.toml when it started, and would never serve it).
    let turn = app.generations.reload_turn().await?;
    let path = EXECUTABLE.get().cloned().flatten().ok_or(UpgradeError::NoExecutable)?;
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(UpgradeError::Sockets)?;
    let generation = app.generations.current().generation;
    let mut child = spawn(&path, sockets, theirs.into(), generation)?;
    let pid = child.id();
    tracing::info!(pid, binary = %path.display(), "upgrade: started the new process");
    ours.set_nonblocking(true).map_err(UpgradeError::Sockets)?;
    let control = UnixStream::from_std(ours).map_err(UpgradeError::Sockets)?;
    let mut released = false;
    let outcome = tokio::time::timeout(READY_WITHIN, converse(app, steering, control, &mut released)).await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(_) => {
            let _ = child.kill();
            Err(UpgradeError::NotReady)
        }
    };
    match outcome {
        Ok(()) => {
            turn.handed_on();
            // The new process is reparented when this one exits; nothing waits for it here.
            drop(child);
            Ok(HandedOver { pid })
        }
        Err(e) => {
            let status = tokio::task::spawn_blocking(move || child.wait()).await;
            let e = match e {
                UpgradeError::Exited(_) => UpgradeError::Exited(match status {
                    Ok(Ok(status)) => status.to_string(),
                    _ => "status unknown".to_owned(),
                }),
                other => other,
            };
            if released && let Err(back) = app.store.take_back() {
                tracing::error!("upgrade failed and the database cannot be opened again: {back}");
            }
            steering.resume();
            Err(e)
        }
    }
}

/// Starts `path` with this process's arguments and the sockets as descriptors 3, 4 (and 5).
fn spawn(
    path: &PathBuf,
    sockets: Sockets,
    control: OwnedFd,
    generation: u64,
) -> Result<std::process::Child, UpgradeError> {
    use std::os::unix::process::CommandExt;
    // Copies above the range the child's descriptors land in, so that moving one never overwrites another.
    let lifted = |fd: RawFd| -> Result<OwnedFd, UpgradeError> {
        // SAFETY: F_DUPFD_CLOEXEC on a descriptor this process holds open returns a new descriptor it owns.
        let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 100) };
        if copy < 0 {
            return Err(UpgradeError::Sockets(std::io::Error::last_os_error()));
        }
        // SAFETY: `copy` was just created and nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(copy) })
    };
    let listen = lifted(sockets.listen)?;
    let control = lifted(control.as_raw_fd())?;
    let metrics = sockets.metrics.map(lifted).transpose()?;
    let admin = sockets.admin.map(lifted).transpose()?;
    let mut moves = vec![(listen.as_raw_fd(), LISTEN_FD), (control.as_raw_fd(), CONTROL_FD)];
    let mut names = format!("listen={LISTEN_FD},control={CONTROL_FD}");
    if let Some(metrics) = &metrics {
        moves.push((metrics.as_raw_fd(), METRICS_FD));
        names.push_str(&format!(",metrics={METRICS_FD}"));
    }
    if let Some(admin) = &admin {
        moves.push((admin.as_raw_fd(), ADMIN_FD));
        names.push_str(&format!(",admin={ADMIN_FD}"));
    }
    let arguments: Vec<OsString> = std::env::args_os().skip(1).collect();
    let mut command = std::process::Command::new(path);
    command
        .args(arguments)
        .env(FDS_VARIABLE, names)
        .env(GENERATION_VARIABLE, generation.to_string());
    // SAFETY: between fork and exec only dup2, which is async-signal-safe, runs; it clears close-on-exec on
    // the target, so exactly these descriptors reach the new process.
    unsafe {
        command.pre_exec(move || {
            for (from, to) in &moves {
                if libc::dup2(*from, *to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let child = command.spawn().map_err(|source| UpgradeError::Spawn {
        path: path.clone(),
        source,
    })?;
    // This process's copies close here; the child has its own.
    drop((listen, control, metrics, admin));
    Ok(child)
}

/// Answers the new process until it is ready or gives up.
async fn converse(
    app: &App,
    steering: &Steering,
    control: UnixStream,
    released: &mut bool,
) -> Result<(), UpgradeError> {
    let (read, mut write) = control.into_split();
    let mut lines = BufReader::new(read).lines();
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) | Err(_) => return Err(UpgradeError::Exited(String::new())),
        };
        match line
            .split_once(' ')
            .map_or((line.as_str(), ""), |(word, rest)| (word, rest))
        {
            ("release-store", _) => {
                let started = Instant::now();
                steering.set_accept(crate::server::Accept::Paused);
                let left = steering.drain(DRAIN_GRACE, DRAIN_LIMIT).await;
                if left > 0 {
                    tracing::warn!(
                        connections = left,
                        "upgrade: handing the database over with connections open"
                    );
                }
                app.store.hand_over().map_err(|e| UpgradeError::Store(e.to_string()))?;
                *released = true;
                tracing::info!(
                    drained_ms = started.elapsed().as_millis() as u64,
                    "upgrade: stopped accepting and handed the database over"
                );
                write
                    .write_all(b"released\n")
                    .await
                    .map_err(|_| UpgradeError::Exited(String::new()))?;
            }
            ("ready", _) => return Ok(()),
            ("failed", why) => return Err(UpgradeError::Failed(why.to_owned())),
            (other, _) => tracing::warn!("upgrade: the new process said `{other}`, which this one does not know"),
        }
    }
}

/// The new process's side: the sockets and the channel it inherited.
pub struct Inherited {
    pub listener: std::net::TcpListener,
    pub metrics: Option<std::net::TcpListener>,
    pub admin: Option<std::net::TcpListener>,
    /// The generation the old process served.
    pub previous_generation: u64,
    control: std::os::unix::net::UnixStream,
}

/// Why the inherited sockets cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{FDS_VARIABLE}: {0}")]
pub struct InheritError(String);

impl Inherited {
    /// The sockets named by [`FDS_VARIABLE`], if this process was started by an upgrade. Reads and clears the
    /// variable: call it first thing in `main`, before any thread starts.
    pub fn from_env() -> Result<Option<Inherited>, InheritError> {
        let Some(names) = std::env::var_os(FDS_VARIABLE) else {
            return Ok(None);
        };
        let previous_generation = std::env::var(GENERATION_VARIABLE)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        // SAFETY: called from `main` before any other thread exists (documented above).
        unsafe {
            std::env::remove_var(FDS_VARIABLE);
            std::env::remove_var(GENERATION_VARIABLE);
        }
        let names = names.to_string_lossy().into_owned();
        let mut listen = None;
        let mut control = None;
        let mut metrics = None;
        let mut admin = None;
        for part in names.split(',') {
            let (name, fd) = part
                .split_once('=')
                .ok_or_else(|| InheritError(format!("`{part}` is not name=descriptor")))?;
            let fd: RawFd = fd
                .parse()
                .map_err(|_| InheritError(format!("`{fd}` is not a descriptor number")))?;
            // SAFETY: F_GETFD only asks whether the descriptor is open.
            if fd < 3 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
                return Err(InheritError(format!("descriptor {fd} is not open")));
            }
            // Inherited descriptors come without close-on-exec: set it, or every child a plugin starts would hold
            // the public listener. SAFETY: F_SETFD on a descriptor this process holds open.
            if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
                return Err(InheritError(format!(
                    "descriptor {fd}: cannot set close-on-exec: {}",
                    std::io::Error::last_os_error()
                )));
            }
            match name {
                "listen" => listen = Some(fd),
                "control" => control = Some(fd),
                "metrics" => metrics = Some(fd),
                "admin" => admin = Some(fd),
                other => return Err(InheritError(format!("unknown socket `{other}`"))),
            }
        }
        let (Some(listen), Some(control)) = (listen, control) else {
            return Err(InheritError("needs listen= and control=".to_owned()));
        };
        // SAFETY: each descriptor was handed to this process by its predecessor for exactly this use, is open
        // (checked above), and is taken once.
        unsafe {
            Ok(Some(Inherited {
                listener: std::net::TcpListener::from_raw_fd(listen),
                metrics: metrics.map(|fd| std::net::TcpListener::from_raw_fd(fd)),
                admin: admin.map(|fd| std::net::TcpListener::from_raw_fd(fd)),
                previous_generation,
                control: std::os::unix::net::UnixStream::from_raw_fd(control),
            }))
        }
    }

    fn say(&self, line: &str) -> std::io::Result<()> {
        use std::io::Write;
        (&self.control).write_all(format!("{line}\n").as_bytes())
    }

    /// Asks the old process for the database and waits until it has let go.
    pub fn ask_for_store(&self) -> Result<(), InheritError> {
        use std::io::BufRead;
        self.say("release-store")
            .map_err(|e| InheritError(format!("cannot ask for the database: {e}")))?;
        let mut line = String::new();
        std::io::BufReader::new(&self.control)
            .read_line(&mut line)
            .map_err(|e| InheritError(format!("no answer about the database: {e}")))?;
        match line.trim() {
            "released" => Ok(()),
            other => Err(InheritError(format!(
                "the old process did not hand the database over (`{other}`)"
            ))),
        }
    }

    /// Tells the old process that this one serves.
    pub fn ready(&self) {
        if let Err(e) = self.say("ready") {
            tracing::warn!("upgrade: cannot tell the old process this one is ready: {e}");
        }
    }

    /// Tells the old process why this one stops, so that it serves on and says why.
    pub fn failed(&self, why: &str) {
        let _ = self.say(&format!("failed {}", crate::text::one_line(why)));
    }
}
