//! The Automerge documents: the source of truth for every record. SQLite projections are
//! caches over these (see store/).
//!
//! Wire format: field names here are stored in documents on every laptop. Do not rename or
//! reorder them; add new fields with `#[autosurgeon(missing = "...")]` and bump
//! [`SCHEMA_VERSION`] when an older hubdesk could misread a document.
//!
//! Collections are maps keyed by id, never lists, so that additions made on two laptops at
//! once both survive a merge.

use std::collections::BTreeMap;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, ReadDoc};
use autosurgeon::{Hydrate, Reconcile};
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub mod plan;

/// The newest document layout this build reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("a record could not be read: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("a record has an unexpected shape: {0}")]
    Hydrate(#[from] autosurgeon::HydrateError),
    #[error("a record could not be updated: {0}")]
    Reconcile(#[from] autosurgeon::ReconcileError),
    #[error(
        "a record was written by a newer version of hubdesk (layout {found}, this one reads up to {SCHEMA_VERSION}); update hubdesk on this laptop"
    )]
    TooNew { found: u64 },
    #[error("a record is not a {expected} record")]
    WrongKind { expected: &'static str },
    #[error("an audit log that does not belong to the laptop it names was refused")]
    ForeignAudit,
}

/// What kind of document a chunk belongs to. Stored as an integer in SQLite: do not renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    Org = 1,
    Member = 2,
    Day = 3,
    Contact = 4,
    /// A member record's safeguarding concerns, kept apart from the member's own document so
    /// that roles and devices that must not hold them can be left without them.
    Safeguarding = 5,
    /// One laptop's audit log for one day (UTC): written only by that laptop,
    /// synced to every other, which refuses any change to it made by another laptop.
    Audit = 6,
}

impl DocKind {
    pub fn from_i64(v: i64) -> Option<Self> {
        match v {
            1 => Some(Self::Org),
            2 => Some(Self::Member),
            3 => Some(Self::Day),
            4 => Some(Self::Contact),
            5 => Some(Self::Safeguarding),
            6 => Some(Self::Audit),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Org => "org",
            Self::Member => "member",
            Self::Day => "day",
            Self::Contact => "contact",
            Self::Safeguarding => "safeguarding",
            Self::Audit => "audit",
        }
    }
}

/// Milliseconds since the Unix epoch, UTC: how instants are stored in documents.
pub type Millis = i64;

pub fn to_millis(t: DateTime<Utc>) -> Millis {
    t.timestamp_millis()
}

pub fn from_millis(ms: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH)
}

/// Closes the pending change with the real time and a short message (Automerge would
/// otherwise write time 0). Messages never carry personal data.
/// The hashes (hex) of every change `doc` holds: what a tombstone of it records, so that a
/// laptop holding a change beyond them knows the erasing laptop had not seen it.
pub fn change_hashes(doc: &mut AutoCommit) -> std::collections::BTreeSet<String> {
    doc.get_changes(&[])
        .iter()
        .map(|c| c.hash().to_string())
        .collect()
}

pub fn commit(doc: &mut AutoCommit, at: DateTime<Utc>, message: impl Into<String>) {
    doc.commit_with(
        CommitOptions::default()
            .with_message(message)
            .with_time(at.timestamp()),
    );
}

/// Loads a document from its stored chunks (a snapshot and/or incremental changes, in order).
pub fn load(chunks: &[u8], actor: &ActorId) -> Result<AutoCommit, DocError> {
    let doc = AutoCommit::load(chunks)?;
    Ok(doc.with_actor(actor.clone()))
}

/// The actor id of a device, from its id: one actor per laptop, for ever.
pub fn device_actor(device: Uuid) -> ActorId {
    ActorId::from(device.as_bytes().as_slice())
}

/// A short fingerprint of a document's heads: equal on two laptops exactly when they hold
/// the same changes. The change feed and the digest compare these instead of documents.
pub fn heads_hash(heads: &[automerge::ChangeHash]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&automerge::ChangeHash> = heads.iter().collect();
    sorted.sort();
    let mut h = Sha256::new();
    for head in sorted {
        h.update(head.0);
    }
    let full = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// Maps added to a kind of document after its first layout, in the order they were added.
/// Append only, never reorder or rename: each entry's change must come out the same, byte for
/// byte, on every laptop (see [`upgrade_layout`]).
const LAYOUT_UPGRADES: &[(DocKind, u32, &[&str])] = &[
    (
        DocKind::Org,
        2,
        &["tombstones", "distinct_members", "same_person"],
    ),
    (DocKind::Member, 2, &["merged"]),
    (DocKind::Member, 3, &["conversations"]),
    (DocKind::Member, 4, &["check_ins"]),
    (DocKind::Org, 3, &["instruments"]),
    (DocKind::Day, 2, &["shifts", "closings"]),
    (DocKind::Org, 4, &["role_history", "training"]),
    (DocKind::Member, 6, &["plans"]),
    (DocKind::Org, 5, &["erasure_requests", "holds"]),
    (DocKind::Day, 3, &["erased_visits"]),
    (DocKind::Org, 6, &["agreements"]),
    (DocKind::Member, 8, &["accepted_agreements"]),
];

/// Gives a document made before some of its maps existed those maps, with changes every
/// laptop makes identically: the same actor, time, message and content, on top of the same
/// history (the document's first change and the earlier upgrades). Automerge then holds one
/// copy of each change, so two laptops upgrading apart make one map, not two of which only
/// one would show. Call it before writing to a document, with no change pending. Returns
/// whether it changed the document.
pub fn upgrade_layout(doc: &mut AutoCommit, kind: DocKind) -> Result<bool, DocError> {
    upgrade(doc, kind, false)
}

/// Maps added only when first written to, never when a document is merely opened for
/// writing: a member's accepted agreements are written rarely, and giving every record the
/// map at its next sign-in would make each member's first sign-in after an update slower.
/// The change that adds one is the same whenever it is made (see [`upgrade_layout`]).
const LAZY_MAPS: &[&str] = &["accepted_agreements"];

/// [`upgrade_layout`], and the maps it leaves until they are written to ([`LAZY_MAPS`]):
/// call before writing to one of those.
pub fn upgrade_layout_fully(doc: &mut AutoCommit, kind: DocKind) -> Result<bool, DocError> {
    upgrade(doc, kind, true)
}

fn upgrade(doc: &mut AutoCommit, kind: DocKind, lazy_too: bool) -> Result<bool, DocError> {
    let upgrades = upgrades_of(kind);
    let mut missing_now = false;
    for (_, maps) in &upgrades {
        for map in *maps {
            if !lazy_too && LAZY_MAPS.contains(map) {
                continue;
            }
            missing_now |= doc.get(automerge::ROOT, *map)?.is_none();
        }
    }
    if !missing_now {
        return Ok(false);
    }
    let mut base = layout_roots(doc);
    let mut changed = false;
    for (version, maps) in upgrades {
        let mut fork = doc.fork_at(&base)?;
        let Some(change) = layout_change(&mut fork, version, maps)? else {
            continue;
        };
        base = vec![change.hash()];
        if doc.get_change_by_hash(&change.hash()).is_none() {
            doc.apply_changes([change])?;
            changed = true;
        }
    }
    Ok(changed)
}

/// The layout upgrades of one kind of document, in order.
fn upgrades_of(kind: DocKind) -> Vec<(u32, &'static [&'static str])> {
    LAYOUT_UPGRADES
        .iter()
        .filter(|(k, _, _)| *k == kind)
        .map(|(_, v, maps)| (*v, *maps))
        .collect()
}

/// The first change(s): the only history every laptop is sure to share unchanged.
fn layout_roots(doc: &mut AutoCommit) -> Vec<automerge::ChangeHash> {
    let mut base: Vec<automerge::ChangeHash> = doc
        .get_changes(&[])
        .iter()
        .filter(|c| c.deps().is_empty())
        .map(|c| c.hash())
        .collect();
    base.sort();
    base
}

