//! Token lifecycle benchmarks (filled by the benchmark issue work).
#![allow(missing_docs)]
fn main() {}
