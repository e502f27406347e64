//! Local stand-in servers that speak the real registers' protocols, for tests, benchmarks and the demo.
