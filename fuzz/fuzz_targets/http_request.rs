#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pushgate::fuzzing::http_request(data));
