//! [`FileStore`]: token sets in one JSON file, written atomically.

use super::lease::{Lease, LeaseOutcome, LeaseOwner, lease_expiry};
use super::store::{AccountKey, SaveOutcome, TokenStore, Versioned, store_error};
use crate::clock::{from_unix_millis, to_unix_millis};
use crate::error::Error;
use crate::token_set::TokenSet;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, TryLockError};
use std::io::{ErrorKind, Read, Write};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Many accounts' token sets in one JSON file.
///
/// - **Atomic**: every save writes a temporary file in the same directory,
///   fsyncs it, renames it over the file and fsyncs the directory. A crash
///   at any point leaves the old file or the new one, never a torn one;
///   temporary files left by a writer killed mid-save (they hold tokens)
///   are removed by the next save.
/// - **Private**: the file is created with mode `0600` (owner read/write).
/// - **Consistent**: saves are compare-and-swap on each entry's version,
///   under an exclusive lock on `<file>.lock`, so any number of managers in
///   one process, or processes on one machine, can share the file.
/// - **Leases**: it implements refresh [leases](super::lease) across the
///   processes sharing the file. Lease records (holder, fencing number,
///   expiry in Unix milliseconds by the system clock) live in the same file,
///   are granted, released and checked under the same lock, and written with
///   the same atomic write: a grant survives a crash, and every process sees
///   it. A record outlives its account's [`delete`](TokenStore::delete)
///   (fencing numbers never go down) and never shows in
///   [`list_accounts`](TokenStore::list_accounts). Files written before
///   leases (without records) load as they are; a file with records written
///   back by an older version loses them (fencing numbers then start again).
///
/// One file holds many accounts (keyed `provider/account`), and one fsync
/// per save. Every save rewrites the whole file, so it suits command-line
/// tools and services with up to a few thousand accounts; beyond that,
/// implement [`TokenStore`] over a database (its compare-and-swap maps onto
/// a conditional `UPDATE ... WHERE version = ?`). A corrupt file is reported
/// ([`Error::Store`]), never silently replaced.
///
/// # Policies
/// - **Bounded lock wait**: a save, delete, lease operation or
///   [`check_writable`](TokenStore::check_writable) waits at most
///   [`DEFAULT_LOCK_TIMEOUT`](Self::DEFAULT_LOCK_TIMEOUT) (10 s) for the
///   lock held by another writer, then fails with [`Error::StoreBusy`]
///   (retryable; nothing was read or written). Set with
///   [`with_lock_timeout`](Self::with_lock_timeout).
/// - **Size cap**: a token file larger than
///   [`DEFAULT_MAX_FILE_BYTES`](Self::DEFAULT_MAX_FILE_BYTES) (16 MiB) is
///   refused ([`Error::Store`]) without being read, and a save that would
///   make it larger is refused without writing. Set with
///   [`with_max_file_bytes`](Self::with_max_file_bytes).
/// - **Regular files only**: a token file that exists but is not a regular
///   file (a directory, FIFO, socket or device such as `/dev/zero`) is
///   refused ([`Error::Store`]) before it is opened in any way that could
///   block; the opened handle is checked again (`fstat`). So is such a lock
///   file, by the operations that take the lock (reads do not open it).
/// - **No symbolic links**: if the token file or its lock file is a
///   symbolic link, every operation fails ([`Error::Store`]: give the real
///   path); the link and its target are left untouched. Files are opened
///   with `O_NOFOLLOW` (on Linux; elsewhere links are refused just before
///   opening), so nothing is ever read, written or created through a link.
/// - **Private directory**: a token file whose directory is writable by
///   other users (mode `o+w`, sticky or not, like `/tmp`: another user
///   could plant or hold the lock file) is refused ([`Error::Store`]) unless
///   [`allow_shared_directory(true)`](Self::allow_shared_directory); a
///   group-writable directory is accepted with a warning (logged once).
///   Unix only.
/// - **Write check**: [`check_writable`](TokenStore::check_writable) takes
///   the lock, reads and parses the file, opens an existing file for
///   writing (without truncating it), and creates, writes, fsyncs and
///   removes a temporary file in the directory: what a save needs, short of
///   the rename. Managers call it before spending a single-use code or
///   refresh token.
///
/// Errors name the path and what could not be done, never a token.
///
/// ```
/// use oauth_core::{AccessToken, AccountKey, FileStore, TokenSet, TokenStore};
/// use std::time::{Duration, SystemTime};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?; // a private directory (mode 0700)
/// let store = FileStore::new(dir.path().join("tokens.json"))
///     .with_lock_timeout(Duration::from_secs(2));
/// store.check_writable().await?;
///
/// let key = AccountKey::new("aliexpress", "seller-1");
/// let tokens = TokenSet::new(
///     AccessToken::new("access-token"),
///     SystemTime::now() + Duration::from_secs(7200),
/// );
/// store.save(&key, &tokens, None).await?;
/// let stored = store.load(&key).await?.expect("saved");
/// assert_eq!(stored.version, 1);
/// assert_eq!(store.list_accounts("aliexpress", None, 10).await?, ["seller-1"]);
///
/// // Shared directories such as /tmp are refused unless allowed.
/// # #[cfg(unix)] {
/// let shared = FileStore::new("/tmp/tokens.json");
/// assert!(shared.load(&key).await.is_err());
/// # }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
    lock_timeout: Duration,
    max_file_bytes: usize,
    allow_shared_directory: bool,
    /// Set once the group-writable directory warning was logged (shared by
    /// clones).
    warned_group_writable: Arc<AtomicBool>,
}

