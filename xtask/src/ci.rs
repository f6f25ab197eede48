//! `cargo xtask ci`: everything CI checks, in order, stopping at the first
//! failure.

use crate::cmd::{Steps, cargo, exec, has_program, output, workspace_root};
use crate::tidy;

/// The provider crates, by provider name (`oauth-<name>`): the xtask's
/// registry of providers. A new provider is one more line here; the lists
/// below, the `oauth-all` feature matrix and `tidy`'s contract check follow.
pub const PROVIDERS: &[&str] = &["orangeconnex", "aliexpress", "ebay", "eshopbox"];

/// The crate of a provider.
pub fn provider_crate(provider: &str) -> String {
    format!("oauth-{provider}")
}

/// Crates that are published, in dependency order.
pub fn published() -> Vec<String> {
    let mut crates: Vec<String> = ["oauth-core", "oauth-store-postgres", "oauth-store-redis"]
        .map(str::to_owned)
        .to_vec();
    crates.extend(PROVIDERS.iter().map(|p| provider_crate(p)));
    crates.extend(
        [
            "oauth-middleware",
            "oauth-connect",
            "oauth-all",
            "oauth-sandbox",
            "oauth-cli",
        ]
        .map(str::to_owned),
    );
    crates
}

/// Every workspace member (published or not).
pub fn members() -> Vec<String> {
    let mut crates = published();
    crates.extend(["oauth-e2e-tests", "xtask"].map(str::to_owned));
    crates
}

pub fn run() -> Result<(), String> {
    let mut steps = Steps::default();
    steps.step("fmt", || {
        let mut c = cargo();
        c.args(["fmt", "--all", "--", "--check"]);
        exec(c)
    })?;
    steps.step("tidy", || tidy::run(&workspace_root()))?;
    for krate in &members() {
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
    // The store crates' tests need real servers, the browser tests a
    // chromedriver with headless Chromium: one of each for both test steps,
    // stopped when `servers` is dropped (also when a step fails).
    let mut started = None;
    steps.step("start PostgreSQL, Redis and chromedriver", || {
        started = Some(crate::servers::start()?);
        Ok(())
    })?;
    let Some(servers) = started else {
        return Err("the servers did not start".to_owned());
    };
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
        c.envs(servers.env());
        exec(c)
    })?;
    steps.step("doc tests", || {
        let mut c = cargo();
        c.args(["test", "--workspace", "--all-features", "--doc"]);
        c.envs(servers.env());
        exec(c)
    })?;
    servers.stop()?;
    steps.step("doc (as docs.rs builds it)", docs)?;
    steps.step("feature matrix (oauth-all)", feature_matrix)?;
    steps.step("TLS backends", tls_backends)?;
    steps.step("package", package_workspace)?;
    steps.finish();
    println!("xtask: ci passed");
    Ok(())
}

/// The documentation as docs.rs builds it (`--cfg docsrs`, every feature,
/// see each crate's `[package.metadata.docs.rs]`), warnings denied.
///
/// The crates enable `#![cfg_attr(docsrs, feature(doc_cfg))]`, a nightly
/// feature; docs.rs builds with nightly. `RUSTC_BOOTSTRAP=1` lets the stable
/// toolchain accept it here, so that the check needs no second toolchain.
/// It is limited to this one command. Cargo tracks the variable, so about a
/// third of the dependencies are checked again for it (about 50 s in all on
/// two cores). Nightly's rustdoc can still differ from stable's: this check
/// catches our mistakes, not every difference between the two.
///
/// Then `oauth-all` without features: its front page's links to the
/// provider modules must degrade, not break.
fn docs() -> Result<(), String> {
    let mut c = cargo();
    c.args([
        "doc",
        "--workspace",
        "--no-deps",
        "--all-features",
        "--quiet",
    ])
    .env("RUSTDOCFLAGS", "--cfg docsrs -D warnings")
    .env("RUSTC_BOOTSTRAP", "1");
    exec(c)?;
    let mut c = cargo();
    c.args([
        "doc",
        "-p",
        "oauth-all",
        "--no-deps",
        "--no-default-features",
        "--quiet",
    ])
    .env("RUSTDOCFLAGS", "-D warnings");
    exec(c)
}

/// Every published crate packages, and each package builds on its own
/// (`cargo package` verifies each crate from its `.crate` file, against its
/// siblings' packages through a temporary registry).
pub fn package_workspace() -> Result<(), String> {
    clear_stale_packaged_sources();
    let verify_dir = workspace_root().join("target").join("package-verify");
    clear_our_artifacts(&verify_dir);
    let mut c = cargo();
    c.env("CARGO_TARGET_DIR", &verify_dir);
    c.args(["package", "--workspace", "--allow-dirty", "--quiet"]);
    for excluded in crate::metadata::packages()?
        .iter()
        .filter(|p| !p.publishable)
    {
        c.args(["--exclude", &excluded.name]);
    }
    exec(c)
}

