//! The one integration-test binary. Each module tests one area as a user would see it.

#[allow(dead_code)] // each helper is used by some test modules only
mod support;
#[macro_use]
mod test_db;

mod apply;
mod apply_crash;
mod architecture;
mod browser;
mod cases;
mod cli;
mod contacts;
mod demo;
mod fkorg_api;
mod fkorg_reader;
mod generate;
mod identity;
mod matching;
mod oioidws;
mod preview;
mod review;
mod saml;
mod security;
mod sor_reader;
mod sorus;
mod store;
mod store_schema;
mod undo;
mod waves;
mod waves_apply;
mod web;
mod web_authz;
mod web_i18n;
