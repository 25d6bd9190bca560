//! Self-care plans: the member's own plan, co-written with a navigator. Its sections, the
//! statuses a step can have, what text a section or step may hold, and how a section's edit
//! becomes the smallest splices from its old text to its new one. Pure rules: no Automerge
//! here (doc/ applies the splices), no clock.
//!
//! Why splices, not "replace the text": a section is Automerge Text, merged character by
//! character. Two people editing different parts of one section on two laptops apart both
//! keep their words after sync only if each edit touches just the characters that changed;
//! writing the whole text again would make one laptop's version win outright.

use similar::{Algorithm, DiffOp, TextDiff};

use super::ValidationError;
use super::conversation::clean_long_text;
use super::member::clean_text;

/// Longest section, in characters: a page of writing. A pasted document is refused.
pub const MAX_SECTION_CHARS: usize = 4_000;
/// Longest step, in characters: one sentence.
pub const MAX_STEP_CHARS: usize = 200;
/// Most steps a plan holds: a plan is a page the member takes home.
pub const MAX_STEPS: usize = 30;

/// A written section of the plan. Wire names (`key`) are stored in documents: do not rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    KeepsMeWell,
    EarlySigns,
    WhatHelps,
    PeopleAndPlaces,
}

impl Section {
    /// In the order the plan reads.
    pub const ALL: [Section; 4] = [
        Section::KeepsMeWell,
        Section::EarlySigns,
        Section::WhatHelps,
        Section::PeopleAndPlaces,
    ];

    /// The key of the section's Text in the document (do not rename).
    pub fn key(self) -> &'static str {
        match self {
            Section::KeepsMeWell => "keeps_me_well",
            Section::EarlySigns => "early_signs",
            Section::WhatHelps => "what_helps",
            Section::PeopleAndPlaces => "people_and_places",
        }
    }

    /// The name typed on the command line and sent by the app.
    pub fn slug(self) -> &'static str {
        match self {
            Section::KeepsMeWell => "keeps-me-well",
            Section::EarlySigns => "early-signs",
            Section::WhatHelps => "what-helps",
            Section::PeopleAndPlaces => "people-and-places",
        }
    }

    /// The heading, in the member's voice (the plan is theirs).
    pub fn heading(self) -> &'static str {
        match self {
            Section::KeepsMeWell => "What keeps me well",
            Section::EarlySigns => "Early signs that I'm struggling",
            Section::WhatHelps => "What helps",
            Section::PeopleAndPlaces => "People and places I can turn to",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL.into_iter().find(|x| x.slug() == s).ok_or_else(|| {
            ValidationError::new(
                "section",
                format!(
                    "\"{}\" is not a section of the plan; the sections are keeps-me-well, early-signs, what-helps and people-and-places",
                    super::age::truncate(&s, 30)
                ),
            )
        })
    }
}

/// Where a step the member is taking has got to. Wire names are stored: do not rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    NotStarted,
    Doing,
    Done,
    /// Put down for now, by the member's choice: not a failure, so not "abandoned".
    SetAside,
}

impl StepStatus {
    pub const ALL: [StepStatus; 4] = [
        StepStatus::NotStarted,
        StepStatus::Doing,
        StepStatus::Done,
        StepStatus::SetAside,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::NotStarted => "not-started",
            StepStatus::Doing => "doing",
            StepStatus::Done => "done",
            StepStatus::SetAside => "set-aside",
        }
    }

    /// How the plan page says it.
    pub fn label(self) -> &'static str {
        match self {
            StepStatus::NotStarted => "Not started",
            StepStatus::Doing => "Doing it",
            StepStatus::Done => "Done",
            StepStatus::SetAside => "Set aside for now",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(
                    "status",
                    format!(
                        "\"{}\" is not a step status; use not-started, doing, done or set-aside",
                        super::age::truncate(&s, 30)
                    ),
                )
            })
    }
}

