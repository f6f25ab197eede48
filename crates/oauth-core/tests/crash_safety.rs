//! Crash safety of [`FileStore`]: a child process saves rotated token sets
//! in a loop and is killed with SIGKILL at random moments, hundreds of
//! times. After every kill the file must parse and hold the last token set
//! the child acknowledged (reported after `save` returned) or the one after
//! it (saved, then killed before it could say so) — never an older one,
//! never a torn one.
//!
//! The child is this test binary itself: [`crash_child_writer`] acts as the
//! writer when `OAUTH_CRASH_CHILD` names a directory, and returns at once
//! otherwise (in a normal test run).
//!
//! Stale temporary files: a writer killed between creating its temporary
//! file and renaming it over the store leaves that temporary file behind
//! (`.<name>.<pid>.<n>.tmp`, mode 0600, holding tokens); `FileStore` never
//! reads it, and the next save removes it (under the lock, any temp file is
//! a dead writer's). The tests check that at most one is left after the
//! crash loop (the last killed writer's), none once a writer has saved
//! again, and that every one is private.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

use oauth_core::lifecycle::{SaveOutcome, Versioned};
use oauth_core::{
    AccessToken, AccountKey, FileStore, RefreshToken, TokenSet, TokenStore, from_unix_millis,
};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Names the child's directory; set only in the child.
const CHILD_ENV: &str = "OAUTH_CRASH_CHILD";
/// When set in the child: stop normally after this many saves.
const CHILD_SAVES_ENV: &str = "OAUTH_CRASH_SAVES";
/// Overrides the seed of the kill delays (printed by every run).
const SEED_ENV: &str = "OAUTH_CRASH_SEED";
/// The name of the child test, passed as an exact filter.
const CHILD_TEST: &str = "crash_child_writer";
/// A child left alone stops by itself after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(20);
const FILE_NAME: &str = "tokens.json";
const T0_MS: u64 = 1_800_000_000_000;

fn key() -> AccountKey {
    AccountKey::new("crash", "seller-1")
}

/// The token set of save number `n`: every field depends on `n`, so a file
/// holding a mix of two saves would not equal any of them.
fn token_set(n: u64) -> TokenSet {
    TokenSet::new(
        AccessToken::new(format!("AT-{n:08}-{}", "a".repeat(48))),
        from_unix_millis(T0_MS + n * 1_000),
    )
    .with_refresh_token(
        RefreshToken::new(format!("RT-{n:08}-{}", "r".repeat(48))),
        Some(from_unix_millis(T0_MS + n * 1_000 + 86_400_000)),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The writer. Each save rotates the tokens (set `version` = save number)
/// with compare-and-swap on the version it read; `ack=<version>` goes to
/// stdout (flushed) only after `save` returned.
#[test]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let limit: u64 = std::env::var(CHILD_SAVES_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    let store = FileStore::new(PathBuf::from(dir).join(FILE_NAME));
    let started = Instant::now();
    runtime().block_on(async {
        let mut version = store.load(&key()).await.unwrap().map(|v| v.version);
        let mut stdout = std::io::stdout().lock();
        let mut saves = 0;
        while saves < limit && started.elapsed() < CHILD_LIFETIME {
            let next = version.unwrap_or(0) + 1;
            match store.save(&key(), &token_set(next), version).await.unwrap() {
                SaveOutcome::Saved { version: saved } => assert_eq!(saved, next),
                other => panic!("unexpected outcome with a single writer: {other:?}"),
            }
            version = Some(next);
            saves += 1;
            // A closed pipe means the parent is gone: stop.
            if writeln!(stdout, "ack={next}")
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return;
            }
        }
    });
}

/// What one killed child left behind.
struct Round {
    /// The version stored before the child started.
    before: u64,
    /// The last version the child acknowledged (`before` if none).
    acked: u64,
    /// The version in the file after the kill.
    stored: u64,
    /// Whether the kill waited for a first acknowledged save.
    waited: bool,
}

/// Starts a writer child on `dir`.
fn spawn_child(dir: &Path, saves: Option<u64>) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([CHILD_TEST, "--exact", "--test-threads=1", "--quiet"])
        .env(CHILD_ENV, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(saves) = saves {
        command.env(CHILD_SAVES_ENV, saves.to_string());
    }
    command.spawn().unwrap()
}

/// Reads the child's stdout on a thread: every acknowledged version is sent
/// on the channel; the thread ends at EOF (the child exited or was killed,
/// and the pipe is drained).
fn read_acks(
    child: &mut std::process::Child,
) -> (mpsc::Receiver<u64>, std::thread::JoinHandle<()>) {
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The harness may print on the same line (`test ... ack=1`).
            for word in line.split_whitespace() {
                if let Some(n) = word.strip_prefix("ack=").and_then(|n| n.parse().ok()) {
                    let _ = sender.send(n);
                }
            }
        }
    });
    (receiver, reader)
}

/// The stored set, read twice: by `serde_json` alone (the file parses)
/// and by a `FileStore` (it is a valid store whose set is exactly the one
/// of its version).
fn stored(dir: &Path, rt: &tokio::runtime::Runtime) -> Option<Versioned> {
    let path = dir.join(FILE_NAME);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    };
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("torn token file ({} bytes): {e}", bytes.len()));
    let store = FileStore::new(&path);
    let loaded = rt.block_on(store.load(&key())).unwrap().unwrap();
    assert_eq!(
        json["accounts"]["crash/seller-1"]["version"].as_u64(),
        Some(loaded.version)
    );
    assert_eq!(
        loaded.tokens,
        token_set(loaded.version),
        "the stored set is not the one saved as version {}",
        loaded.version
    );
    Some(loaded)
}

