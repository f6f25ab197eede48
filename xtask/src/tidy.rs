//! `tidy`: checks that keep documentation and code in step.
//!
//! - every published crate's `lib.rs` (or `main.rs`) has `#![warn(missing_docs)]`
//!   and inherits the workspace lints;
//! - every library documents its features in a "Crate feature flags"
//!   section that names each feature of its `Cargo.toml`;
//! - no `reqwest` type in `oauth-core`'s public signatures;
//! - every published crate has a README, description, keywords, categories,
//!   and denies broken intra-doc links;
//! - `published()` is the set of publishable workspace members;
//! - every provider crate (`ci::PROVIDERS`) keeps the provider contract:
//!   it exports the common names (`Client`, `ClientBuilder`, `Environment`,
//!   `TokenResponse`, `ApiAuth`, `PROVIDER`), implements `Provider` and
//!   `Configure`, and exports none of the names the contract replaced (a
//!   provider's own `DEFAULT_REFRESH_SKEW` made glob imports clash);
//! - every published crate's package (`cargo package --list`, about 0.1 s a
//!   crate) holds `LICENSE-MIT`, `LICENSE-APACHE` (the root's texts),
//!   `README.md` and `CHANGELOG.md`;
//! - a README's Rust blocks are plain Rust (no `ignore`, no hidden `# `
//!   lines, which crates.io would show) and compiled as doc tests, by the
//!   crate itself or by `xtask/src/readmes.rs`;
//! - a crate with a binary says `cargo install <crate>` in its README;
//! - `CHANGELOG.md` has an `## [Unreleased]` section and one for the
//!   crate's version.

use crate::ci::{PROVIDERS, provider_crate, published};
use crate::cmd::{cargo, output};
use std::fs;
use std::path::Path;

/// What every published package must contain.
const PACKAGED: &[&str] = &["LICENSE-MIT", "LICENSE-APACHE", "README.md", "CHANGELOG.md"];

