#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ddns_tray::fuzzing::dns_answer(data);
});
