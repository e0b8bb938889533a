//! Temporary folders that are removed whatever happens (a failed build, an error, a panic): the
//! build context of the service image and the debootstrap folders. debootstrap bind-mounts
//! devices and mounts `/proc` inside its target and a killed run can leave them mounted, so
//! anything mounted below the folder is unmounted before it is removed: removing through a
//! mount would reach the host's files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::errors::{Error, Result};

/// A folder removed on drop.
#[derive(Debug)]
pub(crate) struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    /// Creates `<base>/<prefix>-<pid>-<nanos>`.
    pub fn new(base: &Path, prefix: &str) -> Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = base.join(format!("{prefix}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| Error::io("creating", &path, e))?;
        Ok(WorkDir { path })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The mount points at or below `dir`, deepest first, from `/proc/self/mountinfo` text.
pub(crate) fn mounts_below(mountinfo: &str, dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_mount_path)
        .map(PathBuf::from)
        .filter(|p| p.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found.dedup();
    found
}

/// mountinfo escapes space, tab, newline and backslash as octal (`\040`).
fn unescape_mount_path(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4);
        if bytes[i] == b'\\'
            && let Some(digits) = octal
            && digits.iter().all(|b| (b'0'..=b'7').contains(b))
        {
            out.push(
                digits
                    .iter()
                    .fold(0u8, |n, d| n.wrapping_mul(8).wrapping_add(d - b'0')),
            );
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") {
            for mount in mounts_below(&info, &self.path) {
                let _ = Command::new("umount").arg("-l").arg(&mount).status();
            }
            // Something still mounted (umount failed): leave the folder rather than delete
            // through the mount.
            if let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo")
                && !mounts_below(&info, &self.path).is_empty()
            {
                return;
            }
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_below_a_folder_deepest_first() {
        let info = "22 1 0:21 / /proc rw - proc proc rw\n\
                    40 30 0:5 /null /tmp/r/rootfs/dev/null rw - devtmpfs udev rw\n\
                    41 30 0:22 / /tmp/r/rootfs/proc rw - proc proc rw\n\
                    42 30 0:23 / /tmp/r/rootfs/proc/sys/fs/binfmt_misc rw - binfmt_misc x rw\n\
                    43 30 0:24 / /tmp/r\\040x rw - tmpfs t rw\n\
                    44 30 0:25 / /tmp/rr rw - tmpfs t rw\n";
        let found = mounts_below(info, Path::new("/tmp/r"));
        assert_eq!(
            found,
            vec![
                PathBuf::from("/tmp/r/rootfs/proc/sys/fs/binfmt_misc"),
                PathBuf::from("/tmp/r/rootfs/dev/null"),
                PathBuf::from("/tmp/r/rootfs/proc"),
            ]
        );
        assert_eq!(
            mounts_below(info, Path::new("/tmp/r x")),
            vec![PathBuf::from("/tmp/r x")]
        );
    }

    #[test]
    fn the_folder_is_removed_on_drop() {
        let dir = WorkDir::new(&std::env::temp_dir(), "cdb-workdir-test").unwrap();
        let path = dir.path().to_path_buf();
        std::fs::create_dir_all(path.join("a/b")).unwrap();
        std::fs::write(path.join("a/b/c"), "x").unwrap();
        drop(dir);
        assert!(!path.exists());
    }
}
