//! The member agreement, versioned: a manager sets the words of a new version (the
//! organisation's own words), which from then on is the version in force; a member who
//! accepted an older version (or none) is asked at their next sign-in, and the desk records
//! "Accepted". A sign-in is never refused or held up for it: the answer only says that a
//! version is due.
//!
//! What is a fact (DESIGN.md section 2): each version's words, kept in the organisation's
//! document keyed by version and fingerprint, so words set apart on two laptops for one
//! version are both kept; the version in force is a rule over them
//! (domain::agreement::in_force), the same on every laptop. A member's acceptance names the
//! words it accepted (by fingerprint), so one who accepted the other words of a disputed
//! version is asked again.
//!
//! Must not: change the words of a version once set, let a version go below the one in force,
//! or make a sign-in wait on anything but the record it writes anyway.

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Ctx, Error, Result, resolve_member};
use crate::doc::{self, AcceptanceDoc, AgreementDoc, AgreementTextEntry, DocKind, SettingsDoc};
use crate::domain::Permission;
use crate::domain::agreement::{
    AgreementVersion, TextFact, check_text, compare_versions, fingerprint, in_force, text_key,
};

/// One version of the agreement's words.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgreementView {
    pub version: String,
    pub fingerprint: String,
    pub text: String,
    pub set_at: DateTime<Utc>,
    /// Who set it, by name.
    pub set_by: String,
    /// The words in force now.
    pub in_force: bool,
    /// Other words were set for the same version on another laptop apart: only one of the
    /// two is in force (see the module's documentation). Set a new version to settle it.
    pub disputed: bool,
}

/// A version a member has not accepted yet, with its words, for the desk's prompt.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgreementDue {
    pub version: String,
    pub fingerprint: String,
    pub text: String,
}

/// What recording an acceptance did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgreementAccepted {
    pub member_id: crate::domain::MemberId,
    pub code: String,
    pub preferred_name: String,
    pub version: String,
    pub at: DateTime<Utc>,
    /// False when they had already accepted these words (nothing was written).
    pub recorded: bool,
}

/// The audit action of setting a version (see coord: dotted, lowercase).
pub const AGREEMENT_SET_ACTION: &str = "agreement.set";

/// Sets the words of a new version of the member agreement, which is in force from then on.
/// Managers only. The same words for a version already set change nothing; other words for
/// it are refused (a version's words never change), as is a version below the one in force.
pub fn set_agreement(ctx: &Ctx<'_>, version: &str, text: &str) -> Result<AgreementView> {
    let user = ctx.require(Permission::Administer)?;
    let version = AgreementVersion::parse(version)?;
    let text = check_text(text)?;
    let fp = fingerprint(&text);
    let texts = ctx.store.agreement_texts()?;
    if let Some(same) = texts
        .iter()
        .find(|t| compare_versions(&t.version, version.as_str()).is_eq())
    {
        if same.fingerprint == fp {
            return view_of(ctx, version.as_str(), &fp);
        }
        return Err(Error::Conflict(format!(
            "Version {} of the agreement already has its words (set on {}), and a version's words never change. Set them as a new version instead, like {}.",
            same.version,
            doc::from_millis(same.set_at).format("%-d %B %Y"),
            next_version(&texts)
        )));
    }
    let current = current_version(ctx, &texts)?;
    if let Some(current) = &current
        && compare_versions(version.as_str(), current).is_lt()
    {
        return Err(crate::domain::ValidationError::new(
            "version",
            format!(
                "version {version} is lower than version {current}, the one in use; a new version needs a higher number, like {}",
                next_version(&texts)
            ),
        )
        .into());
    }
    let entry = AgreementTextEntry {
        version: version.to_string(),
        text,
        fingerprint: fp.clone(),
        at: doc::to_millis(ctx.now()),
        by: user.id().to_string(),
    };
    let org_id = ctx.device()?.org_id;
    let mut w = ctx.store.write()?;
    let am = w.doc_required(org_id, DocKind::Org)?;
    doc::put_entry(am, "agreements", &text_key(version.as_str(), &fp), &entry)?;
    let mut settings: SettingsDoc = autosurgeon::hydrate_prop(&*am, automerge::ROOT, "settings")
        .map_err(doc::DocError::from)?;
    // Kept for whatever reads the setting (the registration form's version); the version in
    // force is the highest text's either way.
    if settings.current_agreement != version.as_str() {
        settings.current_agreement = version.to_string();
        doc::put(am, "settings", &settings)?;
    }
    doc::commit(am, ctx.now(), ctx.commit_message("set agreement"));
    let mut audit = ctx.audit(AGREEMENT_SET_ACTION, None);
    audit.detail = Some(format!("version {version}"));
    w.audit(audit);
    w.commit()?;
    view_of(ctx, version.as_str(), &fp)
}

