//! The contact-number report (KLIK task): role holders without a direct or a mobile number, and
//! units that would reach SOR without a phone. [`report`] builds it from an FK-ORG tree (pure);
//! [`render`], [`xlsx`] and [`chart`] turn it into text, JSON, CSV, Excel and SVG (also pure: they
//! return strings or bytes; the CLI writes them).

pub mod chart;
pub mod render;
pub mod report;
pub mod xlsx;

pub use report::{build_report, summarise, ContactReport, Person, PhoneField, Scope, SummaryRow, UnitWithoutPhone};
