//! Saving a file the manager asked for (a report, member rows) where they choose: the shell's
//! own save dialog asks for the place, so the web page never sends, sees or types a path. The
//! bytes are written to a temporary file beside the chosen one and renamed over it, so a write
//! that fails (a full USB stick) never leaves half a report under the name chosen.
//!
//! For tests only, HUBDESK_SAVE_AS answers the dialog instead of a person: a folder puts the
//! file there under the name the dialog would have suggested; `cancel` answers as a person who
//! closed the dialog. Unset (always, for people), the real dialog is shown.

use std::io::Write;
use std::path::{Path, PathBuf};

use tauri::{Runtime, WebviewWindow};
use tauri_plugin_dialog::DialogExt;

use crate::UiError;

/// Who answers "where should this go?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveAs {
    /// The shell's save dialog, a person choosing.
    Dialog,
    /// Tests: into this folder, under the suggested name, with no dialog.
    Folder(PathBuf),
    /// Tests: as if the person closed the dialog.
    Cancel,
}

impl SaveAs {
    /// From HUBDESK_SAVE_AS (tests only); the dialog when it is not set.
    pub fn from_env() -> Self {
        match std::env::var_os("HUBDESK_SAVE_AS") {
            None => SaveAs::Dialog,
            Some(v) if v.is_empty() => SaveAs::Dialog,
            Some(v) if v == "cancel" => SaveAs::Cancel,
            Some(v) => SaveAs::Folder(PathBuf::from(v)),
        }
    }
}

/// What the dialog offers: the file name it suggests and the one kind of file it lists.
pub struct Offer {
    /// The dialog's title: "Save the report".
    pub title: &'static str,
    pub file_name: String,
    /// "Spreadsheet (XLSX)".
    pub kind: &'static str,
    /// Without the dot: "xlsx".
    pub extension: &'static str,
}

/// Writes `bytes` at `path` as [`write_atomically`] does, or says in a sentence why not (for
/// the service's `save`, which keeps the export's audit entry only when this succeeds).
pub fn write_or_say(path: &Path, bytes: &[u8]) -> hubdesk::service::Result<()> {
    write_atomically(path, bytes).map_err(|e| {
        hubdesk::service::Error::Storage(format!(
            "The file could not be saved as {} ({}). Nothing was saved: choose another place.",
            path.display(),
            hubdesk::service::io_in_words(&e)
        ))
    })
}

/// Where the person chose to put `offer`, or None if they cancelled.
pub async fn ask<R: Runtime>(
    window: &WebviewWindow<R>,
    how: &SaveAs,
    offer: &Offer,
) -> Result<Option<PathBuf>, UiError> {
    match how {
        SaveAs::Cancel => Ok(None),
        SaveAs::Folder(dir) => Ok(Some(dir.join(&offer.file_name))),
        SaveAs::Dialog => {
            let (tx, rx) = std::sync::mpsc::channel();
            window
                .dialog()
                .file()
                .set_parent(window)
                .set_title(offer.title)
                .set_file_name(&offer.file_name)
                .add_filter(offer.kind, &[offer.extension])
                .save_file(move |chosen| {
                    let _ = tx.send(chosen);
                });
            // The dialog runs on the window's thread; this one only waits for its answer.
            let chosen = tauri::async_runtime::spawn_blocking(move || rx.recv())
                .await
                .map_err(|e| no_dialog(&e.to_string()))?
                .map_err(|_| no_dialog("it closed without an answer"))?;
            match chosen {
                None => Ok(None),
                Some(p) => {
                    let p = p.into_path().map_err(|e| no_dialog(&e.to_string()))?;
                    chosen_path(p, offer.extension).map(Some)
                }
            }
        }
    }
}

/// Where to write what the dialog answered: the name given, with the format's extension added
/// when it was typed without. The dialog asked before replacing the name it was given, but not
/// the name with the extension added, so that one is never replaced unasked.
fn chosen_path(path: PathBuf, extension: &str) -> Result<PathBuf, UiError> {
    let full = with_extension(path.clone(), extension);
    if full != path && full.exists() {
        return Err(UiError {
            kind: "conflict",
            message: format!(
                "There is already a file called {}. Nothing was saved: export again and choose another name (or type the whole name, .{extension} included, to replace it).",
                full.display()
            ),
            field: None,
        });
    }
    Ok(full)
}

/// The name chosen, with the format's extension if the person typed the name without it (GTK's
/// dialog does not add it), so the file opens in the right program.
fn with_extension(path: PathBuf, extension: &str) -> PathBuf {
    let has = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(extension));
    if has {
        path
    } else {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".");
        name.push(extension);
        path.with_file_name(name)
    }
}

/// Writes `bytes` to a new temporary file in the same folder, flushes it to disk, then renames
/// it over `path`: the chosen name holds the whole file or whatever it held before.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".hubdesk-saving-")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn no_dialog(why: &str) -> UiError {
    UiError {
        kind: "storage",
        message: format!("The save dialog did not open ({why}). Nothing was saved."),
        field: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_file_replaces_the_old_one_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.csv");
        std::fs::write(&path, b"old").unwrap();
        write_atomically(&path, b"new figures").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new figures");
        // Readable by its owner only, like the CLI's exports: a report can still say a lot.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.csv")]);
    }

    #[test]
    fn a_write_into_a_folder_that_is_not_there_fails_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone").join("report.csv");
        assert!(write_atomically(&path, b"x").is_err());
        assert!(!path.exists());
    }

    #[test]
    fn a_name_typed_without_the_extension_never_replaces_the_file_with_it_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let typed = dir.path().join("for trustees");
        assert_eq!(
            chosen_path(typed.clone(), "xlsx").unwrap(),
            dir.path().join("for trustees.xlsx")
        );
        std::fs::write(dir.path().join("for trustees.xlsx"), b"last year's").unwrap();
        let err = chosen_path(typed, "xlsx").unwrap_err();
        assert_eq!(err.kind, "conflict");
        // Typed whole, the dialog asked before replacing it: it is the person's choice.
        let whole = dir.path().join("for trustees.xlsx");
        assert_eq!(chosen_path(whole.clone(), "xlsx").unwrap(), whole);
    }

    #[test]
    fn a_name_typed_without_the_extension_gets_it() {
        assert_eq!(
            with_extension(PathBuf::from("/tmp/for trustees"), "xlsx"),
            PathBuf::from("/tmp/for trustees.xlsx")
        );
        assert_eq!(
            with_extension(PathBuf::from("/tmp/r.XLSX"), "xlsx"),
            PathBuf::from("/tmp/r.XLSX")
        );
    }
}
