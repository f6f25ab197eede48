//! [`FileStore`]: token sets in one JSON file, written atomically.

use super::store::{AccountKey, SaveOutcome, TokenStore, Versioned, store_error};
use crate::error::Error;
use crate::token_set::TokenSet;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Many accounts' token sets in one JSON file.
///
/// - **Atomic**: every save writes a temporary file in the same directory,
///   fsyncs it, renames it over the file and fsyncs the directory. A crash
///   at any point leaves the old file or the new one, never a torn one.
/// - **Private**: the file is created with mode `0600` (owner read/write).
/// - **Consistent**: saves are compare-and-swap on each entry's version,
///   under an exclusive lock on `<file>.lock`, so any number of managers in
///   one process, or processes on one machine, can share the file.
///
/// One file holds many accounts (keyed `provider/account`), and one fsync
/// per save. Every save rewrites the whole file, so it suits command-line
/// tools and services with up to a few thousand accounts; beyond that,
/// implement [`TokenStore`] over a database (its compare-and-swap maps onto
/// a conditional `UPDATE ... WHERE version = ?`). A corrupt file is reported
/// ([`Error::Store`]), never silently replaced.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

#[derive(Serialize, Deserialize, Default)]
struct FileContents {
    format: u32,
    accounts: BTreeMap<String, Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u64,
    tokens: TokenSet,
}

const FORMAT: u32 = 1;

impl FileStore {
    /// A store in `path` (created on first save; its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&FileStore) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || work(&this))
            .await
            .map_err(|_| store_error("token file task was cancelled"))?
    }

    fn read(&self) -> Result<FileContents, Error> {
        match fs::read(&self.path) {
            Ok(bytes) => {
                let contents: FileContents = serde_json::from_slice(&bytes).map_err(|e| {
                    store_error(format!(
                        "token file {} is corrupt at line {}, column {}: refusing to use or overwrite it",
                        self.path.display(),
                        e.line(),
                        e.column()
                    ))
                })?;
                if contents.format != FORMAT {
                    return Err(store_error(format!(
                        "token file {} has unknown format {}",
                        self.path.display(),
                        contents.format
                    )));
                }
                Ok(contents)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(FileContents {
                format: FORMAT,
                ..FileContents::default()
            }),
            Err(e) => Err(io_error("read", &self.path, &e)),
        }
    }

    /// Runs `update` on the contents under the exclusive lock and writes
    /// the result atomically when it returns `Some`.
    fn update<T>(&self, update: impl FnOnce(&mut FileContents) -> (T, bool)) -> Result<T, Error> {
        let lock_path = self.lock_path();
        let lock = open_private(&lock_path, false)?;
        lock.lock().map_err(|e| io_error("lock", &lock_path, &e))?;
        let mut contents = self.read()?;
        let (result, changed) = update(&mut contents);
        if changed {
            remove_stale_temp_files(&self.path);
            let bytes = serde_json::to_vec_pretty(&contents)
                .map_err(|_| store_error("cannot serialize the token file"))?;
            write_atomically(&self.path, &bytes)?;
        }
        drop(lock);
        Ok(result)
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Removes the temp files that writers killed mid-save left behind (they
/// hold tokens). Called under the exclusive lock: every writer holds it
/// while its temp file exists, so any temp file found then is stale.
fn remove_stale_temp_files(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Some(file_name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{file_name}.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix)
            && name.ends_with(".tmp")
            && let Err(e) = fs::remove_file(entry.path())
        {
            tracing::warn!(error = %e, "cannot remove a stale temp token file");
        }
    }
}

/// Temp file in the same directory, fsync, rename, fsync the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let temp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = open_private(&temp, true)?;
        file.write_all(bytes)
            .map_err(|e| io_error("write", &temp, &e))?;
        file.sync_all().map_err(|e| io_error("fsync", &temp, &e))?;
        drop(file);
        fs::rename(&temp, path).map_err(|e| io_error("rename", path, &e))?;
        let dir_handle = File::open(&dir).map_err(|e| io_error("open directory", &dir, &e))?;
        dir_handle
            .sync_all()
            .map_err(|e| io_error("fsync directory", &dir, &e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Opens (creating with mode 0600) a file for writing.
fn open_private(path: &Path, create_new: bool) -> Result<File, Error> {
    let mut options = OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(false);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| io_error("open", path, &e))
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    store_error(format!("cannot {what} {}: {e}", path.display()))
}

/// The ids of `provider`'s accounts in `accounts` (keys `provider/account`,
/// split on the first `/`), after `after`, at most `limit`.
fn accounts_of(
    accounts: &BTreeMap<String, Entry>,
    provider: &str,
    after: Option<&str>,
    limit: usize,
) -> Vec<String> {
    let prefix = format!("{provider}/");
    // Keys sharing the prefix are contiguous and ordered as their suffixes.
    let start = match after {
        Some(after) => Bound::Excluded(format!("{prefix}{after}")),
        None => Bound::Included(prefix.clone()),
    };
    accounts
        .range::<String, _>((start, Bound::Unbounded))
        .map(|(key, _)| key)
        .take_while(|key| key.starts_with(&prefix))
        .filter_map(|key| {
            key.split_once('/')
                .filter(|(p, _)| *p == provider)
                .map(|(_, account)| account.to_owned())
        })
        .take(limit)
        .collect()
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        let key = key.to_key_string();
        self.blocking(move |store| {
            let contents = store.read()?;
            Ok(contents.accounts.get(&key).map(|e| Versioned {
                tokens: e.tokens.clone(),
                version: e.version,
            }))
        })
        .await
    }

    async fn save(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        let key = key.to_key_string();
        let tokens = tokens.clone();
        self.blocking(move |store| {
            store.update(|contents| {
                let current = contents.accounts.get(&key);
                if current.map(|e| e.version) != expected {
                    let current = current.map(|e| Versioned {
                        tokens: e.tokens.clone(),
                        version: e.version,
                    });
                    return (SaveOutcome::Conflict { current }, false);
                }
                let version = expected.unwrap_or(0) + 1;
                contents.accounts.insert(key, Entry { version, tokens });
                (SaveOutcome::Saved { version }, true)
            })
        })
        .await
    }

    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        let key = key.to_key_string();
        self.blocking(move |store| {
            store.update(|contents| ((), contents.accounts.remove(&key).is_some()))
        })
        .await
    }

    async fn list_accounts(
        &self,
        provider: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let provider = provider.to_owned();
        let after = after.map(str::to_owned);
        self.blocking(move |store| {
            let contents = store.read()?;
            Ok(accounts_of(
                &contents.accounts,
                &provider,
                after.as_deref(),
                limit,
            ))
        })
        .await
    }
}
