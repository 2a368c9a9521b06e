//! Tells systemd what the server is doing (`Type=notify`, docs/reliability.md "Under systemd"): ready once it
//! accepts, and, after a host upgrade, which process is now the service's main one (`MAINPID`, which systemd
//! accepts from the new process with `NotifyAccess=all`). Without `NOTIFY_SOCKET` (not under systemd) nothing is
//! sent.

/// Sends `state` (`READY=1`, `MAINPID=…`, `STOPPING=1`, one per line) to systemd, if it is listening.
pub fn notify(state: &str) {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sent = send(&socket, state);
    if let Err(e) = sent {
        tracing::warn!("cannot notify systemd ({state}): {e}");
    }
}

fn send(socket: &std::ffi::OsStr, state: &str) -> std::io::Result<()> {
    use std::os::unix::net::UnixDatagram;
    let datagram = UnixDatagram::unbound()?;
    let bytes = socket.as_encoded_bytes();
    match bytes.strip_prefix(b"@") {
        // An abstract socket (systemd's default is a path, but it may hand either).
        #[cfg(target_os = "linux")]
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            datagram.send_to_addr(state.as_bytes(), &address)?;
        }
        _ => {
            datagram.send_to(state.as_bytes(), socket)?;
        }
    }
    Ok(())
}
