//! The `oauth` command (skeleton).
fn main() {}
