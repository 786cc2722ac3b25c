//! Files that must survive a crash: written to a temporary file, fsynced, renamed over the target,
//! and the directory fsynced, so a reader sees either the old contents or the new, never a torn mix.
//! Agents keep their traces and state files this way.

use serde::{Serialize, de::DeserializeOwned};
use std::{io::Write, path::Path};

/// Writes `bytes` to `path` durably (creating its directory).
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Writes `value` as pretty JSON to `path` durably.
pub fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    write(
        path,
        &serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?,
    )
}

/// Reads the JSON in `path`, or `None` if there is no such file. Malformed JSON is an
/// [`std::io::ErrorKind::InvalidData`] error that names what is wrong.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> std::io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_and_garbage_is_invalid_data() {
        let dir = std::env::temp_dir().join(format!("vouch-durable-{}", std::process::id()));
        let path = dir.join("nested/state.json");
        assert_eq!(read_json::<Vec<u32>>(&path).unwrap(), None);
        write_json(&path, &vec![1u32, 2, 3]).unwrap();
        assert_eq!(read_json::<Vec<u32>>(&path).unwrap(), Some(vec![1, 2, 3]));
        assert!(
            !path.with_extension("tmp").exists(),
            "no temporary file left"
        );
        write(&path, b"{not json").unwrap();
        let err = read_json::<Vec<u32>>(&path).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