#[derive(Serialize, Deserialize, Default)]
struct FileContents {
    format: u32,
    accounts: BTreeMap<String, Entry>,
    /// Refresh leases, keyed as `accounts` (`provider/account`); absent
    /// from files written before leases, and when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    leases: BTreeMap<String, LeaseRecord>,
}

/// The refresh lease of one account.
#[derive(Serialize, Deserialize)]
struct LeaseRecord {
    /// The highest fencing number granted (kept after the lease is
    /// released and after the account is deleted).
    fence: u64,
    /// The holder of the lease numbered `fence`, until it is released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    holder: Option<LeaseHolder>,
}

#[derive(Serialize, Deserialize)]
struct LeaseHolder {
    owner: String,
    /// When the lease lapses, in Unix milliseconds (system clock).
    expires_at: u64,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    version: u64,
    tokens: TokenSet,
}

const FORMAT: u32 = 1;

/// What the token file and the lock file are called in errors.
const TOKEN_FILE: &str = "token file";
const LOCK_FILE: &str = "lock file";

/// The longest pause between two attempts to take a held lock.
const MAX_LOCK_PAUSE: Duration = Duration::from_millis(20);

impl FileStore {
    /// How long a writer waits for the lock by default: 10 s.
    pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

    /// The largest token file read by default: 16 MiB.
    pub const DEFAULT_MAX_FILE_BYTES: usize = 16 << 20;

    /// A store in `path` (created on first save; its directory must exist),
    /// with the default policies (see the type's documentation).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock_timeout: Self::DEFAULT_LOCK_TIMEOUT,
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
            allow_shared_directory: false,
            warned_group_writable: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Waits at most `timeout` for the lock held by another writer before
    /// failing with [`Error::StoreBusy`] (default
    /// [`DEFAULT_LOCK_TIMEOUT`](Self::DEFAULT_LOCK_TIMEOUT); zero: try once).
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Refuses to read a token file larger than `max` bytes, and to save
    /// one that would be (default
    /// [`DEFAULT_MAX_FILE_BYTES`](Self::DEFAULT_MAX_FILE_BYTES)).
    #[must_use]
    pub fn with_max_file_bytes(mut self, max: usize) -> Self {
        self.max_file_bytes = max;
        self
    }

