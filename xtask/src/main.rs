//! Project automation. `cargo xtask ci` runs every check CI runs;
//! `cargo xtask bench` runs the benchmarks and prints their figures;
//! `cargo xtask release` checks a release and prints the publish order;
//! `cargo xtask with-servers -- <command>` runs a command next to throwaway
//! PostgreSQL and Redis servers and a chromedriver (see `servers.rs`); `cargo xtask proof`
//! runs the multi-process proof for longer and prints its figures.
//!
//! Plain `std::process`, no dependencies: it must build in seconds.

mod bench;
mod bench_external;
mod browser;
mod ci;
mod cmd;
mod json;
mod metadata;
mod proof;
mod release;
mod servers;
mod tidy;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci      format, lint, test, doc, feature matrix, package and tidy checks
  tidy    only the tidy checks
  bench   run the criterion benchmarks and print their figures
  bench-external [refresh|oauth2|build-cost...]
          only the refresh path, oauth2 5.0 and build-cost benchmarks
  with-servers -- <command> [args...]
          start throwaway PostgreSQL, Redis and chromedriver on 127.0.0.1, run the
          command with OAUTH_TEST_POSTGRES_URL and OAUTH_TEST_REDIS_URL set,
          stop the servers; exits with the command's code
  proof [SECONDS]
          the multi-process proof, longer (default 60 s per phase): 8 worker
          processes, 100 rotating accounts, File, PostgreSQL and Redis stores
  release [--execute] [--baseline REV]
          check versions against API changes (cargo-semver-checks), changelogs
          and packaging since the last release (release-baseline), and print
          the publish order; a dry run unless --execute";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(),
        Some("tidy") => tidy::run(&cmd::workspace_root()),
        Some("bench") => bench::run(args.get(1..).unwrap_or_default()),
        Some("bench-external") => {
            bench_external::run(args.get(1..).unwrap_or_default()).map(|_| ())
        }
        Some("release") => release::run(args.get(1..).unwrap_or_default()),
        Some("proof") => proof::run(args.get(1..).unwrap_or_default()),
        Some("with-servers") => {
            return match servers::with_servers(args.get(1..).unwrap_or_default()) {
                Ok(code) => code,
                Err(message) => {
                    println!("xtask: FAILED: {message}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {
            println!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            println!("xtask: FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}
