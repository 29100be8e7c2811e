//! Integration tests: one binary, modules by feature.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cli;
mod corpus;
mod determinism;
mod emit;
mod errors;
mod hostile;
mod policies;
mod secrets;
mod util;
