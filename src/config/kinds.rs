//! The table entries kinds describe themselves with: a kind's name, where its credential is made, and its
//! fields (required, secret, a checkbox). The `check --providers` list, the settings window's forms and
//! the config hints read them; the words for them (title, what to create, each field's label and help)
//! come from the catalogues, keyed by the kind and the field.

use serde::Serialize;

/// One field of a provider kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldInfo {
    pub name: &'static str,
    pub required: bool,
    /// Shown masked, stored in the keyring when one is available.
    pub secret: bool,
    /// Edited as a checkbox (true/false).
    pub boolean: bool,
    pub help: &'static str,
}

/// One provider kind: what the table, `check --providers` and the settings window show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KindInfo {
    /// The `kind = "..."` value.
    pub kind: &'static str,
    pub title: &'static str,
    /// Which credential to create, with the smallest permission that works.
    pub credential: &'static str,
    /// Where that credential is made.
    pub credential_url: &'static str,
    pub fields: &'static [FieldInfo],
}

pub const fn req(name: &'static str, help: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: true,
        secret: false,
        boolean: false,
        help,
    }
}

pub const fn opt(name: &'static str, help: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: false,
        secret: false,
        boolean: false,
        help,
    }
}

pub const fn flag(name: &'static str, help: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: false,
        secret: false,
        boolean: true,
        help,
    }
}

pub const fn secret(name: &'static str, help: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: true,
        secret: true,
        boolean: false,
        help,
    }
}

pub const fn secret_opt(name: &'static str, help: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: false,
        secret: true,
        boolean: false,
        help,
    }
}

pub const ENDPOINT: FieldInfo = opt(
    "endpoint",
    "base URL of the API (default: the provider's public URL)",
);

pub const LINE: FieldInfo = opt(
    "line",
    "the resolution line to manage (default: the default line); records on other lines are never touched",
);
