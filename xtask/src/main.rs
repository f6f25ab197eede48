//! Project automation. `cargo xtask ci` runs every check CI runs;
//! `cargo xtask bench` runs the benchmarks and prints their figures;
//! `cargo xtask release` checks a release and prints the publish order.
//!
//! Plain `std::process`, no dependencies: it must build in seconds.

mod bench;
mod bench_external;
mod ci;
mod cmd;
mod json;
mod metadata;
mod release;
mod tidy;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  ci      format, lint, test, doc, feature matrix, package and tidy checks
  tidy    only the tidy checks
  bench   run the criterion benchmarks and print their figures
  bench-external [refresh|oauth2|build-cost...]
          only the refresh path, oauth2 5.0 and build-cost benchmarks
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