/// Every version's words, newest version first. Anyone who runs the desk may read them: the
/// desk shows them to a member.
pub fn list_agreements(ctx: &Ctx<'_>) -> Result<Vec<AgreementView>> {
    ctx.require(Permission::RunTheDay)?;
    all_views(ctx)
}

/// The words in force, if the organisation has set any.
pub fn current_agreement(ctx: &Ctx<'_>) -> Result<Option<AgreementView>> {
    ctx.require(Permission::RunTheDay)?;
    Ok(all_views(ctx)?.into_iter().find(|v| v.in_force))
}

/// The version the member has yet to accept, with its words, or None.
pub fn agreement_due(ctx: &Ctx<'_>, id_or_code: &str) -> Result<Option<AgreementDue>> {
    ctx.require(Permission::RunTheDay)?;
    let row = resolve_member(ctx, id_or_code)?;
    let Some(force) = in_force_row(ctx)? else {
        return Ok(None);
    };
    if person_accepted(ctx, row.id, &force.version, &force.fingerprint)? {
        return Ok(None);
    }
    let view = view_of(ctx, &force.version, &force.fingerprint)?;
    Ok(Some(AgreementDue {
        version: view.version,
        fingerprint: view.fingerprint,
        text: view.text,
    }))
}

/// Records that the member accepted the version in force (the desk's "Accepted"): who
/// recorded it and when go with it. `version`, when given, must be the one in force (the
/// prompt's version, so words changed while it was on screen are not accepted unseen).
pub fn accept_agreement(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    version: Option<&str>,
) -> Result<AgreementAccepted> {
    let user = ctx.require(Permission::RunTheDay)?;
    let row = resolve_member(ctx, id_or_code)?;
    let Some(force) = in_force_row(ctx)? else {
        return Err(Error::Conflict(
            "The organisation has not put the words of its member agreement into hubdesk yet, so there is nothing to accept here. A manager sets them with `agreement set`.".into(),
        ));
    };
    if let Some(asked) = version.map(str::trim).filter(|v| !v.is_empty()) {
        let asked = AgreementVersion::parse(asked)?;
        if compare_versions(asked.as_str(), &force.version).is_ne() {
            return Err(Error::Conflict(format!(
                "Version {asked} is not the agreement in use now (version {} is): show them the words of version {} and record that instead.",
                force.version, force.version
            )));
        }
    }
    let now = ctx.now();
    let accepted = |recorded| AgreementAccepted {
        member_id: crate::domain::MemberId(row.id),
        code: row.code.clone(),
        preferred_name: row.preferred_name.clone(),
        version: force.version.clone(),
        at: now,
        recorded,
    };
    if person_accepted(ctx, row.id, &force.version, &force.fingerprint)? {
        return Ok(accepted(false));
    }
    let mut w = ctx.store.write()?;
    let am = w.doc_required(row.id, DocKind::Member)?;
    doc::upgrade_layout_fully(am, DocKind::Member)?;
    doc::put_entry(
        am,
        "accepted_agreements",
        &text_key(&force.version, &force.fingerprint),
        &AcceptanceDoc {
            version: force.version.clone(),
            fingerprint: force.fingerprint.clone(),
            at: doc::to_millis(now),
            by: user.id().to_string(),
        },
    )?;
    doc::commit(am, now, ctx.commit_message("accept agreement"));
    // No audit entry, as for a sign-in: the record says who recorded it and when.
    w.commit()?;
    Ok(accepted(true))
}

/// After a sign-in, with the member's record in hand: the version they have yet to accept,
/// or None. One small query (the organisation's handful of texts) and a lookup in the
/// record; the other records of a merged person only when this one has not accepted it.
pub(crate) fn due_on_sign_in(
    ctx: &Ctx<'_>,
    record: &AutoCommit,
    person: uuid::Uuid,
) -> Result<Option<String>> {
    let Some(force) = in_force_row(ctx)? else {
        return Ok(None);
    };
    if record_accepted(record, &force.version, &force.fingerprint)? {
        return Ok(None);
    }
    for other in ctx.store.records_of(person)? {
        if other == person {
            continue;
        }
        let found = ctx
            .store
            .with_doc(other, |am| {
                Ok(record_accepted(am, &force.version, &force.fingerprint)?)
            })?
            .unwrap_or(false);
        if found {
            return Ok(None);
        }
    }
    Ok(Some(force.version))
}

