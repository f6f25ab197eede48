//! `cargo xtask bench`: runs the criterion benchmarks of the token
//! lifecycle and prints the `name: value` figures they report.

use crate::cmd::{cargo, exec};

pub fn run(args: &[String]) -> Result<(), String> {
    let mut c = cargo();
    c.args(["bench", "-p", "oauth-core", "--bench", "lifecycle"]);
    if !args.is_empty() {
        c.arg("--").args(args);
    }
    exec(c)
}
