#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ddns_tray::fuzzing::state(data);
});
