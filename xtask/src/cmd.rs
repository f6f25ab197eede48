//! Running commands and timing steps.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// `cargo` as invoked by the user (so `+toolchain` overrides carry over).
pub fn cargo() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root());
    command
}

/// Runs `command`, streaming its output; an error names it.
pub fn exec(mut command: Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} exited with {status}"))
    }
}

/// Runs `command` and returns its standard output.
pub fn output(mut command: Command) -> Result<String, String> {
    let shown = format!("{command:?}");
    let out = command
        .output()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{shown} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Whether a program is on the PATH (e.g. `cargo-nextest`).
pub fn has_program(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}

/// Times named steps and prints one summary line per step.
#[derive(Default)]
pub struct Steps {
    done: Vec<(String, Duration)>,
    started: Option<Instant>,
}

impl Steps {
    /// Runs one step; on failure, stops with the step's name.
    pub fn step(
        &mut self,
        name: &str,
        body: impl FnOnce() -> Result<(), String>,
    ) -> Result<(), String> {
        let started = *self.started.get_or_insert_with(Instant::now);
        println!("xtask: ==> {name}");
        let t = Instant::now();
        let result = body();
        let took = t.elapsed();
        match result {
            Ok(()) => {
                println!("xtask: ok   {name} ({:.1} s)", took.as_secs_f64());
                self.done.push((name.to_owned(), took));
                Ok(())
            }
            Err(e) => {
                self.summary(started);
                println!("xtask: FAIL {name} ({:.1} s)", took.as_secs_f64());
                Err(format!("step `{name}` failed: {e}"))
            }
        }
    }

    /// Prints the summary of every finished step.
    pub fn summary(&self, started: Instant) {
        println!("xtask: summary");
        for (name, took) in &self.done {
            println!("xtask:   ok   {name:<40} {:>7.1} s", took.as_secs_f64());
        }
        println!("xtask:   total {:>47.1} s", started.elapsed().as_secs_f64());
    }

    /// Prints the final summary.
    pub fn finish(&self) {
        if let Some(started) = self.started {
            self.summary(started);
        }
    }
}
