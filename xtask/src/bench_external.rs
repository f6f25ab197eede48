//! The benchmarks `cargo xtask bench` runs besides oauth-core's lifecycle
//! benchmark (also alone: `cargo xtask bench-external [PART...]`):
//!
//! - `refresh`: `cargo bench -p oauth-ebay --bench refresh_path`, the eBay
//!   refresh against a fast loopback server with a raw reqwest POST and
//!   `TokenManager::force_refresh` in the same run (`refresh_path:` line);
//! - `oauth2`: `bench/compare-oauth2`, oauth2 5.0's refresh-token exchange
//!   and ours against the same server in one process (`compare_oauth2:`
//!   line). Its own workspace: oauth2 never enters ours;
//! - `build-cost`: the same minimal downstream program on `oauth-all` (only
//!   the `ebay` feature) and on oauth2 5.0 (`bench/build-cost/`), each built
//!   with `cargo build --release` in a fresh target directory once `cargo
//!   fetch` has downloaded what it needs (the build itself runs
//!   `--offline`): wall-clock and CPU time of the build (ours and oauth2's
//!   three times each, alternately, medians), binary size as built and
//!   stripped, ours with each TLS backend and with the token
//!   lifecycle (`build_cost:` lines).
//!
//! Never part of `cargo xtask ci`.

use crate::cmd::{cargo, has_program, output, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The parts, in the order they run.
pub const PARTS: &[&str] = &["refresh", "oauth2", "build-cost"];

/// The prefixes of the figure lines the parts print.
pub const FIGURES: &[&str] = &["refresh_path", "compare_oauth2", "build_cost"];

/// Runs `parts` (all of them when empty), streaming their output; returns
/// the figure lines.
pub fn run(parts: &[String]) -> Result<Vec<String>, String> {
    for part in parts {
        if !PARTS.contains(&part.as_str()) {
            return Err(format!(
                "unknown part `{part}` (parts: {})",
                PARTS.join(", ")
            ));
        }
    }
    let wanted = |part: &str| parts.is_empty() || parts.iter().any(|p| p == part);
    let mut figures = Vec::new();
    if wanted("refresh") {
        let mut c = cargo();
        c.args(["bench", "-p", "oauth-ebay", "--bench", "refresh_path"]);
        figures.extend(crate::bench::stream(c)?);
    }
    if wanted("oauth2") {
        let root = workspace_root();
        let mut c = cargo();
        c.args(["run", "--quiet", "--release", "--manifest-path"])
            .arg(root.join("bench/compare-oauth2/Cargo.toml"))
            // Kept between runs (not a build-cost measurement).
            .env(
                "CARGO_TARGET_DIR",
                root.join("target/bench-external/compare-oauth2"),
            );
        figures.extend(crate::bench::stream(c)?);
    }
    if wanted("build-cost") {
        figures.extend(build_cost()?);
    }
    Ok(figures)
}

/// One downstream build to measure.
struct Build {
    /// What the figures call it.
    label: &'static str,
    /// The crate, under `bench/build-cost/`.
    dir: &'static str,
    /// Its binary.
    bin: &'static str,
    /// Extra `cargo build` arguments (features).
    args: &'static [&'static str],
}

const BUILDS: &[Build] = &[
    Build {
        label: "ours (oauth-all, ebay, default TLS: ring)",
        dir: "ours",
        bin: "build-cost-ours",
        args: &[],
    },
    Build {
        label: "oauth2 5.0 (default features)",
        dir: "oauth2",
        bin: "build-cost-oauth2",
        args: &[],
    },
    Build {
        label: "ours with the token lifecycle (oauth-all's default features)",
        dir: "ours",
        bin: "build-cost-ours",
        args: &["--features", "lifecycle"],
    },
    Build {
        label: "ours with ring + webpki-roots",
        dir: "ours",
        bin: "build-cost-ours",
        args: &["--features", "webpki-roots"],
    },
    Build {
        label: "ours with aws-lc-rs (ring off)",
        dir: "ours",
        bin: "build-cost-ours",
        args: &["--no-default-features", "--features", "aws-lc-rs"],
    },
];

/// What one build measured.
#[derive(Clone, Copy)]
struct Measured {
    wall: f64,
    cpu: Option<f64>,
    size: u64,
    stripped: Option<u64>,
}

/// How many times ours and oauth2's are built, alternately (which goes
/// first changes every round): a cold build's time on a shared two-core
/// machine moves by several percent from one build to the next, more than
/// the difference being measured. The figures are medians; the other
/// builds run once, so their differences to ours are known only to within
/// that noise.
const ROUNDS: usize = 3;

