//! Tests: consequence preview.