pub fn run(root: &Path) -> Result<(), String> {
    let mut problems = Vec::new();
    for krate in &published() {
        let dir = root.join("crates").join(krate);
        check_crate(&dir, krate, &mut problems);
        check_package(root, krate, &mut problems);
        check_readme(root, &dir, krate, &mut problems);
    }
    for provider in PROVIDERS {
        let krate = provider_crate(provider);
        check_provider_contract(&root.join("crates").join(&krate), &krate, &mut problems);
    }
    check_published_list(&mut problems);
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
    check_changelog(dir, krate, &manifest, problems);
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
    if !source.contains("#![deny(rustdoc::broken_intra_doc_links)]") {
        problems.push(format!(
            "{krate}: {} lacks #![deny(rustdoc::broken_intra_doc_links)]",
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

/// The crate's package holds the licences, README and changelog, and its
/// licence files are the root's texts (symbolic links, which cargo follows).
fn check_package(root: &Path, krate: &str, problems: &mut Vec<String>) {
    let mut c = cargo();
    c.args(["package", "--list", "--allow-dirty", "--quiet", "-p", krate]);
    let listing = match output(c) {
        Ok(listing) => listing,
        Err(e) => {
            problems.push(format!("{krate}: cargo package --list failed: {e}"));
            return;
        }
    };
    for file in PACKAGED {
        if !listing.lines().any(|l| l.trim() == *file) {
            problems.push(format!("{krate}: the package lacks {file}"));
        }
    }
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        let Some(text) = read(&root.join(licence)) else {
            problems.push(format!("no {licence} at the workspace root"));
            continue;
        };
        if read(&root.join("crates").join(krate).join(licence)).as_deref() != Some(text.as_str()) {
            problems.push(format!(
                "{krate}: {licence} is not the root's text (make it a symbolic link to ../../{licence})"
            ));
        }
    }
}

/// The fenced code blocks of a Markdown text: (info string, lines).
fn code_blocks(markdown: &str) -> Vec<(String, Vec<&str>)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in markdown.lines() {
        let t = line.trim_start();
        match current.take() {
            None => {
                if let Some(info) = t.strip_prefix("```") {
                    current = Some((info.trim().to_owned(), Vec::new()));
                }
            }
            Some((info, mut lines)) => {
                if t.starts_with("```") {
                    blocks.push((info, lines));
                } else {
                    lines.push(line);
                    current = Some((info, lines));
                }
            }
        }
    }
    blocks
}

/// Whether rustdoc treats a block with this info string as Rust.
fn is_rust(info: &str) -> bool {
    let words: Vec<&str> = info
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    words.is_empty()
        || words.iter().all(|w| {
            matches!(
                *w,
                "rust"
                    | "ignore"
                    | "no_run"
                    | "should_panic"
                    | "compile_fail"
                    | "edition2021"
                    | "edition2024"
            )
        })
}

fn check_readme(root: &Path, dir: &Path, krate: &str, problems: &mut Vec<String>) {
    let Some(readme) = read(&dir.join("README.md")) else {
        return; // reported by check_crate
    };
    let rust_blocks: Vec<(String, Vec<&str>)> = code_blocks(&readme)
        .into_iter()
        .filter(|(info, _)| is_rust(info))
        .collect();
    for (info, lines) in &rust_blocks {
        if info.split(',').any(|w| w.trim() == "ignore") {
            problems.push(format!(
                "{krate}: README.md has an `ignore` Rust block: make it compile"
            ));
        }
        if lines.iter().any(|l| {
            let t = l.trim_start();
            t == "#" || t.starts_with("# ")
        }) {
            problems.push(format!(
                "{krate}: README.md hides lines with `# `, which crates.io shows: write plain Rust"
            ));
        }
    }
    if !rust_blocks.is_empty() {
        let own = ["src/lib.rs"]
            .iter()
            .filter_map(|f| read(&dir.join(f)))
            .any(|s| s.contains("include_str!(\"../README.md\")"));
        let hosted = read(&root.join("xtask/src/readmes.rs")).is_some_and(|s| {
            s.contains(&format!("include_str!(\"../../crates/{krate}/README.md\")"))
        });
        if !own && !hosted {
            problems.push(format!(
                "{krate}: README.md's Rust blocks are not compiled: include it in xtask/src/readmes.rs"
            ));
        }
    }
    let has_bin = dir.join("src/main.rs").is_file()
        || read(&dir.join("Cargo.toml")).is_some_and(|m| m.contains("[[bin]]"));
    if has_bin && !readme.contains(&format!("cargo install {krate}")) {
        problems.push(format!(
            "{krate}: README.md does not say how to install its binary (`cargo install {krate}`)"
        ));
    }
}

/// `published()` (used by `ci` and `tidy`) is what `cargo metadata` says is
/// publishable.
fn check_published_list(problems: &mut Vec<String>) {
    match crate::metadata::packages() {
        Ok(packages) => {
            let mut publishable: Vec<&str> = packages
                .iter()
                .filter(|p| p.publishable)
                .map(|p| p.name.as_str())
                .collect();
            publishable.sort_unstable();
            let mut listed = published();
            listed.sort_unstable();
            if publishable != listed {
                problems.push(format!(
                    "xtask/src/ci.rs published() is {listed:?}, cargo metadata says {publishable:?}"
                ));
            }
        }
        Err(e) => problems.push(format!("cargo metadata failed: {e}")),
    }
}

/// The names every provider crate exports.
const CONTRACT_NAMES: &[&str] = &[
    "Client",
    "ClientBuilder",
    "Environment",
    "TokenResponse",
    "ApiAuth",
    "PROVIDER",
];

/// Names the contract replaced: exporting one again means the crates drift
/// apart (or, for `DEFAULT_REFRESH_SKEW`, that glob imports of two
/// providers clash).
const REPLACED_NAMES: &[&str] = &[
    "DEFAULT_REFRESH_SKEW",
    "UserToken",
    "TokenUse",
    "token_error",
    "classify_error_code",
    "error_for_code",
    "check_response",
    "merge_refreshed",
    "decode_token_response",
];

/// A provider crate exports the contract's names, implements the contract
/// and exports none of the names it replaced.
fn check_provider_contract(dir: &Path, krate: &str, problems: &mut Vec<String>) {
    let Some(lib) = read(&dir.join("src/lib.rs")) else {
        problems.push(format!("{krate}: no src/lib.rs"));
        return;
    };
    let exported = exported_names(&lib);
    for name in CONTRACT_NAMES {
        if !exported.iter().any(|e| e == name) {
            problems.push(format!(
                "{krate}: does not export `{name}` (the provider contract: docs/architecture.md)"
            ));
        }
    }
    for name in REPLACED_NAMES {
        if exported.iter().any(|e| e == name) {
            problems.push(format!(
                "{krate}: exports `{name}`, which the provider contract replaced"
            ));
        }
    }
    let sources: String = fs::read_dir(dir.join("src"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .filter_map(|e| read(&e.path()))
        .collect();
    for (what, pattern) in [
        ("Provider", "Provider for "),
        ("Configure", "Configure for "),
        ("the core client", "type Client = oauth_core::Client<"),
    ] {
        if !sources.contains(pattern) {
            problems.push(format!("{krate}: no `{pattern}...` ({what})"));
        }
    }
}

/// The names a `lib.rs` makes public at its root: `pub use` lists (and
/// their `as` renames), `pub type`, `const`, `struct`, `enum`, `trait`,
/// `fn` and `mod` items.
fn exported_names(lib: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut statement = String::new();
    for line in lib.lines() {
        let t = line.trim();
        if statement.is_empty() && !t.starts_with("pub use ") {
            for keyword in ["type", "const", "struct", "enum", "trait", "fn", "mod"] {
                if let Some(rest) = t.strip_prefix(&format!("pub {keyword} ")) {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    names.push(name);
                }
            }
            continue;
        }
        statement.push_str(t);
        statement.push(' ');
        if t.ends_with(';') {
            let body = statement
                .trim()
                .trim_start_matches("pub use ")
                .trim_end_matches(';');
            let list = match body.split_once('{') {
                Some((_, inner)) => inner.trim_end().trim_end_matches('}').to_owned(),
                None => body.rsplit("::").next().unwrap_or(body).to_owned(),
            };
            for item in list.split(',') {
                let item = item.trim();
                let name = item.rsplit(" as ").next().unwrap_or(item).trim();
                let name = name.rsplit("::").next().unwrap_or(name);
                if !name.is_empty() && name != "self" {
                    names.push(name.to_owned());
                }
            }
            statement.clear();
        }
    }
    names
}

/// `CHANGELOG.md` keeps an `## [Unreleased]` section and has an entry for
/// the crate's version (`cargo xtask release` checks the entries' content).
fn check_changelog(dir: &Path, krate: &str, manifest: &str, problems: &mut Vec<String>) {
    let Some(changelog) = read(&dir.join("CHANGELOG.md")) else {
        problems.push(format!("{krate}: no CHANGELOG.md"));
        return;
    };
    let version = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("version = \""))
        .and_then(|v| v.split('"').next());
    let mut wanted = vec!["## [Unreleased]".to_owned()];
    if let Some(version) = version {
        wanted.push(format!("## [{version}]"));
    }
    for heading in wanted {
        if !changelog.lines().any(|l| l.starts_with(&heading)) {
            problems.push(format!("{krate}: CHANGELOG.md has no `{heading}` section"));
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
                    // The one allowed door: a user's own reqwest client,
                    // behind the default `reqwest` feature.
                    let bring_your_own =
                        t.starts_with("pub fn from_client(client: reqwest::Client)");
                    if t.starts_with("pub ")
                        && !t.starts_with("pub(")
                        && t.contains("reqwest")
                        && !bring_your_own
                    {
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

#[cfg(test)]
mod tests {
    use super::{code_blocks, is_rust};

    #[test]
    fn reads_the_names_a_lib_rs_exports() {
        let lib = "pub use a::{B, C as D,\n    e::F};\npub use oauth_core::Environment;\npub type Client = x;\npub const PROVIDER: &str = \"p\";\nmod hidden;\n";
        assert_eq!(
            super::exported_names(lib),
            ["B", "D", "F", "Environment", "Client", "PROVIDER"]
        );
    }

    #[test]
    fn finds_the_rust_blocks_of_a_readme() {
        let readme = "# x\n\n```toml\na = 1\n```\n\n```rust,no_run\nfn main() {}\n```\n\n```\nlet x = 1;\n```\n\n```sh\nls\n```\n";
        let rust: Vec<Vec<&str>> = code_blocks(readme)
            .into_iter()
            .filter(|(info, _)| is_rust(info))
            .map(|(_, lines)| lines)
            .collect();
        assert_eq!(rust, [vec!["fn main() {}"], vec!["let x = 1;"]]);
        assert!(is_rust("rust,ignore"));
        assert!(!is_rust("text"));
    }
}
