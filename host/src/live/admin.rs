//! The admin socket, `data_dir/admin.sock` (mode 0600): how `openhost plugins reload` and `openhost upgrade`
//! reach the running server, never through the public listener. Whoever may open the data directory may
//! reload; nobody else can connect.
//!
//! One request per connection, one line each way: the command (`reload`, `upgrade`), then `ok <what happened>`
//! or `error <why>`.

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt},
    net::UnixListener,
    sync::{mpsc, oneshot},
};

/// The socket's file name in `data_dir`.
pub const SOCKET_FILE: &str = "admin.sock";

/// The longest command line the server reads.
const MAX_LINE: u64 = 256;
/// How long the command-line client waits for an answer: an upgrade waits for the new process's checks.
const CLIENT_WAIT: Duration = Duration::from_secs(180);

/// What the server is asked to do, by a signal or through the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Reload,
    Upgrade,
}

impl Command {
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Reload => "reload",
            Command::Upgrade => "upgrade",
        }
    }

    fn parse(line: &str) -> Option<Command> {
        match line.trim() {
            "reload" => Some(Command::Reload),
            "upgrade" => Some(Command::Upgrade),
            _ => None,
        }
    }
}

/// A command and where its answer goes (`None`: a signal, nobody waits).
pub type Request = (Command, Option<oneshot::Sender<Result<String, String>>>);

/// Why the command-line client got no answer.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot reach the running server at {}: {source} (is `openhost serve` running with this data_dir?)", path.display())]
    Connect { path: PathBuf, source: std::io::Error },
    #[error("the running server at {} did not answer: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Refused(String),
    #[error("{} is not a socket (a symbolic link, or a file); not following it to whatever answers there", path.display())]
    NotASocket { path: PathBuf },
}

/// Binds the socket in `data_dir`, replacing a file left there by a process that died, or, with `take_over`, by
/// the process this one upgrades (its listener keeps working until it exits, but new clients reach this one).
/// A socket another running server answers on is left alone: two servers on one data directory (PostgreSQL
/// instances configured alike) must not steal each other's.
pub fn bind(data_dir: &Path, take_over: bool) -> std::io::Result<UnixListener> {
    // A host on PostgreSQL keeps nothing else in its data directory: it may not exist yet.
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700).create(data_dir)?;
    let path = data_dir.join(SOCKET_FILE);
    // Only a socket at the path itself is another server's: a symbolic link there may lead to anything, and is
    // replaced like any other leftover, never followed.
    if !take_over && is_socket(&path) && std::os::unix::net::UnixStream::connect(&path).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!(
                "another running openhost answers on {}; give each server its own data_dir",
                path.display()
            ),
        ));
    }
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(&path)?;
    // A socket's permissions decide who may connect: only this user.
    #[cfg(unix)]
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(listener)
}

/// Whether `path` itself (not what a link there points at) is a socket.
fn is_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket())
}

/// Why a command got no answer: nobody took it, or nobody answered it, because the process stops or an upgrade
/// handed the server on (a queued command is then dropped unanswered). The HTTP admin API says the same.
pub const UNANSWERED: &str = "this process is stopping or handed the server to its successor: ask again";

/// Answers admin connections, handing each command to `requests` and its answer back.
pub async fn serve(listener: UnixListener, requests: mpsc::Sender<Request>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("admin socket: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let requests = requests.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            let read = tokio::io::AsyncReadExt::take(read, MAX_LINE);
            let answer = match tokio::io::BufReader::new(read).read_line(&mut line).await {
                Err(e) => Err(format!("cannot read the command: {e}")),
                Ok(_) => match Command::parse(&line) {
                    None => Err(format!(
                        "unknown command `{}` (commands: reload, upgrade)",
                        crate::text::truncate(line.trim().to_owned(), 40)
                    )),
                    Some(command) => {
                        let (answer, answered) = oneshot::channel();
                        if requests.send((command, Some(answer))).await.is_err() {
                            Err(UNANSWERED.to_owned())
                        } else {
                            answered.await.unwrap_or_else(|_| Err(UNANSWERED.to_owned()))
                        }
                    }
                },
            };
            let text = match answer {
                Ok(done) => format!("ok {}\n", crate::text::one_line(&done)),
                Err(why) => format!("error {}\n", crate::text::one_line(&why)),
            };
            let _ = write.write_all(text.as_bytes()).await;
        });
    }
}

/// The command-line side: sends `command` to the server of `data_dir` and returns its answer.
pub fn request(data_dir: &Path, command: Command) -> Result<String, AdminError> {
    let path = data_dir.join(SOCKET_FILE);
    if std::fs::symlink_metadata(&path).is_ok() && !is_socket(&path) {
        return Err(AdminError::NotASocket { path });
    }
    let io = |source| AdminError::Io {
        path: path.clone(),
        source,
    };
    let mut stream = std::os::unix::net::UnixStream::connect(&path).map_err(|source| AdminError::Connect {
        path: path.clone(),
        source,
    })?;
    stream.set_read_timeout(Some(CLIENT_WAIT)).map_err(io)?;
    stream
        .write_all(format!("{}\n", command.as_str()).as_bytes())
        .map_err(io)?;
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).map_err(io)?;
    let line = line.trim_end();
    match line.split_once(' ') {
        Some(("ok", done)) => Ok(done.to_owned()),
        Some(("error", why)) => Err(AdminError::Refused(why.to_owned())),
        _ if line == "ok" => Ok(String::new()),
        _ => Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("unexpected answer `{}`", crate::text::truncate(line.to_owned(), 80)),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_socket_a_live_server_answers_on_is_taken_only_by_its_successor() {
        let dir = tempfile::tempdir().unwrap();
        let first = bind(dir.path(), false).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join(SOCKET_FILE)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let refused = bind(dir.path(), false).err().unwrap();
        assert_eq!(refused.kind(), std::io::ErrorKind::AddrInUse);
        let _successor = bind(dir.path(), true).unwrap();
        drop(first);
        // A file nobody answers on (a server that died) is replaced.
        let dead = tempfile::tempdir().unwrap();
        drop(bind(dead.path(), false).unwrap());
        assert!(bind(dead.path(), false).is_ok());
    }

    #[tokio::test]
    async fn a_link_to_another_servers_socket_is_neither_followed_nor_answered_for() {
        let other = tempfile::tempdir().unwrap();
        let _other_server = bind(other.path(), false).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let planted = dir.path().join(SOCKET_FILE);
        std::os::unix::fs::symlink(other.path().join(SOCKET_FILE), &planted).unwrap();
        let refused = request(dir.path(), Command::Reload).err().unwrap();
        assert!(matches!(refused, AdminError::NotASocket { .. }), "{refused}");
        let _ours = bind(dir.path(), false).expect("the link is replaced, not taken for a live server");
        assert!(is_socket(&planted));
        assert!(
            is_socket(&other.path().join(SOCKET_FILE)),
            "the other server's socket is untouched"
        );
    }
}
