//! The workspace's packages as `cargo metadata` describes them, and the
//! order in which they can be published.

use crate::cmd::{cargo, output, workspace_root};
use crate::json::Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// One workspace member.
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// The directory of its `Cargo.toml`.
    pub dir: PathBuf,
    /// `publish` is not `false` (nor a list of registries without crates.io).
    pub publishable: bool,
    /// Whether it has a library target (what semver checks look at).
    pub has_lib: bool,
    /// Workspace members it depends on, of any kind (normal, build, dev).
    pub workspace_deps: BTreeSet<String>,
    /// Those of them that are normal dependencies (the ones whose types can
    /// appear in its API).
    pub normal_workspace_deps: BTreeSet<String>,
}

/// The workspace members, in `cargo metadata`'s order.
pub fn packages() -> Result<Vec<Package>, String> {
    let mut c = cargo();
    c.args(["metadata", "--format-version", "1", "--no-deps"]);
    let doc = Json::parse(&output(c)?).map_err(|e| format!("cargo metadata: {e}"))?;
    let members: BTreeSet<&str> = doc
        .get("workspace_members")
        .items()
        .iter()
        .filter_map(Json::as_str)
        .collect();
    let mut packages = Vec::new();
    let all = doc.get("packages").items();
    let names: BTreeSet<&str> = all
        .iter()
        .filter(|p| p.get("id").as_str().is_some_and(|id| members.contains(id)))
        .filter_map(|p| p.get("name").as_str())
        .collect();
    for p in all {
        if !p.get("id").as_str().is_some_and(|id| members.contains(id)) {
            continue;
        }
        let name = p.get("name").as_str().unwrap_or_default().to_owned();
        let manifest = PathBuf::from(p.get("manifest_path").as_str().unwrap_or_default());
        let publishable = match p.get("publish") {
            Json::Null => true,
            Json::Array(registries) => registries.iter().any(|r| r.as_str() == Some("crates-io")),
            _ => false,
        };
        let has_lib = p.get("targets").items().iter().any(|t| {
            t.get("kind")
                .items()
                .iter()
                .any(|k| matches!(k.as_str(), Some("lib" | "rlib" | "proc-macro")))
        });
        let ours = |d: &&Json| {
            d.get("name")
                .as_str()
                .is_some_and(|d| names.contains(d) && d != name)
        };
        let dependencies = p.get("dependencies").items();
        let workspace_deps = dependencies
            .iter()
            .filter(ours)
            .filter_map(|d| d.get("name").as_str().map(str::to_owned))
            .collect();
        let normal_workspace_deps = dependencies
            .iter()
            .filter(ours)
            .filter(|d| d.get("kind") == &Json::Null)
            .filter_map(|d| d.get("name").as_str().map(str::to_owned))
            .collect();
        packages.push(Package {
            name,
            version: p.get("version").as_str().unwrap_or_default().to_owned(),
            dir: manifest.parent().map(PathBuf::from).unwrap_or_default(),
            publishable,
            has_lib,
            workspace_deps,
            normal_workspace_deps,
        });
    }
    Ok(packages)
}

/// The publishable packages, each after every publishable package it
/// depends on (dev-dependencies too: crates.io needs every dependency that
/// has a version to exist). Ties keep `cargo metadata`'s order.
pub fn publish_order(packages: &[Package]) -> Result<Vec<Package>, String> {
    let publishable: BTreeMap<&str, &Package> = packages
        .iter()
        .filter(|p| p.publishable)
        .map(|p| (p.name.as_str(), p))
        .collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::new();
    while order.len() < publishable.len() {
        let next = packages.iter().find(|p| {
            p.publishable
                && !done.contains(p.name.as_str())
                && p.workspace_deps
                    .iter()
                    .all(|d| !publishable.contains_key(d.as_str()) || done.contains(d.as_str()))
        });
        let Some(next) = next else {
            let left: Vec<&str> = publishable
                .keys()
                .filter(|n| !done.contains(*n))
                .copied()
                .collect();
            return Err(format!(
                "no publish order: a dependency cycle among {}",
                left.join(", ")
            ));
        };
        done.insert(next.name.as_str());
        order.push(next.clone());
    }
    Ok(order)
}

/// `dir` relative to the workspace root, with `/` separators (for git).
pub fn relative(dir: &std::path::Path) -> String {
    let root = workspace_root();
    dir.strip_prefix(&root)
        .unwrap_or(dir)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::{Package, publish_order};
    use std::collections::BTreeSet;

    fn package(name: &str, publishable: bool, deps: &[&str]) -> Package {
        Package {
            name: name.to_owned(),
            version: "0.1.0".to_owned(),
            dir: name.into(),
            publishable,
            has_lib: true,
            workspace_deps: deps
                .iter()
                .map(|d| (*d).to_owned())
                .collect::<BTreeSet<_>>(),
            normal_workspace_deps: BTreeSet::new(),
        }
    }

    #[test]
    fn dependencies_come_first_and_unpublished_packages_are_left_out() {
        let packages = [
            package("cli", true, &["all", "core"]),
            package("all", true, &["ebay", "core"]),
            package("xtask", false, &["core"]),
            package("ebay", true, &["core"]),
            package("core", true, &[]),
        ];
        let order = publish_order(&packages)
            .map(|o| o.into_iter().map(|p| p.name).collect::<Vec<_>>().join(" "));
        assert_eq!(order.as_deref(), Ok("core ebay all cli"));
    }

    #[test]
    fn a_cycle_is_an_error() {
        let packages = [package("a", true, &["b"]), package("b", true, &["a"])];
        assert!(publish_order(&packages).is_err());
    }
}
