//! Members: register, find as you type, show, edit.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ActingUser, Ctx, Error, Result};
use crate::doc::{
    self, AgreementDoc, DocKind, EmergencyContactDoc, MemberDoc, ProfileDoc, to_millis,
};
use crate::domain::age::check_member_age;
use crate::domain::birth::{month_in_words, read_birth_month};
use crate::domain::member::{
    EmergencyContact, ProfileInput, clean_optional, clean_postcode_district, clean_short,
};
use crate::domain::names::{
    LATER_BIRTH_SHIFTS, Likeness, NameAndBirth, duplicate_likeness, search_key, search_words,
    words_start_name,
};
use crate::domain::{BirthMonth, MemberCode, MemberId, Permission, ValidationError};
use crate::store::{FIND_LIMIT, MemberRow};

/// What the front desk sees of a member: the basics every role may see.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MemberSummary {
    pub id: MemberId,
    pub code: String,
    pub preferred_name: String,
    pub pronouns: Option<String>,
    pub born: String,
    pub age: i32,
    pub last_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// Where that last visit was, in search results where another result has the same name
    /// (two members of one name are often told apart by their hub); None elsewhere.
    pub last_hub: Option<String>,
    /// The discreet marker the desk sees while a safeguarding concern about the person is
    /// open: speak to staff. Never what the concern is (see service/safeguarding.rs). Set
    /// where the desk looks (find, the member page); left out of JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub speak_to_staff: bool,
}

impl MemberSummary {
    pub(crate) fn from_row(row: &MemberRow, today: chrono::NaiveDate) -> Self {
        let age = BirthMonth::parse(&row.born)
            .map(|b| b.age_on(today))
            .unwrap_or(0);
        Self {
            id: MemberId(row.id),
            code: row.code.clone(),
            preferred_name: row.preferred_name.clone(),
            pronouns: row.pronouns.clone(),
            born: row.born.clone(),
            age,
            last_seen: row.last_seen,
            last_hub: None,
            speak_to_staff: false,
        }
    }
}

