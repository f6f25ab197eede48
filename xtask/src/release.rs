//! `cargo xtask release [--execute] [--baseline REV]`: checks that the
//! workspace can be released, and prints the publish order. A dry run by
//! default; `--execute` publishes.
//!
//! The last release is the git revision in `release-baseline` (the crates
//! have never been on a registry to compare with). For every publishable
//! crate (`publish` not `false`, per `cargo metadata`):
//!
//! 1. **Version**: the version at the baseline against the current one. A
//!    crate is *changed* if a file under its directory differs from the
//!    baseline (committed or not), or if a workspace crate it depends on
//!    changed (its API can change through a re-export).
//! 2. **API**: each changed library is compared with its baseline API by
//!    `cargo semver-checks check-release`, which derives the release type
//!    from the two versions (before 1.0, `0.y` to `0.y+1` is a major
//!    release), on rustdoc JSON built here for every crate in one target
//!    directory (see `semver_checks`: about nine times faster than
//!    `--baseline-rev` from a clean clone). A bumped crate whose bump is
//!    smaller than its API change fails the run. A changed crate whose
//!    version was not bumped is not part of this release (its changes wait
//!    under "Unreleased"); the check still runs, as for a patch release, to
//!    say which version the changes will need. A library whose normal
//!    dependency makes a breaking release makes one too (semver-checks does
//!    not look across crates).
//!
//! Not part of `cargo xtask ci`: from a clean clone the dry run takes about
//! 4 minutes on two cores (1.5 for the API checks, 2.5 for packaging), and
//! it needs cargo-semver-checks, which a fresh machine would first have to
//! build.
//! 3. **Changelog**: `CHANGELOG.md` has a `## [<version>]` entry for the
//!    current version, and a changed crate that is not bumped lists its
//!    changes under `## [Unreleased]`.
//! 4. **Package**: every publishable crate packages and its package builds
//!    on its own (`cargo package --workspace`, which verifies each crate from
//!    its `.crate` file, against its siblings' packages).
//! 5. **Order**: dependencies first, from `cargo metadata`.
//!
//! `--execute` then publishes, in that order, every crate whose version
//! differs from the baseline's (all of them if `release-baseline` names no
//! revision), tags each `<crate>-v<version>`, and records the current
//! commit in `release-baseline`. It refuses a dirty working tree.
//!
//! cargo-semver-checks is an external tool (`cargo install --locked
//! cargo-semver-checks`, about 7 minutes to build on two cores); the run
//! stops with that command when it is missing.

use crate::ci::package_workspace;
use crate::cmd::{Steps, cargo, exec, has_program, output, workspace_root};
use crate::metadata::{Package, packages, publish_order, relative};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::process::Command;

/// The file naming the last released revision.
pub const BASELINE_FILE: &str = "release-baseline";

const INSTALL_SEMVER_CHECKS: &str = "cargo install --locked cargo-semver-checks";

