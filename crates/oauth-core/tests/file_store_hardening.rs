//! The store listing contract (`TokenStore::list_accounts`,
//! `list_all_accounts`) and `FileStore`'s hardening: the write check, the
//! bounded lock wait, the size cap, non-regular files, symbolic links and
//! shared directories; its refresh lease records (file format, old files,
//! the same hardening for lease operations).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use oauth_core::lifecycle::{Lease, LeaseOutcome, LeaseOwner, SaveOutcome, Versioned};
use oauth_core::{
    AccessToken, AccountKey, Error, FileStore, MemoryStore, RefreshToken, TokenSet, TokenStore,
    async_trait, from_unix_millis, list_all_accounts,
};
use std::fs;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Every token in these tests contains this: no error may show it.
const SECRET: &str = "hardening-secret-9f2c";

fn tokens(n: u64) -> TokenSet {
    TokenSet::new(
        AccessToken::new(format!("AT-{SECRET}-{n}")),
        from_unix_millis(1_800_000_000_000 + n),
    )
    .with_refresh_token(RefreshToken::new(format!("RT-{SECRET}-{n}")), None)
}

fn key(account: &str) -> AccountKey {
    AccountKey::new("ebay", account)
}

/// Runs `future` on its own runtime under a timeout, and fails (instead of
/// hanging the test binary) if even that does not return: a store operation
/// stuck in a blocking read or lock would otherwise keep the runtime from
/// shutting down.
fn promptly<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> T {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result =
            runtime.block_on(async { tokio::time::timeout(Duration::from_secs(5), future).await });
        let _ = sender.send(result);
    });
    receiver
        .recv_timeout(Duration::from_secs(15))
        .expect("the store operation hung (runtime stuck)")
        .expect("the store operation did not return within 5 s")
}

/// A store error (not busy, not anything else) that shows no token.
fn assert_store_error<T: std::fmt::Debug>(result: Result<T, Error>, needle: &str) -> String {
    match result {
        Err(error @ Error::Store { .. }) => {
            let text = format!("{error} {error:?}");
            assert!(!text.contains(SECRET), "a token in an error: {text}");
            assert!(text.contains(needle), "expected {needle:?} in: {text}");
            text
        }
        other => panic!("expected Error::Store ({needle}), got {other:?}"),
    }
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect()
}

// ---------------------------------------------------------------- listing

#[tokio::test]
async fn memory_store_lists_2500_accounts_in_pages_of_its_provider_only() {
    let store = MemoryStore::new();
    // Inserted out of order (7919 is coprime with 2500: a permutation).
    for i in 0..2500u64 {
        let n = (i * 7919) % 2500;
        store
            .save(&key(&format!("seller-{n:05}")), &tokens(n), None)
            .await
            .unwrap();
    }
    for n in 0..10 {
        for provider in ["aliexpress", "eba", "ebay2"] {
            store
                .save(
                    &AccountKey::new(provider, format!("seller-{n:05}")),
                    &tokens(n),
                    None,
                )
                .await
                .unwrap();
        }
    }
    let expected: Vec<String> = (0..2500).map(|n| format!("seller-{n:05}")).collect();

    assert_eq!(list_all_accounts(&store, "ebay").await.unwrap(), expected);

    let mut paged = Vec::new();
    let mut sizes = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_accounts("ebay", after.as_deref(), 1000)
            .await
            .unwrap();
        sizes.push(page.len());
        let Some(last) = page.last() else { break };
        after = Some(last.clone());
        paged.extend(page);
    }
    assert_eq!(sizes, [1000, 1000, 500, 0]);
    assert_eq!(paged, expected);

    assert_eq!(
        list_all_accounts(&store, "aliexpress").await.unwrap().len(),
        10
    );
    assert!(
        list_all_accounts(&store, "amazon")
            .await
            .unwrap()
            .is_empty()
    );
}