/// What `member show` gives: the basics, the visit history, and the sensitive details only to
/// roles that may see them.
#[derive(Debug, Clone, Serialize)]
pub struct MemberDetail {
    #[serde(flatten)]
    pub summary: MemberSummary,
    pub gender: Option<String>,
    pub heard_about: Option<String>,
    pub registered_at: chrono::DateTime<chrono::Utc>,
    pub visit_count: i64,
    pub recent_visits: Vec<VisitSummary>,
    /// Sign-ins the desk undid (the wrong person was signed in), newest first. They count
    /// nowhere; the page lists them apart so the record says what happened.
    pub withdrawn_visits: Vec<WithdrawnVisitSummary>,
    /// Present only for roles that may see legal names, contacts, postcodes and consents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<SensitiveDetails>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SensitiveDetails {
    pub legal_name: Option<String>,
    pub postcode_district: Option<String>,
    pub emergency_contact: Option<serde_json::Value>,
    pub agreement: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VisitSummary {
    pub date: Option<String>,
    pub hub: Option<String>,
    pub signed_in_at: chrono::DateTime<chrono::Utc>,
    pub signed_out_at: Option<chrono::DateTime<chrono::Utc>>,
    pub signed_out_at_close: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct WithdrawnVisitSummary {
    pub date: Option<String>,
    pub hub: Option<String>,
    pub signed_in_at: chrono::DateTime<chrono::Utc>,
    pub withdrawn_at: chrono::DateTime<chrono::Utc>,
    /// The user who undid the sign-in, if this laptop knows them.
    pub withdrawn_by: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RegisterMember {
    pub profile: ProfileInput,
    /// The agreement version they accepted, if they accepted one.
    pub agreement_version: Option<String>,
    pub consents: Vec<String>,
    /// The desk has seen the likely duplicates and says this is none of them: without it, a
    /// registration that finds any is refused and nothing is written.
    pub force: bool,
}

/// An existing member who may be the person being registered, and why.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DuplicateCandidate {
    #[serde(flatten)]
    pub member: MemberSummary,
    /// "same birth month, names differ by one letter"
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Registration {
    Registered {
        member: MemberSummary,
        /// What became of the birth date typed, when a day was dropped ("Kept March 2010:
        /// hubdesk keeps only the month").
        #[serde(skip_serializing_if = "Option::is_none")]
        born_note: Option<String>,
    },
    /// Nothing was written: these look like the same young person. Choose one, or register
    /// again with `force`.
    PossibleDuplicates { candidates: Vec<DuplicateCandidate> },
}

pub fn register_member(ctx: &Ctx<'_>, req: RegisterMember) -> Result<Registration> {
    let user = ctx.require(Permission::RegisterAndFind)?;
    let profile = req.profile.validate()?;
    let born_note = read_birth_month(&req.profile.born)?.note();
    let hub = ctx.hub()?;
    let today = ctx.today_at(&hub);
    check_member_age(profile.born, today, today)?;
    let agreement = agreement(ctx, req.agreement_version.as_deref(), &req.consents)?;

    if !req.force {
        let candidates = likely_duplicates(
            ctx,
            NameAndBirth::new(
                &profile.preferred_name,
                profile.legal_name.as_deref(),
                profile.born,
            )
            .in_district(profile.postcode_district.as_deref()),
        )?;
        if !candidates.is_empty() {
            let candidates = candidates
                .iter()
                .map(|(l, r)| DuplicateCandidate {
                    member: MemberSummary::from_row(r, today),
                    why: l.in_words(),
                })
                .collect();
            return Ok(Registration::PossibleDuplicates { candidates });
        }
    }

    let device = ctx.device()?;
    let id = MemberId::new();
    let now = ctx.now();
    let mut w = ctx.store.write()?;
    let code = next_code(ctx, device.tag)?;
    let member = MemberDoc {
        schema: doc::SCHEMA_VERSION,
        kind: DocKind::Member.name().into(),
        code: code.to_string(),
        registered_at: to_millis(now),
        registered_by: user.id().to_string(),
        profile: ProfileDoc {
            preferred_name: profile.preferred_name,
            legal_name: profile.legal_name,
            born: profile.born.to_string(),
            pronouns: profile.pronouns,
            gender: profile.gender,
            postcode_district: profile.postcode_district,
            heard_about: profile.heard_about,
            emergency_contact: profile.emergency_contact.map(emergency_doc),
        },
        agreement: agreement.map(|(version, consents)| AgreementDoc {
            version,
            accepted_at: to_millis(now),
            consents,
        }),
        visits: BTreeMap::new(),
        merged: BTreeMap::new(),
        conversations: BTreeMap::new(),
        check_ins: BTreeMap::new(),
        accepted_agreements: BTreeMap::new(),
    };
    let am = w.create(id.0, DocKind::Member, automerge::AutoCommit::new())?;
    autosurgeon::reconcile(am, &member).map_err(doc::DocError::from)?;
    doc::plan::add_plans_map(am)?;
    doc::commit(am, now, ctx.commit_message("register member"));
    w.audit(ctx.audit("member.register", Some(id.0)));
    w.commit()?;
    let row = ctx
        .store
        .member_by_id(id.0)?
        .ok_or_else(|| Error::NotFound("The new member could not be read back.".into()))?;
    Ok(Registration::Registered {
        member: MemberSummary::from_row(&row, today),
        born_note,
    })
}

/// Takes the next code from this laptop's counter. Codes of another laptop can't collide
/// (their tag differs); the check against the projection guards against a counter restored
/// from an old backup.
fn next_code(ctx: &Ctx<'_>, tag: u32) -> Result<MemberCode> {
    loop {
        let seq = ctx.store.next_code_seq()?;
        ctx.store.bump_code_seq()?;
        let code = MemberCode::issue(tag, seq)?;
        if !ctx.store.code_key_taken(&code.search_key())? {
            return Ok(code);
        }
    }
}

fn emergency_doc(e: EmergencyContact) -> EmergencyContactDoc {
    EmergencyContactDoc {
        name: e.name,
        phone: e.phone,
        relationship: e.relationship,
    }
}

fn agreement(
    ctx: &Ctx<'_>,
    version: Option<&str>,
    consents: &[String],
) -> Result<Option<(String, Vec<String>)>> {
    let Some(version) = clean_optional("consent", "The agreement version", version, 32)? else {
        // Never dropped quietly: a consent the member gave is refused in words instead.
        if consents.iter().any(|c| !c.trim().is_empty()) {
            return Err(ValidationError::new(
                "consent",
                "a consent can only be given with the member agreement: record that they accepted the agreement, or leave the other consents unticked",
            )
            .into());
        }
        return Ok(None);
    };
    let options = ctx
        .store
        .org()?
        .map(|(_, _, s)| s.consent_options)
        .unwrap_or_default();
    let mut given = Vec::new();
    for c in consents
        .iter()
        .flat_map(|c| c.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if !options.iter().any(|o| o == c) {
            return Err(ValidationError::new(
                "consents",
                format!("\"{c}\" is not one of the consents: {}", options.join(", ")),
            )
            .into());
        }
        if !given.iter().any(|g| g == c) {
            given.push(c.to_string());
        }
    }
    Ok(Some((version, given)))
}

/// Existing members who are likely the same young person, most alike first, with why.
fn likely_duplicates(ctx: &Ctx<'_>, new: NameAndBirth) -> Result<Vec<(Likeness, MemberRow)>> {
    let born = new.born;
    // The rule accepts only these birth months, so only they are read.
    let borns: Vec<String> = LATER_BIRTH_SHIFTS
        .iter()
        .flat_map(|d| [born.shifted(*d), born.shifted(-*d)])
        .map(|b| b.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut scored: Vec<(Likeness, MemberRow)> = ctx
        .store
        .duplicate_candidates(&borns)?
        .into_iter()
        .filter_map(|row| {
            let other = NameAndBirth::new(
                &row.preferred_name,
                row.legal_name.as_deref(),
                BirthMonth::parse(&row.born).ok()?,
            )
            .in_district(row.postcode_district.as_deref());
            let likeness = duplicate_likeness(&new, &other);
            likeness.is_likely_duplicate().then_some((likeness, row))
        })
        .collect();
    scored.sort_by(|a, b| b.0.score.total_cmp(&a.0.score));
    scored.truncate(10);
    Ok(scored)
}

/// Likely duplicates of someone about to be registered, for the form to offer while the desk
/// types ("Is this Zoë, born 2009-04?"). Reads only.
pub fn find_likely_duplicates(
    ctx: &Ctx<'_>,
    preferred_name: &str,
    legal_name: Option<&str>,
    born: &str,
) -> Result<Vec<DuplicateCandidate>> {
    ctx.require(Permission::RegisterAndFind)?;
    let (Ok(born), false) = (read_birth_month(born), preferred_name.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    if preferred_name.chars().count() > crate::domain::member::MAX_NAME_CHARS {
        return Ok(Vec::new());
    }
    let today = ctx.today_at(&ctx.hub()?);
    Ok(likely_duplicates(
        ctx,
        NameAndBirth::new(preferred_name, legal_name, born.month),
    )?
    .iter()
    .map(|(l, r)| DuplicateCandidate {
        member: MemberSummary::from_row(r, today),
        why: l.in_words(),
    })
    .collect())
}

/// A birth month as the desk typed it, read the way registering reads it: for the form to
/// say "Kept March 2010" (or what is wrong) while they type. Pure: reads nothing stored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BirthMonthRead {
    /// "2010-03"
    pub born: String,
    /// "March 2010"
    pub in_words: String,
    pub note: Option<String>,
}

pub fn read_birth_month_typed(text: &str) -> Result<BirthMonthRead> {
    let read = read_birth_month(text)?;
    Ok(BirthMonthRead {
        born: read.month.to_string(),
        in_words: month_in_words(read.month),
        note: read.note(),
    })
}

/// Find as you type: by preferred name, legal name or code, ignoring case, accents and
/// punctuation; substrings too. Best first.
pub fn find_members(ctx: &Ctx<'_>, text: &str) -> Result<Vec<MemberSummary>> {
    ctx.require(Permission::RegisterAndFind)?;
    if text.chars().count() > 200 {
        return Err(ValidationError::new("search", "the search text is too long").into());
    }
    let today = ctx.today_at(&ctx.hub()?);
    let key = search_key(text);
    let mut rows = ctx.store.find_members(&key, FIND_LIMIT)?;
    let words = search_words(text);
    if words.len() > 1 {
        rows = with_word_starts(ctx, &key, &words, rows)?;
    }
    // The desk's discreet marker: open concerns are few, so one small query a search.
    let speak_to_staff = ctx.store.people_with_open_concerns()?;
    // Results of one name are told apart by where they were last. Only they are asked: for
    // every result it cost find a quarter of a millisecond a keystroke.
    rows.iter()
        .map(|r| {
            let mut found = MemberSummary::from_row(r, today);
            found.speak_to_staff = speak_to_staff.contains(&r.id);
            let namesake = rows
                .iter()
                .any(|o| o.id != r.id && o.name_key == r.name_key);
            if let (true, Some(seen)) = (namesake, r.last_seen) {
                found.last_hub = ctx.store.hub_of_visit(r.id, seen)?;
            }
            Ok(found)
        })
        .collect()
}

/// How many members holding each typed word are looked at for the other words.
const WORD_CANDIDATES: usize = 200;

/// A search of several words ("ay rob", "jones chris"): members whose name has a word
/// starting with each typed word come right after exact matches, and before names that
/// merely contain the letters run together. The desk types the start of a first name and of
/// a surname, which is fewer keys than the whole first name and the surname's start.
fn with_word_starts(
    ctx: &Ctx<'_>,
    key: &str,
    words: &[String],
    joined: Vec<MemberRow>,
) -> Result<Vec<MemberRow>> {
    let starts = |r: &MemberRow| {
        words_start_name(words, &r.preferred_name)
            || r.legal_name
                .as_deref()
                .is_some_and(|l| words_start_name(words, l))
    };
    let exact = |r: &MemberRow| r.name_key == key || r.legal_key.as_deref() == Some(key);
    let mut out: Vec<MemberRow> = Vec::with_capacity(FIND_LIMIT);
    let push = |out: &mut Vec<MemberRow>, r: MemberRow| {
        if out.len() < FIND_LIMIT && !out.iter().any(|o| o.id == r.id) {
            out.push(r);
        }
    };
    let (exact_rows, rest): (Vec<_>, Vec<_>) = joined.into_iter().partition(|r| exact(r));
    for r in exact_rows {
        push(&mut out, r);
    }
    // Candidates from the rarest typed word (often the surname): it holds the person even
    // when a common one has more members than are looked at. Each typed word is part of the
    // person's name, so one word's candidates are enough; asking for every word's read three
    // times the rows and made typing a second word four times slower. Words of one or two
    // letters have no trigrams to count: the longest word stands in for them.
    let rarest = {
        let mut counted = Vec::new();
        for word in words.iter().filter(|w| w.chars().count() >= 3) {
            counted.push((ctx.store.count_containing(word, WORD_CANDIDATES + 1)?, word));
        }
        counted
            .into_iter()
            .min_by_key(|(count, _)| *count)
            .map(|(_, word)| word)
            .or_else(|| words.iter().max_by_key(|w| w.chars().count()))
    };
    let mut found: Vec<MemberRow> = match rarest {
        Some(word) => ctx
            .store
            .find_members(word, WORD_CANDIDATES)?
            .into_iter()
            .filter(|r| starts(r))
            .collect(),
        None => Vec::new(),
    };
    // The store's order within a kind of match: seen most recently first, then by name.
    found.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then_with(|| a.name_key.cmp(&b.name_key))
    });
    for r in found {
        push(&mut out, r);
    }
    for r in rest {
        push(&mut out, r);
    }
    Ok(out)
}

/// A member by id or by code (as typed or scanned): the whole row, sensitive fields and all.
/// Unchecked and not audited, so it stays inside the core: the service functions that call
/// it check the acting user's permission first and decide what of the row they give out.
pub(crate) fn resolve_member(ctx: &Ctx<'_>, id_or_code: &str) -> Result<MemberRow> {
    let t = id_or_code.trim();
    let row = if let Ok(id) = t.parse::<uuid::Uuid>() {
        // The id of a record merged with others finds the person it is part of.
        ctx.store
            .member_by_id(ctx.store.person_of(id)?.unwrap_or(id))?
    } else if let Some(code) = MemberCode::parse(t) {
        match ctx.store.member_by_code_key(&code.search_key())? {
            Some(row) => Some(row),
            // The code of a member merged into another leads to the one kept.
            None => match ctx.store.member_alias(&code.search_key())? {
                Some(id) => ctx.store.member_by_id(id)?,
                None => None,
            },
        }
    } else {
        return Err(Error::NotFound(format!(
            "\"{}\" is not a member code. Codes look like K7M-42QX; check for a mistyped letter.",
            crate::domain::age::truncate(t, 20)
        )));
    };
    row.ok_or_else(|| {
        Error::NotFound(format!(
            "No member has the code or id \"{}\".",
            crate::domain::age::truncate(t, 40)
        ))
    })
}

pub fn show_member(ctx: &Ctx<'_>, id_or_code: &str) -> Result<MemberDetail> {
    let user = ctx.require(Permission::RegisterAndFind)?;
    let row = resolve_member(ctx, id_or_code)?;
    let detail = member_detail(ctx, &user, &row)?;
    // Every view of a member's record is audited.
    ctx.store
        .append_audit(&[ctx.audit("member.viewed", Some(row.id))])?;
    Ok(detail)
}

/// A member's withdrawn visits for their page, with who withdrew each by name.
fn withdrawn_visits(ctx: &Ctx<'_>, member: uuid::Uuid) -> Result<Vec<WithdrawnVisitSummary>> {
    let rows = ctx.store.withdrawn_visits(member, 20)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let users = ctx.store.users()?;
    Ok(rows
        .into_iter()
        .map(|w| WithdrawnVisitSummary {
            date: w.date,
            hub: w.hub,
            signed_in_at: w.signed_in_at,
            withdrawn_at: w.withdrawn_at,
            withdrawn_by: users
                .iter()
                .find(|u| u.id.to_string() == w.withdrawn_by)
                .map(|u| u.name.clone()),
        })
        .collect())
}

/// `user` is who asked, with their roles as they are now (from [`Ctx::require`]): the
/// sensitive details go only to roles that may see them today.
fn member_detail(ctx: &Ctx<'_>, user: &ActingUser, row: &MemberRow) -> Result<MemberDetail> {
    let today = ctx.today_at(&ctx.hub()?);
    let sees_sensitive = user.roles().allows(Permission::SeeSensitiveProfile);
    let json = |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str(s).ok());
    let mut summary = MemberSummary::from_row(row, today);
    summary.speak_to_staff = ctx.store.people_with_open_concerns()?.contains(&row.id);
    Ok(MemberDetail {
        summary,
        gender: row.gender.clone(),
        heard_about: row.heard_about.clone(),
        registered_at: row.registered_at,
        visit_count: ctx.store.visit_count(row.id)?,
        recent_visits: ctx
            .store
            .member_visits(row.id, 20)?
            .into_iter()
            .map(|v| VisitSummary {
                date: v.date,
                hub: v.hub,
                signed_in_at: v.signed_in_at,
                signed_out_at: v.signed_out_at,
                signed_out_at_close: v.signed_out_at_close,
            })
            .collect(),
        withdrawn_visits: withdrawn_visits(ctx, row.id)?,
        sensitive: sees_sensitive.then(|| SensitiveDetails {
            legal_name: row.legal_name.clone(),
            postcode_district: row.postcode_district.clone(),
            emergency_contact: json(&row.emergency_contact),
            agreement: json(&row.agreement),
        }),
    })
}

/// A profile edit: None leaves a field alone; Some("") clears an optional field.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ProfileEdit {
    pub preferred_name: Option<String>,
    pub legal_name: Option<String>,
    pub born: Option<String>,
    pub pronouns: Option<String>,
    pub gender: Option<String>,
    pub postcode_district: Option<String>,
    pub heard_about: Option<String>,
}

