//! Tests: fkorg_reader.