/// Runs `kills` rounds of start, wait a random moment, SIGKILL, check.
fn crash_loop(dir: &Path, kills: usize, seed: u64) -> Vec<Round> {
    let rt = runtime();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut rounds = Vec::with_capacity(kills);
    for round in 0..kills {
        let before = stored(dir, &rt).map_or(0, |v| v.version);
        let mut child = spawn_child(dir, None);
        let (acks, reader) = read_acks(&mut child);
        let mut acked = before;
        let waited = rng.u8(..) < 204;
        // Mostly: kill in the middle of the save loop, a random 0-8 ms
        // after the first acknowledged save. Sometimes: kill a random
        // 0-15 ms after the start, while it loads or makes its first save.
        if waited {
            acked = acks
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("round {round}: the child acknowledged no save"));
            std::thread::sleep(Duration::from_micros(rng.u64(0..8_000)));
        } else {
            std::thread::sleep(Duration::from_micros(rng.u64(0..15_000)));
        }
        child.kill().unwrap(); // SIGKILL on unix
        let status = child.wait().unwrap();
        reader.join().unwrap();
        acked = acks.try_iter().fold(acked, u64::max);
        assert!(
            !status.success(),
            "round {round}: the child finished before it was killed"
        );

        let stored = stored(dir, &rt).map_or(0, |v| v.version);
        assert!(
            stored >= acked,
            "round {round}: the file holds version {stored}, older than the acknowledged {acked}"
        );
        assert!(
            stored <= acked + 1,
            "round {round}: the file holds version {stored}, but only {acked} was acknowledged and saves are sequential"
        );
        rounds.push(Round {
            before,
            acked,
            stored,
            waited,
        });
    }
    rounds
}

/// The temporary files in `dir` (the store's own file and lock excluded).
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".tmp"))
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn seed() -> u64 {
    std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_0008)
}

#[test]
fn sigkill_never_loses_an_acknowledged_save() {
    const KILLS: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let seed = seed();
    let started = Instant::now();
    let rounds = crash_loop(dir.path(), KILLS, seed);

    let acknowledged: u64 = rounds.iter().map(|r| r.acked - r.before).sum();
    let per_round: Vec<u64> = rounds.iter().map(|r| r.acked - r.before).collect();
    let unacknowledged = rounds.iter().filter(|r| r.stored == r.acked + 1).count();
    let last = rounds.last().unwrap();
    let waited = rounds.iter().filter(|r| r.waited).count();
    println!(
        "crash_safety: {} kills (seed {seed:#x}; {waited} after a first save) in {:.1} s; \
         {acknowledged} saves acknowledged (per round min {} max {}); after the kill the file held the last acknowledged set \
         {} times and the next, unacknowledged one {} times; final version {}; \
         {} stale temp files",
        rounds.len(),
        started.elapsed().as_secs_f64(),
        per_round.iter().min().unwrap(),
        per_round.iter().max().unwrap(),
        rounds.len() - unacknowledged,
        unacknowledged,
        last.stored,
        temp_files(dir.path()).len(),
    );
    assert_eq!(rounds.len(), KILLS);
    // The loop did exercise the store: most kills (a fixed number for a
    // given seed) came after at least one acknowledged save.
    assert!(waited > KILLS / 2, "only {waited} rounds waited for a save");
    assert!(
        rounds
            .iter()
            .filter(|r| r.waited)
            .all(|r| r.acked > r.before),
        "a round waited for a save but none was acknowledged"
    );
    // Versions only ever grew, one save at a time.
    for pair in rounds.windows(2) {
        assert_eq!(pair[1].before, pair[0].stored);
    }
}

#[test]
fn files_left_by_crashes_are_private_and_temp_files_bounded() {
    const KILLS: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let rounds = crash_loop(dir.path(), KILLS, seed() ^ 0xF11E);
    let file = dir.path().join(FILE_NAME);
    assert_eq!(mode(&file), 0o600, "token file mode");
    assert_eq!(
        mode(&dir.path().join(format!("{FILE_NAME}.lock"))),
        0o600,
        "lock file mode"
    );

    // Each save removes the temp files of writers killed before it: at most
    // the last killed writer's is left, private, named after the store.
    let left = temp_files(dir.path());
    assert!(
        left.len() <= 1,
        "{} temp files after {KILLS} kills",
        left.len()
    );
    for path in &left {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with(&format!(".{FILE_NAME}.")), "{name}");
        assert_eq!(mode(path), 0o600, "temp file {name} mode");
    }
    println!(
        "crash_safety: {KILLS} kills left {} stale temp files (all 0600)",
        left.len()
    );

    // A writer that is not killed removes the stale one and leaves none,
    // and the store is still usable after all those crashes (the lock was
    // released).
    let before = rounds.last().unwrap().stored;
    let mut child = spawn_child(dir.path(), Some(25));
    let (acks, reader) = read_acks(&mut child);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    assert_eq!(acks.try_iter().max(), Some(before + 25));
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());

    let rt = runtime();
    let store = FileStore::new(&file);
    let outcome = rt
        .block_on(store.save(&key(), &token_set(before + 26), Some(before + 25)))
        .unwrap();
    assert_eq!(
        outcome,
        SaveOutcome::Saved {
            version: before + 26
        }
    );
    assert_eq!(stored(dir.path(), &rt).unwrap().version, before + 26);
    assert_eq!(mode(&file), 0o600);
}
