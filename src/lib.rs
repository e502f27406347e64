//! sorsync: keeps SOR (the health-care organisation register) in step with FK-ORG.
//!
//! The core ([`domain`], [`matching`], [`contacts`] report building) is pure; IO lives in
//! [`sources`] (readers and API clients), [`store`] (the only module with SQL) and [`standin`]
//! (local servers that speak the real registers' protocols).

pub mod apply;
pub mod cli;
pub mod config;
pub mod contacts;
pub mod domain;
pub mod generate;
pub mod markup;
pub mod matching;
pub mod net;
pub mod preview;
pub mod private_file;
pub mod review;
pub mod sorus;
pub mod sources;
pub mod spreadsheet;
pub mod standin;
pub mod store;
pub mod telemetry;
pub mod waves;
pub mod web;
