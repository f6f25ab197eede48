//! `cargo xtask bench`: runs the criterion benchmarks of the token
//! lifecycle (`cargo bench -p oauth-core --bench lifecycle`), streaming
//! their output, then prints a summary of the `name: value` figures they
//! report (see `docs/performance.md`).
//!
//! Extra arguments go to the benchmark binary, e.g. a filter:
//! `cargo xtask bench single_flight`.
//!
//! Then the refresh path, oauth2 5.0 and build-cost benchmarks (see
//! `bench_external.rs`; `cargo xtask bench-external` runs only those).

use crate::cmd::cargo;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Instant;

/// The benchmarks whose `name: value` lines make up the summary.
const FIGURES: &[&str] = &[
    "cached_access_token",
    "single_flight_10k",
    "pool_100k",
    "refresh_round_trip",
];

pub fn run(args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let mut c = cargo();
    c.args(["bench", "-p", "oauth-core", "--bench", "lifecycle"]);
    if !args.is_empty() {
        c.arg("--").args(args);
    }
    let shown = format!("{c:?}");
    let mut child = c
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
    if status.success() {
        external
    } else {
        Err(format!("{shown} exited with {status}"))
    }
}

/// Whether `line` is one of the `name: value` figure lines.
fn is_figure(line: &str) -> bool {
    line.split_once(": ")
        .is_some_and(|(name, _)| FIGURES.contains(&name))
}
