#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pushgate::fuzzing::text_parse(data));
