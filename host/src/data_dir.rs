//! The data directory holds users' settings, sealed secrets and the host key: it is created private (0700, files
//! 0600) and kept so (docs/security.md, "Secrets at rest").

use std::path::Path;

/// Creates `dir` (mode 0700) or tightens an existing one, its subdirectories (0700) and files (0600); returns
/// how many entries were readable by others before. Also sets the process's file-creation mask so that whatever
/// the store creates later is private too.
pub fn make_private(dir: &Path) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        restrict_new_files();
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        tighten(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)?;
        Ok(0)
    }
}

#[cfg(unix)]
fn tighten(path: &Path) -> std::io::Result<usize> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::symlink_metadata(path)?;
    if metadata.file_type().is_symlink() {
        return Ok(0);
    }
    let private = if metadata.is_dir() { 0o700 } else { 0o600 };
    let mut loosened = 0;
    if metadata.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(private))?;
        loosened += 1;
    }
    if metadata.is_dir() {
        for entry in std::fs::read_dir(path)? {
            loosened += tighten(&entry?.path())?;
        }
    }
    Ok(loosened)
}

/// New files and directories of this process get no group or other permissions.
#[cfg(unix)]
fn restrict_new_files() {
    #[cfg(target_os = "linux")]
    // SAFETY: umask only swaps the process's creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_open_data_dir_is_closed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir_all(dir.join("blobs")).unwrap();
        std::fs::write(dir.join("db"), b"x").unwrap();
        for path in [dir.as_path(), &dir.join("blobs")] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(dir.join("db"), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(make_private(&dir).unwrap(), 3);
        assert_eq!(
            (mode(&dir), mode(&dir.join("blobs")), mode(&dir.join("db"))),
            (0o700, 0o700, 0o600)
        );
        assert_eq!(make_private(&dir).unwrap(), 0);
        let fresh = root.path().join("fresh/data");
        make_private(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
    }
}