/// Whether a record accepted these words: an acceptance of them, or, for a record that
/// accepted the version at registration (which names no words), that version.
fn record_accepted(
    am: &AutoCommit,
    version: &str,
    fp: &str,
) -> std::result::Result<bool, doc::DocError> {
    if doc::get_entry::<AcceptanceDoc>(am, "accepted_agreements", &text_key(version, fp))?.is_some()
    {
        return Ok(true);
    }
    let at_registration: Option<AgreementDoc> =
        autosurgeon::hydrate_prop(am, automerge::ROOT, "agreement")?;
    Ok(at_registration.is_some_and(|a| compare_versions(&a.version, version).is_eq()))
}

fn person_accepted(ctx: &Ctx<'_>, person: uuid::Uuid, version: &str, fp: &str) -> Result<bool> {
    for record in ctx.store.records_of(person)? {
        let found = ctx
            .store
            .with_doc(record, |am| Ok(record_accepted(am, version, fp)?))?
            .unwrap_or(false);
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The text in force, from the projection (no words).
fn in_force_row(ctx: &Ctx<'_>) -> Result<Option<crate::store::AgreementTextRow>> {
    let texts = ctx.store.agreement_texts()?;
    let facts: Vec<TextFact<'_>> = texts
        .iter()
        .map(|t| TextFact {
            version: &t.version,
            fingerprint: &t.fingerprint,
            at: t.set_at,
        })
        .collect();
    let Some(force) = in_force(&facts) else {
        return Ok(None);
    };
    Ok(texts
        .iter()
        .find(|t| t.version == force.version && t.fingerprint == force.fingerprint)
        .cloned())
}

/// The version in use: the text in force, or, before any words were set in hubdesk, the
/// version the settings name (the registration form's).
pub(crate) fn current_version(
    ctx: &Ctx<'_>,
    texts: &[crate::store::AgreementTextRow],
) -> Result<Option<String>> {
    let from_texts = texts
        .iter()
        .map(|t| t.version.as_str())
        .max_by(|a, b| compare_versions(a, b));
    let from_settings = ctx
        .store
        .org()?
        .map(|(_, _, s)| s.current_agreement)
        .filter(|v| AgreementVersion::parse(v).is_ok());
    Ok(match (from_texts, from_settings) {
        (Some(t), Some(s)) if compare_versions(&s, t).is_gt() => Some(s),
        (Some(t), _) => Some(t.to_string()),
        (None, s) => s,
    })
}

/// The next whole version after every one set ("3" after "2.1").
fn next_version(texts: &[crate::store::AgreementTextRow]) -> String {
    let top = texts
        .iter()
        .filter_map(|t| AgreementVersion::parse(&t.version).ok())
        .max();
    match top {
        Some(v) => {
            let major: u32 = v
                .as_str()
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            (major.saturating_add(1)).to_string()
        }
        None => "1".into(),
    }
}

fn all_views(ctx: &Ctx<'_>) -> Result<Vec<AgreementView>> {
    let org_id = ctx.device()?.org_id;
    let entries: Vec<AgreementTextEntry> = ctx
        .store
        .with_doc(org_id, |am| {
            use automerge::ReadDoc;
            if am
                .get(automerge::ROOT, "agreements")
                .map_err(doc::DocError::from)?
                .is_none()
            {
                return Ok(Vec::new());
            }
            let all: std::collections::BTreeMap<String, AgreementTextEntry> =
                autosurgeon::hydrate_prop(am, automerge::ROOT, "agreements")
                    .map_err(doc::DocError::from)?;
            Ok(all.into_values().collect())
        })?
        .unwrap_or_default();
    let facts: Vec<TextFact<'_>> = entries
        .iter()
        .map(|e| TextFact {
            version: &e.version,
            fingerprint: &e.fingerprint,
            at: e.at,
        })
        .collect();
    let force = in_force(&facts).map(|f| (f.version.to_string(), f.fingerprint.to_string()));
    let names = super::conversations::Names::read(ctx)?;
    let mut views: Vec<AgreementView> = entries
        .iter()
        .map(|e| AgreementView {
            version: e.version.clone(),
            fingerprint: e.fingerprint.clone(),
            text: e.text.clone(),
            set_at: doc::from_millis(e.at),
            set_by: names.user(&e.by),
            in_force: force
                .as_ref()
                .is_some_and(|(v, f)| *v == e.version && *f == e.fingerprint),
            disputed: entries
                .iter()
                .any(|o| o.version == e.version && o.fingerprint != e.fingerprint),
        })
        .collect();
    views.sort_by(|a, b| {
        compare_versions(&b.version, &a.version)
            .then(b.in_force.cmp(&a.in_force))
            .then(a.set_at.cmp(&b.set_at))
    });
    Ok(views)
}

fn view_of(ctx: &Ctx<'_>, version: &str, fp: &str) -> Result<AgreementView> {
    all_views(ctx)?
        .into_iter()
        .find(|v| v.version == version && v.fingerprint == fp)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "Version {version} of the agreement is not on this laptop."
            ))
        })
}
