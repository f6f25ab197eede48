//! Benchmarks of the token stores (work in progress).
#![allow(missing_docs)]

fn main() {}
