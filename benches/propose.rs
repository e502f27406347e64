//! Benchmark: propose (not built yet).
fn main() {}