/// Both stores, same answers.
async fn check_paging_contract(store: &dyn TokenStore) {
    for account in ["b", "a", "B", "team/seller", "é", "a-1", "aa"] {
        store.save(&key(account), &tokens(1), None).await.unwrap();
    }
    for (provider, account) in [("eba", "x"), ("ebay2", "y"), ("aliexpress", "a")] {
        store
            .save(&AccountKey::new(provider, account), &tokens(2), None)
            .await
            .unwrap();
    }
    let all = ["B", "a", "a-1", "aa", "b", "team/seller", "é"];
    let list = |after: Option<&'static str>, limit: usize| async move {
        store.list_accounts("ebay", after, limit).await.unwrap()
    };
    // Ascending byte order ("B" < "a", "é" after ASCII), other providers out.
    assert_eq!(list(None, 100).await, all);
    assert_eq!(list_all_accounts(store, "ebay").await.unwrap(), all);
    // At most `limit`; exactly `limit` while enough remain.
    assert_eq!(list(None, 2).await, ["B", "a"]);
    assert!(list(None, 0).await.is_empty());
    assert!(list(Some("a"), 0).await.is_empty());
    // Strictly after `after`, which need not be stored.
    assert_eq!(list(Some("a"), 2).await, ["a-1", "aa"]);
    assert_eq!(list(Some("a-0"), 1).await, ["a-1"]);
    assert_eq!(list(Some(""), 1).await, ["B"]);
    assert_eq!(list(Some("team/seller"), 10).await, ["é"]);
    assert!(list(Some("é"), 10).await.is_empty());
    assert!(list(Some("\u{10FFFF}"), 10).await.is_empty());
    assert_eq!(
        store.list_accounts("aliexpress", None, 10).await.unwrap(),
        ["a"]
    );
    assert!(
        store
            .list_accounts("amazon", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Deleted accounts disappear.
    store.delete(&key("aa")).await.unwrap();
    assert_eq!(list(Some("a"), 2).await, ["a-1", "b"]);
}

#[tokio::test]
async fn memory_store_follows_the_paging_contract() {
    check_paging_contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn file_store_follows_the_paging_contract() {
    let dir = tempfile::tempdir().unwrap();
    check_paging_contract(&FileStore::new(dir.path().join("tokens.json"))).await;
}

#[tokio::test]
async fn file_store_lists_2100_accounts_in_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    store.save(&key("seed"), &tokens(1), None).await.unwrap();
    // Written directly: 2100 saves would rewrite the file 2100 times.
    let mut file: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let entry = file["accounts"]["ebay/seed"].clone();
    let accounts = file["accounts"].as_object_mut().unwrap();
    accounts.clear();
    for n in (0..2100).rev() {
        accounts.insert(format!("ebay/s{n:04}"), entry.clone());
        accounts.insert(format!("ebay2/s{n:04}"), entry.clone());
    }
    accounts.insert("aliexpress/s0001".into(), entry.clone());
    fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();

    let expected: Vec<String> = (0..2100).map(|n| format!("s{n:04}")).collect();
    assert_eq!(list_all_accounts(&store, "ebay").await.unwrap(), expected);
    let page = store
        .list_accounts("ebay", Some("s0999"), 1000)
        .await
        .unwrap();
    assert_eq!(page.first().map(String::as_str), Some("s1000"));
    assert_eq!(page.len(), 1000);
    let last = store
        .list_accounts("ebay", Some("s1999"), 1000)
        .await
        .unwrap();
    assert_eq!(last.len(), 100);
    assert_eq!(
        list_all_accounts(&store, "aliexpress").await.unwrap(),
        ["s0001"]
    );
    // A store that does not exist yet lists nothing.
    let empty = FileStore::new(dir.path().join("none.json"));
    assert!(list_all_accounts(&empty, "ebay").await.unwrap().is_empty());
}

/// A store whose listing ignores `after`: every page is the same.
#[derive(Debug)]
struct StuckListing;

#[async_trait]
impl TokenStore for StuckListing {
    async fn load(&self, _key: &AccountKey) -> Result<Option<Versioned>, Error> {
        Ok(None)
    }

    async fn save(
        &self,
        _key: &AccountKey,
        _tokens: &TokenSet,
        _expected: Option<u64>,
    ) -> Result<SaveOutcome, Error> {
        Ok(SaveOutcome::Saved { version: 1 })
    }

    async fn delete(&self, _key: &AccountKey) -> Result<(), Error> {
        Ok(())
    }

    async fn list_accounts(
        &self,
        _provider: &str,
        _after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        Ok((0..limit).map(|n| format!("a{n:06}")).collect())
    }
}

#[tokio::test]
async fn list_all_accounts_stops_on_a_store_that_breaks_the_paging_contract() {
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        list_all_accounts(&StuckListing, "ebay"),
    )
    .await
    .expect("list_all_accounts looped");
    assert_store_error(result, "paging contract");
    // The default write check of a store that cannot tell.
    StuckListing.check_writable().await.unwrap();
    MemoryStore::new().check_writable().await.unwrap();
}

