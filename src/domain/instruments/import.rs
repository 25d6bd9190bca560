//! An organisation's own instrument from a JSON file (docs/instruments.md): for licensed
//! questionnaires hubdesk may not ship, whose wording and tables the organisation holds.
//!
//! The file is read whole, checked whole, and either becomes one [`Instrument`] or is refused
//! with one sentence naming what is wrong: there is nothing half-imported to clean up. A field
//! hubdesk does not know is refused too, since a misspelt "reverse_item" would otherwise be
//! dropped and score the questionnaire wrongly without a word.

use serde_json::Value;

use super::builtin::RESERVED_IDS;
use super::{DefinitionError, Instrument, shown};

/// A definition is a few kilobytes; a file much larger is not one.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// Reads an instrument definition from the text of a JSON file.
pub fn import_instrument(json: &str) -> Result<Instrument, DefinitionError> {
    if json.len() > MAX_FILE_BYTES {
        return Err(DefinitionError::new(format!(
            "The instrument file is {} KB; a definition is much smaller (at most {} KB), so this is probably the wrong file",
            json.len() / 1024,
            MAX_FILE_BYTES / 1024
        )));
    }
    // Editors on Windows often start a UTF-8 file with a byte-order mark, which JSON does not allow.
    let json = json.strip_prefix('\u{FEFF}').unwrap_or(json);
    let raw: Value = serde_json::from_str(json).map_err(|e| {
        let what = if e.is_eof() {
            "it ends too soon, as if cut short".to_string()
        } else {
            without_position(&e)
        };
        DefinitionError::new(format!(
            "The instrument file is not valid JSON: {what} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    if !raw.is_object() {
        return Err(DefinitionError::new(
            "The instrument file must hold one instrument, written as a JSON object in braces",
        ));
    }
    let def: Instrument = serde_json::from_str(json).map_err(|e| {
        DefinitionError::new(format!(
            "The instrument file does not describe an instrument: {} (line {}, column {})",
            without_position(&e),
            e.line(),
            e.column()
        ))
    })?;
    let known = serde_json::to_value(&def)
        .map_err(|e| DefinitionError::new(format!("The instrument could not be read back: {e}")))?;
    if let Some(path) = unknown_field(&raw, &known, "") {
        return Err(DefinitionError::new(format!(
            "The instrument file has a field hubdesk does not know, \"{path}\"; check its spelling against docs/instruments.md"
        )));
    }
    if RESERVED_IDS.contains(&def.id.as_str()) {
        return Err(DefinitionError::new(format!(
            "The id \"{}\" belongs to a built-in instrument; give the imported one its own id",
            def.id
        )));
    }
    def.validated()
}

/// serde_json's message without its " at line L column C" (the caller words the position).
fn without_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The first key of `raw` that `known` (the parsed definition written back, which holds every
/// field the definition has) lacks, as a path like `items[2].lable`.
fn unknown_field(raw: &Value, known: &Value, path: &str) -> Option<String> {
    match (raw, known) {
        (Value::Object(r), Value::Object(k)) => r.iter().find_map(|(key, v)| {
            let here = if path.is_empty() {
                shown(key)
            } else {
                format!("{path}.{}", shown(key))
            };
            match k.get(key) {
                None => Some(here),
                Some(kv) => unknown_field(v, kv, &here),
            }
        }),
        (Value::Array(r), Value::Array(k)) => r
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(i, (rv, kv))| unknown_field(rv, kv, &format!("{path}[{i}]"))),
        _ => None,
    }
}
