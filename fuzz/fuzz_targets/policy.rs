//! Policy compiler (YAML): any bytes as a user policy; a policy that compiles is run on the
//! fixture resources and its inline tests are run; errors are rendered as users see them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| resilix_fuzz::compile_policy_bytes(data));