// ---------------------------------------------------------- write check

#[tokio::test]
async fn check_writable_proves_a_save_without_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    store.check_writable().await.unwrap();
    assert!(!path.exists(), "the write check created the token file");
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());

    store.save(&key("s1"), &tokens(1), None).await.unwrap();
    let before = fs::read(&path).unwrap();
    store.check_writable().await.unwrap();
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn check_writable_reports_what_a_save_would_trip_on() {
    let dir = tempfile::tempdir().unwrap();
    // A corrupt file: a save would refuse to overwrite it.
    let corrupt = dir.path().join("corrupt.json");
    fs::write(&corrupt, b"{ not json").unwrap();
    assert_store_error(FileStore::new(&corrupt).check_writable().await, "corrupt");
    assert_eq!(fs::read(&corrupt).unwrap(), b"{ not json");

    // A directory where the token file should be.
    let directory = dir.path().join("directory.json");
    fs::create_dir(&directory).unwrap();
    assert_store_error(
        FileStore::new(&directory).check_writable().await,
        "not a regular file",
    );

    // A directory nobody (not even root) can create files in.
    #[cfg(target_os = "linux")]
    {
        let text = assert_store_error(
            FileStore::new("/proc/oauth-core-test-tokens.json")
                .check_writable()
                .await,
            "/proc/oauth-core-test-tokens.json",
        );
        assert!(text.contains("cannot"), "{text}");
    }
}

/// Whether this process ignores file permissions (root): permission tests
/// prove nothing then.
#[cfg(unix)]
fn ignores_permissions(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    fs::create_dir(&probe).unwrap();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o500)).unwrap();
    let ignored = fs::write(probe.join("x"), b"x").is_ok();
    let _ = fs::remove_file(probe.join("x"));
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o700)).unwrap();
    fs::remove_dir(&probe).unwrap();
    ignored
}

#[cfg(unix)]
#[tokio::test]
async fn check_writable_reports_a_read_only_directory_or_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    if ignores_permissions(dir.path()) {
        println!("skipped: this process ignores file permissions (root)");
        return;
    }
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let store = FileStore::new(sub.join("tokens.json"));
    store.save(&key("s1"), &tokens(1), None).await.unwrap();

    // The lock file exists, the directory is read-only: no temp file.
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o500)).unwrap();
    let result = store.check_writable().await;
    fs::set_permissions(&sub, fs::Permissions::from_mode(0o700)).unwrap();
    assert_store_error(result, "temp file");

    // A read-only token file.
    fs::set_permissions(sub.join("tokens.json"), fs::Permissions::from_mode(0o400)).unwrap();
    assert_store_error(store.check_writable().await, "for writing");
}

// ------------------------------------------------------------ lock wait

#[test]
fn a_held_lock_fails_with_store_busy_then_saves_once_released() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let lock_path = dir.path().join("tokens.json.lock");
    // Another writer (here: this test, through its own open file
    // description) holds the lock.
    let holder = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .unwrap();
    holder.lock().unwrap();

    let store = FileStore::new(&path).with_lock_timeout(Duration::from_millis(200));
    let started = Instant::now();
    let (save, delete, check) = promptly({
        let store = store.clone();
        async move {
            (
                store.save(&key("s1"), &tokens(1), None).await,
                store.delete(&key("s1")).await,
                store.check_writable().await,
            )
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    for result in [save.map(|_| ()), delete, check] {
        match result {
            Err(error @ Error::StoreBusy { .. }) => {
                assert!(error.is_retryable());
                let text = error.to_string();
                assert!(text.contains(&*lock_path.to_string_lossy()), "{text}");
                assert!(!text.contains(SECRET), "{text}");
            }
            other => panic!("expected StoreBusy, got {other:?}"),
        }
    }
    assert!(!path.exists());
    // Reading needs no lock.
    assert_eq!(
        promptly({
            let store = store.clone();
            async move { store.load(&key("s1")).await.unwrap() }
        }),
        None
    );

    holder.unlock().unwrap();
    let saved = promptly(async move { store.save(&key("s1"), &tokens(1), None).await });
    assert_eq!(saved.unwrap(), SaveOutcome::Saved { version: 1 });
}

#[test]
fn a_lock_released_within_the_timeout_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let lock_path = dir.path().join("tokens.json.lock");
    let holder = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .unwrap();
    holder.lock().unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        drop(holder);
    });
    let store =
        FileStore::new(dir.path().join("tokens.json")).with_lock_timeout(Duration::from_secs(5));
    let saved = promptly(async move { store.save(&key("s1"), &tokens(1), None).await });
    assert_eq!(saved.unwrap(), SaveOutcome::Saved { version: 1 });
    releaser.join().unwrap();
}

