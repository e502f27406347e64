//! Tests: sor_reader.
