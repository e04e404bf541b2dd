//! The iamlint command line as a library, so its tests can run it in-process: discovery,
//! the check run, the reporters. `main.rs` is the only place that prints or exits.

pub mod app;
pub mod apply;
pub mod baseline;
pub mod cdk;
pub mod cli;
pub mod config;
pub mod discover;
pub mod lsp;
pub mod progress;
pub mod report;
pub mod run;
pub mod suppress;
pub mod version;
pub mod why;