// ------------------------------------------- size cap, non-regular files

#[tokio::test]
async fn an_oversized_file_is_refused_unread_and_a_save_never_exceeds_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    FileStore::new(&path)
        .save(&key("s1"), &tokens(1), None)
        .await
        .unwrap();
    let before = fs::read(&path).unwrap();
    let len = before.len();

    let capped = FileStore::new(&path).with_max_file_bytes(len - 1);
    assert_store_error(capped.load(&key("s1")).await, "larger than the cap");
    assert_store_error(
        capped.save(&key("s1"), &tokens(2), Some(1)).await,
        "larger than the cap",
    );
    assert_store_error(
        capped.list_accounts("ebay", None, 10).await,
        "larger than the cap",
    );
    assert_store_error(capped.check_writable().await, "larger than the cap");

    // At the cap exactly: read; a save that would grow past it: refused,
    // nothing written.
    let exact = FileStore::new(&path).with_max_file_bytes(len);
    assert_eq!(exact.load(&key("s1")).await.unwrap().unwrap().version, 1);
    assert_store_error(
        exact.save(&key("s2"), &tokens(2), None).await,
        "larger than the cap",
    );
    assert_eq!(fs::read(&path).unwrap(), before);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn a_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    fs::create_dir(&path).unwrap();
    let store = FileStore::new(&path);
    assert_store_error(
        store.load(&key("s1")).await,
        "not a regular file (it is a directory)",
    );
    assert_store_error(
        store.save(&key("s1"), &tokens(1), None).await,
        "not a regular file (it is a directory)",
    );
    assert!(path.is_dir());
    assert!(!dir.path().join("tokens.json.lock").exists());
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_blocking() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let store = FileStore::new(&path);
    let (load, save, list, check) = promptly(async move {
        (
            store.load(&key("s1")).await,
            store.save(&key("s1"), &tokens(1), None).await,
            store.list_accounts("ebay", None, 10).await,
            store.check_writable().await,
        )
    });
    assert_store_error(load, "a FIFO");
    assert_store_error(save, "a FIFO");
    assert_store_error(list, "a FIFO");
    assert_store_error(check, "a FIFO");
    assert!(fs::symlink_metadata(&path).unwrap().file_type().is_fifo());
}

#[cfg(unix)]
#[test]
fn a_fifo_as_lock_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let lock_path = dir.path().join("tokens.json.lock");
    let status = std::process::Command::new("mkfifo")
        .arg(&lock_path)
        .status()
        .unwrap();
    assert!(status.success());
    let store = FileStore::new(dir.path().join("tokens.json"));
    let save = promptly(async move { store.save(&key("s1"), &tokens(1), None).await });
    assert_store_error(save, "lock file");
    assert!(!dir.path().join("tokens.json").exists());
}

#[tokio::test]
async fn a_directory_as_lock_file_stops_writes_not_reads() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("tokens.json"));
    store.save(&key("s1"), &tokens(1), None).await.unwrap();
    let lock_path = dir.path().join("tokens.json.lock");
    fs::remove_file(&lock_path).unwrap();
    fs::create_dir(&lock_path).unwrap();
    // Reads take no lock.
    assert_eq!(store.load(&key("s1")).await.unwrap().unwrap().version, 1);
    assert_eq!(store.list_accounts("ebay", None, 10).await.unwrap(), ["s1"]);
    for result in [
        store
            .save(&key("s1"), &tokens(2), Some(1))
            .await
            .map(|_| ()),
        store.delete(&key("s1")).await,
        store.check_writable().await,
    ] {
        let text = assert_store_error(result, "lock file");
        assert!(text.contains("it is a directory"), "{text}");
    }
    assert_eq!(store.load(&key("s1")).await.unwrap().unwrap().version, 1);
}