pub fn run(args: &[String]) -> Result<(), String> {
    let mut execute = false;
    let mut baseline_override = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--execute" => execute = true,
            "--baseline" => {
                baseline_override = Some(
                    args.next()
                        .ok_or("--baseline needs a git revision")?
                        .clone(),
                );
            }
            other => return Err(format!("release: unknown argument `{other}`")),
        }
    }

    let mut steps = Steps::default();
    if execute {
        // Publish what is committed, and what was checked.
        let mut status = git();
        status.args(["status", "--porcelain"]);
        if !output(status)?.trim().is_empty() {
            return Err("--execute needs a clean working tree: commit first".to_owned());
        }
    }
    let mut baseline = None;
    steps.step("baseline", || {
        let from = if baseline_override.is_some() {
            "--baseline"
        } else {
            BASELINE_FILE
        };
        baseline = match baseline_override.take() {
            Some(rev) => Some(resolve(&rev)?),
            None => read_baseline()?,
        };
        match &baseline {
            Some(rev) => println!("xtask:      last release: {rev} (from {from})"),
            None => println!("xtask:      {BASELINE_FILE} names no revision: every crate is new"),
        }
        Ok(())
    })?;

    let mut plan = Vec::new();
    steps.step("versions and changes since the baseline", || {
        plan = compare(baseline.as_deref())?;
        for krate in &plan {
            println!("xtask:      {krate}");
        }
        Ok(())
    })?;

    steps.step("semver checks (cargo-semver-checks)", || {
        let Some(rev) = baseline.as_deref() else {
            println!("xtask:      no baseline: nothing to compare with");
            return Ok(());
        };
        semver_checks(rev, &mut plan)
    })?;

    steps.step("changelogs", || check_changelogs(&plan))?;

    steps.step("package and verify every crate", package_workspace)?;

    println!("xtask: publish order (dependencies first, from cargo metadata):");
    for (n, krate) in plan.iter().enumerate() {
        println!(
            "xtask:   {:>2}. {:<20} {:<8} {}",
            n + 1,
            krate.package.name,
            krate.package.version,
            krate.release_note()
        );
    }
    let to_publish: Vec<&Crate> = plan.iter().filter(|c| c.to_publish()).collect();
    if to_publish.is_empty() {
        println!("xtask: nothing to publish: every version is the baseline's");
    }
    for krate in &to_publish {
        println!(
            "xtask: {} cargo publish -p {}",
            if execute { "running" } else { "would run" },
            krate.package.name
        );
    }

    if execute {
        steps.step("publish", || publish(&to_publish))?;
    }
    steps.finish();
    if execute {
        println!("xtask: released; commit {BASELINE_FILE} and push the tags");
    } else {
        println!("xtask: release dry run passed (nothing published; `--execute` publishes)");
    }
    Ok(())
}

/// What the release does with one crate.
#[derive(Debug)]
struct Crate {
    package: Package,
    /// The version at the baseline (`None`: the crate did not exist).
    baseline_version: Option<String>,
    /// Whether its files or a workspace dependency changed since the baseline.
    changed: bool,
    /// The semver verdict, once checked.
    semver: Option<Semver>,
}

#[derive(Debug)]
enum Semver {
    /// Binary only: no library API.
    NoLibrary,
    /// The bump covers the API change.
    Ok,
    /// Not bumped; its changes fit a patch release.
    PatchWillDo,
    /// Not bumped; its changes need a major release (`0.y+1` before 1.0).
    NeedsMajor,
}

impl Crate {
    fn bumped(&self) -> bool {
        self.baseline_version.as_deref() != Some(self.package.version.as_str())
    }

    fn to_publish(&self) -> bool {
        self.bumped()
    }

    fn release_note(&self) -> String {
        let Some(old) = &self.baseline_version else {
            return "new: first release".to_owned();
        };
        if self.bumped() {
            return format!("to publish (was {old})");
        }
        let pending = match self.semver {
            Some(Semver::NeedsMajor) => format!(
                "; its changes since need {} (breaking)",
                next_major(&self.package.version)
            ),
            Some(Semver::PatchWillDo) => format!(
                "; its changes since fit {}",
                next_patch(&self.package.version)
            ),
            _ => String::new(),
        };
        if self.changed {
            format!("released at the baseline, changed since{pending}")
        } else {
            "released at the baseline, unchanged".to_owned()
        }
    }
}

impl fmt::Display for Crate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<20} baseline {:<8} current {:<8} {}",
            self.package.name,
            self.baseline_version.as_deref().unwrap_or("-"),
            self.package.version,
            if self.changed { "changed" } else { "unchanged" }
        )
    }
}

