//! `cargo xtask bench`: runs the criterion benchmarks of oauth-core (the
//! token lifecycle and the encryption layer: `cargo bench -p oauth-core
//! --bench lifecycle --bench encrypted_store`), streaming their output, then
//! prints a summary of the `name: value` figures they report (see
//! `docs/performance.md`).
//!
//! Then the token stores' benchmark (`cargo bench -p oauth-e2e-tests
//! --bench stores`) next to throwaway PostgreSQL and Redis servers (see
//! `servers.rs`), which it needs.
//!
//! Extra arguments go to the benchmark binaries, e.g. a filter:
//! `cargo xtask bench single_flight` (the servers start all the same).
//!
//! Then the API-call middleware's overhead (`cargo bench -p oauth-middleware
//! --bench overhead`).
//!
//! Then the refresh path, oauth2 5.0 and build-cost benchmarks (see
//! `bench_external.rs`; `cargo xtask bench-external` runs only those).

use crate::cmd::cargo;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The benchmarks whose `name: value` lines make up the summary.
const FIGURES: &[&str] = &[
    "cached_access_token",
    "single_flight_10k",
    "pool_100k",
    "pool_read",
    "refresh_round_trip",
    "encrypted_store",
    // tests/benches/stores.rs: one line per engine.
    "store_access_token_memory",
    "store_access_token_file",
    "store_access_token_postgres",
    "store_access_token_redis",
    "lease_acquire_memory",
    "lease_acquire_file",
    "lease_acquire_postgres",
    "lease_acquire_redis",
    "store_save_memory",
    "store_save_file",
    "store_save_postgres",
    "store_save_redis",
    // crates/oauth-middleware/benches/overhead.rs: an API call through the
    // middleware against bare reqwest and reqwest-middleware, same run.
    "overhead",
    "overhead (floor)",
    "overhead (tower)",
];

pub fn run(args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let mut c = cargo();
    c.args([
        "bench",
        "-p",
        "oauth-core",
        "--bench",
        "lifecycle",
        "--bench",
        "encrypted_store",
        // The encrypted_store benchmark needs EncryptedStore.
        "--features",
        "encryption",
    ]);
    if !args.is_empty() {
        c.arg("--").args(args);
    }
    let mut figures = Vec::new();
    let ours = stream(c).map(|lines| figures.extend(lines));
    let stores = stores(args).map(|lines| figures.extend(lines));
    let middleware = middleware(args).map(|lines| figures.extend(lines));
    // The refresh path, oauth2 5.0 and build cost (bench_external.rs).
    let external = crate::bench_external::run(&[]).map(|lines| figures.extend(lines));

    println!();
    println!(
        "xtask: bench summary ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    if figures.is_empty() {
        println!("xtask:   no figures reported (all benchmarks filtered out?)");
    }
    for figure in &figures {
        println!("xtask:   {figure}");
    }
    ours.and(stores).and(middleware).and(external)
}

/// The API-call middleware's overhead per call (reqwest and tower), with its
/// same-run baselines.
fn middleware(args: &[String]) -> Result<Vec<String>, String> {
    let mut c = cargo();
    c.args([
        "bench",
        "-p",
        "oauth-middleware",
        "--bench",
        "overhead",
        "--all-features",
    ]);
    if !args.is_empty() {
        c.arg("--").args(args);
    }
    stream(c)
}

/// The token stores' benchmark, next to throwaway PostgreSQL and Redis
/// servers (stopped when `servers` is dropped, also on failure).
fn stores(args: &[String]) -> Result<Vec<String>, String> {
    let servers = crate::servers::start()?;
    let mut c = cargo();
    c.args(["bench", "-p", "oauth-e2e-tests", "--bench", "stores"]);
    if !args.is_empty() {
        c.arg("--").args(args);
    }
    c.envs(servers.env());
    let figures = stream(c);
    servers.stop()?;
    figures
}

/// Runs `command`, echoing its standard output; returns its figure lines
/// (those of this module's benchmarks and of `bench_external`'s).
pub fn stream(mut command: Command) -> Result<Vec<String>, String> {
    let shown = format!("{command:?}");
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let mut figures = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("cannot read the output of {shown}: {e}"))?;
            println!("{line}");
            if is_figure(&line) {
                figures.push(line);
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for {shown}: {e}"))?;
    if status.success() {
        Ok(figures)
    } else {
        Err(format!("{shown} exited with {status}"))
    }
}

/// Whether `line` is one of the `name: value` figure lines.
fn is_figure(line: &str) -> bool {
    line.split_once(": ").is_some_and(|(name, _)| {
        FIGURES.contains(&name)
            || crate::bench_external::FIGURES.contains(&name)
            // The multi-process proof's lines (`cargo xtask proof`).
            || name.starts_with("multi_process_")
    })
}