#[cfg(unix)]
#[test]
fn dev_zero_is_refused_without_reading_it() {
    let store = FileStore::new("/dev/zero");
    let (load, save, check) = promptly(async move {
        (
            store.load(&key("s1")).await,
            store.save(&key("s1"), &tokens(1), None).await,
            store.check_writable().await,
        )
    });
    assert_store_error(load, "a character device");
    assert_store_error(save, "a character device");
    assert_store_error(check, "a character device");
    // Refused before the lock file was created next to it.
    assert!(!Path::new("/dev/zero.lock").exists());
}

#[cfg(unix)]
#[test]
fn a_socket_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let store = FileStore::new(&path);
    let (load, save) = promptly(async move {
        (
            store.load(&key("s1")).await,
            store.save(&key("s1"), &tokens(1), None).await,
        )
    });
    assert_store_error(load, "a socket");
    assert_store_error(save, "a socket");
}

// -------------------------------------------------------- symbolic links

#[cfg(unix)]
#[tokio::test]
async fn a_symlinked_token_file_is_refused_and_its_target_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    FileStore::new(&real)
        .save(&key("s1"), &tokens(1), None)
        .await
        .unwrap();
    let before = fs::read(&real).unwrap();
    let link = dir.path().join("tokens.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let store = FileStore::new(&link);
    assert_store_error(store.load(&key("s1")).await, "is a symbolic link");
    assert_store_error(
        store.save(&key("s1"), &tokens(2), Some(1)).await,
        "give the real path",
    );
    assert_store_error(store.delete(&key("s1")).await, "is a symbolic link");
    assert_store_error(
        store.list_accounts("ebay", None, 10).await,
        "is a symbolic link",
    );
    assert_store_error(store.check_writable().await, "is a symbolic link");

    assert_eq!(fs::read(&real).unwrap(), before);
    assert_eq!(fs::read_link(&link).unwrap(), real);
    assert!(!dir.path().join("tokens.json.lock").exists());
}

#[cfg(unix)]
#[tokio::test]
async fn a_dangling_symlinked_token_file_is_refused_and_nothing_created() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere.json");
    let link = dir.path().join("tokens.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let store = FileStore::new(&link);
    assert_store_error(store.load(&key("s1")).await, "is a symbolic link");
    assert_store_error(
        store.save(&key("s1"), &tokens(1), None).await,
        "is a symbolic link",
    );
    assert!(!target.exists());
    assert_eq!(fs::read_link(&link).unwrap(), target);
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlinked_lock_file_is_refused_and_nothing_created_at_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let planted = dir.path().join("planted");
    let lock_path = dir.path().join("tokens.json.lock");
    std::os::unix::fs::symlink(&planted, &lock_path).unwrap();

    let store = FileStore::new(dir.path().join("tokens.json"));
    assert_store_error(store.save(&key("s1"), &tokens(1), None).await, "lock file");
    assert_store_error(store.check_writable().await, "is a symbolic link");
    assert_store_error(store.load(&key("s1")).await, "is a symbolic link");
    assert!(!planted.exists(), "a file was created at the link's target");
    assert!(!dir.path().join("tokens.json").exists());
    assert_eq!(fs::read_link(&lock_path).unwrap(), planted);
}

// ----------------------------------------------------- shared directories

#[cfg(unix)]
#[tokio::test]
async fn a_world_writable_directory_is_refused_unless_allowed() {
    use std::os::unix::fs::PermissionsExt;
    for mode in [0o777, 0o1777] {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(mode)).unwrap();
        let path = dir.path().join("tokens.json");

        let store = FileStore::new(&path);
        let text = assert_store_error(
            store.save(&key("s1"), &tokens(1), None).await,
            "allow_shared_directory",
        );
        assert!(text.contains("writable by other users"), "{text}");
        assert_store_error(store.load(&key("s1")).await, "allow_shared_directory");
        assert_store_error(store.check_writable().await, "allow_shared_directory");
        assert!(!path.exists());
        assert!(!dir.path().join("tokens.json.lock").exists());

        let allowed = FileStore::new(&path).allow_shared_directory(true);
        allowed.check_writable().await.unwrap();
        assert_eq!(
            allowed.save(&key("s1"), &tokens(1), None).await.unwrap(),
            SaveOutcome::Saved { version: 1 }
        );
        assert_eq!(allowed.load(&key("s1")).await.unwrap().unwrap().version, 1);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_group_writable_directory_is_accepted() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o770)).unwrap();
    let store = FileStore::new(dir.path().join("tokens.json"));
    for n in 1..=2 {
        let expected = (n > 1).then_some(n - 1);
        assert_eq!(
            store.save(&key("s1"), &tokens(n), expected).await.unwrap(),
            SaveOutcome::Saved { version: n }
        );
    }
}

