//! Benchmark: generate (not built yet).
fn main() {}