/// Makes, on `fork` (a fork at the earlier layout), the change that adds the maps of one
/// upgrade it lacks: None when it lacks none.
fn layout_change(
    fork: &mut AutoCommit,
    version: u32,
    maps: &[&str],
) -> Result<Option<automerge::Change>, DocError> {
    use automerge::transaction::Transactable;
    let mut made = false;
    for map in maps {
        if fork.get(automerge::ROOT, *map)?.is_none() {
            if !made {
                fork.set_actor(ActorId::from(
                    format!("hubdesk layout {version}").as_bytes(),
                ));
            }
            fork.put_object(automerge::ROOT, *map, automerge::ObjType::Map)?;
            made = true;
        }
    }
    if !made {
        return Ok(None);
    }
    fork.commit_with(
        CommitOptions::default()
            .with_message(format!("layout {version} (system)"))
            .with_time(0),
    );
    Ok(fork.get_last_local_change())
}

/// The heads of a document's layout as every laptop makes it: its first change(s) and the
/// layout upgrades on top. A change made on these heads deterministically (the plan's start,
/// see [`plan::ensure_plan`]) comes out the same on every laptop. Call after
/// [`upgrade_layout`], so these changes are in the document.
///
/// Only the upgrades up to `up_to`: the layout as it was when such changes began to be made,
/// so that maps added since (some only when first written, see [`LAZY_MAPS`]) never move
/// where they sit.
pub(crate) fn layout_base(
    doc: &mut AutoCommit,
    kind: DocKind,
    up_to: u32,
) -> Result<Vec<automerge::ChangeHash>, DocError> {
    let mut base = layout_roots(doc);
    for (version, maps) in upgrades_of(kind).into_iter().filter(|(v, _)| *v <= up_to) {
        let mut fork = doc.fork_at(&base)?;
        if let Some(change) = layout_change(&mut fork, version, maps)? {
            base = vec![change.hash()];
        }
    }
    Ok(base)
}

/// Reads the kind and schema header every document carries, and checks both.
pub fn check_header(doc: &AutoCommit, expected: DocKind) -> Result<(), DocError> {
    let kind: String = autosurgeon::hydrate_prop(doc, automerge::ROOT, "kind")?;
    if kind != expected.name() {
        return Err(DocError::WrongKind {
            expected: expected.name(),
        });
    }
    let schema: u64 = autosurgeon::hydrate_prop(doc, automerge::ROOT, "schema")?;
    if schema > SCHEMA_VERSION {
        return Err(DocError::TooNew { found: schema });
    }
    Ok(())
}

/// Hydrates a whole document after checking its header.
pub fn read<T: Hydrate>(doc: &AutoCommit, kind: DocKind) -> Result<T, DocError> {
    check_header(doc, kind)?;
    Ok(autosurgeon::hydrate(doc)?)
}

/// Writes `value` at the root key `key`, changing only what differs.
pub fn put<R: Reconcile>(doc: &mut AutoCommit, key: &str, value: &R) -> Result<(), DocError> {
    autosurgeon::reconcile_prop(doc, automerge::ROOT, key, value)?;
    Ok(())
}

/// Writes one entry of the map at root key `map`, leaving its other entries alone (so a
/// member with years of visits costs the same to sign in as a new one). The store gives a
/// document the maps of its layout when it is opened for writing ([`upgrade_layout`]); a map
/// outside the layout is made here.
pub fn put_entry<R: Reconcile>(
    doc: &mut AutoCommit,
    map: &str,
    key: &str,
    value: &R,
) -> Result<(), DocError> {
    use automerge::transaction::Transactable;
    let obj = match doc.get(automerge::ROOT, map)? {
        Some((automerge::Value::Object(automerge::ObjType::Map), id)) => id,
        // A map added to the layout later (a document older than it has none yet).
        None => doc.put_object(automerge::ROOT, map, automerge::ObjType::Map)?,
        Some(_) => {
            return Err(DocError::Hydrate(autosurgeon::HydrateError::unexpected(
                "a map",
                format!("no map at {map}"),
            )));
        }
    };
    autosurgeon::reconcile_prop(doc, obj, key, value)?;
    Ok(())
}

/// Writes a new visit under `key` of the member's visits, field by field, as
/// [`put_entry`] would write it. Reconciling reads each field's old value before writing it,
/// and on a record with years of visits those reads were a fifth of a sign-in; a visit made
/// here has no old value to read.
pub fn put_new_visit(doc: &mut AutoCommit, key: &str, visit: &VisitDoc) -> Result<(), DocError> {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ScalarValue};
    let visits = match doc.get(automerge::ROOT, "visits")? {
        Some((automerge::Value::Object(ObjType::Map), id)) => id,
        None => doc.put_object(automerge::ROOT, "visits", ObjType::Map)?,
        Some(_) => {
            return Err(DocError::Hydrate(autosurgeon::HydrateError::unexpected(
                "a map",
                "no map at visits".to_string(),
            )));
        }
    };
    if doc.get(&visits, key)?.is_some() {
        // Not new after all: reconcile with what is there.
        autosurgeon::reconcile_prop(doc, visits, key, visit)?;
        return Ok(());
    }
    let v = doc.put_object(&visits, key, ObjType::Map)?;
    doc.put(&v, "day", visit.day.as_str())?;
    doc.put(&v, "hub", visit.hub.as_str())?;
    doc.put(&v, "signed_in_at", visit.signed_in_at)?;
    doc.put(&v, "signed_in_by", visit.signed_in_by.as_str())?;
    let or_null = |value: Option<ScalarValue>| value.unwrap_or(ScalarValue::Null);
    doc.put(
        &v,
        "signed_out_at",
        or_null(visit.signed_out_at.map(ScalarValue::Int)),
    )?;
    doc.put(
        &v,
        "signed_out_by",
        or_null(visit.signed_out_by.as_deref().map(ScalarValue::from)),
    )?;
    doc.put(&v, "signed_out_at_close", visit.signed_out_at_close)?;
    let activities = doc.put_object(&v, "activities", ObjType::List)?;
    for (i, a) in visit.activities.iter().enumerate() {
        doc.insert(&activities, i, a.as_str())?;
    }
    // A new visit is never withdrawn, and an unset withdrawal writes nothing (as reconciling
    // it writes nothing), so a sign-in costs what it did before withdrawals existed.
    if let Some(withdrawn) = &visit.withdrawn {
        autosurgeon::reconcile_prop(doc, &v, "withdrawn", withdrawn)?;
    }
    Ok(())
}

/// Reads one entry of the map at root key `map`.
pub fn get_entry<H: Hydrate>(
    doc: &AutoCommit,
    map: &str,
    key: &str,
) -> Result<Option<H>, DocError> {
    let obj = match doc.get(automerge::ROOT, map)? {
        Some((automerge::Value::Object(automerge::ObjType::Map), id)) => id,
        _ => return Ok(None),
    };
    if doc.get(&obj, key)?.is_none() {
        return Ok(None);
    }
    Ok(Some(autosurgeon::hydrate_prop(doc, obj, key)?))
}

// ---------------------------------------------------------------------------------------
// MemberDoc: one per member. All of a young person's personal data lives only in here.

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct MemberDoc {
    pub schema: u64,
    pub kind: String,
    pub code: String,
    pub registered_at: Millis,
    pub registered_by: String,
    pub profile: ProfileDoc,
    pub agreement: Option<AgreementDoc>,
    pub visits: BTreeMap<String, VisitDoc>,
    /// Members merged into this one (keyed by their old id): their codes still find this one.
    #[autosurgeon(missing = "Default::default")]
    pub merged: BTreeMap<String, MergedDoc>,
    /// Strength-based conversations with the member, keyed by conversation id (UUIDv7), so
    /// two laptops recording one apart both keep theirs. Added to the layout later (see
    /// [`LAYOUT_UPGRADES`]): older records have none until their first.
    #[autosurgeon(missing = "Default::default")]
    pub conversations: BTreeMap<String, ConversationDoc>,
    /// Outcome check-ins, keyed by check-in id (UUIDv7). Added to the layout later (see
    /// [`LAYOUT_UPGRADES`]): older records have none until their first.
    #[autosurgeon(missing = "Default::default")]
    pub check_ins: BTreeMap<String, CheckInDoc>,
    /// Versions of the member agreement the member accepted after registering (the desk's
    /// "Accepted" when a new version was due), keyed "version:fingerprint" of the words
    /// accepted, so acceptances recorded on two laptops apart all survive. Added to the layout
    /// later (see [`LAYOUT_UPGRADES`]). What they accepted at registration stays in
    /// `agreement`.
    #[autosurgeon(missing = "Default::default")]
    pub accepted_agreements: BTreeMap<String, AcceptanceDoc>,
}