/// The revision in `release-baseline`: its first line that is neither
/// blank nor a `#` comment (none: nothing was released yet).
fn read_baseline() -> Result<Option<String>, String> {
    let path = workspace_root().join(BASELINE_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let rev = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    rev.map(resolve).transpose()
}

/// The full hash of `rev`, which must be a commit of this clone.
fn resolve(rev: &str) -> Result<String, String> {
    let mut c = git();
    c.args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"));
    output(c).map(|o| o.trim().to_owned()).map_err(|_| {
        format!(
            "the release baseline `{rev}` is not a commit of this clone \
             (a shallow clone? `git fetch --unshallow`)"
        )
    })
}

fn git() -> Command {
    let mut c = Command::new("git");
    c.current_dir(workspace_root());
    c
}

/// Every publishable crate, in publish order, with its baseline version and
/// whether it changed.
fn compare(baseline: Option<&str>) -> Result<Vec<Crate>, String> {
    let all = packages()?;
    let order = publish_order(&all)?;
    let mut directly_changed = BTreeSet::new();
    let mut plan = Vec::new();
    for package in order {
        let dir = relative(&package.dir);
        let (baseline_version, changed) = match baseline {
            None => (None, true),
            Some(rev) => (version_at(rev, &dir)?, files_changed(rev, &dir)?),
        };
        if let Some(old) = &baseline_version
            && version_tuple(&package.version) < version_tuple(old)
        {
            return Err(format!(
                "{}: version {} is lower than the released {old}",
                package.name, package.version
            ));
        }
        if changed {
            directly_changed.insert(package.name.clone());
        }
        plan.push(Crate {
            package,
            baseline_version,
            changed,
            semver: None,
        });
    }
    // A crate whose workspace dependency changed may have changed its API
    // through it (re-exports, public types). Publish order puts
    // dependencies first, so one pass propagates.
    let mut changed: BTreeSet<String> = directly_changed;
    for krate in &mut plan {
        if !krate.changed
            && krate
                .package
                .workspace_deps
                .iter()
                .any(|d| changed.contains(d))
        {
            krate.changed = true;
        }
        if krate.changed {
            changed.insert(krate.package.name.clone());
        }
    }
    Ok(plan)
}

/// The `[package]` version of `dir/Cargo.toml` at `rev` (`None`: no such
/// file then). `version.workspace = true` reads the root manifest.
fn version_at(rev: &str, dir: &str) -> Result<Option<String>, String> {
    let Some(manifest) = file_at(rev, &format!("{dir}/Cargo.toml"))? else {
        return Ok(None);
    };
    match toml_value(&manifest, "package", "version") {
        Some(v) => Ok(Some(v)),
        None if manifest.contains("version.workspace = true") => {
            let root = file_at(rev, "Cargo.toml")?.unwrap_or_default();
            Ok(toml_value(&root, "workspace.package", "version"))
        }
        None => Err(format!("{dir}/Cargo.toml at {rev} has no version")),
    }
}

fn file_at(rev: &str, path: &str) -> Result<Option<String>, String> {
    let mut c = git();
    c.args(["show", &format!("{rev}:{path}")]);
    let out = c
        .output()
        .map_err(|e| format!("cannot start git show: {e}"))?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// `key = "value"` in the `[table]` of a manifest (enough for versions).
fn toml_value(manifest: &str, table: &str, key: &str) -> Option<String> {
    let mut in_table = false;
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_table = t == format!("[{table}]");
            continue;
        }
        if in_table
            && let Some((k, v)) = t.split_once('=')
            && k.trim() == key
        {
            let v = v.trim();
            if let Some(v) = v.strip_prefix('"').and_then(|v| v.split('"').next()) {
                return Some(v.to_owned());
            }
        }
    }
    None
}

/// Whether a file under `dir` differs from `rev`: committed, staged,
/// modified or untracked (ignored files excluded).
fn files_changed(rev: &str, dir: &str) -> Result<bool, String> {
    let mut diff = git();
    diff.args(["diff", "--quiet", rev, "--", dir]);
    let status = diff
        .status()
        .map_err(|e| format!("cannot start git diff: {e}"))?;
    if !status.success() {
        return Ok(true);
    }
    let mut untracked = git();
    untracked.args(["ls-files", "--others", "--exclude-standard", "--", dir]);
    Ok(!output(untracked)?.trim().is_empty())
}