#[tokio::test]
async fn a_missing_directory_still_loads_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("missing").join("tokens.json"));
    assert_eq!(store.load(&key("s1")).await.unwrap(), None);
    assert!(
        store
            .list_accounts("ebay", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_store_error(store.save(&key("s1"), &tokens(1), None).await, "cannot");
}

// ------------------------------------------------------- refresh leases

fn lease_owner(name: &str) -> LeaseOwner {
    LeaseOwner::new(name).unwrap()
}

/// A token file as written before leases: no `leases` member.
const OLD_FILE: &str = r#"{
  "format": 1,
  "accounts": {
    "ebay/s1": {
      "version": 3,
      "tokens": {
        "access_token": "AT-hardening-secret-9f2c-old",
        "token_type": "Bearer",
        "expires_at": 1800000000000
      }
    }
  }
}"#;

#[tokio::test]
async fn a_file_written_before_leases_loads_and_takes_leases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    fs::write(&path, OLD_FILE).unwrap();
    let store = FileStore::new(&path);
    let stored = store.load(&key("s1")).await.unwrap().unwrap();
    assert_eq!(stored.version, 3);
    assert_eq!(
        stored.tokens.access_token.expose_secret(),
        "AT-hardening-secret-9f2c-old"
    );

    // A lease on the stored account and one on an account without an entry.
    let one = lease_owner("one");
    let LeaseOutcome::Acquired(lease) = store
        .acquire_lease(&key("s1"), &one, Duration::from_secs(30))
        .await
        .unwrap()
    else {
        panic!("the first lease is granted");
    };
    assert_eq!(lease.fence, 1);
    let LeaseOutcome::Acquired(other) = store
        .acquire_lease(&key("s2"), &one, Duration::from_secs(30))
        .await
        .unwrap()
    else {
        panic!("a lease of an account without entry is granted");
    };

    // The records are in the file, next to the untouched entry.
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["format"], 1);
    assert_eq!(json["accounts"]["ebay/s1"]["version"], 3);
    assert_eq!(json["leases"]["ebay/s1"]["fence"], 1);
    assert_eq!(json["leases"]["ebay/s1"]["holder"]["owner"], "one");
    assert_eq!(
        json["leases"]["ebay/s1"]["holder"]["expires_at"],
        oauth_core::to_unix_millis(lease.expires_at)
    );
    assert_eq!(json["leases"]["ebay/s2"]["fence"], 1);

    // A new instance (a restart, another process) reads it all back; the
    // lease-only account is not listed.
    let again = FileStore::new(&path);
    assert_eq!(again.load(&key("s1")).await.unwrap().unwrap().version, 3);
    assert!(again.load(&key("s2")).await.unwrap().is_none());
    assert_eq!(again.list_accounts("ebay", None, 10).await.unwrap(), ["s1"]);
    assert_eq!(
        again
            .acquire_lease(&key("s1"), &lease_owner("two"), Duration::from_secs(30))
            .await
            .unwrap(),
        LeaseOutcome::Held {
            expires_at: lease.expires_at
        }
    );
    // Plain saves and deletes keep the records.
    assert_eq!(
        again.save(&key("s3"), &tokens(3), None).await.unwrap(),
        SaveOutcome::Saved { version: 1 }
    );
    again.delete(&key("s1")).await.unwrap();
    again.release_lease(&key("s2"), &other).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["leases"]["ebay/s1"]["fence"], 1);
    assert_eq!(json["leases"]["ebay/s2"]["fence"], 1);
    assert!(json["leases"]["ebay/s2"].get("holder").is_none());
    let LeaseOutcome::Acquired(next) = again
        .acquire_lease(&key("s1"), &one, Duration::from_secs(30))
        .await
        .unwrap()
    else {
        panic!("the holder is granted again");
    };
    assert_eq!(next.fence, 2, "fencing numbers survive the delete");
}

