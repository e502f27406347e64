//! Tests: generate.