/// `x.y.z` as numbers (pre-release and build suffixes ignored).
fn version_tuple(version: &str) -> (u64, u64, u64) {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.').map(|p| p.parse().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// The next breaking version: `0.y+1.0` before 1.0, `x+1.0.0` after.
fn next_major(version: &str) -> String {
    match version_tuple(version) {
        (0, 0, z) => format!("0.0.{}", z + 1),
        (0, y, _) => format!("0.{}.0", y + 1),
        (x, _, _) => format!("{}.0.0", x + 1),
    }
}

fn next_patch(version: &str) -> String {
    let (x, y, z) = version_tuple(version);
    format!("{x}.{y}.{}", z + 1)
}

/// Runs cargo-semver-checks on each changed library.
///
/// `cargo semver-checks --baseline-rev` builds each crate in a project of
/// its own, with its own target directory, twice (current and baseline):
/// every dependency is compiled again for every crate, about 2.5 minutes a
/// crate on two cores, 15 for the workspace. Instead, the rustdoc JSON that
/// semver-checks compares is generated here for every crate in one target
/// directory (`target/release-check`), from the working tree and from the
/// baseline's sources (`git archive`), so that the dependencies are checked
/// once; semver-checks then only compares (`--current-rustdoc`,
/// `--baseline-rustdoc`). The JSON is what semver-checks would generate
/// itself: the same toolchain's rustdoc, every feature on (its default
/// enables all but `unstable`-like ones; this workspace has none of those).
fn semver_checks(rev: &str, plan: &mut [Crate]) -> Result<(), String> {
    if !has_program("cargo-semver-checks") {
        return Err(format!(
            "cargo-semver-checks is not installed: `{INSTALL_SEMVER_CHECKS}`"
        ));
    }
    for krate in plan.iter_mut() {
        if krate.changed && krate.baseline_version.is_some() && !krate.package.has_lib {
            println!(
                "xtask:      {}: binary only, no library API to compare",
                krate.package.name
            );
            krate.semver = Some(Semver::NoLibrary);
        }
    }
    let names: Vec<String> = plan
        .iter()
        .filter(|k| k.changed && k.baseline_version.is_some() && k.package.has_lib)
        .map(|k| k.package.name.clone())
        .collect();
    if names.is_empty() {
        return Ok(());
    }

    let root = workspace_root();
    let work = root.join("target").join("release-check");
    let target = work.join("target");
    let baseline_src = work.join("baseline-src");
    let _ = std::fs::remove_dir_all(&baseline_src);
    for dir in [&baseline_src, &work.join("current"), &work.join("baseline")] {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    extract(rev, &baseline_src)?;
    for name in &names {
        rustdoc_json(&root, &target, name, &work.join("current"))?;
        rustdoc_json(&baseline_src, &target, name, &work.join("baseline"))?;
    }

    let mut failures = Vec::new();
    for krate in plan.iter_mut() {
        let name = krate.package.name.clone();
        if !names.contains(&name) {
            continue;
        }
        let file = format!("{}.json", name.replace('-', "_"));
        let mut c = cargo();
        c.args(["semver-checks", "check-release", "--color", "never"])
            .arg("--current-rustdoc")
            .arg(work.join("current").join(&file))
            .arg("--baseline-rustdoc")
            .arg(work.join("baseline").join(&file));
        let shown = format!("{c:?}");
        let out = c
            .output()
            .map_err(|e| format!("cannot start {shown}: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let summary = text
            .lines()
            .find(|l| l.trim_start().starts_with("Summary"))
            .map(str::trim)
            .unwrap_or("(no summary)");
        let failed = !out.status.success();
        if failed && !text.contains("checks failed") {
            // Not a verdict: the tool itself failed.
            println!("{text}");
            return Err(format!("{shown} failed without a verdict"));
        }
        krate.semver = Some(match (krate.bumped(), failed) {
            (true, false) => Semver::Ok,
            (true, true) => {
                println!("{text}");
                failures.push(format!(
                    "{name}: {} -> {} is too small a bump for its API change",
                    krate.baseline_version.as_deref().unwrap_or("-"),
                    krate.package.version
                ));
                Semver::Ok
            }
            (false, false) => Semver::PatchWillDo,
            (false, true) => Semver::NeedsMajor,
        });
        println!("xtask:      {name}: {summary}");
    }
    propagate_breaking(plan, &mut failures);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// A breaking change of a normal dependency is a breaking change of its
/// dependents: their public types and re-exports come from it (`oauth-all`
/// re-exports every crate, the providers' signatures use `oauth-core`'s
/// types), and semver-checks does not look across crates. In publish order,
/// so it carries through.
fn propagate_breaking(plan: &mut [Crate], failures: &mut Vec<String>) {
    let mut breaking: BTreeSet<String> = BTreeSet::new();
    for krate in plan.iter_mut() {
        let name = krate.package.name.clone();
        let own = match (&krate.semver, &krate.baseline_version) {
            (Some(Semver::NeedsMajor), _) => true,
            (_, Some(old)) if krate.bumped() => is_major_bump(old, &krate.package.version),
            _ => false,
        };
        let inherited = krate
            .package
            .normal_workspace_deps
            .iter()
            .find(|d| breaking.contains(*d))
            .cloned();
        // A binary has no API to break (its command line is another matter,
        // for its changelog).
        if let (false, Some(dep), true) = (own, &inherited, krate.package.has_lib) {
            match &krate.baseline_version {
                Some(old) if krate.bumped() => failures.push(format!(
                    "{name}: {old} -> {} is too small a bump: its dependency {dep} makes a breaking release",
                    krate.package.version
                )),
                Some(_) => {
                    println!("xtask:      {name}: breaking too, through its dependency {dep}");
                    krate.semver = Some(Semver::NeedsMajor);
                }
                None => {}
            }
        }
        if own || (inherited.is_some() && krate.package.has_lib) {
            breaking.insert(name);
        }
    }
}

/// Whether `old` to `new` is a major release (`0.y` to `0.y+1` before 1.0).
fn is_major_bump(old: &str, new: &str) -> bool {
    let (old, new) = (version_tuple(old), version_tuple(new));
    match old {
        (0, 0, _) => new != old,
        (0, y, _) => new.0 > 0 || new.1 > y,
        (x, _, _) => new.0 > x,
    }
}

/// The sources of `rev` in `dir` (`git archive | tar -x`).
fn extract(rev: &str, dir: &std::path::Path) -> Result<(), String> {
    let mut archive = git();
    archive
        .args(["archive", "--format=tar", rev])
        .stdout(std::process::Stdio::piped());
    let mut archive = archive
        .spawn()
        .map_err(|e| format!("cannot start git archive: {e}"))?;
    let stdout = archive.stdout.take().ok_or("git archive gave no output")?;
    let mut tar = Command::new("tar");
    tar.arg("-x").arg("-C").arg(dir).stdin(stdout);
    exec(tar)?;
    let status = archive.wait().map_err(|e| format!("git archive: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("git archive {rev} exited with {status}"))
    }
}

/// The rustdoc JSON of `name`'s library, every feature on, built from the
/// workspace at `workspace` in `target`, copied into `into`.
fn rustdoc_json(
    workspace: &std::path::Path,
    target: &std::path::Path,
    name: &str,
    into: &std::path::Path,
) -> Result<(), String> {
    let mut c = cargo();
    c.current_dir(workspace)
        .env("CARGO_TARGET_DIR", target)
        // rustdoc's JSON output is unstable: allowed on stable, for rustdoc only.
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["rustdoc", "--quiet", "--lib", "--all-features", "-p", name])
        .args(["--", "-Z", "unstable-options", "--output-format", "json"]);
    exec(c)?;
    let file = format!("{}.json", name.replace('-', "_"));
    let built = target.join("doc").join(&file);
    std::fs::copy(&built, into.join(&file))
        .map(|_| ())
        .map_err(|e| format!("cannot copy {}: {e}", built.display()))
}

/// Every crate's changelog has an entry for its version; a changed crate
/// that is not bumped lists its changes under "Unreleased".
fn check_changelogs(plan: &[Crate]) -> Result<(), String> {
    let mut problems = Vec::new();
    for krate in plan {
        let name = &krate.package.name;
        let path = krate.package.dir.join("CHANGELOG.md");
        let Ok(text) = std::fs::read_to_string(&path) else {
            problems.push(format!("{name}: no CHANGELOG.md"));
            continue;
        };
        let sections = changelog_sections(&text);
        let version = &krate.package.version;
        match sections.get(version.as_str()) {
            None => problems.push(format!(
                "{name}: CHANGELOG.md has no `## [{version}]` entry"
            )),
            Some(entries) if *entries == 0 => {
                problems.push(format!(
                    "{name}: CHANGELOG.md's `## [{version}]` entry is empty"
                ));
            }
            Some(_) => {}
        }
        if krate.changed && !krate.bumped() && sections.get("Unreleased").copied().unwrap_or(0) == 0
        {
            problems.push(format!(
                "{name}: changed since the release, but CHANGELOG.md lists nothing under `## [Unreleased]`"
            ));
        }
    }
    if problems.is_empty() {
        println!("xtask:      every crate's CHANGELOG.md has an entry for its version");
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The `## [name]` sections of a changelog and how many lines of content
/// (list items or text, not subheadings) each has.
fn changelog_sections(text: &str) -> BTreeMap<String, usize> {
    let mut sections = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## [") {
            let name = heading.split(']').next().unwrap_or_default().to_owned();
            sections.entry(name.clone()).or_insert(0);
            current = Some(name);
        } else if let Some(name) = &current {
            let t = line.trim();
            if !t.is_empty() && !t.starts_with('#') && !t.starts_with('[') {
                *sections.entry(name.clone()).or_insert(0) += 1;
            }
        }
    }
    sections
}

/// Publishes in order, tags, and records the new baseline.
fn publish(to_publish: &[&Crate]) -> Result<(), String> {
    let mut head = git();
    head.args(["rev-parse", "HEAD"]);
    let head = output(head)?.trim().to_owned();
    for krate in to_publish {
        let mut c = cargo();
        c.args(["publish", "-p", &krate.package.name]);
        exec(c)?;
        let mut tag = git();
        tag.args([
            "tag",
            &format!("{}-v{}", krate.package.name, krate.package.version),
        ]);
        exec(tag)?;
    }
    let text = format!(
        "# The commit of the last release: `cargo xtask release` compares each crate's\n\
         # version and API with this revision.\n{head}\n"
    );
    std::fs::write(workspace_root().join(BASELINE_FILE), text)
        .map_err(|e| format!("cannot write {BASELINE_FILE}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{
        changelog_sections, is_major_bump, next_major, next_patch, toml_value, version_tuple,
    };

    #[test]
    fn major_bumps() {
        assert!(is_major_bump("0.1.0", "0.2.0"));
        assert!(!is_major_bump("0.1.0", "0.1.1"));
        assert!(is_major_bump("0.1.3", "1.0.0"));
        assert!(is_major_bump("1.2.0", "2.0.0"));
        assert!(!is_major_bump("1.2.0", "1.3.0"));
        assert!(is_major_bump("0.0.1", "0.0.2"));
    }

    #[test]
    fn versions() {
        assert_eq!(version_tuple("0.10.2-rc.1"), (0, 10, 2));
        assert!(version_tuple("0.10.0") > version_tuple("0.9.9"));
        assert_eq!(next_major("0.1.3"), "0.2.0");
        assert_eq!(next_major("1.4.0"), "2.0.0");
        assert_eq!(next_major("0.0.3"), "0.0.4");
        assert_eq!(next_patch("0.1.3"), "0.1.4");
    }

    #[test]
    fn manifest_versions() {
        let manifest =
            "[package]\nname = \"a\"\nversion = \"0.2.0\" # x\n\n[dependencies]\nversion = \"9\"\n";
        assert_eq!(
            toml_value(manifest, "package", "version").as_deref(),
            Some("0.2.0")
        );
        assert_eq!(toml_value(manifest, "workspace.package", "version"), None);
    }

    #[test]
    fn changelog_entries_are_counted_per_version() {
        let text = "# Changelog\n\nintro\n\n## [Unreleased]\n\n### Added\n\n## [0.1.0] - 2026-01-01\n\nInitial release.\n- a\n";
        let sections = changelog_sections(text);
        assert_eq!(sections.get("Unreleased"), Some(&0));
        assert_eq!(sections.get("0.1.0"), Some(&2));
    }
}
