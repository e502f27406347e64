//! Tests: matching.