pub fn update_member(ctx: &Ctx<'_>, id_or_code: &str, edit: ProfileEdit) -> Result<MemberDetail> {
    let user = ctx.require(Permission::EditProfileBasics)?;
    if edit.legal_name.is_some() || edit.postcode_district.is_some() {
        ctx.require(Permission::SeeSensitiveProfile)?;
    }
    let row = resolve_member(ctx, id_or_code)?;
    let dates = MemberDates::of(ctx, &row)?;
    let records = ctx.store.records_of(row.id)?;
    let mut w = ctx.store.write()?;
    // A person merged from several records: the edit goes to each, so they keep agreeing.
    for record in records {
        let am = w.doc_required(record, DocKind::Member)?;
        let profile: ProfileDoc = autosurgeon::hydrate_prop(&*am, automerge::ROOT, "profile")
            .map_err(doc::DocError::from)?;
        let profile = edited_profile(profile, &edit, dates)?;
        doc::put(am, "profile", &profile)?;
        doc::commit(am, ctx.now(), ctx.commit_message("edit profile"));
    }
    w.audit(ctx.audit("member.edit", Some(row.id)));
    w.commit()?;
    let row = ctx
        .store
        .member_by_id(row.id)?
        .ok_or_else(|| Error::NotFound("The member could not be read back.".into()))?;
    member_detail(ctx, &user, &row)
}

