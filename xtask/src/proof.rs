//! `cargo xtask proof [SECONDS]`: the longer variant of the multi-process
//! proof (`tests/tests/multi_process.rs`): 8 worker processes share one
//! token store (File, PostgreSQL, Redis: throwaway servers) and refresh 100
//! rotating accounts against the sandbox for SECONDS per phase (default
//! 60), calm and then with workers SIGKILLed at random. Prints each store's
//! figures (token requests per expiry, refusals, false re-authorizations,
//! lost accounts, kills, refreshes per second) as `multi_process_*` lines
//! and a summary, with a same-run baseline: the calm phase over Redis with
//! the store's leases hidden from the managers; fails if the test's
//! assertions fail.

use crate::bench::stream;
use crate::cmd::cargo;
use crate::servers;

pub fn run(args: &[String]) -> Result<(), String> {
    let seconds = match args.first() {
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| format!("proof: SECONDS must be a whole number, not {s:?}"))?,
        None => 60,
    };
    let servers = servers::start()?;
    let mut c = cargo();
    c.args([
        "test",
        "-p",
        "oauth-e2e-tests",
        "--test",
        "multi_process",
        "--",
        "--nocapture",
        "--test-threads=1",
        // With the baseline: the same calm phase over a store whose leases
        // are hidden (an ignored test, not run by CI).
        "--include-ignored",
        "eight_processes",
    ])
    .env("OAUTH_PROOF_SECONDS", seconds.to_string());
    for (name, value) in servers.env() {
        c.env(name, value);
    }
    let outcome = stream(c);
    let stopped = servers.stop();
    let figures = outcome?;
    stopped?;
    println!();
    println!("xtask: proof summary ({seconds} s per phase)");
    for figure in figures.iter().filter(|f| f.starts_with("multi_process_")) {
        println!("xtask:   {figure}");
    }
    Ok(())
}
