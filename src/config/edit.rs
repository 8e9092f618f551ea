//! Writing a config file back the way its user wrote it: the new content merged into the old document with
//! `toml_edit`, so comments, order, layout, inline tables and keys nobody changed stay as they were; an entry
//! of a list renamed keeps its comments (matched by kind and place). Used by the settings window's Save and
//! by a service writing the config a tray sent it.

/// `canonical` (the validated file, as ddns-tray writes it) written into `original` (the user's file): keys
/// that stay keep their comments, order and layout (inline tables stay inline); changed values keep the
/// comments around them; `[[provider]]`, `[[record]]`, `[[notify]]` and `[[line]]` entries are matched by
/// name (records by name, type and line), so removing one leaves the others' comments in place. When the
/// original does not parse, the canonical text is used.
#[must_use]
pub fn merge_into(original: &str, canonical: &str) -> String {
    let (Ok(mut doc), Ok(new)) = (
        original.parse::<toml_edit::DocumentMut>(),
        canonical.parse::<toml_edit::DocumentMut>(),
    ) else {
        return canonical.to_owned();
    };
    let had_keys = doc.as_table().iter().any(|(_, item)| item.is_value());
    merge_table(doc.as_table_mut(), new.as_table());
    if !had_keys {
        keep_header_comment(&mut doc);
    }
    doc.to_string()
}

fn merge_table(old: &mut dyn toml_edit::TableLike, new: &dyn toml_edit::TableLike) {
    let gone: Vec<String> = old
        .iter()
        .map(|(k, _)| k.to_owned())
        .filter(|k| !new.contains_key(k))
        .collect();
    for k in gone {
        old.remove(&k);
    }
    for (k, item) in new.iter() {
        match old.get_mut(k) {
            Some(existing) => merge_item(existing, item),
            None => {
                old.insert(k, item.clone());
            }
        }
    }
}

fn merge_item(old: &mut toml_edit::Item, new: &toml_edit::Item) {
    use toml_edit::{Item, Value as V};
    match (old, new) {
        (Item::Table(o), Item::Table(n)) => merge_table(o, n),
        (Item::Value(V::InlineTable(o)), Item::Table(n)) => merge_table(o, n),
        (Item::Table(o), Item::Value(V::InlineTable(n))) => merge_table(o, n),
        (Item::Value(V::InlineTable(o)), Item::Value(V::InlineTable(n))) => merge_table(o, n),
        (Item::ArrayOfTables(o), Item::ArrayOfTables(n)) => merge_entries(o, n),
        // Written inline (`ipv4 = [ { kind = … } ]`): it stays inline, on one line.
        (Item::Value(o @ V::Array(_)), Item::ArrayOfTables(n)) => {
            let mut new = V::Array(n.clone().into_array());
            one_line(&mut new);
            if !same_value(o, &new) {
                let decor = o.decor().clone();
                *o = new;
                *o.decor_mut() = decor;
            }
        }
        (Item::Value(o), Item::Value(n)) => {
            if !same_value(o, n) {
                let decor = o.decor().clone();
                *o = n.clone();
                *o.decor_mut() = decor;
            }
        }
        (o, n) => *o = n.clone(),
    }
}

/// Formats an inline value on one line (arrays and tables inside it too).
fn one_line(v: &mut toml_edit::Value) {
    match v {
        toml_edit::Value::Array(a) => {
            for item in a.iter_mut() {
                one_line(item);
            }
            a.fmt();
        }
        toml_edit::Value::InlineTable(t) => {
            for (_, item) in t.iter_mut() {
                one_line(item);
            }
            t.fmt();
        }
        _ => {}
    }
}

/// A file that starts with a comment and no top-level keys keeps the comment at the top when a Save adds
/// one (`toml_edit` files the comment under the first table's header).
fn keep_header_comment(doc: &mut toml_edit::DocumentMut) {
    let root = doc.as_table_mut();
    let Some(first_key) = root
        .iter()
        .find(|(_, item)| item.is_value())
        .map(|(k, _)| k.to_owned())
    else {
        return;
    };
    // The table printed first: the lowest position among the root's tables.
    let mut first: Option<(isize, String)> = None;
    for (k, item) in root.iter() {
        let pos = match item {
            toml_edit::Item::Table(t) => t.position(),
            toml_edit::Item::ArrayOfTables(a) => a.get(0).and_then(toml_edit::Table::position),
            _ => None,
        };
        if let Some(pos) = pos
            && first.as_ref().is_none_or(|(p, _)| pos < *p)
        {
            first = Some((pos, k.to_owned()));
        }
    }
    let Some((_, table_key)) = first else { return };
    let header = match root.get_mut(&table_key) {
        Some(toml_edit::Item::Table(t)) => Some(t.decor_mut()),
        Some(toml_edit::Item::ArrayOfTables(a)) => a.get_mut(0).map(toml_edit::Table::decor_mut),
        _ => None,
    };
    let Some(header) = header else { return };
    let prefix = header
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or_default()
        .to_owned();
    if !prefix.trim_start().starts_with('#') {
        return;
    }
    header.set_prefix("\n");
    if let Some(mut key) = root.key_mut(&first_key) {
        key.leaf_decor_mut()
            .set_prefix(prefix.trim_start_matches('\n').to_owned());
    }
}

/// Values equal as TOML (`'a'` and `"a"`, `0x10` and `16` are the same).
fn same_value(a: &toml_edit::Value, b: &toml_edit::Value) -> bool {
    let parse = |v: &toml_edit::Value| {
        let mut v = v.clone();
        v.decor_mut().clear();
        toml::from_str::<toml::Table>(&format!("v = {v}")).ok()
    };
    matches!((parse(a), parse(b)), (Some(x), Some(y)) if x == y)
}

/// Who an entry of an array of tables is: its name, and a record's type and line.
fn identity(t: &toml_edit::Table) -> (String, String, String) {
    let s = |k: &str| {
        t.get(k)
            .and_then(toml_edit::Item::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (s("name"), s("type"), s("line"))
}

fn merge_entries(old: &mut toml_edit::ArrayOfTables, new: &toml_edit::ArrayOfTables) {
    let mut pool: Vec<Option<toml_edit::Table>> = old.iter().cloned().map(Some).collect();
    let mut out = toml_edit::ArrayOfTables::new();
    let kind = |t: &toml_edit::Table| {
        t.get("kind")
            .and_then(toml_edit::Item::as_str)
            .map(str::to_owned)
    };
    for (i, n) in new.iter().enumerate() {
        let id = identity(n);
        // The same entry; else the same name; else (a rename) the entry of the same kind at the same place.
        let found = pool
            .iter()
            .position(|o| o.as_ref().is_some_and(|o| identity(o) == id))
            .or_else(|| {
                pool.iter()
                    .position(|o| o.as_ref().is_some_and(|o| identity(o).0 == id.0))
            })
            .or_else(|| {
                pool.get(i)
                    .and_then(Option::as_ref)
                    .filter(|o| kind(o).is_some() && kind(o) == kind(n))
                    .filter(|o| !new.iter().any(|m| identity(m).0 == identity(o).0))
                    .map(|_| i)
            });
        match found.and_then(|i| pool[i].take()) {
            Some(mut table) => {
                merge_table(&mut table, n);
                out.push(table);
            }
            None => out.push(n.clone()),
        }
    }
    *old = out;
}
