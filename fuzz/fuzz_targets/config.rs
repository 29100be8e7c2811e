//! Config-file loader (`resilix.yaml`): any bytes through the spanned YAML tree and into the
//! policy parameters a config file overrides. See `resilix_fuzz::config_bytes`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| resilix_fuzz::config_bytes(data));
