//! The rule of the house, checked: imports point one way, down the floors of `lib.rs`'s Layout. A file of a
//! module may name (`crate::x`, `super::x` reaching another top-level module, `ddns_tray::x`) only modules
//! on its own floor or below. Test code (`#[cfg(test)]` modules, `tests.rs`) is left out: tests may reach
//! anything.

/// The floors, bottom up. A module not listed here fails the check: every new top-level module takes a
/// floor (and a line in the Layout).
pub(crate) const FLOORS: &[&[&str]] = &[
    // Vocabulary: plain types, the raw file, checks of single values, secrets; words; OS specifics.
    &["config", "encode", "i18n", "platform"],
    // Wire: talking to the network and the disk.
    &["dns", "http", "fsutil", "netwatch", "logfile", "vault"],
    // Kinds: each owns its schema, validation, secrets and words.
    &["detect", "provider", "notifier"],
    // Validated settings, assembled from the kinds; other clients' configs turned into ours.
    &["settings", "import"],
    // Persisted runtime state.
    &["store"],
    // The engine: no UI, files or environment.
    &["engine"],
    // Sinks that follow the engine.
    &["notify", "history", "metrics", "control"],
    // Composition, the OS service, the commands.
    &["app", "service", "cli"],
    // The GUI.
    &["ui"],
];

/// The floor of a top-level module.
fn floor(module: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&module))
}

/// The imports in `text` (a file of module `module`) that point up a floor: `(line, target)`.
pub(crate) fn upward(module: &str, text: &str) -> Vec<(usize, String)> {
    let own = floor(module).unwrap_or(usize::MAX);
    // Test code may reach anything.
    let code = text
        .split("\n#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or(text);
    let code = code
        .split("\n#[cfg(all(test, unix))]\nmod tests")
        .next()
        .unwrap_or(code);
    let paths = regex_lite::Regex::new(r"\b(?:crate|ddns_tray)::([a-z_]+)").unwrap();
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        for c in paths.captures_iter(line) {
            let target = &c[1];
            // Macros the crate defines at its root (`_rust_i18n_translate`) and its own name are not modules.
            let Some(to) = floor(target) else {
                continue;
            };
            if to > own {
                out.push((n + 1, target.to_owned()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every source file's imports point down the floors (`main.rs` sits on top and may use anything).
    #[test]
    fn imports_point_one_way() {
        let mut wrong = Vec::new();
        let mut modules = std::collections::BTreeSet::new();
        for (file, text) in crate::i18n::sources() {
            let Some(rest) = file.strip_prefix("src/") else {
                continue;
            };
            if rest == "main.rs" || rest == "lib.rs" || rest == "fuzzing.rs" || rest == "layers.rs"
            {
                continue;
            }
            if rest.ends_with("tests.rs") {
                continue;
            }
            let module = rest.split(['/', '.']).next().unwrap_or_default().to_owned();
            modules.insert(module.clone());
            for (line, target) in upward(&module, &text) {
                wrong.push(format!(
                    "{file}:{line}: {module} imports {target}, a higher floor"
                ));
            }
        }
        let unplaced: Vec<_> = modules.iter().filter(|m| floor(m).is_none()).collect();
        assert!(
            unplaced.is_empty(),
            "modules without a floor in layers::FLOORS (and lib.rs's Layout): {unplaced:?}"
        );
        assert!(
            wrong.is_empty(),
            "imports that point up:\n{}",
            wrong.join("\n")
        );
    }

    /// The check finds each of the imports the review of 2026-12 named (config -> notify, config ->
    /// provider, dns -> config is fine now that the name check is in config; notify -> ui, store ->
    /// engine, config -> fsutil), were they written again.
    #[test]
    fn the_check_catches_the_old_upward_imports() {
        for (module, line, target) in [
            (
                "config",
                "use crate::provider::{ProviderKind, kind_names};",
                "provider",
            ),
            (
                "config",
                "pub kind: crate::notifier::NotifierKind,",
                "notifier",
            ),
            (
                "notify",
                "describe_with(event, crate::ui::tray::clock)",
                "ui",
            ),
            ("store", "use crate::engine::Event;", "engine"),
            ("config", "crate::fsutil::read_limited(path, MAX)", "fsutil"),
            ("fsutil", "crate::provider::sign::hex(&digest)", "provider"),
        ] {
            assert_eq!(
                upward(module, line),
                [(1, target.to_owned())],
                "{module}: {line}"
            );
        }
        assert!(upward("ui", "use crate::config::Family;").is_empty());
        assert!(
            upward(
                "config",
                "fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::engine::Event;\n}"
            )
            .is_empty(),
            "test code may reach anything"
        );
    }
}
