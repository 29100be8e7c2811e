//! Terraform plan loader: any bytes, read as a plan, then evaluated and emitted in every format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resilix::input::InputFormat;

fuzz_target!(|data: &[u8]| resilix_fuzz::scan_bytes(data, InputFormat::TerraformPlan));
