//! Integration tests: one binary, modules by feature.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod action;
#[cfg(feature = "aws")]
mod audit;
mod baseline;
mod change;
mod cli;
mod corpus;
mod determinism;
mod docs;
mod emit;
mod errors;
mod policies;
mod projection;
mod tf_sources;
mod util;