/// `oauth-all` builds with no provider, each provider alone, and all; with
/// one provider on, no other provider crate is in the dependency tree.
fn feature_matrix() -> Result<(), String> {
    let mut sets: Vec<Vec<&str>> = vec![vec![]];
    sets.extend(PROVIDERS.iter().map(|p| vec![*p]));
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
        for feature in PROVIDERS {
            let krate = provider_crate(feature);
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

/// The TLS feature combinations we support: oauth-core's client builds
/// with each (its `transport::tls` unit tests, run under each set), and
/// `oauth-all` with one backend has only that backend's crypto crate in
/// its dependency tree (ring by default; aws-lc-rs, whose C build is most
/// of a cold build, only when asked for). The sets leave out oauth-core's
/// `lifecycle` feature, so its library also builds and tests without it;
/// the lifecycle's crates are in `oauth-all`'s tree only with it.
fn tls_backends() -> Result<(), String> {
    let sets = [
        "",
        "ring",
        "aws-lc-rs",
        "ring,aws-lc-rs",
        "ring,webpki-roots",
        "aws-lc-rs,webpki-roots",
    ];
    for features in sets {
        let mut test = cargo();
        test.args(["test", "--quiet", "-p", "oauth-core", "--lib"])
            .args(["--no-default-features", "--features", features]);
        // Without any feature (no transport, no lifecycle), every unit
        // test; with a TLS set, those of the TLS configuration.
        if !features.is_empty() {
            test.args(["--", "transport::tls"]);
        }
        exec(test)?;
        println!("xtask:      oauth-core [{features}] builds and passes its unit tests");
    }
    for (features, present, absent) in [
        ("ebay,ring", &["ring"][..], &["aws-lc-sys"][..]),
        ("ebay,aws-lc-rs", &["aws-lc-sys"], &["ring"]),
        // The token lifecycle's own crates come with its feature only
        // (rustix too, on Linux only: not checked, to hold on every host).
        ("ebay,ring", &[], &["papaya", "arc-swap"]),
        ("ebay,ring,lifecycle", &["papaya", "arc-swap"], &[]),
    ] {
        let mut tree = cargo();
        tree.args(["tree", "-p", "oauth-all", "--no-default-features"])
            .args(["--features", features])
            .args(["-e", "normal", "--prefix", "none"]);
        let listing = output(tree)?;
        let has = |krate: &str| listing.lines().any(|l| l.starts_with(&format!("{krate} ")));
        if !present.iter().all(|k| has(k)) || absent.iter().any(|k| has(k)) {
            return Err(format!(
                "oauth-all [{features}]: expected {present:?} and none of {absent:?} in the dependency tree"
            ));
        }
        println!("xtask:      oauth-all [{features}]: {present:?}, none of {absent:?}");
    }
    Ok(())
}

/// `cargo package` verifies each crate against its siblings through a
/// temporary local registry in `target/package/tmp-registry`, and cargo
/// extracts those crates under `$CARGO_HOME/registry/src/-<hash>/`, keyed by
/// the registry's path, and never re-extracts an existing `name-version`
/// directory. A second run from a checkout at the same path would then
/// verify against the sources of the first. Remove our crates' extracted
/// copies from those local-registry directories (named `-<hash>`; crates.io's
/// are named after its index and are left alone) before packaging.
fn clear_stale_packaged_sources() {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")));
    let Some(src) = cargo_home.map(|h| h.join("registry").join("src")) else {
        return;
    };
    let Ok(registries) = std::fs::read_dir(&src) else {
        return;
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(crates) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for extracted in crates.flatten() {
            let name = extracted.file_name().to_string_lossy().into_owned();
            let ours = published().iter().any(|krate| {
                name.strip_prefix(krate)
                    .is_some_and(|rest| rest.starts_with('-'))
            });
            if ours {
                let _ = std::fs::remove_dir_all(extracted.path());
            }
        }
    }
}

/// The packaged crates are built from the temporary registry, which cargo
/// treats as immutable: an artifact built from an earlier packaging of the
/// same version would be reused. Packaging verifies in its own target
/// directory, from which our crates' artifacts are removed first (the
/// third-party dependencies stay cached).
fn clear_our_artifacts(target: &std::path::Path) {
    let profile = target.join("debug");
    for sub in [".fingerprint", "deps", "build", "incremental"] {
        let Ok(entries) = std::fs::read_dir(profile.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = ["oauth-", "oauth_", "liboauth_"]
                .iter()
                .any(|prefix| name.starts_with(prefix));
            if ours {
                let path = entry.path();
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
}
