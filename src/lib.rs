//! sorsync: keeps SOR (the health-care organisation register) in step with FK-ORG.
//!
//! This is the binary's crate: the command line ([`cli`]) and logging ([`telemetry`]). The rest is
//! a workspace of crates, one per layer (see `docs/ARCHITECTURE.md`), re-exported here by the
//! module names the tests, benchmarks and the command line use:
//!
//! - `sorsync-core`: [`domain`], [`matching`], [`preview`], [`contacts`], [`markup`], [`spreadsheet`]
//!   (pure: no IO, no clock);
//! - `sorsync-store`: [`store`], [`private_file`];
//! - `sorsync-clients`: [`sources`], [`sorus`], [`net`];
//! - `sorsync-app`: [`review`], [`apply`], [`waves`], [`config`];
//! - `sorsync-standin`: [`standin`], [`generate`];
//! - `sorsync-web`: [`web`].

pub mod cli;
pub mod telemetry;

pub use sorsync_app::{apply, config, review, waves};
pub use sorsync_clients::{net, sorus, sources};
pub use sorsync_core::{contacts, domain, markup, matching, preview, secrets, spreadsheet};
pub use sorsync_standin::{self as standin, generate};
pub use sorsync_store::{self as store, private_file};
pub use sorsync_web as web;
