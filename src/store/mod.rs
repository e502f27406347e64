//! The store: snapshots, links and decisions in SQLite (default) or PostgreSQL. The only module with SQL.
