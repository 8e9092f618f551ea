//! The table entries kinds describe themselves with: a kind's name, where its credential is made, and its
//! fields (required, secret, a checkbox). `check --providers`, the settings window's forms and the config
//! hints read them. Their words live only in the catalogues, keyed by the kind and the field, so no kind can
//! show another kind's text:
//!
//! - `<family>.<kind>.title`: the kind's name (`provider.cloudflare.title`);
//! - `<family>.<kind>.credential`: what to create, with the smallest permission that works;
//! - `<family>.<kind>.help.<field>`: the help under each field;
//! - `field.<field>`: a field's label (the same word for every kind: "API token").
//!
//! `<family>` is `provider`, `notifier` or `source`.

use serde::Serialize;

/// One field of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldInfo {
    pub name: &'static str,
    pub required: bool,
    /// Shown masked, stored in the keyring when one is available.
    pub secret: bool,
    /// Edited as a checkbox (true/false).
    pub boolean: bool,
}

/// Which catalogue section a kind's words are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Provider,
    Notifier,
    Source,
}

impl Family {
    /// The catalogue section (`provider`, `notifier`, `source`).
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Notifier => "notifier",
            Self::Source => "source",
        }
    }
}

/// One kind: what the table, `check --providers` and the settings window show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KindInfo {
    pub family: Family,
    /// The `kind = "..."` value.
    pub kind: &'static str,
    /// Where its credential is made (empty when there is no such page).
    pub credential_url: &'static str,
    pub fields: &'static [FieldInfo],
    /// A minimal valid entry's fields as TOML (made-up credentials), for the tests that take every kind
    /// from the table; the field named by `api` is left out (each test points it at its fake).
    pub example: &'static str,
    /// The name of an example record (default `<kind>.example.com`), for kinds that serve only their own
    /// domain (`myhome.duckdns.org`).
    pub example_record: &'static str,
    /// The field that points at the kind's API (`endpoint`, a dyndns2 `server`, `PowerDNS's` `url`); empty
    /// for kinds that do not speak HTTP.
    pub api: &'static str,
}

impl KindInfo {
    /// A provider kind.
    #[must_use]
    pub const fn provider(
        kind: &'static str,
        credential_url: &'static str,
        fields: &'static [FieldInfo],
    ) -> Self {
        Self {
            family: Family::Provider,
            kind,
            credential_url,
            fields,
            example: "",
            example_record: "",
            api: "endpoint",
        }
    }

    /// A notifier kind.
    #[must_use]
    pub const fn notifier(
        kind: &'static str,
        credential_url: &'static str,
        fields: &'static [FieldInfo],
    ) -> Self {
        Self {
            family: Family::Notifier,
            kind,
            credential_url,
            fields,
            example: "",
            example_record: "",
            api: "endpoint",
        }
    }

    /// A detection source kind.
    #[must_use]
    pub const fn source(kind: &'static str, fields: &'static [FieldInfo]) -> Self {
        Self {
            family: Family::Source,
            kind,
            credential_url: "",
            fields,
            example: "",
            example_record: "",
            api: "",
        }
    }

    /// With a minimal valid entry's fields (see [`KindInfo::example`]).
    #[must_use]
    pub const fn example(mut self, toml: &'static str) -> Self {
        self.example = toml;
        self
    }

    /// With an example record's name (see [`KindInfo::example_record`]).
    #[must_use]
    pub const fn example_record(mut self, name: &'static str) -> Self {
        self.example_record = name;
        self
    }

    /// With the field that points at the API (see [`KindInfo::api`]; "" for none).
    #[must_use]
    pub const fn api(mut self, field: &'static str) -> Self {
        self.api = field;
        self
    }

    /// The catalogue key of one of the kind's words (`title`, `credential`, `help.<field>`).
    #[must_use]
    pub fn key(&self, word: &str) -> String {
        format!("{}.{}.{word}", self.family.key(), self.kind)
    }

    /// The kind's name in the language in use.
    #[must_use]
    pub fn title(&self) -> String {
        crate::i18n::tr(&self.key("title"), &[])
    }

    /// The kind's name in `locale` (`en`, `zh-CN`): a search finds a kind by either language's name.
    #[must_use]
    pub fn title_in(&self, locale: &str) -> String {
        crate::i18n::tr_in(locale, &self.key("title"))
    }

    /// What to create, in the language in use.
    #[must_use]
    pub fn credential(&self) -> String {
        crate::i18n::tr(&self.key("credential"), &[])
    }

    /// The help under `field`, in the language in use.
    #[must_use]
    pub fn help(&self, field: &str) -> String {
        crate::i18n::tr(&self.key(&format!("help.{field}")), &[])
    }

    /// The field named `name`, if the kind has it.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&'static FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A field's label, the same for every kind.
#[must_use]
pub fn label(field: &str) -> String {
    crate::i18n::tr(&format!("field.{field}"), &[])
}

#[must_use]
pub const fn req(name: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: true,
        secret: false,
        boolean: false,
    }
}

#[must_use]
pub const fn opt(name: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: false,
        secret: false,
        boolean: false,
    }
}

#[must_use]
pub const fn flag(name: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: false,
        secret: false,
        boolean: true,
    }
}

#[must_use]
pub const fn secret(name: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: true,
        secret: true,
        boolean: false,
    }
}

#[must_use]
pub const fn secret_opt(name: &'static str) -> FieldInfo {
    FieldInfo {
        name,
        required: false,
        secret: true,
        boolean: false,
    }
}

/// `endpoint`: the base URL of the kind's API (its help names the kind's default).
pub const ENDPOINT: FieldInfo = opt("endpoint");
/// `line`: the resolution line to manage, for kinds with lines.
pub const LINE: FieldInfo = opt("line");

/// A family's `kind = "..."` enum (serde-tagged by `kind`), its table of kinds in the order given, and the
/// dispatch from a value to its kind's config (`info`, `config`, `config_mut`), from one list of
/// `Variant(module::Config) = module::INFO` lines. Providers and notifiers are generated by it: adding a kind
/// is one line in that list.
macro_rules! kind_enum {
    (
        $(#[$enum_doc:meta])* enum $enum:ident;
        $(#[$table_doc:meta])* table $table:ident;
        config $config:path;
        $( $(#[$cfg:meta])* $variant:ident($ty:ty) = $info:expr ),+ $(,)?
    ) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind", rename_all = "kebab-case")]
        pub enum $enum {
            $( $(#[$cfg])* $variant($ty), )+
        }

        $(#[$table_doc])*
        pub const $table: &[$crate::config::kinds::KindInfo] = &[ $( $(#[$cfg])* $info ),+ ];

        impl $enum {
            /// The kind's table entry.
            #[must_use]
            pub fn info(&self) -> &'static $crate::config::kinds::KindInfo {
                match self { $( $(#[$cfg])* Self::$variant(_) => &$info, )+ }
            }

            fn config(&self) -> &dyn $config {
                match self { $( $(#[$cfg])* Self::$variant(c) => c, )+ }
            }

            fn config_mut(&mut self) -> &mut dyn $config {
                match self { $( $(#[$cfg])* Self::$variant(c) => c, )+ }
            }
        }
    };
}
pub(crate) use kind_enum;
