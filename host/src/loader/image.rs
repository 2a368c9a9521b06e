//! A private, sealed copy of a library's bytes to load from, so that what is loaded is exactly what was hashed
//! and checked: replacing or editing the file in `plugin_dir` after the check changes nothing.
//!
//! On Linux the copy is a sealed `memfd` (no file on disk, cannot be written after sealing), loaded through its
//! `/proc/self/fd/N` path. Elsewhere it is a file in a fresh private (0700) temporary directory.

use std::path::PathBuf;

/// Where the checked bytes can be loaded from. Kept for the life of the process: the library stays mapped.
#[derive(Debug)]
pub struct Image {
    path: PathBuf,
}

impl Image {
    /// The path to hand to `dlopen`.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Writes `bytes` into a new private image.
    #[cfg(target_os = "linux")]
    pub fn new(name: &str, bytes: &[u8]) -> std::io::Result<Image> {
        use std::{
            ffi::CString,
            fs::File,
            io::Write,
            os::fd::{FromRawFd, IntoRawFd},
        };
        let label = CString::new(format!("openhost-plugin-{name}")).unwrap_or_default();
        // SAFETY: `label` is a valid NUL-terminated string; the flags are documented memfd_create flags.
        let fd = unsafe { libc::memfd_create(label.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` was just created and is owned by nobody else.
        let mut file = unsafe { File::from_raw_fd(fd) };
        file.write_all(bytes)?;
        let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
        // `F_SEAL_WRITE` fails with EBUSY while the kernel still holds an extra reference to one of the pages it
        // just wrote (page migration or compaction, briefly): seen once in CI. A few short retries outlast that.
        let mut attempts = 0;
        // SAFETY: fcntl on a descriptor we own, with a documented command and argument.
        while unsafe { libc::fcntl(fd, libc::F_ADD_SEALS, seals) } < 0 {
            let error = std::io::Error::last_os_error();
            attempts += 1;
            if error.raw_os_error() != Some(libc::EBUSY) || attempts == 5 {
                return Err(error);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // The descriptor stays open for the life of the process, like the library mapped from it.
        let fd = file.into_raw_fd();
        Ok(Image {
            path: PathBuf::from(format!("/proc/self/fd/{fd}")),
        })
    }

    /// Writes `bytes` into a new private image.
    #[cfg(not(target_os = "linux"))]
    pub fn new(name: &str, bytes: &[u8]) -> std::io::Result<Image> {
        use std::{fs::DirBuilder, io::Write};
        let unique = format!(
            "openhost-plugin-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let dir = std::env::temp_dir().join(unique);
        let mut builder = DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir)?;
        let path = dir.join(format!("{name}.{}", std::env::consts::DLL_EXTENSION));
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        file.write_all(bytes)?;
        Ok(Image { path })
    }
}
