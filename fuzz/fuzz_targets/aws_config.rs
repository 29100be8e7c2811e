//! AWS Config loader, every shape (snapshot/history files, API results, Select results, rule
//! events, single items, item arrays): any bytes, then evaluated and emitted in every format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resilix::input::InputFormat;

fuzz_target!(|data: &[u8]| resilix_fuzz::scan_bytes(data, InputFormat::AwsConfig));
