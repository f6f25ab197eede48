//! `cargo xtask ci`: everything CI checks, in order, stopping at the first
//! failure.

use crate::cmd::{Steps, cargo, exec, has_program, output, workspace_root};
use crate::tidy;

/// Crates that are published, in dependency order.
pub const PUBLISHED: &[&str] = &[
    "oauth-core",
    "oauth-orangeconnex",
    "oauth-aliexpress",
    "oauth-ebay",
    "oauth-eshopbox",
    "oauth-all",
    "oauth-sandbox",
    "oauth-cli",
];

/// Every workspace member (published or not).
pub const MEMBERS: &[&str] = &[
    "oauth-core",
    "oauth-orangeconnex",
    "oauth-aliexpress",
    "oauth-ebay",
    "oauth-eshopbox",
    "oauth-all",
    "oauth-sandbox",
    "oauth-cli",
    "oauth-e2e-tests",
    "xtask",
];

/// The provider features of `oauth-all` and the crate each one pulls in.
pub const PROVIDER_FEATURES: &[(&str, &str)] = &[
    ("orangeconnex", "oauth-orangeconnex"),
    ("aliexpress", "oauth-aliexpress"),
    ("ebay", "oauth-ebay"),
    ("eshopbox", "oauth-eshopbox"),
];

pub fn run() -> Result<(), String> {
    let mut steps = Steps::default();
    steps.step("fmt", || {
        let mut c = cargo();
        c.args(["fmt", "--all", "--", "--check"]);
        exec(c)
    })?;
    steps.step("tidy", || tidy::run(&workspace_root()))?;
    for krate in MEMBERS {
        steps.step(&format!("clippy {krate}"), || {
            let mut c = cargo();
            c.args([
                "clippy",
                "--quiet",
                "-p",
                krate,
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ]);
            exec(c)
        })?;
    }
    steps.step("test", || {
        let mut c = cargo();
        if has_program("cargo-nextest") {
            c.args([
                "nextest",
                "run",
                "--workspace",
                "--all-features",
                "--no-fail-fast",
            ]);
        } else {
            c.args(["test", "--workspace", "--all-features", "--no-fail-fast"]);
        }
        exec(c)
    })?;
    steps.step("doc tests", || {
        let mut c = cargo();
        c.args(["test", "--workspace", "--all-features", "--doc"]);
        exec(c)
    })?;
    steps.step("doc", || {
        let mut c = cargo();
        c.args([
            "doc",
            "--workspace",
            "--no-deps",
            "--all-features",
            "--quiet",
        ])
        .env("RUSTDOCFLAGS", "-D warnings");
        exec(c)
    })?;
    steps.step("feature matrix (oauth-all)", feature_matrix)?;
    steps.step("package", || {
        let mut c = cargo();
        c.args(["package", "--workspace", "--allow-dirty", "--quiet"]);
        for excluded in ["oauth-e2e-tests", "xtask"] {
            c.args(["--exclude", excluded]);
        }
        exec(c)
    })?;
    steps.finish();
    println!("xtask: ci passed");
    Ok(())
}

/// `oauth-all` builds with no provider, each provider alone, and all; with
/// one provider on, no other provider crate is in the dependency tree.
fn feature_matrix() -> Result<(), String> {
    let mut sets: Vec<Vec<&str>> = vec![vec![]];
    sets.extend(PROVIDER_FEATURES.iter().map(|(f, _)| vec![*f]));
    sets.push(vec!["full"]);
    for features in sets {
        let joined = features.join(",");
        let mut check = cargo();
        check.args([
            "check",
            "--quiet",
            "-p",
            "oauth-all",
            "--no-default-features",
        ]);
        if !joined.is_empty() {
            check.args(["--features", &joined]);
        }
        exec(check)?;

        let mut tree = cargo();
        tree.args([
            "tree",
            "-p",
            "oauth-all",
            "--no-default-features",
            "-e",
            "normal",
            "--prefix",
            "none",
        ]);
        if !joined.is_empty() {
            tree.args(["--features", &joined]);
        }
        let listing = output(tree)?;
        for (feature, krate) in PROVIDER_FEATURES {
            let wanted = features.contains(feature) || features.contains(&"full");
            let present = listing.lines().any(|l| l.starts_with(&format!("{krate} ")));
            if wanted != present {
                return Err(format!(
                    "features [{joined}]: {krate} is {} the dependency tree",
                    if present {
                        "unexpectedly in"
                    } else {
                        "missing from"
                    }
                ));
            }
        }
        println!("xtask:      oauth-all [{joined}] ok");
    }
    Ok(())
}