/// Builds each of [`BUILDS`] cold and prints its figures, then ours
/// against oauth2's: the first two [`ROUNDS`] times, alternately.
fn build_cost() -> Result<Vec<String>, String> {
    let root = workspace_root().join("bench/build-cost");
    for dir in ["ours", "oauth2"] {
        // Downloads only; the timed builds run offline.
        let mut fetch = cargo();
        fetch
            .args(["fetch", "--quiet", "--manifest-path"])
            .arg(root.join(dir).join("Cargo.toml"));
        output(fetch)?;
    }
    let mut figures = Vec::new();
    let (pair, variants) = BUILDS.split_at(2);
    let mut rounds: [Vec<Measured>; 2] = [Vec::new(), Vec::new()];
    for round in 1..=ROUNDS {
        // Ours first in odd rounds, oauth2's first in even ones: whatever
        // the order costs falls on both.
        let order: [usize; 2] = if round % 2 == 1 { [0, 1] } else { [1, 0] };
        for index in order {
            let (Some(build), Some(runs)) = (pair.get(index), rounds.get_mut(index)) else {
                continue;
            };
            println!(
                "xtask: cold release build of {} (round {round} of {ROUNDS})",
                build.label
            );
            runs.push(build_once(&root, build)?);
        }
    }
    let mut medians = Vec::new();
    for (build, runs) in pair.iter().zip(rounds.iter()) {
        let median = median_of(runs).ok_or("no build measured")?;
        let walls: Vec<String> = runs.iter().map(|m| format!("{:.1}", m.wall)).collect();
        let cpus: Vec<String> = runs
            .iter()
            .filter_map(|m| m.cpu.map(|c| format!("{c:.1}")))
            .collect();
        let line = format!(
            "{} (median of {ROUNDS}; wall {} s, CPU {} s)",
            describe(build, &median),
            walls.join(" / "),
            cpus.join(" / "),
        );
        println!("{line}");
        figures.push(line);
        medians.push(median);
    }
    for build in variants {
        println!("xtask: cold release build of {}", build.label);
        let measured = build_once(&root, build)?;
        let line = describe(build, &measured);
        println!("{line}");
        figures.push(line);
    }
    if let [ours, theirs] = medians.as_slice() {
        let verdict = |ratio: f64| {
            if ratio <= 1.0 {
                "target met"
            } else {
                "TARGET MISSED"
            }
        };
        let cpu = ours
            .cpu
            .zip(theirs.cpu)
            .map(|(a, b)| format!(", CPU {:.3}x ({})", a / b, verdict(a / b)))
            .unwrap_or_default();
        let stripped = ours
            .stripped
            .zip(theirs.stripped)
            .map(|(a, b)| format!(" (stripped {:.3}x)", a as f64 / b as f64))
            .unwrap_or_default();
        let size = ours.size as f64 / theirs.size as f64;
        let line = format!(
            "build_cost: ours/oauth2 (medians): wall {:.3}x{cpu}, binary {size:.3}x{stripped} ({}); target: at most 1.000x",
            ours.wall / theirs.wall,
            verdict(size),
        );
        println!("{line}");
        figures.push(line);
    }
    Ok(figures)
}

/// One cold `cargo build --release` of `build` in a fresh target
/// directory, removed afterwards.
fn build_once(root: &Path, build: &Build) -> Result<Measured, String> {
    let manifest = root.join(build.dir).join("Cargo.toml");
    let target = std::env::temp_dir().join(format!(
        "oauth-build-cost-{}-{}",
        build.dir,
        std::process::id()
    ));
    remove_dir(&target)?;
    let mut c = cargo();
    c.args([
        "build",
        "--release",
        "--offline",
        "--quiet",
        "--manifest-path",
    ])
    .arg(&manifest)
    .args(build.args)
    .env("CARGO_TARGET_DIR", &target);
    let cpu_before = children_cpu_seconds();
    let started = Instant::now();
    let result = output(c);
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_before
        .zip(children_cpu_seconds())
        .map(|(before, after)| after - before);
    let binary = target.join("release").join(build.bin);
    let measured = result.and_then(|_| {
        Ok(Measured {
            wall,
            cpu,
            size: file_size(&binary)?,
            stripped: stripped_size(&binary, &target),
        })
    });
    remove_dir(&target)?;
    measured
}

/// The figure line of one build.
fn describe(build: &Build, m: &Measured) -> String {
    format!(
        "build_cost: {}: {:.1} s wall{}, binary {} bytes{}",
        build.label,
        m.wall,
        m.cpu
            .map(|cpu| format!(", {cpu:.1} s CPU"))
            .unwrap_or_default(),
        m.size,
        m.stripped
            .map(|s| format!(" ({s} stripped)"))
            .unwrap_or_default(),
    )
}

/// The median of each figure of `runs` taken separately (the binary's size
/// is the same in every run); `None` when there are none.
fn median_of(runs: &[Measured]) -> Option<Measured> {
    fn median(mut values: Vec<f64>) -> Option<f64> {
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied()
    }
    let first = runs.first()?;
    let cpus: Option<Vec<f64>> = runs.iter().map(|m| m.cpu).collect();
    Some(Measured {
        wall: median(runs.iter().map(|m| m.wall).collect())?,
        cpu: cpus.and_then(median),
        size: first.size,
        stripped: first.stripped,
    })
}

fn remove_dir(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", dir.display())),
    }
}

fn file_size(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The size of a stripped copy of `binary` (with `strip`, when installed).
fn stripped_size(binary: &Path, scratch: &Path) -> Option<u64> {
    if !has_program("strip") {
        return None;
    }
    let copy: PathBuf = scratch.join("stripped");
    let status = Command::new("strip")
        .arg("-o")
        .arg(&copy)
        .arg(binary)
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    std::fs::metadata(&copy).ok().map(|m| m.len())
}

/// CPU time (user + system) of this process's waited-for children, and
/// theirs (Linux: `/proc/self/stat`'s `cutime` and `cstime`); `None`
/// elsewhere.
fn children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name (in parentheses, which may hold spaces), the
    // fields from the third on; cutime and cstime are the 16th and 17th.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    let per_second = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<u64>()
                .ok()
        })
        .filter(|&t| t > 0)
        .unwrap_or(100);
    Some(ticks as f64 / per_second as f64)
}
