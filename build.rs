//! The catalogues in `locales/` become static tables the binary looks strings up in (`i18n::Catalogues`):
//! every key and text in one UTF-8 blob, and per locale a sorted index of `[key start, key end, text start,
//! text end]` into it. rust-i18n's own loader would copy every string into a `HashMap` at start (about
//! 0.15 MB of code to do so and 0.3 MB of heap); these tables cost neither, and hold no pointers (so no
//! relocations in a position-independent binary).
//!
//! The files are read with rust-i18n's own loader, so the keys are flattened exactly as `t!` names them
//! (`section.key`).
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=locales");
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dir = manifest.join("locales");
    let catalogues = rust_i18n_support::load_locales(&dir.display().to_string(), |_| false);
    assert!(!catalogues.is_empty(), "no catalogue in {}", dir.display());

    let mut locales: Vec<_> = catalogues.into_iter().collect();
    locales.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text = String::new();
    let mut code = String::from(
        "/// Per locale, its entries `[key start, key end, text start, text end]` in `TEXT`, sorted by key.\n\
         #[allow(clippy::unreadable_literal)]\n\
         static LOCALES: &[(&str, &[[u32; 4]])] = &[\n",
    );
    for (locale, entries) in &locales {
        let mut entries: Vec<_> = entries.iter().collect();
        entries.sort();
        writeln!(code, "    ({locale:?}, &[").unwrap();
        for (key, value) in entries {
            let mut span = |s: &str| {
                let start = text.len();
                text.push_str(s);
                (
                    u32::try_from(start).unwrap(),
                    u32::try_from(text.len()).unwrap(),
                )
            };
            let (k0, k1) = span(key);
            let (v0, v1) = span(value);
            writeln!(code, "        [{k0}, {k1}, {v0}, {v1}],").unwrap();
        }
        code.push_str("    ]),\n");
    }
    code.push_str("];\n");
    std::fs::write(out.join("catalogues.txt"), &text).unwrap();
    std::fs::write(out.join("catalogues.rs"), code).unwrap();
}