    /// Accepts a token file in a directory that other users can write to
    /// (`o+w`, e.g. `/tmp`), which is refused by default: another user could
    /// create the lock file first and hold it, or plant files next to the
    /// token file. Only for directories whose other writers are trusted.
    #[must_use]
    pub fn allow_shared_directory(mut self, allow: bool) -> Self {
        self.allow_shared_directory = allow;
        self
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

    /// The checks every operation makes before opening anything: the
    /// directory is private, the token file is neither a symbolic link nor
    /// anything but a regular file, and neither is the lock file (for
    /// operations that take the lock; reads only refuse a linked lock file).
    fn preflight(&self, locking: bool) -> Result<(), Error> {
        self.check_directory()?;
        inspect(&self.path, TOKEN_FILE)?;
        let lock_path = self.lock_path();
        if locking {
            inspect(&lock_path, LOCK_FILE)?;
        } else if fs::symlink_metadata(&lock_path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(symlink_error(&lock_path, LOCK_FILE));
        }
        Ok(())
    }

    #[cfg(unix)]
    fn check_directory(&self) -> Result<(), Error> {
        use std::os::unix::fs::PermissionsExt;
        let dir = directory_of(&self.path);
        let mode = match fs::metadata(&dir) {
            Ok(metadata) => metadata.permissions().mode(),
            // Reported by whatever opens a file in it.
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error("inspect the directory", &dir, &e)),
        };
        if self.allow_shared_directory {
            return Ok(());
        }
        if mode & 0o002 != 0 {
            return Err(store_error(format!(
                "the directory {} of the token file is writable by other users (mode {:o}): \
                 another user could create and hold its lock file or plant files next to it; \
                 move the token file to a private directory, or opt in with \
                 FileStore::allow_shared_directory(true)",
                dir.display(),
                mode & 0o7777
            )));
        }
        if mode & 0o020 != 0 && !self.warned_group_writable.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                directory = %dir.display(),
                "the directory of the token file is group-writable: group members can hold its lock file"
            );
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn check_directory(&self) -> Result<(), Error> {
        Ok(())
    }

    /// The file's contents (empty if it does not exist).
    fn read(&self) -> Result<FileContents, Error> {
        let Some(bytes) = self.read_bytes()? else {
            return Ok(FileContents {
                format: FORMAT,
                ..FileContents::default()
            });
        };
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

    /// The file's bytes, `None` if it does not exist; refuses links,
    /// non-regular files and files over the cap without blocking or
    /// reading them.
    fn read_bytes(&self) -> Result<Option<Vec<u8>>, Error> {
        if inspect(&self.path, TOKEN_FILE)?.is_none() {
            return Ok(None);
        }
        let file = match open_no_follow(&self.path, Access::Read) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(open_error(&self.path, TOKEN_FILE, "open", &e)),
        };
        let len = check_handle(&file, &self.path, TOKEN_FILE)?;
        let cap = u64::try_from(self.max_file_bytes).unwrap_or(u64::MAX);
        if len > cap {
            return Err(self.too_large(Some(len)));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        // The file may grow between the fstat and the read: read one byte
        // more than the cap to notice, never more.
        (&file)
            .take(cap.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| io_error("read", &self.path, &e))?;
        if bytes.len() > self.max_file_bytes {
            return Err(self.too_large(None));
        }
        Ok(Some(bytes))
    }

    fn too_large(&self, len: Option<u64>) -> Error {
        store_error(format!(
            "token file {} is larger than the cap of {} bytes{}: refusing to read it \
             (raise it with FileStore::with_max_file_bytes)",
            self.path.display(),
            self.max_file_bytes,
            len.map(|l| format!(" ({l} bytes)")).unwrap_or_default()
        ))
    }

    /// Takes the exclusive lock, waiting at most the lock timeout.
    fn lock(&self) -> Result<File, Error> {
        let lock_path = self.lock_path();
        let lock = open_no_follow(&lock_path, Access::CreateOrOpen)
            .map_err(|e| open_error(&lock_path, LOCK_FILE, "open", &e))?;
        check_handle(&lock, &lock_path, LOCK_FILE)?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match lock.try_lock() {
                Ok(()) => return Ok(lock),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(io_error("lock", &lock_path, &e)),
            }
            let waited = started.elapsed();
            let Some(left) = self
                .lock_timeout
                .checked_sub(waited)
                .filter(|l| !l.is_zero())
            else {
                return Err(Error::StoreBusy {
                    message: format!(
                        "the lock file {} is held by another writer; gave up after waiting {} ms \
                         (FileStore::with_lock_timeout)",
                        lock_path.display(),
                        waited.as_millis()
                    ),
                });
            };
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(MAX_LOCK_PAUSE);
        }
    }

