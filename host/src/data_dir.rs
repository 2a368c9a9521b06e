//! The data directory holds users' settings, sealed secrets and the host key: it is created private (0700, files
//! 0600) and kept so (docs/security.md, "Secrets at rest").

use std::path::Path;

/// Creates `dir` (mode 0700) or tightens an existing one: the directory, the files directly in it and sled's
/// `blobs/` lose every group and other permission (owner bits are kept, so nothing else changes); returns how
/// many entries were open to others. Other subdirectories are not the store's and are left alone, so a data
/// directory pointed at by mistake at a wider tree is not rewritten. Also sets the process's file-creation mask
/// so that whatever the store creates later is private too.
pub fn make_private(dir: &Path) -> std::io::Result<usize> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        restrict_new_files();
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let mut loosened = tighten(dir)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_file() {
                loosened += tighten(&entry.path())?;
            } else if kind.is_dir() && entry.file_name() == "blobs" {
                loosened += tighten(&entry.path())?;
                for blob in std::fs::read_dir(entry.path())? {
                    let blob = blob?;
                    if blob.file_type()?.is_file() {
                        loosened += tighten(&blob.path())?;
                    }
                }
            }
        }
        Ok(loosened)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)?;
        Ok(0)
    }
}

/// Clears the group and other bits of one entry; 1 if there were any.
#[cfg(unix)]
fn tighten(path: &Path) -> std::io::Result<usize> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(0);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & !0o077))?;
    Ok(1)
}

/// New files and directories of this process get no group or other permissions. `openhost serve` sets this at
/// start whatever the store, so that nothing it creates (the admin socket between its bind and its chmod, too)
/// is ever open to others.
#[cfg(unix)]
pub fn restrict_new_files() {
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
    fn an_open_data_dir_is_closed_and_nothing_else_is_touched() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        std::fs::create_dir_all(dir.join("blobs")).unwrap();
        std::fs::create_dir_all(dir.join("other")).unwrap();
        std::fs::write(dir.join("db"), b"x").unwrap();
        std::fs::write(dir.join("blobs/1"), b"x").unwrap();
        std::fs::write(dir.join("other/script.sh"), b"x").unwrap();
        for (path, mode) in [
            (dir.clone(), 0o755),
            (dir.join("blobs"), 0o755),
            (dir.join("db"), 0o644),
            (dir.join("blobs/1"), 0o644),
            (dir.join("other/script.sh"), 0o755),
        ] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        assert_eq!(make_private(&dir).unwrap(), 4);
        assert_eq!(
            (mode(&dir), mode(&dir.join("blobs")), mode(&dir.join("db"))),
            (0o700, 0o700, 0o600)
        );
        assert_eq!(mode(&dir.join("blobs/1")), 0o600);
        assert_eq!(mode(&dir.join("other/script.sh")), 0o755, "not the store's: untouched");
        assert_eq!(make_private(&dir).unwrap(), 0);
        let fresh = root.path().join("fresh/data");
        make_private(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
    }
}