/// A member's acceptance of one version of the agreement: the words (by fingerprint), when,
/// and who recorded it at the desk.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct AcceptanceDoc {
    pub version: String,
    /// The fingerprint of the words accepted (see domain::agreement::fingerprint).
    pub fingerprint: String,
    pub at: Millis,
    /// The user who recorded it.
    pub by: String,
}

/// One outcome check-in: the answers a member gave to one instrument, and the scores they
/// were given then. Written once and never edited.
///
/// The scores are kept beside the answers, with the fingerprint of the definition that made
/// them: an organisation that imports a corrected definition later does not silently change
/// what an old check-in said, and a laptop that has the check-in before the definition (sync
/// order) still shows and counts it.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct CheckInDoc {
    /// When it was recorded, millis UTC.
    pub at: Millis,
    /// Who recorded it, or handed the laptop over for it (a user id).
    pub by: String,
    /// The hub it was recorded at (a hub id).
    pub hub: String,
    /// The instrument's id ("ons4", "confidence", ...).
    pub instrument: String,
    /// The fingerprint of the definition it was scored with (see
    /// `Instrument::fingerprint`).
    pub fingerprint: String,
    /// What the instrument evidences ("wellbeing", ...), as it said when this was recorded.
    pub outcome: String,
    /// Filled in by the member themselves on the hand-over screen.
    pub self_filled: bool,
    /// One answer per item, in the definition's order; null where left blank. Empty for an
    /// instrument scored per goal.
    pub answers: Vec<Option<i64>>,
    /// The member's goals in their own words, with this check-in's score for each.
    pub goals: Vec<GoalDoc>,
    /// The scores given when it was recorded: one per part (`total`, an item id or a goal
    /// id), null for an item left blank.
    pub scores: Vec<ScoreDoc>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct GoalDoc {
    /// Kept at later check-ins so the change follows the goal.
    pub id: String,
    pub goal: String,
    pub score: i64,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ScoreDoc {
    /// `total` for an instrument with a total, else the item or goal id.
    pub part: String,
    /// In hundredths would hide the unit; a plain number (converted scores have decimals).
    pub value: Option<f64>,
}

/// One strength-based conversation, written with the member by one navigator or staff member.
///
/// The words are plain strings, not Automerge Text: a conversation is written once, by one
/// person, and never edited afterwards, so there are no concurrent edits for Text's
/// character-level merge to keep (a self-care plan, edited by two people, is Text).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ConversationDoc {
    /// When it was held (recorded), millis UTC.
    pub at: Millis,
    /// Who recorded it (a user id).
    pub by: String,
    /// The hub it was recorded at (a hub id).
    pub hub: String,
    pub what_matters: String,
    pub strengths: Option<String>,
    pub resources: Option<String>,
    pub choices: Option<String>,
    pub next_steps: Option<String>,
    /// "YYYY-MM-DD", local to the hub.
    pub follow_up: Option<String>,
    /// Private to staff: the reason why, when it is. None means the member may see it.
    pub private_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct MergedDoc {
    pub code: String,
    pub at: Millis,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ProfileDoc {
    pub preferred_name: String,
    pub legal_name: Option<String>,
    /// "YYYY-MM"
    pub born: String,
    pub pronouns: Option<String>,
    pub gender: Option<String>,
    pub postcode_district: Option<String>,
    pub heard_about: Option<String>,
    pub emergency_contact: Option<EmergencyContactDoc>,
}

impl ProfileDoc {
    /// Fills the fields this profile leaves empty from `other` (records of one person: the
    /// surviving record's own values always win, see store/project.rs).
    pub fn fill_gaps_from(&mut self, other: &ProfileDoc) {
        let fill = |a: &mut Option<String>, b: &Option<String>| {
            if a.is_none() {
                a.clone_from(b);
            }
        };
        fill(&mut self.legal_name, &other.legal_name);
        fill(&mut self.pronouns, &other.pronouns);
        fill(&mut self.gender, &other.gender);
        fill(&mut self.postcode_district, &other.postcode_district);
        fill(&mut self.heard_about, &other.heard_about);
        if self.emergency_contact.is_none() {
            self.emergency_contact.clone_from(&other.emergency_contact);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct EmergencyContactDoc {
    pub name: String,
    pub phone: Option<String>,
    pub relationship: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct AgreementDoc {
    pub version: String,
    pub accepted_at: Millis,
    pub consents: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct VisitDoc {
    pub day: String,
    pub hub: String,
    pub signed_in_at: Millis,
    pub signed_in_by: String,
    pub signed_out_at: Option<Millis>,
    pub signed_out_by: Option<String>,
    /// Still in when the day was closed, and signed out by the close.
    pub signed_out_at_close: bool,
    pub activities: Vec<String>,
    /// Set when the desk undid the sign-in (the wrong person was signed in): the visit
    /// counts nowhere, though the history keeps it. Absent in visits made before withdrawals
    /// existed, and in every visit never withdrawn.
    ///
    /// Only ever written with a value, never cleared: `None` writes nothing (see
    /// [`reconcile_if_set`]), so a laptop signing the visit out while another withdraws it
    /// cannot put a null beside the withdrawal for Automerge to choose between. Two
    /// withdrawals made apart are both values, and either leaves the visit withdrawn.
    #[autosurgeon(missing = "Default::default", reconcile = "reconcile_if_set")]
    pub withdrawn: Option<StampDoc>,
}

impl VisitDoc {
    /// Whether the visit counts anywhere (withdrawn ones do not).
    pub fn counts(&self) -> bool {
        self.withdrawn.is_none()
    }
}

/// Reconciles an optional value only when it is set: `None` leaves the document as it is,
/// so an absent field stays absent and a value another laptop wrote is never overwritten by
/// a null from a laptop that had not heard of it.
fn reconcile_if_set<T: Reconcile, R: autosurgeon::Reconciler>(
    value: &Option<T>,
    reconciler: R,
) -> Result<(), R::Error> {
    match value {
        Some(v) => v.reconcile(reconciler),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// OrgDoc (the HubDoc of DESIGN.md): one per organisation. No personal data of members.

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct OrgDoc {
    pub schema: u64,
    pub kind: String,
    pub name: String,
    pub created_at: Millis,
    pub hubs: BTreeMap<String, HubEntry>,
    pub users: BTreeMap<String, UserEntry>,
    pub activities: BTreeMap<String, ActivityEntry>,
    pub devices: BTreeMap<String, DeviceEntry>,
    pub settings: SettingsDoc,
    /// Documents erased or merged away, keyed by id: every laptop deletes them on receipt and
    /// refuses them from any peer for ever. No personal data.
    #[autosurgeon(missing = "Default::default")]
    pub tombstones: BTreeMap<String, TombstoneEntry>,
    /// Pairs of members staff said are two different people, keyed "smaller-id:larger-id",
    /// so the duplicate list stops offering them. Ids only.
    #[autosurgeon(missing = "Default::default")]
    pub distinct_members: BTreeMap<String, StampDoc>,
    /// Pairs of member records staff said are one person (a merge), keyed
    /// "smaller-id:larger-id". A fact, never undone by arrival order: records are grouped
    /// transitively and every laptop shows each group as one person (see store/project.rs).
    #[autosurgeon(missing = "Default::default")]
    pub same_person: BTreeMap<String, StampDoc>,
    /// Spells in which a user was a member, peer navigator or volunteer, keyed by id.
    #[autosurgeon(missing = "Default::default")]
    pub role_history: BTreeMap<String, RoleSpellEntry>,
    /// Training users completed, keyed by id.
    #[autosurgeon(missing = "Default::default")]
    pub training: BTreeMap<String, TrainingEntry>,
    /// Instrument definitions the organisation added (its own scales, imported files), keyed
    /// "instrument-id:fingerprint": each version of a definition is an entry of its own whose
    /// definition is never changed (only its rank, when it is imported again), so a check-in
    /// can always find the definition it was scored with, and two laptops adding the same
    /// definition apart write the same key.
    #[autosurgeon(missing = "Default::default")]
    pub instruments: BTreeMap<String, InstrumentEntry>,
    /// Requests to erase a member, keyed by request id (UUIDv7): staff ask, a manager
    /// confirms. Ids, times, users and staff's reason only, never a name (see
    /// service::erasure).
    #[autosurgeon(missing = "Default::default")]
    pub erasure_requests: BTreeMap<String, ErasureRequestEntry>,
    /// Legal holds, keyed by hold id (UUIDv7). A member with any hold not cleared cannot be
    /// erased or anonymised. A hold set on one laptop while another clears the member's holds
    /// is a new entry the clear never saw, so it stays: a hold is never lost to sync order.
    #[autosurgeon(missing = "Default::default")]
    pub holds: BTreeMap<String, HoldEntry>,
    /// The words of each version of the member agreement, keyed "version:fingerprint": a
    /// version's words never change once set, and two laptops setting different words for
    /// one version apart both keep theirs (which is in force is a rule, see
    /// domain::agreement::in_force). No personal data: the organisation's own words.
    #[autosurgeon(missing = "Default::default")]
    pub agreements: BTreeMap<String, AgreementTextEntry>,
}

/// A request to erase a member (every record of the person). No personal data: the member's
/// id, who asked and confirmed, and why in staff's words (the form asks for no names).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ErasureRequestEntry {
    /// The member record asked about (an id).
    pub member: String,
    pub requested: StampDoc,
    pub reason: String,
    /// Set once, when a manager confirms; two managers confirming apart both leave a value
    /// and either means confirmed.
    #[autosurgeon(missing = "Default::default", reconcile = "reconcile_if_set")]
    pub confirmed: Option<StampDoc>,
}

/// A legal hold on a member: nothing erases or anonymises them while it stands.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct HoldEntry {
    /// The member record held (an id).
    pub member: String,
    pub set: StampDoc,
    pub reason: String,
    /// Written once, never cleared back to none (see [`reconcile_if_set`]).
    #[autosurgeon(missing = "Default::default", reconcile = "reconcile_if_set")]
    pub cleared: Option<HoldClearDoc>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct HoldClearDoc {
    pub at: Millis,
    pub by: String,
    pub reason: String,
}

/// One version of the member agreement's words.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct AgreementTextEntry {
    pub version: String,
    pub text: String,
    pub fingerprint: String,
    pub at: Millis,
    pub by: String,
}

/// A spell in one role (member, peer navigator, volunteer: the person's part in the hub, not
/// what they may do in hubdesk), recorded by staff.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct RoleSpellEntry {
    pub user: String,
    /// "member", "peer navigator" or "volunteer".
    pub role: String,
    /// "YYYY-MM-DD".
    pub from: String,
    /// "YYYY-MM-DD"; none while it goes on.
    pub to: Option<String>,
    pub recorded: StampDoc,
}

/// A course a user completed, recorded by staff.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct TrainingEntry {
    pub user: String,
    pub course: String,
    /// "YYYY-MM-DD".
    pub date: String,
    pub recorded: StampDoc,
}

/// One version of an instrument definition the organisation added. No personal data.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct InstrumentEntry {
    /// The definition as JSON (the import file's format, tidied): checked again when read,
    /// since it may come from another laptop.
    pub definition: String,
    pub at: Millis,
    pub by: String,
    /// Which version new check-ins use is the one with the largest (rank, fingerprint): each
    /// import or re-import writes 1 + the largest rank of the instrument's versions the laptop
    /// holds. Not the time, since a laptop's clock may be wrong. Missing (none written yet) is 0.
    #[autosurgeon(missing = "Default::default")]
    pub rank: u64,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct TombstoneEntry {
    /// The DocKind name of the document.
    pub kind: String,
    pub at: Millis,
    pub by: String,
    /// "merged", "erased" (a confirmed erasure request) or "retention" (anonymised on the
    /// organisation's retention schedule).
    pub reason: String,
    /// merged: the member that was kept.
    pub into: Option<String>,
    /// erased: the erasure request it carried out (its entry holds staff's reason).
    #[autosurgeon(missing = "Default::default")]
    pub request: Option<String>,
    /// erased/retention: one id for every tombstone one erasure wrote, so that voiding the
    /// member's voids its safeguarding record's too.
    #[autosurgeon(missing = "Default::default")]
    pub erasure: Option<String>,
    /// A safeguarding record's tombstone: the hashes (hex, space-separated) of every change
    /// the erasing laptop held of it. A laptop holding a change beyond them voids it.
    #[autosurgeon(missing = "Default::default")]
    pub changes: Option<String>,
    /// A member's tombstone: the legal holds (ids, space-separated) the erasing laptop knew
    /// of on the person. A standing hold not among them voids it.
    #[autosurgeon(missing = "Default::default")]
    pub holds_seen: Option<String>,
    /// retention: the last visit (or registration) the member was judged by. A laptop
    /// holding a later visit of the record voids it.
    #[autosurgeon(missing = "Default::default")]
    pub last_seen: Option<Millis>,
    /// Set by a laptop that held what the erasing laptop had not seen: the tombstone no
    /// longer deletes or refuses anything, on any laptop.
    #[autosurgeon(missing = "Default::default")]
    pub void: Option<VoidDoc>,
}

/// Why a tombstone stopped applying, and which laptop said so.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct VoidDoc {
    pub at: Millis,
    /// The device that voided it.
    pub by: String,
    /// "changed apart" (a safeguarding record), "held" (a legal hold the erasure had not
    /// seen) or "seen again" (a visit after the one retention went by).
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct HubEntry {
    pub name: String,
    /// IANA zone, e.g. "Europe/London".
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct UserEntry {
    pub name: String,
    pub roles: Vec<String>,
    /// argon2id PHC string; never the secret itself.
    pub secret_hash: String,
    pub active: bool,
    pub created_at: Millis,
    /// The user's key pair, private half wrapped by their secret ([`crate::store::KeyPair`]
    /// as text); empty for users made before the keyring, until their next unlock.
    #[autosurgeon(missing = "Default::default")]
    pub keys: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ActivityEntry {
    pub name: String,
    pub kind: String,
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct DeviceEntry {
    pub name: String,
    /// The device's member-code tag (see domain::code).
    pub tag: u32,
    pub added_at: Millis,
    /// SHA-256 of the device's TLS certificate (hex), pinned by every peer.
    #[autosurgeon(missing = "Default::default")]
    pub cert_sha256: Option<String>,
    /// Set when a manager removes the device: every peer refuses it from then on.
    #[autosurgeon(missing = "Default::default")]
    pub revoked: Option<StampDoc>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct SettingsDoc {
    pub lockout_failures: u32,
    pub lockout_minutes: u32,
    pub idle_lock_minutes: u32,
    pub current_agreement: String,
    pub consent_options: Vec<String>,
    /// How many days back a staff member may open a past day to type in a paper register.
    #[autosurgeon(missing = "default_back_entry_days")]
    pub back_entry_days: u32,
    /// Retention (see service::erasure): anonymise a member this many months after they
    /// were last seen, ... Each a field of its own, so two managers changing different parts
    /// apart both keep theirs, and the same part is a conflict to review like any setting.
    /// None (and in documents made before retention existed): no schedule.
    #[autosurgeon(missing = "Default::default")]
    pub retention_unseen_months: Option<u32>,
    /// ... or at this birthday, whichever is later.
    #[autosurgeon(missing = "Default::default")]
    pub retention_until_age: Option<u32>,
    /// Closed safeguarding records are kept this many years after their last closing.
    #[autosurgeon(missing = "Default::default")]
    pub retention_safeguarding_years: Option<u32>,
    /// How many months the audit log shows: older entries drop out of every view and export
    /// on every laptop. Never below [`MIN_AUDIT_RETENTION_MONTHS`] (service/ refuses less,
    /// and a smaller value from elsewhere is read as the floor).
    #[autosurgeon(missing = "default_audit_retention_months")]
    pub audit_retention_months: u32,
    /// The recovery key's pair, private half wrapped by the recovery key
    /// ([`crate::store::KeyPair`] as text); empty until an organisation has one.
    #[autosurgeon(missing = "Default::default")]
    pub recovery_keys: String,
}

/// The audit log's retention when the organisation has not set one: six years.
pub const DEFAULT_AUDIT_RETENTION_MONTHS: u32 = 72;
/// The least the audit log's retention may be set to: two years.
pub const MIN_AUDIT_RETENTION_MONTHS: u32 = 24;

fn default_audit_retention_months() -> u32 {
    DEFAULT_AUDIT_RETENTION_MONTHS
}

/// Back-entry window when the organisation has not set one (and in documents made before
/// the setting existed): a month of paper registers.
pub const DEFAULT_BACK_ENTRY_DAYS: u32 = 31;

fn default_back_entry_days() -> u32 {
    DEFAULT_BACK_ENTRY_DAYS
}

impl Default for SettingsDoc {
    fn default() -> Self {
        Self {
            lockout_failures: 5,
            lockout_minutes: 5,
            idle_lock_minutes: 5,
            current_agreement: "1".into(),
            consent_options: vec![
                "store-my-details".into(),
                "contact-me-by-text".into(),
                "contact-me-by-email".into(),
                "photos".into(),
                "share-anonymous-stories".into(),
            ],
            back_entry_days: DEFAULT_BACK_ENTRY_DAYS,
            audit_retention_months: DEFAULT_AUDIT_RETENTION_MONTHS,
            retention_unseen_months: None,
            retention_until_age: None,
            retention_safeguarding_years: None,
            recovery_keys: String::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// DayDoc: one per hub and date. Its id is derived from both, and its first change is the
// same bytes on every laptop (see `DayDoc::genesis`), so a day opened on two laptops offline
// merges into one.

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct DayDoc {
    pub schema: u64,
    pub kind: String,
    pub hub: String,
    /// "YYYY-MM-DD", local to the hub.
    pub date: String,
    /// Keyed by a fresh id per opening, so two laptops opening the day both leave a record.
    pub openings: BTreeMap<String, StampDoc>,
    pub closed: Option<StampDoc>,
    /// The anonymous headcount: one entry per "+N", summed. Entries, not a number, so that
    /// counts made on two laptops add up instead of one overwriting the other.
    pub headcount: BTreeMap<String, HeadcountEntry>,
    /// Set when the day was opened after its date to type in a paper register (back-entry):
    /// its visits were entered later, not at the desk on the day. Never in the first change
    /// (see `genesis`), so days made by older hubdesks and by this one merge alike.
    #[autosurgeon(missing = "Default::default")]
    pub back_entry: Option<StampDoc>,
    /// Navigators' and volunteers' shifts at the hub that day, keyed by shift id (added to the
    /// layout later, see [`LAYOUT_UPGRADES`]).
    #[autosurgeon(missing = "Default::default")]
    pub shifts: BTreeMap<String, ShiftDoc>,
    /// Every close of the day, keyed by a fresh id: `closed` is cleared when the day is opened
    /// again, and a shift nobody ended ends at the first close after it began, whichever
    /// laptop closed the day and whenever that news arrived.
    #[autosurgeon(missing = "Default::default")]
    pub closings: BTreeMap<String, StampDoc>,
    /// Visits of erased members, kept as anonymous counts so the day's attendance still adds
    /// up. Keyed by a hash of the visit's id (never the id, which holds its sign-in time), so
    /// every laptop that held the visit writes the same key and it counts once, whoever
    /// erased first. Added to the layout later (see [`LAYOUT_UPGRADES`]).
    #[autosurgeon(missing = "Default::default")]
    pub erased_visits: BTreeMap<String, ErasedVisitDoc>,
}

/// A visit by a member since erased: what the reports count, and nothing about who.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ErasedVisitDoc {
    /// The activities of the visit (activity ids), sorted.
    pub activities: Vec<String>,
}

/// A user's shift at a hub on a day.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ShiftDoc {
    /// The user on shift (id).
    pub user: String,
    pub started_at: Millis,
    pub ended: Option<ShiftEndDoc>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ShiftEndDoc {
    pub at: Millis,
    pub by: String,
    /// Ended by closing the day: the user never said when they left.
    pub at_close: bool,
}

/// The layout of a day's first change, exactly as the first hubdesk wrote it. Fields added to
/// [`DayDoc`] later are written by later changes, never here: the genesis bytes must match
/// on every laptop, whatever version of hubdesk it runs.
#[derive(Reconcile)]
struct DayGenesis {
    schema: u64,
    kind: String,
    hub: String,
    date: String,
    openings: BTreeMap<String, StampDoc>,
    closed: Option<StampDoc>,
    headcount: BTreeMap<String, HeadcountEntry>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct StampDoc {
    pub at: Millis,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct HeadcountEntry {
    pub count: i64,
    pub at: Millis,
    pub by: String,
}

impl DayDoc {
    /// When a shift ended, and whether closing the day ended it: facts of the day's document,
    /// the same on every laptop whatever order changes arrived in. A shift someone ended ends
    /// then. One nobody ended (it was started on a laptop apart, which the end or the close did
    /// not see) ends at whichever came first after it began: the same person ending a shift of
    /// theirs that day (two laptops apart each started one for them), or a close of the day. A
    /// day closed before it began ends it as it began.
    pub fn shift_end(&self, key: &str, s: &ShiftDoc) -> (Option<Millis>, bool) {
        if let Some(end) = &s.ended {
            return (Some(end.at.max(s.started_at)), end.at_close);
        }
        let ended_by_them = self
            .shifts
            .iter()
            .filter(|(k, other)| k.as_str() != key && other.user == s.user)
            .filter_map(|(_, other)| other.ended.as_ref())
            .filter(|e| !e.at_close && e.at >= s.started_at)
            .map(|e| e.at)
            .min();
        let closed = self
            .closings
            .values()
            .chain(self.closed.as_ref())
            .map(|c| c.at)
            .filter(|&at| at >= s.started_at)
            .min();
        match (ended_by_them, closed) {
            (Some(e), Some(c)) if e <= c => (Some(e), false),
            (Some(e), None) => (Some(e), false),
            (_, Some(c)) => (Some(c), true),
            (None, None) => match &self.closed {
                Some(_) => (Some(s.started_at), true),
                None => (None, false),
            },
        }
    }

    /// A new day document whose first change is identical on every laptop.
    pub fn genesis(
        day_id: Uuid,
        hub: Uuid,
        date: chrono::NaiveDate,
    ) -> Result<AutoCommit, DocError> {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(day_id.as_bytes().as_slice()));
        let day = DayGenesis {
            schema: SCHEMA_VERSION,
            kind: DocKind::Day.name().into(),
            hub: hub.to_string(),
            date: date.format("%Y-%m-%d").to_string(),
            openings: BTreeMap::new(),
            closed: None,
            headcount: BTreeMap::new(),
        };
        autosurgeon::reconcile(&mut doc, &day)?;
        doc.commit_with(
            CommitOptions::default()
                .with_message("day created")
                .with_time(0),
        );
        // The maps added to days' layout since (shifts), made as every laptop makes them: a
        // new day has them from the start, so nothing upgrades it later (an upgrade on
        // receipt would be a change of its own, as if the sync had brought something).
        upgrade_layout(&mut doc, DocKind::Day)?;
        Ok(doc)
    }
}

// ---------------------------------------------------------------------------------------
// SafeguardingDoc: at most one per member record, its id derived from the record's
// (crate::domain::safeguarding_doc_id). Only staff and managers read it (service/ checks).

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct SafeguardingDoc {
    pub schema: u64,
    pub kind: String,
    /// The member record the concerns are about (a member id).
    pub member: String,
    /// Concerns keyed by concern id (UUIDv7), so concerns raised apart all survive.
    pub concerns: BTreeMap<String, ConcernDoc>,
}

/// One safeguarding concern. What was raised is written once and never edited; what staff
/// do is added to its maps, keyed by id, so two laptops acting apart both keep theirs.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ConcernDoc {
    /// When it was raised, millis UTC.
    pub raised_at: Millis,
    /// Who raised it (a user id).
    pub raised_by: String,
    /// The hub it was raised at (a hub id).
    pub hub: String,
    /// When what it is about happened, millis UTC.
    pub happened_at: Millis,
    /// What was said, in the young person's own words.
    pub words: String,
    /// Who was present.
    pub present: Option<String>,
    /// The immediate action taken by whoever raised it.
    pub immediate_action: String,
    /// Staff's actions and decisions, keyed by id.
    pub actions: BTreeMap<String, ConcernActionDoc>,
    /// Its closings, keyed by id. A concern is closed when it has any (a fact every laptop
    /// reads the same way); two laptops closing it apart both keep their outcome.
    pub closes: BTreeMap<String, ConcernCloseDoc>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ConcernActionDoc {
    pub at: Millis,
    pub by: String,
    pub text: String,
    pub decision: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ConcernCloseDoc {
    pub at: Millis,
    pub by: String,
    pub outcome: String,
}

impl ConcernDoc {
    /// Whether the concern is open: nobody has closed it, or an action was recorded after
    /// its last closing (on a laptop that had not heard of the close), which staff must see.
    pub fn is_open(&self) -> bool {
        self.closed_at().is_none()
    }

    /// When it was closed: its last closing, unless an action came after that. Facts every
    /// laptop reads the same way, whatever order the closing and the action arrived in.
    pub fn closed_at(&self) -> Option<Millis> {
        let closed = self.closes.values().map(|c| c.at).max()?;
        match self.actions.values().map(|a| a.at).max() {
            Some(acted) if acted > closed => None,
            _ => Some(closed),
        }
    }

    /// Open again because an action was recorded after it had been closed.
    pub fn reopened(&self) -> bool {
        !self.closes.is_empty() && self.is_open()
    }
}

impl SafeguardingDoc {
    /// The document's first change, identical on every laptop: the same actor (from the
    /// document id), time, message and content. Two laptops that each raise the first
    /// concern about a member apart make the same change, so Automerge keeps one history
    /// and one `concerns` map, and both concerns survive.
    pub fn genesis(doc_id: Uuid, member: Uuid) -> Result<AutoCommit, DocError> {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(doc_id.as_bytes().as_slice()));
        let genesis = SafeguardingDoc {
            schema: SCHEMA_VERSION,
            kind: DocKind::Safeguarding.name().into(),
            member: member.to_string(),
            concerns: BTreeMap::new(),
        };
        autosurgeon::reconcile(&mut doc, &genesis)?;
        doc.commit_with(
            CommitOptions::default()
                .with_message("safeguarding record created")
                .with_time(0),
        );
        Ok(doc)
    }
}

/// Writes `value` under `key` of the map `map` inside concern `concern`, leaving the rest of
/// the concern alone. An unknown concern is an error.
pub fn put_concern_entry<R: Reconcile>(
    doc: &mut AutoCommit,
    concern: &str,
    map: &str,
    key: &str,
    value: &R,
) -> Result<(), DocError> {
    use automerge::transaction::Transactable;
    let unexpected = |what: &str| {
        DocError::Hydrate(autosurgeon::HydrateError::unexpected(
            "a map",
            what.to_string(),
        ))
    };
    let concerns = match doc.get(automerge::ROOT, "concerns")? {
        Some((automerge::Value::Object(automerge::ObjType::Map), id)) => id,
        _ => return Err(unexpected("no map of concerns")),
    };
    let c = match doc.get(&concerns, concern)? {
        Some((automerge::Value::Object(automerge::ObjType::Map), id)) => id,
        _ => return Err(unexpected("no such concern")),
    };
    let m = match doc.get(&c, map)? {
        Some((automerge::Value::Object(automerge::ObjType::Map), id)) => id,
        None => doc.put_object(&c, map, automerge::ObjType::Map)?,
        Some(_) => return Err(unexpected("not a map in the concern")),
    };
    autosurgeon::reconcile_prop(doc, m, key, value)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// AuditDoc: one laptop's audit log for one day (UTC). Its id is derived from the laptop and
// the day ([`audit_doc_id`]), so a laptop never makes two for the same day, and its first
// change is the same bytes whenever that laptop makes it ([`AuditDoc::genesis`]). Only the
// laptop it names ever changes it: every change is by that laptop's actor, and every laptop
// refuses changes by any other (sync/revocation.rs, `admit_audit`). Entries are added, never
// edited or removed: nothing in hubdesk writes to an entry once it is there.

/// The namespace of audit log ids (uuid v5). Do not change: ids are stored on every laptop.
const AUDIT_NAMESPACE: Uuid = Uuid::from_u128(0x6875_6264_6573_6b2d_6175_6469_742d_6c6f);

/// The id of `device`'s audit log for `period` ("YYYY-MM-DD").
pub fn audit_doc_id(device: Uuid, period: &str) -> Uuid {
    let mut name = device.as_bytes().to_vec();
    name.extend_from_slice(period.as_bytes());
    Uuid::new_v5(&AUDIT_NAMESPACE, &name)
}

/// The day an instant's audit entry is kept under: "YYYY-MM-DD", UTC.
///
/// A day, not a month: appending an entry needs its log loaded, and when another connection
/// has written (the app's background sync) the log is loaded again from the store. A log of
/// 3,000 entries (a busy month) took 110-130 ms to load inside a member view, one of 300 (a
/// busy day) 12 ms (debug build, on a shared and loaded 2-core machine).
pub fn audit_period(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct AuditDoc {
    pub schema: u64,
    pub kind: String,
    /// The laptop whose log this is (a device id): the only one that may change it.
    pub device: String,
    /// The day, "YYYY-MM-DD", UTC.
    pub period: String,
    /// Entries keyed by entry id (UUIDv7).
    pub entries: BTreeMap<String, AuditEntryDoc>,
}

/// One line of the audit log: ids, an action name and words such as an export's reason,
/// never the contents of a note or a member's name.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct AuditEntryDoc {
    pub at: Millis,
    /// The laptop it happened on (a device id).
    pub device: String,
    /// Who did it (a user id); none for the system (a sync refusing changes).
    pub user: Option<String>,
    pub action: String,
    /// The record it was about: a member's id where there is a member.
    pub subject: Option<String>,
    pub detail: Option<String>,
}

/// The header every audit log's first change writes.
#[derive(Reconcile)]
struct AuditGenesis {
    schema: u64,
    kind: String,
    device: String,
    period: String,
    entries: BTreeMap<String, AuditEntryDoc>,
}

impl AuditDoc {
    /// The first change of `device`'s log for `period`: by that laptop's actor, at time 0,
    /// the same bytes whenever it is made, so a laptop that makes it again (its copy lost and
    /// received back later) makes the same change.
    pub fn genesis(device: Uuid, period: &str) -> Result<AutoCommit, DocError> {
        let mut doc = AutoCommit::new().with_actor(device_actor(device));
        let genesis = AuditGenesis {
            schema: SCHEMA_VERSION,
            kind: DocKind::Audit.name().into(),
            device: device.to_string(),
            period: period.to_string(),
            entries: BTreeMap::new(),
        };
        autosurgeon::reconcile(&mut doc, &genesis)?;
        doc.commit_with(
            CommitOptions::default()
                .with_message("audit log created")
                .with_time(0),
        );
        Ok(doc)
    }
}

/// The laptop an audit log `doc` stored under `id` belongs to, after checking that its
/// header names that laptop and a day whose id is `id`. Anything else (a record made by
/// hand, one claiming another laptop's id) is [`DocError::ForeignAudit`].
pub fn audit_owner(doc: &AutoCommit, id: Uuid) -> Result<Uuid, DocError> {
    check_header(doc, DocKind::Audit)?;
    let device: String = autosurgeon::hydrate_prop(doc, automerge::ROOT, "device")?;
    let period: String = autosurgeon::hydrate_prop(doc, automerge::ROOT, "period")?;
    let device = Uuid::parse_str(&device).map_err(|_| DocError::ForeignAudit)?;
    if audit_doc_id(device, &period) != id {
        return Err(DocError::ForeignAudit);
    }
    Ok(device)
}

// ---------------------------------------------------------------------------------------
// ContactDoc: one per parent, visitor or professional who is not a member.

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ContactDoc {
    pub schema: u64,
    pub kind: String,
    pub contact_kind: String,
    pub name: String,
    pub created_at: Millis,
    /// Parents told about the parent network by a hubdesk from before signposts were kept
    /// per visit (or a laptop still on one). This hubdesk records it on the visit and leaves
    /// this false, so what an older one wrote is never taken back (see store/project.rs).
    pub signposted: bool,
    pub visits: BTreeMap<String, ContactVisitDoc>,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ContactVisitDoc {
    pub day: String,
    pub hub: String,
    pub signed_in_at: Millis,
    pub signed_in_by: String,
    pub signed_out_at: Option<Millis>,
    pub signed_out_at_close: bool,
    /// Parents: told about the parent network at this visit. The day screen counts these;
    /// visits made before hubdesk recorded it per visit have none (see store/project.rs).
    #[autosurgeon(missing = "Default::default")]
    pub signposted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value in `obj` and below it, with its type, as a sorted list of lines.
    fn dump(doc: &AutoCommit, obj: &automerge::ObjId, path: &str, out: &mut Vec<String>) {
        for key in doc.keys(obj) {
            let (value, id) = doc.get(obj, &key).unwrap().unwrap();
            match value {
                automerge::Value::Object(kind) => {
                    out.push(format!("{path}.{key}: {kind:?}"));
                    if kind == automerge::ObjType::List {
                        for i in 0..doc.length(&id) {
                            let (item, _) = doc.get(&id, i).unwrap().unwrap();
                            out.push(format!("{path}.{key}[{i}]: {item:?}"));
                        }
                    } else {
                        dump(doc, &id, &format!("{path}.{key}"), out);
                    }
                }
                automerge::Value::Scalar(v) => out.push(format!("{path}.{key}: {v:?}")),
            }
        }
        out.sort();
    }

    #[test]
    fn a_new_visit_written_field_by_field_is_what_reconciling_it_writes() {
        for visit in [
            VisitDoc {
                day: "d".into(),
                hub: "h".into(),
                signed_in_at: 1_700_000_000_000,
                signed_in_by: "u".into(),
                signed_out_at: None,
                signed_out_by: None,
                signed_out_at_close: false,
                activities: vec!["a1".into(), "a2".into()],
                withdrawn: None,
            },
            VisitDoc {
                day: "d".into(),
                hub: "h".into(),
                signed_in_at: -5,
                signed_in_by: String::new(),
                // The last millisecond of the year 9999.
                signed_out_at: Some(253_402_300_799_999),
                signed_out_by: Some("\u{202e}x".into()),
                signed_out_at_close: true,
                activities: vec![],
                withdrawn: Some(StampDoc {
                    at: 1_700_000_060_000,
                    by: "u".into(),
                }),
            },
        ] {
            let mut reconciled = AutoCommit::new();
            put_entry(&mut reconciled, "visits", "v", &visit).unwrap();
            let mut direct = AutoCommit::new();
            put_new_visit(&mut direct, "v", &visit).unwrap();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            dump(&reconciled, &automerge::ROOT, "", &mut a);
            dump(&direct, &automerge::ROOT, "", &mut b);
            assert_eq!(a, b);
            assert_eq!(
                get_entry::<VisitDoc>(&direct, "visits", "v").unwrap(),
                Some(visit)
            );
        }
    }

    #[test]
    fn a_visit_withdrawn_on_one_laptop_and_signed_out_on_another_stays_withdrawn() {
        let open = VisitDoc {
            day: "d".into(),
            hub: "h".into(),
            signed_in_at: 1_700_000_000_000,
            signed_in_by: "u".into(),
            signed_out_at: None,
            signed_out_by: None,
            signed_out_at_close: false,
            activities: vec![],
            withdrawn: None,
        };
        let mut base = AutoCommit::new().with_actor(device_actor(Uuid::from_u128(1)));
        put_new_visit(&mut base, "v", &open).unwrap();
        commit(&mut base, Utc::now(), "sign in");
        let bytes = base.save();
        // Either laptop's actor may sort first: the outcome must not depend on it.
        for (withdrawer, signer) in [(2u128, 3u128), (3, 2)] {
            let mut a = load(&bytes, &device_actor(Uuid::from_u128(withdrawer))).unwrap();
            let mut b = load(&bytes, &device_actor(Uuid::from_u128(signer))).unwrap();
            let mut withdrawn = open.clone();
            withdrawn.withdrawn = Some(StampDoc {
                at: 1_700_000_060_000,
                by: "desk".into(),
            });
            put_entry(&mut a, "visits", "v", &withdrawn).unwrap();
            commit(&mut a, Utc::now(), "withdraw sign in");
            // The sign-out reconciles the whole visit as this laptop knows it (not withdrawn).
            let mut signed_out = open.clone();
            signed_out.signed_out_at = Some(1_700_000_120_000);
            signed_out.signed_out_by = Some("other desk".into());
            put_entry(&mut b, "visits", "v", &signed_out).unwrap();
            commit(&mut b, Utc::now(), "sign out");
            for (x, y) in [(&a, &b), (&b, &a)] {
                let mut x = x.clone();
                x.merge(&mut y.clone()).unwrap();
                let merged: VisitDoc = get_entry(&x, "visits", "v").unwrap().unwrap();
                assert_eq!(merged.withdrawn, withdrawn.withdrawn);
                assert!(!merged.counts());
                assert_eq!(merged.signed_out_at, signed_out.signed_out_at);
            }
        }
    }

    #[test]
    fn an_unset_withdrawal_writes_nothing_so_visits_cost_what_they_did() {
        let visit = VisitDoc {
            day: "d".into(),
            hub: "h".into(),
            signed_in_at: 1,
            signed_in_by: "u".into(),
            signed_out_at: None,
            signed_out_by: None,
            signed_out_at_close: false,
            activities: vec![],
            withdrawn: None,
        };
        let mut doc = AutoCommit::new();
        put_entry(&mut doc, "visits", "v", &visit).unwrap();
        let (_, visits) = doc.get(automerge::ROOT, "visits").unwrap().unwrap();
        let (_, v) = doc.get(&visits, "v").unwrap().unwrap();
        assert_eq!(doc.get(&v, "withdrawn").unwrap(), None);
    }

    #[test]
    fn a_day_opened_on_two_laptops_offline_merges_into_one_history() {
        let day = Uuid::now_v7();
        let hub = Uuid::now_v7();
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let mut a = DayDoc::genesis(day, hub, date).unwrap();
        let mut b = DayDoc::genesis(day, hub, date).unwrap();
        assert_eq!(
            a.get_heads(),
            b.get_heads(),
            "genesis must be byte-identical"
        );

        a.set_actor(device_actor(Uuid::now_v7()));
        b.set_actor(device_actor(Uuid::now_v7()));
        let at = Utc::now();
        put_entry(
            &mut a,
            "headcount",
            "h1",
            &HeadcountEntry {
                count: 2,
                at: 1,
                by: "u".into(),
            },
        )
        .unwrap();
        commit(&mut a, at, "headcount");
        put_entry(
            &mut b,
            "headcount",
            "h2",
            &HeadcountEntry {
                count: 3,
                at: 2,
                by: "u".into(),
            },
        )
        .unwrap();
        commit(&mut b, at, "headcount");
        a.merge(&mut b).unwrap();
        let merged: DayDoc = read(&a, DocKind::Day).unwrap();
        assert_eq!(merged.headcount.values().map(|h| h.count).sum::<i64>(), 5);
    }

    #[test]
    fn a_days_first_change_is_the_same_bytes_as_every_earlier_hubdesk_makes() {
        // A laptop on an older hubdesk makes the same first change for a day; if this build
        // made a different one, the day would merge with two histories (and two "kind"s).
        let day = Uuid::from_u128(1);
        let hub = Uuid::from_u128(2);
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let mut doc = DayDoc::genesis(day, hub, date).unwrap();
        let first: Vec<automerge::ChangeHash> = doc
            .get_changes(&[])
            .iter()
            .filter(|c| c.deps().is_empty())
            .map(|c| c.hash())
            .collect();
        assert_eq!(
            hex::encode(heads_hash(&first)),
            "89ba4e657b3663c895ac77cfab8e3fbf",
        );
        // Then the layout upgrades, which every laptop makes alike (see `upgrade_layout`).
        let mut again = DayDoc::genesis(day, hub, date).unwrap();
        assert_eq!(doc.get_heads(), again.get_heads());
    }

    #[test]
    fn settings_saved_before_the_back_entry_window_existed_load_with_the_default() {
        #[derive(Reconcile)]
        struct SettingsBefore {
            lockout_failures: u32,
            lockout_minutes: u32,
            idle_lock_minutes: u32,
            current_agreement: String,
            consent_options: Vec<String>,
        }
        let mut doc = AutoCommit::new();
        let before = SettingsBefore {
            lockout_failures: 4,
            lockout_minutes: 10,
            idle_lock_minutes: 5,
            current_agreement: "2".into(),
            consent_options: vec![],
        };
        put(&mut doc, "settings", &before).unwrap();
        let settings: SettingsDoc =
            autosurgeon::hydrate_prop(&doc, automerge::ROOT, "settings").unwrap();
        assert_eq!(settings.back_entry_days, DEFAULT_BACK_ENTRY_DAYS);
        assert_eq!(settings.lockout_failures, 4);
    }

    #[test]
    fn a_day_made_before_back_entry_existed_reads_as_a_live_day() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let doc = DayDoc::genesis(Uuid::from_u128(1), Uuid::from_u128(2), date).unwrap();
        let day: DayDoc = read(&doc, DocKind::Day).unwrap();
        assert_eq!(day.back_entry, None);
    }

    #[test]
    fn commits_carry_the_real_time_and_a_message() {
        let mut doc = AutoCommit::new();
        put(&mut doc, "kind", &"member".to_string()).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .to_utc();
        commit(&mut doc, at, "register member");
        let change = doc.get_last_local_change().unwrap();
        assert_eq!(change.timestamp(), at.timestamp());
        assert_eq!(change.message(), Some("register member"));
    }

    #[test]
    fn snapshot_and_incremental_chunks_load_together() {
        let actor = device_actor(Uuid::now_v7());
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        put(&mut doc, "kind", &"x".to_string()).unwrap();
        commit(&mut doc, Utc::now(), "one");
        let mut bytes = doc.save();
        let heads = doc.get_heads();
        put(&mut doc, "kind", &"y".to_string()).unwrap();
        commit(&mut doc, Utc::now(), "two");
        bytes.extend(doc.save_after(&heads));
        let loaded = load(&bytes, &actor).unwrap();
        let kind: String = autosurgeon::hydrate_prop(&loaded, automerge::ROOT, "kind").unwrap();
        assert_eq!(kind, "y");
    }

    #[test]
    fn a_document_from_a_newer_hubdesk_is_an_error_not_a_panic() {
        let mut doc = AutoCommit::new();
        put(&mut doc, "kind", &"member".to_string()).unwrap();
        put(&mut doc, "schema", &(SCHEMA_VERSION + 1)).unwrap();
        assert!(matches!(
            check_header(&doc, DocKind::Member),
            Err(DocError::TooNew { .. })
        ));
    }

    #[test]
    fn an_entry_goes_into_a_map_an_older_document_does_not_have_yet() {
        let mut doc = AutoCommit::new();
        put(&mut doc, "kind", &"org".to_string()).unwrap();
        let stamp = StampDoc {
            at: 1,
            by: "u".into(),
        };
        put_entry(&mut doc, "tombstones_like", "k", &stamp).unwrap();
        assert_eq!(
            get_entry::<StampDoc>(&doc, "tombstones_like", "k").unwrap(),
            Some(stamp)
        );
    }

    #[test]
    fn two_laptops_upgrading_an_older_document_apart_make_one_map_and_keep_both_entries() {
        use automerge::transaction::Transactable;
        // An organisation from before "same_person": its first change has no such map.
        let mut genesis = AutoCommit::new().with_actor(device_actor(Uuid::now_v7()));
        put(&mut genesis, "kind", &"org".to_string()).unwrap();
        for map in ["hubs", "tombstones", "distinct_members"] {
            genesis
                .put_object(automerge::ROOT, map, automerge::ObjType::Map)
                .unwrap();
        }
        commit(&mut genesis, Utc::now(), "set up");
        let bytes = genesis.save();
        let stamp = |by: &str| StampDoc {
            at: 1,
            by: by.into(),
        };
        let mut laptops: Vec<AutoCommit> = ["a", "b"]
            .iter()
            .map(|_| load(&bytes, &device_actor(Uuid::now_v7())).unwrap())
            .collect();
        for (i, doc) in laptops.iter_mut().enumerate() {
            // Each laptop has done something else first, so their histories differ.
            put(doc, "name", &format!("laptop {i}")).unwrap();
            commit(doc, Utc::now(), "rename");
            assert!(upgrade_layout(doc, DocKind::Org).unwrap());
            assert!(!upgrade_layout(doc, DocKind::Org).unwrap(), "once only");
            put_entry(doc, "same_person", &format!("pair-{i}"), &stamp("u")).unwrap();
            commit(doc, Utc::now(), "merge");
        }
        let (first, rest) = laptops.split_at_mut(1);
        first[0].merge(&mut rest[0]).unwrap();
        let merged = &first[0];
        assert_eq!(
            merged
                .get_all(automerge::ROOT, "same_person")
                .unwrap()
                .len(),
            1
        );
        for i in 0..2 {
            assert!(
                get_entry::<StampDoc>(merged, "same_person", &format!("pair-{i}"))
                    .unwrap()
                    .is_some()
            );
        }
        // The maps the first change already had are left alone.
        assert_eq!(
            merged.get_all(automerge::ROOT, "tombstones").unwrap().len(),
            1
        );
    }

    #[test]
    fn garbage_bytes_are_an_error_not_a_panic() {
        assert!(load(b"not an automerge document", &device_actor(Uuid::now_v7())).is_err());
    }

    #[test]
    fn a_safeguarding_documents_first_change_is_the_same_on_every_laptop_for_ever() {
        let doc_id = Uuid::from_u128(5);
        let member = Uuid::from_u128(6);
        let mut a = SafeguardingDoc::genesis(doc_id, member).unwrap();
        let mut b = SafeguardingDoc::genesis(doc_id, member).unwrap();
        assert_eq!(a.get_heads(), b.get_heads());
        // A later hubdesk must make these same bytes, or two laptops on different versions
        // would make a member's safeguarding record twice over.
        assert_eq!(
            hex::encode(heads_hash(&a.get_heads())),
            "4a3f93470e522c54e23b1b7bfa2dd479"
        );
        let read: SafeguardingDoc = read(&a, DocKind::Safeguarding).unwrap();
        assert_eq!(read.member, member.to_string());
        assert!(read.concerns.is_empty());
    }

    fn concern(words: &str) -> ConcernDoc {
        ConcernDoc {
            raised_at: 1,
            raised_by: "u".into(),
            hub: "h".into(),
            happened_at: 1,
            words: words.into(),
            present: None,
            immediate_action: "told staff".into(),
            actions: BTreeMap::new(),
            closes: BTreeMap::new(),
        }
    }

    #[test]
    fn two_laptops_raising_the_first_concern_apart_make_one_document_with_both() {
        let doc_id = Uuid::now_v7();
        let member = Uuid::now_v7();
        let mut a = SafeguardingDoc::genesis(doc_id, member).unwrap();
        let mut b = SafeguardingDoc::genesis(doc_id, member).unwrap();
        a.set_actor(device_actor(Uuid::now_v7()));
        b.set_actor(device_actor(Uuid::now_v7()));
        put_entry(&mut a, "concerns", "c1", &concern("one")).unwrap();
        commit(&mut a, Utc::now(), "raise concern");
        put_entry(&mut b, "concerns", "c2", &concern("two")).unwrap();
        commit(&mut b, Utc::now(), "raise concern");
        a.merge(&mut b).unwrap();
        assert_eq!(a.get_all(automerge::ROOT, "concerns").unwrap().len(), 1);
        let merged: SafeguardingDoc = read(&a, DocKind::Safeguarding).unwrap();
        assert_eq!(merged.concerns.len(), 2);
    }

    #[test]
    fn actions_recorded_apart_on_one_concern_both_survive_and_any_close_closes_it() {
        let mut base = SafeguardingDoc::genesis(Uuid::now_v7(), Uuid::now_v7()).unwrap();
        base.set_actor(device_actor(Uuid::now_v7()));
        put_entry(&mut base, "concerns", "c", &concern("w")).unwrap();
        commit(&mut base, Utc::now(), "raise concern");
        let bytes = base.save();
        let mut a = load(&bytes, &device_actor(Uuid::now_v7())).unwrap();
        let mut b = load(&bytes, &device_actor(Uuid::now_v7())).unwrap();
        let action = |text: &str| ConcernActionDoc {
            at: 2,
            by: "s".into(),
            text: text.into(),
            decision: None,
            reason: None,
        };
        put_concern_entry(&mut a, "c", "actions", "a1", &action("called")).unwrap();
        commit(&mut a, Utc::now(), "act");
        put_concern_entry(&mut b, "c", "actions", "a2", &action("met")).unwrap();
        put_concern_entry(
            &mut b,
            "c",
            "closes",
            "x",
            &ConcernCloseDoc {
                at: 3,
                by: "s".into(),
                outcome: "done".into(),
            },
        )
        .unwrap();
        commit(&mut b, Utc::now(), "act and close");
        a.merge(&mut b).unwrap();
        let merged: SafeguardingDoc = read(&a, DocKind::Safeguarding).unwrap();
        let c = &merged.concerns["c"];
        assert_eq!(c.actions.len(), 2);
        assert!(!c.is_open());
        assert_eq!(c.closed_at(), Some(3));
        assert!(put_concern_entry(&mut a, "nope", "actions", "a3", &action("x")).is_err());
    }
}