    /// Runs `update` on the contents under the exclusive lock and writes
    /// the result atomically when it returns `true`.
    fn update<T>(&self, update: impl FnOnce(&mut FileContents) -> (T, bool)) -> Result<T, Error> {
        self.preflight(true)?;
        let lock = self.lock()?;
        let mut contents = self.read()?;
        let (result, changed) = update(&mut contents);
        if changed {
            remove_stale_temp_files(&self.path);
            let bytes = serde_json::to_vec_pretty(&contents)
                .map_err(|_| store_error("cannot serialize the token file"))?;
            if bytes.len() > self.max_file_bytes {
                return Err(store_error(format!(
                    "saving would make the token file {} larger than the cap of {} bytes \
                     ({} bytes); nothing was written (raise it with FileStore::with_max_file_bytes)",
                    self.path.display(),
                    self.max_file_bytes,
                    bytes.len()
                )));
            }
            write_atomically(&self.path, &bytes)?;
        }
        drop(lock);
        Ok(result)
    }

    /// What a save does, short of replacing the file.
    fn probe(&self) -> Result<(), Error> {
        self.preflight(true)?;
        let lock = self.lock()?;
        // A save reads and parses the file first.
        let exists = inspect(&self.path, TOKEN_FILE)?.is_some();
        self.read()?;
        if exists {
            let file = open_no_follow(&self.path, Access::WriteExisting)
                .map_err(|e| open_error(&self.path, TOKEN_FILE, "open for writing", &e))?;
            check_handle(&file, &self.path, TOKEN_FILE)?;
        }
        let dir = directory_of(&self.path);
        let temp = temp_path(&self.path);
        let written = (|| {
            let mut file = open_no_follow(&temp, Access::CreateNew)
                .map_err(|e| io_error("create the temp file", &temp, &e))?;
            file.write_all(b"{}\n")
                .map_err(|e| io_error("write the temp file", &temp, &e))?;
            file.sync_all()
                .map_err(|e| io_error("fsync the temp file", &temp, &e))
        })();
        let removed = fs::remove_file(&temp);
        written?;
        removed.map_err(|e| io_error("remove the temp file", &temp, &e))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("fsync the directory", &dir, &e))?;
        drop(lock);
        Ok(())
    }
}

/// The directory of `path` (`.` for a bare file name).
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// What `path` is, without following a link: `None` if nothing is there;
/// an error for a symbolic link or anything but a regular file.
fn inspect(path: &Path, what: &str) -> Result<Option<fs::Metadata>, Error> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => Err(symlink_error(path, what)),
        Ok(metadata) if !metadata.is_file() => Err(not_regular(path, what, &metadata)),
        Ok(metadata) => Ok(Some(metadata)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("inspect", path, &e)),
    }
}

fn symlink_error(path: &Path, what: &str) -> Error {
    store_error(format!(
        "{what} {} is a symbolic link; give the real path (links are not followed)",
        path.display()
    ))
}

