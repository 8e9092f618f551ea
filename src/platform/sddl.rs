//! Windows security descriptors as SDDL text. They are plain strings, so they are unit-tested on every
//! platform; `platform::windows` turns them into descriptors.

/// Only `sid` (the current user) has access; nothing is inherited from the parent (`P`). For the tray's
/// single-instance pipe.
#[must_use]
pub fn owner_only(sid: &str) -> String {
    format!("D:P(A;;GA;;;{sid})")
}

/// SYSTEM (`SY`) and Administrators (`BA`) have full control, inherited by every file and folder inside
/// (`OICI`); nothing is inherited from above (`P`), so `%ProgramData%`'s "Users may create files" does not
/// reach the service's folder. Local users can neither read the service's secrets nor plant a config.
#[must_use]
pub fn protected_dir() -> &'static str {
    "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
}

/// The service's control pipe: SYSTEM and Administrators full control; interactive users (`IU`) may read and
/// write (to follow the status; the service itself admits commands only from administrators).
#[must_use]
pub fn control_pipe() -> &'static str {
    "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;IU)"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        assert_eq!(
            owner_only("S-1-5-21-1-2-3-1001"),
            "D:P(A;;GA;;;S-1-5-21-1-2-3-1001)"
        );
        let dir = protected_dir();
        assert!(
            dir.starts_with("D:P"),
            "protected: nothing inherited from above"
        );
        // Exactly two ACEs, both full-control allows, both inherited by children, for SYSTEM and Administrators.
        let aces: Vec<&str> = dir
            .trim_start_matches("D:P")
            .split(')')
            .filter(|a| !a.is_empty())
            .map(|a| a.trim_start_matches('('))
            .collect();
        assert_eq!(aces, ["A;OICI;FA;;;SY", "A;OICI;FA;;;BA"]);
        assert!(!dir.contains(";WD") && !dir.contains(";BU") && !dir.contains(";AU"));
        assert!(control_pipe().contains("(A;;GRGW;;;IU)"));
        assert!(!control_pipe().contains(";WD"), "no Everyone");
    }
}
