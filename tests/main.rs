//! Integration tests: one binary, modules by feature.
// A test fails by panicking: unwrap, expect, indexing and panic are how tests say so. The
// lints that forbid them guard `src/`, where input must never panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// Test helpers are `pub` for the sibling test modules (and fuzz/src/lib.rs, included as one), not
// for another crate; a failing test may say more on stderr than its assertion.
#![allow(unreachable_pub, clippy::print_stderr)]

mod action;
mod adoption;
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
mod fuzz_seeds;
#[cfg(feature = "aws")]
mod history;
mod hostile;
mod inline_ignores;
mod malformed;
mod mappings;
mod policies;
mod projection;
mod properties;
mod readme;
mod secrets;
mod signals;
mod tf_sources;
mod unset;
mod util;
mod writes;
