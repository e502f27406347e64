//! Benchmark: SOR XML read throughput (not built yet).
fn main() {}
