//! Files and folders only this user can read: the settings name the users
//! and the upstream hops, the logs name clients, targets and users. On Unix
//! every folder the app makes is 0700 and every file 0600, whatever the
//! umask; a folder or file an older version left readable to others is
//! narrowed when the app next uses it. Elsewhere the OS defaults apply
//! (per-user folders on Windows and macOS).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of the app's folders.
#[cfg(unix)]
pub const DIR_MODE: u32 = 0o700;
/// The mode of the app's files.
#[cfg(unix)]
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and the folders above it that are missing, each 0700, and
/// makes `dir` itself 0700 if it existed already. Folders above `dir` that
/// existed are left as they are.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(DIR_MODE);
        builder.create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
    }
    #[cfg(not(unix))]
    builder.create(dir)
}

/// Options that create a file 0600 (the mode applies only to a file they
/// create: see [`restrict`] for one that existed).
pub fn options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options
}

/// Makes an open file 0600.
pub fn restrict(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

/// Writes `bytes` to the file at `path` atomically (a new file beside the
/// old, flushed to disk, then renamed over it), 0600 in a folder 0700: a
/// crash leaves the old contents or the new, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir(dir)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    {
        let mut file = options().write(true).create(true).truncate(true).open(&tmp)?;
        // A temporary file an interrupted write left keeps its mode.
        restrict(&file)?;
        io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // The rename is durable once the directory is flushed too.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Makes the file at `path` 0600.
pub fn restrict_path(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// The permission bits of `path` (tests and checks).
#[cfg(all(test, unix))]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;

    use super::*;

    /// The modes are set explicitly, so they do not depend on the umask
    /// (022 on most desktops would leave files readable to others).
    #[test]
    fn folders_are_0700_and_files_0600_whatever_existed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a").join("b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700, "a folder made on the way");
        assert_eq!(mode(&dir), 0o700);

        // A folder an older version made 0755 is narrowed.
        let old = root.path().join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::set_permissions(&old, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        create_dir(&old).unwrap();
        assert_eq!(mode(&old), 0o700);

        let path = dir.join("f");
        let mut file = options().write(true).create_new(true).open(&path).unwrap();
        file.write_all(b"x").unwrap();
        assert_eq!(mode(&path), 0o600);

        let older = dir.join("older");
        std::fs::write(&older, "x").unwrap();
        std::fs::set_permissions(&older, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        restrict(&File::open(&older).unwrap()).unwrap();
        assert_eq!(mode(&older), 0o600);
        std::fs::set_permissions(&older, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .unwrap();
        restrict_path(&older).unwrap();
        assert_eq!(mode(&older), 0o600);
    }
}
