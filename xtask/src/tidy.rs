//! `tidy`: checks that keep documentation and code in step.
//!
//! - every published crate's `lib.rs` (or `main.rs`) has `#![warn(missing_docs)]`
//!   and inherits the workspace lints;
//! - every library documents its features in a "Crate feature flags"
//!   section that names each feature of its `Cargo.toml`;
//! - no `reqwest` type in `oauth-core`'s public signatures;
//! - every published crate has a README, description, keywords, categories.

use crate::ci::PUBLISHED;
use std::fs;
use std::path::Path;

pub fn run(root: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    for krate in PUBLISHED {
        let dir = root.join("crates").join(krate);
        check_crate(&dir, krate, &mut problems);
    }
    check_no_reqwest_in_core_api(&root.join("crates/oauth-core/src"), &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        for p in &problems {
            println!("xtask: tidy: {p}");
        }
        Err(format!("{} tidy problem(s)", problems.len()))
    }
}

fn read(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok()
}

fn check_crate(dir: &Path, krate: &str, problems: &mut Vec<String>) {
    let Some(manifest) = read(&dir.join("Cargo.toml")) else {
        problems.push(format!("{krate}: no Cargo.toml"));
        return;
    };
    for key in ["description", "keywords", "categories", "readme"] {
        if !manifest
            .lines()
            .any(|l| l.trim_start().starts_with(&format!("{key} =")))
        {
            problems.push(format!("{krate}: Cargo.toml has no `{key}`"));
        }
    }
    if !manifest.contains("[lints]\nworkspace = true") {
        problems.push(format!(
            "{krate}: Cargo.toml does not inherit the workspace lints"
        ));
    }
    if !dir.join("README.md").is_file() {
        problems.push(format!("{krate}: no README.md"));
    }
    let lib = dir.join("src/lib.rs");
    let root_file = if lib.is_file() {
        lib
    } else {
        dir.join("src/main.rs")
    };
    let Some(source) = read(&root_file) else {
        problems.push(format!("{krate}: no src/lib.rs or src/main.rs"));
        return;
    };
    if !source.contains("#![warn(missing_docs)]") && !source.contains("#![deny(missing_docs)]") {
        problems.push(format!(
            "{krate}: {} lacks #![warn(missing_docs)]",
            root_file.display()
        ));
    }
    if root_file.ends_with("lib.rs") {
        let features = features_of(&manifest);
        let docs: String = source
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        match docs.split_once("# Crate feature flags") {
            None => problems.push(format!(
                "{krate}: crate docs lack a \"# Crate feature flags\" section"
            )),
            Some((_, section)) => {
                for feature in features {
                    if !section.contains(&format!("`{feature}`")) {
                        problems.push(format!(
                            "{krate}: feature `{feature}` is not documented in \"Crate feature flags\""
                        ));
                    }
                }
            }
        }
    }
}

/// The features declared in `[features]`, except `default`.
fn features_of(manifest: &str) -> Vec<String> {
    let mut in_features = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_features = t == "[features]";
            continue;
        }
        if in_features && let Some((name, _)) = t.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && name != "default" && !name.starts_with('#') {
                out.push(name.to_owned());
            }
        }
    }
    out
}

/// A public item whose line mentions reqwest would leak it into the API
/// (upgrading reqwest would then break our users).
fn check_no_reqwest_in_core_api(src: &Path, problems: &mut Vec<String>) {
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let Some(text) = read(&path) else { continue };
                for (n, line) in text.lines().enumerate() {
                    let t = line.trim_start();
                    if t.starts_with("pub ") && !t.starts_with("pub(") && t.contains("reqwest") {
                        problems.push(format!(
                            "oauth-core: {}:{}: reqwest in a public signature",
                            path.display(),
                            n + 1
                        ));
                    }
                    if t.starts_with("pub use reqwest") {
                        problems.push(format!(
                            "oauth-core: {}: re-exports reqwest",
                            path.display()
                        ));
                    }
                }
            }
        }
    }
}
