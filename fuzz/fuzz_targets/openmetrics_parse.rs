#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pushgate::fuzzing::openmetrics_parse(data));