/// Checks that an opened handle is a regular file; returns its length.
fn check_handle(file: &File, path: &Path, what: &str) -> Result<u64, Error> {
    let metadata = file.metadata().map_err(|e| io_error("inspect", path, &e))?;
    if metadata.is_file() {
        Ok(metadata.len())
    } else {
        Err(not_regular(path, what, &metadata))
    }
}

fn not_regular(path: &Path, what: &str, metadata: &fs::Metadata) -> Error {
    store_error(format!(
        "{what} {} is not a regular file (it is {}); refusing to use it",
        path.display(),
        file_kind(metadata)
    ))
}

fn file_kind(metadata: &fs::Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    if kind.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
    }
    "not a regular file"
}

/// An open that failed: names a link or a non-regular file that appeared
/// since the checks (`O_NOFOLLOW` fails on a link, `O_NONBLOCK` writes on a
/// FIFO without reader), else the I/O error.
fn open_error(path: &Path, what: &str, action: &str, e: &std::io::Error) -> Error {
    match inspect(path, what) {
        Err(refused) => refused,
        Ok(_) => io_error(&format!("{action} the {what}"), path, e),
    }
}

/// How a file is opened by [`open_no_follow`].
#[derive(Clone, Copy)]
enum Access {
    /// Read an existing file.
    Read,
    /// Write an existing file, without truncating it.
    WriteExisting,
    /// Open for writing, creating it (mode 0600) if absent.
    CreateOrOpen,
    /// Create a new file (mode 0600) for writing; fails if anything is there.
    CreateNew,
}

/// Opens `path` without following a symbolic link and without blocking on
/// a FIFO or device (`O_NOFOLLOW | O_NONBLOCK`); files are created with
/// mode 0600.
#[cfg(target_os = "linux")]
fn open_no_follow(path: &Path, access: Access) -> std::io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let access = match access {
        Access::Read => OFlags::RDONLY,
        Access::WriteExisting => OFlags::WRONLY,
        Access::CreateOrOpen => OFlags::WRONLY | OFlags::CREATE,
        Access::CreateNew => OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL,
    };
    let fd = rustix::fs::open(
        path,
        access | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::RUSR | Mode::WUSR,
    )?;
    Ok(File::from(fd))
}

/// Opens `path`; files are created with mode 0600. Without `O_NOFOLLOW` in
/// `std`, callers refuse links and non-regular files just before opening
/// ([`inspect`]) and check the opened handle ([`check_handle`]).
#[cfg(not(target_os = "linux"))]
fn open_no_follow(path: &Path, access: Access) -> std::io::Result<File> {
    let mut options = fs::OpenOptions::new();
    match access {
        Access::Read => options.read(true),
        Access::WriteExisting => options.write(true),
        Access::CreateOrOpen => options.write(true).create(true).truncate(false),
        Access::CreateNew => options.write(true).create_new(true),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::other("is a symbolic link"));
    }
    options.open(path)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh temp file name next to `path`: `.<name>.<pid>.<n>.tmp`.