#[tokio::test]
async fn a_file_without_leases_is_written_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    store.save(&key("s1"), &tokens(1), None).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let members: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(members, ["accounts", "format"]);
    // A fenced save of a never-leased account is a plain save (fence 0)...
    assert_eq!(
        store
            .save_fenced(&key("s1"), &tokens(2), Some(1), 0)
            .await
            .unwrap(),
        SaveOutcome::Saved { version: 2 }
    );
    // ...and any other fence was never granted.
    assert_eq!(
        store
            .save_fenced(&key("s1"), &tokens(3), Some(2), 1)
            .await
            .unwrap(),
        SaveOutcome::Fenced
    );
    // Releasing a lease never granted changes nothing.
    let before = fs::read(&path).unwrap();
    let stray = Lease {
        owner: lease_owner("stray"),
        fence: 1,
        expires_at: from_unix_millis(1_800_000_000_000),
    };
    store.release_lease(&key("s1"), &stray).await.unwrap();
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn a_corrupt_lease_record_is_reported_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let corrupt = OLD_FILE.replacen(
        "\"format\": 1,",
        "\"format\": 1, \"leases\": {\"ebay/s1\": {\"fence\": \"many\"}},",
        1,
    );
    fs::write(&path, &corrupt).unwrap();
    let store = FileStore::new(&path);
    assert_store_error(
        store
            .acquire_lease(&key("s1"), &lease_owner("one"), Duration::from_secs(1))
            .await,
        "is corrupt",
    );
    assert_store_error(store.load(&key("s1")).await, "is corrupt");
    assert_eq!(fs::read_to_string(&path).unwrap(), corrupt);
}

#[test]
fn lease_operations_wait_for_the_lock_like_saves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let lock_path = dir.path().join("tokens.json.lock");
    let holder = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .unwrap();
    holder.lock().unwrap();
    let store = FileStore::new(&path).with_lock_timeout(Duration::from_millis(200));
    let lease = Lease {
        owner: lease_owner("one"),
        fence: 1,
        expires_at: from_unix_millis(1_800_000_000_000),
    };
    let (acquire, release, fenced) = promptly({
        let store = store.clone();
        async move {
            (
                store
                    .acquire_lease(&key("s1"), &lease_owner("one"), Duration::from_secs(1))
                    .await,
                store.release_lease(&key("s1"), &lease).await,
                store.save_fenced(&key("s1"), &tokens(1), None, 1).await,
            )
        }
    });
    for result in [acquire.map(|_| ()), release, fenced.map(|_| ())] {
        assert!(
            matches!(result, Err(Error::StoreBusy { .. })),
            "expected StoreBusy, got {result:?}"
        );
    }
    assert!(!path.exists());
    holder.unlock().unwrap();
    let granted = promptly(async move {
        store
            .acquire_lease(&key("s1"), &lease_owner("one"), Duration::from_secs(1))
            .await
    });
    assert!(
        matches!(granted, Ok(LeaseOutcome::Acquired(_))),
        "{granted:?}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn lease_operations_refuse_a_symlinked_token_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere.json");
    let link = dir.path().join("tokens.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let store = FileStore::new(&link);
    assert_store_error(
        store
            .acquire_lease(&key("s1"), &lease_owner("one"), Duration::from_secs(1))
            .await,
        "is a symbolic link",
    );
    assert_store_error(
        store.save_fenced(&key("s1"), &tokens(1), None, 0).await,
        "is a symbolic link",
    );
    assert!(!target.exists());
    assert!(!dir.path().join("tokens.json.lock").exists());
}

#[tokio::test]
async fn a_lease_grant_that_would_exceed_the_size_cap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileStore::new(&path);
    store.save(&key("s1"), &tokens(1), None).await.unwrap();
    let len = fs::metadata(&path).unwrap().len();
    let capped = FileStore::new(&path).with_max_file_bytes(usize::try_from(len).unwrap() + 10);
    assert_store_error(
        capped
            .acquire_lease(&key("s1"), &lease_owner("one"), Duration::from_secs(1))
            .await,
        "larger than the cap",
    );
    // Nothing was granted: the next grant is number 1.
    let LeaseOutcome::Acquired(lease) = store
        .acquire_lease(&key("s1"), &lease_owner("one"), Duration::from_secs(1))
        .await
        .unwrap()
    else {
        panic!("granted");
    };
    assert_eq!(lease.fence, 1);
}
