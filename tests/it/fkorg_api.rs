//! Tests: fkorg_api.