/// Cleans a section as typed: line breaks and tabs kept, control characters and invisible
/// direction marks refused (as everywhere else members' words are typed, see
/// [`clean_long_text`]), trailing spaces trimmed. Blank is allowed: it empties the section.
pub fn clean_section(section: Section, text: &str) -> Result<String, ValidationError> {
    Ok(clean_long_text("text", section.heading(), text, MAX_SECTION_CHARS)?.unwrap_or_default())
}

/// Cleans a step as typed: one line, required.
pub fn clean_step(text: &str) -> Result<String, ValidationError> {
    clean_text("text", "A step", text, MAX_STEP_CHARS)
}

/// One edit of a text: at `pos`, delete `delete` units and insert `insert`. Positions and
/// lengths are in Unicode code points, the units Automerge 0.12 indexes text by in native
/// builds (`TextEncoding::UnicodeCodePoint`, its platform default without the utf8/utf16
/// indexing features). Splices are applied in order, each to the result of the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    pub pos: usize,
    pub delete: usize,
    pub insert: String,
}

/// The fewest splices that turn `old` into `new`: a grapheme-level diff (so an accent is never
/// parted from its letter, nor an emoji from its modifier), runs of changes made one splice
/// each. Equal texts give none.
pub fn splices(old: &str, new: &str) -> Vec<Splice> {
    if old == new {
        return Vec::new();
    }
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_graphemes(old, new);
    let old_slices = diff.old_slices();
    let new_slices = diff.new_slices();
    let chars = |slices: &[&str], range: std::ops::Range<usize>| -> usize {
        slices[range].iter().map(|s| s.chars().count()).sum()
    };
    let mut out: Vec<Splice> = Vec::new();
    // Position in the text as it stands after the splices so far.
    let mut pos = 0usize;
    for op in diff.ops() {
        let (delete, insert) = match *op {
            DiffOp::Equal { len, new_index, .. } => {
                pos += chars(new_slices, new_index..new_index + len);
                continue;
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => (
                chars(old_slices, old_index..old_index + old_len),
                String::new(),
            ),
            DiffOp::Insert {
                new_index, new_len, ..
            } => (0, new_slices[new_index..new_index + new_len].concat()),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                chars(old_slices, old_index..old_index + old_len),
                new_slices[new_index..new_index + new_len].concat(),
            ),
        };
        let inserted = insert.chars().count();
        // A delete next to an insert at the same place is one splice.
        match out.last_mut() {
            Some(last) if last.pos + last.insert.chars().count() == pos => {
                last.delete += delete;
                last.insert.push_str(&insert);
            }
            _ => out.push(Splice {
                pos,
                delete,
                insert,
            }),
        }
        pos += inserted;
    }
    out
}