/// The days a member's birth month is checked against: the day they registered (at this
/// hub, in its time zone) and today.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemberDates {
    registered_on: chrono::NaiveDate,
    today: chrono::NaiveDate,
}

impl MemberDates {
    pub(crate) fn of(ctx: &Ctx<'_>, row: &MemberRow) -> Result<Self> {
        let hub = ctx.hub()?;
        let tz = super::time_zone(&hub.time_zone);
        Ok(Self {
            registered_on: row.registered_at.with_timezone(&tz).date_naive(),
            today: ctx.today_at(&hub),
        })
    }
}

/// The profile with the edit's fields checked and applied; fields not given stay as they are.
/// A birth month is checked as at registration ([`check_member_age`]), so an edit can't make
/// a member of someone registration would have refused.
pub(crate) fn edited_profile(
    mut profile: ProfileDoc,
    edit: &ProfileEdit,
    dates: MemberDates,
) -> Result<ProfileDoc> {
    // Only the fields given change, so an edit on another laptop to another field survives.
    if let Some(name) = &edit.preferred_name {
        profile.preferred_name =
            crate::domain::member::clean_name("name", "The preferred name", name)?;
    }
    if let Some(v) = &edit.legal_name {
        profile.legal_name = clean_optional(
            "legal_name",
            "The legal name",
            Some(v),
            crate::domain::member::MAX_NAME_CHARS,
        )?;
    }
    if let Some(v) = &edit.born {
        let born = read_birth_month(v)?.month;
        check_member_age(born, dates.registered_on, dates.today)?;
        profile.born = born.to_string();
    }
    if let Some(v) = &edit.pronouns {
        profile.pronouns = clean_short("pronouns", "Pronouns", Some(v))?;
    }
    if let Some(v) = &edit.gender {
        profile.gender = clean_short("gender", "Gender", Some(v))?;
    }
    if let Some(v) = &edit.postcode_district {
        profile.postcode_district = clean_postcode_district(Some(v))?;
    }
    if let Some(v) = &edit.heard_about {
        profile.heard_about =
            clean_optional("heard_about", "How they heard about the hub", Some(v), 120)?;
    }
    Ok(profile)
}