fn temp_path(path: &Path) -> PathBuf {
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    directory_of(path).join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Removes the temp files that writers killed mid-save left behind (they
/// hold tokens). Called under the exclusive lock: every writer holds it
/// while its temp file exists, so any temp file found then is stale.
fn remove_stale_temp_files(path: &Path) {
    let dir = directory_of(path);
    let Some(file_name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{file_name}.");
    let Ok(entries) = fs::read_dir(&dir) else {
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
    let dir = directory_of(path);
    let temp = temp_path(path);
    let result = (|| {
        let mut file =
            open_no_follow(&temp, Access::CreateNew).map_err(|e| io_error("create", &temp, &e))?;
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

/// A compare-and-swap save of `tokens` as the entry `key`; `true` if the
/// contents changed.
fn save_entry(
    contents: &mut FileContents,
    key: String,
    tokens: TokenSet,
    expected: Option<u64>,
) -> (SaveOutcome, bool) {
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
}

/// Grants the lease of `key` to `owner` at `now` for `ttl`, unless another
/// owner holds an unexpired one (the contract of [`super::lease`]); `true`
/// if the contents changed. `None` if the fencing numbers are exhausted.
fn grant_lease(
    contents: &mut FileContents,
    key: String,
    owner: &LeaseOwner,
    now: SystemTime,
    ttl: Duration,
) -> (Option<LeaseOutcome>, bool) {
    let now_ms = to_unix_millis(now);
    let record = contents.leases.entry(key).or_insert(LeaseRecord {
        fence: 0,
        holder: None,
    });
    if let Some(holder) = &record.holder
        && holder.owner != owner.as_str()
        && holder.expires_at > now_ms
    {
        let expires_at = from_unix_millis(holder.expires_at);
        return (Some(LeaseOutcome::Held { expires_at }), false);
    }
    let Some(fence) = record.fence.checked_add(1) else {
        return (None, false);
    };
    // Stored in milliseconds: the lease handed out says exactly what other
    // processes will read.
    let expires_at = to_unix_millis(lease_expiry(now, ttl));
    record.fence = fence;
    record.holder = Some(LeaseHolder {
        owner: owner.as_str().to_owned(),
        expires_at,
    });
    let lease = Lease {
        owner: owner.clone(),
        fence,
        expires_at: from_unix_millis(expires_at),
    };
    (Some(LeaseOutcome::Acquired(lease)), true)
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &AccountKey) -> Result<Option<Versioned>, Error> {
        let key = key.to_key_string();
        self.blocking(move |store| {
            store.preflight(false)?;
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
            store.update(|contents| save_entry(contents, key, tokens, expected))
        })
        .await
    }

    async fn save_fenced(
        &self,
        key: &AccountKey,
        tokens: &TokenSet,
        expected: Option<u64>,
        fence: u64,
    ) -> Result<SaveOutcome, Error> {
        let key = key.to_key_string();
        let tokens = tokens.clone();
        self.blocking(move |store| {
            store.update(|contents| {
                // As MemoryStore: a newer grant refuses the write whatever
                // the version; never leased counts as fence 0.
                if contents.leases.get(&key).map_or(0, |l| l.fence) != fence {
                    return (SaveOutcome::Fenced, false);
                }
                save_entry(contents, key, tokens, expected)
            })
        })
        .await
    }

    async fn acquire_lease(
        &self,
        key: &AccountKey,
        owner: &LeaseOwner,
        ttl: Duration,
    ) -> Result<LeaseOutcome, Error> {
        let account = key.to_string();
        let key = key.to_key_string();
        let owner = owner.clone();
        self.blocking(move |store| {
            store.update(|contents| {
                // Read the clock under the lock: the wait for it does not
                // shorten the lease.
                grant_lease(contents, key, &owner, SystemTime::now(), ttl)
            })
        })
        .await?
        .ok_or_else(|| {
            store_error(format!(
                "the fencing numbers of the lease of {account} are exhausted"
            ))
        })
    }

    async fn release_lease(&self, key: &AccountKey, lease: &Lease) -> Result<(), Error> {
        let key = key.to_key_string();
        let lease = lease.clone();
        self.blocking(move |store| {
            store.update(|contents| {
                let released = contents.leases.get_mut(&key).is_some_and(|record| {
                    let current = record.fence == lease.fence
                        && record
                            .holder
                            .as_ref()
                            .is_some_and(|h| h.owner == lease.owner.as_str());
                    if current {
                        record.holder = None;
                    }
                    current
                });
                ((), released)
            })
        })
        .await
    }

    async fn delete(&self, key: &AccountKey) -> Result<(), Error> {
        let key = key.to_key_string();
        // The lease record stays: fencing numbers never go down.
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
            store.preflight(false)?;
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

    async fn check_writable(&self) -> Result<(), Error> {
        self.blocking(FileStore::probe).await
    }
}