/// Applies splices to a string by code points: what Automerge does with them. For tests and
/// for checking splices before they are written.
pub fn apply_splices(text: &str, splices: &[Splice]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for s in splices {
        let end = (s.pos + s.delete).min(chars.len());
        let start = s.pos.min(end);
        chars.splice(start..end, s.insert.chars());
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case::ascii("I go for a walk", "I go for a long walk")]
    #[case::emoji("music 🎧 helps", "music 🎧🎶 helps a lot")]
    #[case::skin_tone("👍🏽 ok", "👍🏿 ok")]
    #[case::family_emoji("my 👨‍👩‍👧 family", "my 👨‍👩‍👧‍👦 family")]
    #[case::combining_accent("cafe\u{301} on Tuesdays", "cafe\u{301} on Thursdays")]
    #[case::accent_added("cafe", "cafe\u{301}")]
    #[case::rtl("أمي and نور", "أمي and نور and Sam")]
    #[case::to_empty("something", "")]
    #[case::from_empty("", "something")]
    #[case::lines("one\ntwo\nthree", "one\n2\nthree\nfour")]
    fn splices_turn_the_old_text_into_the_new(#[case] old: &str, #[case] new: &str) {
        let s = splices(old, new);
        assert_eq!(apply_splices(old, &s), new, "{s:?}");
    }

    #[test]
    fn one_word_changed_is_one_small_splice() {
        let s = splices(
            "Walking the dog keeps me well",
            "Walking the cat keeps me well",
        );
        assert_eq!(
            s,
            vec![Splice {
                pos: 12,
                delete: 3,
                insert: "cat".into()
            }]
        );
    }

    #[test]
    fn positions_count_code_points_not_bytes() {
        // "é" is 2 bytes, one code point; "🎧" is 4 bytes, one code point.
        let s = splices("é🎧x", "é🎧yx");
        assert_eq!(
            s,
            vec![Splice {
                pos: 2,
                delete: 0,
                insert: "y".into()
            }]
        );
    }

    #[test]
    fn an_accent_is_never_parted_from_its_letter() {
        // The grapheme "e + combining acute" changes as a whole to "é" (precomposed).
        let s = splices("cafe\u{301}", "caf\u{e9}");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].pos, 3);
        assert_eq!(s[0].delete, 2);
    }

    #[test]
    fn equal_texts_give_no_splices() {
        assert!(splices("same 🎧", "same 🎧").is_empty());
    }

    #[rstest]
    #[case::bell("a\u{7}b")]
    #[case::escape("a\u{1b}[31mred")]
    #[case::nul("a\u{0}b")]
    #[case::bidi_override("music \u{202e}cisum")]
    #[case::isolate("a\u{2066}b")]
    fn a_section_with_control_or_direction_characters_is_refused(#[case] text: &str) {
        assert_eq!(
            clean_section(Section::WhatHelps, text).unwrap_err().field,
            "text"
        );
    }

    #[test]
    fn a_section_keeps_its_lines_and_blank_empties_it() {
        assert_eq!(
            clean_section(
                Section::KeepsMeWell,
                "Sleep  \r\n\r\nFriends 🎧\tcafe\u{301}"
            )
            .unwrap(),
            "Sleep\n\nFriends 🎧\tcafe\u{301}"
        );
        assert_eq!(clean_section(Section::KeepsMeWell, "  \n ").unwrap(), "");
    }

    #[test]
    fn a_section_too_long_is_refused() {
        let text = "é".repeat(MAX_SECTION_CHARS + 1);
        assert!(clean_section(Section::EarlySigns, &text).is_err());
        assert!(clean_section(Section::EarlySigns, &text[2..]).is_ok());
    }

    #[rstest]
    #[case::slug("early-signs", Some(Section::EarlySigns))]
    #[case::key("people_and_places", Some(Section::PeopleAndPlaces))]
    #[case::caps(" What-Helps ", Some(Section::WhatHelps))]
    #[case::steps("steps", None)]
    #[case::unknown("feelings", None)]
    fn sections_are_named_by_their_slug(#[case] s: &str, #[case] want: Option<Section>) {
        assert_eq!(Section::parse(s).ok(), want);
    }

    #[rstest]
    #[case::doing("doing", Some(StepStatus::Doing))]
    #[case::spaced("Set aside", Some(StepStatus::SetAside))]
    #[case::underscored("not_started", Some(StepStatus::NotStarted))]
    #[case::unknown("finished", None)]
    fn statuses_are_named_by_their_slug(#[case] s: &str, #[case] want: Option<StepStatus>) {
        assert_eq!(StepStatus::parse(s).ok(), want);
    }

    #[test]
    fn a_step_is_one_line() {
        assert!(clean_step("Call Sam\non Monday").is_err());
        assert!(clean_step("   ").is_err());
        assert_eq!(clean_step(" Call  Sam ").unwrap(), "Call Sam");
    }

    proptest! {
        #[test]
        fn any_edit_is_reproduced_by_its_splices(
            old in "(\\PC|e\u{301}|👨‍👩‍👧|\n){0,40}",
            new in "(\\PC|e\u{301}|👨‍👩‍👧|\n){0,40}",
        ) {
            let s = splices(&old, &new);
            prop_assert_eq!(apply_splices(&old, &s), new);
            // Never two splices where one would do: each starts after the last one's end.
            for pair in s.windows(2) {
                prop_assert!(pair[1].pos > pair[0].pos + pair[0].insert.chars().count());
            }
        }
    }
}
