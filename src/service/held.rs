//! "What we hold about you": everything hubdesk holds about one member, part by part, with
//! who can see each part and why it is kept. It is the "What we hold" screen and the subject
//! access export (a printable page or JSON), so staff and managers only.
//!
//! Who can see each part is not written down a second time here: each part names the
//! permission the core checks before showing it ([`HeldPart::permission`]), and the roles are
//! read from domain::roles, so the page can never promise what the core does not do.
//!
//! Must not: leave anything out (every record of a merged person, every visit, private
//! conversations, concerns), or put a member's words in the audit log (the export's entry
//! says its format, never what it held). Text from records is escaped on the page (HTML,
//! control and bidirectional characters), since names and notes are typed by people.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::checkins::{Definitions, held_check_ins, view_check_in};
use super::conversations::{Names, read_conversations, view as conversation_view};
use super::{
    CheckInView, ConcernDetail, ConversationView, Ctx, Error, PlanView, Result, resolve_member,
    time_zone,
};
use crate::doc::{self, DocKind, MemberDoc, from_millis};
use crate::domain::agreement::compare_versions;
use crate::domain::{BirthMonth, ConversationId, MemberId, Permission, Role, RoleSet};

/// The parts of a member's record, in the order the page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeldPart {
    Profile,
    Sensitive,
    Agreement,
    Visits,
    Conversations,
    PrivateConversations,
    Plan,
    CheckIns,
    Safeguarding,
    Merges,
    Access,
}

impl HeldPart {
    pub const ALL: [HeldPart; 11] = [
        HeldPart::Profile,
        HeldPart::Sensitive,
        HeldPart::Agreement,
        HeldPart::Visits,
        HeldPart::Conversations,
        HeldPart::PrivateConversations,
        HeldPart::Plan,
        HeldPart::CheckIns,
        HeldPart::Safeguarding,
        HeldPart::Merges,
        HeldPart::Access,
    ];

    /// The name of the part in JSON and in element ids (do not rename: the README documents
    /// them).
    pub fn key(self) -> &'static str {
        match self {
            HeldPart::Profile => "profile",
            HeldPart::Sensitive => "sensitive",
            HeldPart::Agreement => "agreement",
            HeldPart::Visits => "visits",
            HeldPart::Conversations => "conversations",
            HeldPart::PrivateConversations => "private_conversations",
            HeldPart::Plan => "plan",
            HeldPart::CheckIns => "check_ins",
            HeldPart::Safeguarding => "safeguarding",
            HeldPart::Merges => "merges",
            HeldPart::Access => "access",
        }
    }

    /// The permission the core checks before it shows this part to anyone (DESIGN.md
    /// section 4): who can see it is whoever holds it.
    pub fn permission(self) -> Permission {
        match self {
            HeldPart::Profile | HeldPart::Visits => Permission::RegisterAndFind,
            HeldPart::Sensitive | HeldPart::Agreement => Permission::SeeSensitiveProfile,
            HeldPart::Conversations | HeldPart::Plan | HeldPart::CheckIns => {
                Permission::SupportRecords
            }
            HeldPart::PrivateConversations => Permission::NotesPrivateToStaff,
            HeldPart::Safeguarding => Permission::ReadSafeguarding,
            HeldPart::Merges => Permission::MergeAndResolve,
            HeldPart::Access => Permission::Reports,
        }
    }

    /// The roles that can see this part, from the permission table the core enforces.
    pub fn who_can_see(self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|r| RoleSet::new([*r]).allows(self.permission()))
            .collect()
    }

    pub fn title(self) -> &'static str {
        match self {
            HeldPart::Profile => "Your name, age and pronouns",
            HeldPart::Sensitive => "Your full name, where you live and who to call",
            HeldPart::Agreement => "The agreement you said yes to",
            HeldPart::Visits => "When you came in",
            HeldPart::Conversations => "Conversations with you",
            HeldPart::PrivateConversations => "Notes kept between staff",
            HeldPart::Plan => "Your self-care plan",
            HeldPart::CheckIns => "Your check-ins and scores",
            HeldPart::Safeguarding => "Worries about your safety",
            HeldPart::Merges => "Records joined together",
            HeldPart::Access => "Who looked at or copied your record",
        }
    }

    /// Why the organisation keeps it, in words a 13-year-old understands.
    pub fn why(self) -> &'static str {
        match self {
            HeldPart::Profile => {
                "So the desk can find you quickly, sign you in and call you by the name and pronouns you use."
            }
            HeldPart::Sensitive => {
                "So we know who you are if two people share a name, which area we reach, and who to call if you are ill or hurt at the hub."
            }
            HeldPart::Agreement => {
                "So we know you agreed to how the hub works, and what you said we may do (like take photos or text you)."
            }
            HeldPart::Visits => {
                "So we know who is in the building if there is a fire, and so we can count how many people the hub helps (counts never name you)."
            }
            HeldPart::Conversations => {
                "So the people you talk to remember what matters to you and the steps you chose, and you don't have to say it all again."
            }
            HeldPart::PrivateConversations => {
                "Sometimes staff keep a note between themselves, usually to keep you or someone else safe. The reason is written with it."
            }
            HeldPart::Plan => {
                "It is your plan, written with you, so you and the people who help you can look at it again."
            }
            HeldPart::CheckIns => {
                "So you and the hub can see how things change for you over time. The hub only ever reports totals that don't name you."
            }
            HeldPart::Safeguarding => {
                "The law asks us to write down worries about a young person's safety and what we did about them, and to keep them safe."
            }
            HeldPart::Merges => {
                "If you were signed up twice by mistake, the two records are joined so nothing about you gets lost."
            }
            HeldPart::Access => {
                "So we can check that only the right people looked at your record, and when."
            }
        }
    }
}

/// One part of the page: what it is, who can see it and why it is kept.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartInfo {
    pub part: HeldPart,
    pub title: &'static str,
    pub why: &'static str,
    /// desk, navigator, staff, manager: the roles that can see it.
    pub who_can_see: Vec<Role>,
    /// The same in words ("staff and managers").
    pub who_can_see_words: String,
}

/// Everything held about one member.
#[derive(Debug, Clone, Serialize)]
pub struct HeldRecord {
    /// The layout of this export (do not change without saying so in the README).
    pub format: u32,
    pub organisation: String,
    pub made_at: DateTime<Utc>,
    /// Who made it, by name.
    pub made_by: String,
    pub member_id: MemberId,
    pub code: String,
    pub preferred_name: String,
    pub parts: Vec<PartInfo>,
    pub profile: HeldProfile,
    pub sensitive: HeldSensitive,
    pub agreement: HeldAgreement,
    /// Newest first, every one (sign-ins undone at the desk marked `withdrawn`).
    pub visits: Vec<HeldVisit>,
    /// Newest first, the member's own and those private to staff (marked `private`).
    pub conversations: Vec<ConversationView>,
    pub plan: PlanView,
    /// Newest first.
    pub check_ins: Vec<HeldCheckIn>,
    /// Oldest first.
    pub concerns: Vec<ConcernDetail>,
    pub merges: Vec<HeldMerge>,
    /// Oldest first.
    pub access: Vec<HeldAccess>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldProfile {
    pub preferred_name: String,
    pub code: String,
    /// "YYYY-MM": only the month is kept.
    pub born: String,
    pub age: i32,
    pub pronouns: Option<String>,
    pub gender: Option<String>,
    pub heard_about: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub registered_by: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldSensitive {
    pub legal_name: Option<String>,
    pub postcode_district: Option<String>,
    pub emergency_contact: Option<HeldContact>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldContact {
    pub name: String,
    pub phone: Option<String>,
    pub relationship: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldAgreement {
    /// The version accepted when they joined, and when.
    pub at_registration: Option<HeldAcceptance>,
    /// What they said yes to (with the agreement at registration).
    pub consents: Vec<String>,
    /// Newer versions accepted since, oldest first.
    pub accepted: Vec<HeldAcceptance>,
    /// The version in use now, if the organisation set its words in hubdesk.
    pub in_force: Option<String>,
    /// The version in use is one they have not accepted yet.
    pub due: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldAcceptance {
    pub version: String,
    pub at: DateTime<Utc>,
    /// Who recorded it (None at registration: the record's registration says who).
    pub recorded_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldVisit {
    /// "YYYY-MM-DD", the hub's day.
    pub date: Option<String>,
    pub hub: Option<String>,
    pub signed_in_at: DateTime<Utc>,
    pub signed_in_by: String,
    pub signed_out_at: Option<DateTime<Utc>>,
    /// Still in when the day was closed.
    pub signed_out_at_close: bool,
    /// What they came for, by name.
    pub activities: Vec<String>,
    /// Signed in by mistake and undone at the desk: it counts nowhere.
    pub withdrawn: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldCheckIn {
    #[serde(flatten)]
    pub check_in: CheckInView,
    /// One answer per question, in the instrument's order (null where left blank).
    pub answers: Vec<Option<i64>>,
    /// Goals in the member's own words, with their scores.
    pub goals: Vec<HeldGoal>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldGoal {
    pub goal: String,
    pub score: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldMerge {
    /// The code of the record joined into this one.
    pub code: String,
    pub registered_at: Option<DateTime<Utc>>,
    pub merged_at: Option<DateTime<Utc>>,
    pub merged_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeldAccess {
    pub at: DateTime<Utc>,
    /// Who, by name (None for hubdesk itself or someone no longer on this laptop).
    pub who: Option<String>,
    /// The audit log's action ("member.viewed").
    pub action: String,
    /// What they did, in words.
    pub what: String,
    pub detail: Option<String>,
}

/// The audit action of an export of everything held about a member.
pub const MEMBER_EXPORTED_ACTION: &str = "member.exported";

/// Everything held about the member, for the "What we hold" screen. Staff and managers.
/// Audited as a view of the member's record.
pub fn what_we_hold(ctx: &Ctx<'_>, id_or_code: &str) -> Result<HeldRecord> {
    let held = gather(ctx, id_or_code)?;
    let mut entry = ctx.audit("member.viewed", Some(held.member_id.0));
    entry.detail = Some("what we hold".into());
    ctx.store.append_audit(&[entry])?;
    Ok(held)
}

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldFormat {
    Html,
    Json,
}

impl HeldFormat {
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Ok(HeldFormat::Html),
            "json" => Ok(HeldFormat::Json),
            other => Err(crate::domain::ValidationError::new(
                "format",
                format!(
                    "\"{}\" is not a format for this export; use html or json",
                    crate::domain::age::truncate(other, 20)
                ),
            )
            .into()),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            HeldFormat::Html => "html",
            HeldFormat::Json => "json",
        }
    }
}

/// The name a saved export is offered under: the member's code, never their name.
pub fn held_file_name(code: &str, format: HeldFormat, at: DateTime<Utc>) -> String {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "what-we-hold-{code}-{}.{}",
        at.format("%Y-%m-%d"),
        format.extension()
    )
}

/// The member's code, for naming the file before it is made (checks the permission first,
/// so a refusal comes before any dialog).
pub fn check_member_export(ctx: &Ctx<'_>, id_or_code: &str) -> Result<String> {
    ctx.require(Permission::SubjectRights)?;
    Ok(resolve_member(ctx, id_or_code)?.code)
}

/// The subject access export: everything held about the member as one printable page or as
/// JSON, handed to `save`. Audited as `member.exported` (its detail: the format) once `save`
/// says it is saved; `Ok(None)` from `save` (a cancelled dialog) logs nothing.
pub fn export_member<T, E: From<Error>>(
    ctx: &Ctx<'_>,
    id_or_code: &str,
    format: HeldFormat,
    save: impl FnOnce(&[u8]) -> std::result::Result<Option<T>, E>,
) -> std::result::Result<Option<T>, E> {
    let held = gather(ctx, id_or_code)?;
    let bytes = match format {
        HeldFormat::Html => held_page(&held, &hub_tz(ctx)).into_bytes(),
        HeldFormat::Json => serde_json::to_vec_pretty(&held)
            .map_err(|e| Error::Storage(format!("The export could not be written: {e}.")))?,
    };
    let Some(saved) = save(&bytes)? else {
        return Ok(None);
    };
    let mut entry = ctx.audit(MEMBER_EXPORTED_ACTION, Some(held.member_id.0));
    entry.detail = Some(format!("format: {}", format.extension()));
    ctx.store.append_audit(&[entry]).map_err(Error::from)?;
    Ok(Some(saved))
}

/// Records that the "What we hold" screen was printed (the print dialog said it went): an
/// export like the others, audited as `member.exported` with the format `print`.
pub fn record_member_printed(ctx: &Ctx<'_>, id_or_code: &str) -> Result<()> {
    ctx.require(Permission::SubjectRights)?;
    let row = resolve_member(ctx, id_or_code)?;
    let mut entry = ctx.audit(MEMBER_EXPORTED_ACTION, Some(row.id));
    entry.detail = Some("format: print".into());
    ctx.store.append_audit(&[entry])?;
    Ok(())
}

fn hub_tz(ctx: &Ctx<'_>) -> chrono_tz::Tz {
    ctx.hub()
        .map(|h| time_zone(&h.time_zone))
        .unwrap_or(chrono_tz::Europe::London)
}

/// Reads everything held about the member, from every record they are made of.
fn gather(ctx: &Ctx<'_>, id_or_code: &str) -> Result<HeldRecord> {
    let user = ctx.require(Permission::SubjectRights)?;
    let row = resolve_member(ctx, id_or_code)?;
    let hub = ctx.hub()?;
    let today = ctx.today_at(&hub);
    let names = Names::read(ctx)?;
    let organisation = ctx.store.org()?.map(|(_, n, _)| n).unwrap_or_default();
    let records_ids = ctx.store.records_of(row.id)?;
    let mut records: Vec<(uuid::Uuid, MemberDoc)> = Vec::new();
    let mut conversations: Vec<(ConversationId, doc::ConversationDoc)> = Vec::new();
    for id in &records_ids {
        let read = ctx.store.with_doc(*id, |am| {
            let member: MemberDoc = doc::read(am, DocKind::Member)?;
            let talks = read_conversations(am)?;
            Ok((member, talks))
        })?;
        if let Some((member, talks)) = read {
            for (key, c) in talks {
                if let Ok(cid) = key.parse::<ConversationId>() {
                    conversations.push((cid, c));
                }
            }
            records.push((*id, member));
        }
    }
    let survivor = records
        .iter()
        .find(|(id, _)| *id == row.id)
        .map(|(_, m)| m.clone())
        .ok_or_else(|| Error::NotFound("That member's record is not on this laptop.".into()))?;

    let profile = HeldProfile {
        preferred_name: row.preferred_name.clone(),
        code: row.code.clone(),
        born: row.born.clone(),
        age: BirthMonth::parse(&row.born)
            .map(|b| b.age_on(today))
            .unwrap_or(0),
        pronouns: row.pronouns.clone(),
        gender: row.gender.clone(),
        heard_about: row.heard_about.clone(),
        registered_at: row.registered_at,
        registered_by: names.user(&survivor.registered_by),
    };
    let emergency = records
        .iter()
        .find_map(|(_, m)| m.profile.emergency_contact.clone());
    let sensitive = HeldSensitive {
        legal_name: row.legal_name.clone(),
        postcode_district: row.postcode_district.clone(),
        emergency_contact: emergency.map(|e| HeldContact {
            name: e.name,
            phone: e.phone,
            relationship: e.relationship,
        }),
    };
    let agreement = agreement_of(ctx, &records, &names)?;
    let visits = visits_of(ctx, &records, &names)?;

    conversations.sort_by(|(ia, a), (ib, b)| b.at.cmp(&a.at).then_with(|| ib.cmp(ia)));
    conversations.dedup_by_key(|(id, _)| *id);
    let conversations: Vec<ConversationView> = conversations
        .iter()
        .map(|(id, c)| conversation_view(&names, *id, c, true))
        .collect();

    let plan = super::plans::read_view(ctx, &row, None)?;

    let defs = Definitions::read(ctx)?;
    let check_ins = held_check_ins(ctx, row.id)?
        .iter()
        .rev()
        .map(|(id, c)| HeldCheckIn {
            check_in: view_check_in(&names, &defs, *id, c),
            answers: c.answers.clone(),
            goals: c
                .goals
                .iter()
                .map(|g| HeldGoal {
                    goal: g.goal.clone(),
                    score: g.score,
                })
                .collect(),
        })
        .collect();

    let mut concerns = Vec::new();
    let mut concern_ids = Vec::new();
    for c in ctx
        .store
        .concerns(false)?
        .into_iter()
        .filter(|c| c.person_id == row.id || records_ids.contains(&c.record_id))
    {
        let sg = super::safeguarding::read_doc(ctx, c.record_id)?;
        concern_ids.push(c.id);
        concerns.push(super::safeguarding::detail(ctx, &c, &sg)?);
    }
    concerns.sort_by(|a, b| a.raised_at.cmp(&b.raised_at));

    let merges = merges_of(ctx, row.id, &records, &names)?;

    let mut access = Vec::new();
    for subject in records_ids.iter().chain(concern_ids.iter()) {
        for a in ctx.store.audit_of(*subject)? {
            access.push(HeldAccess {
                at: a.at,
                who: a.user.map(|u| names.user(&u.to_string())),
                what: action_in_words(&a.action).to_string(),
                action: a.action,
                detail: a.detail,
            });
        }
    }
    access.sort_by(|a, b| a.at.cmp(&b.at));

    Ok(HeldRecord {
        format: 1,
        organisation,
        made_at: ctx.now(),
        made_by: user.name().to_string(),
        member_id: MemberId(row.id),
        code: row.code.clone(),
        preferred_name: row.preferred_name.clone(),
        parts: HeldPart::ALL.into_iter().map(part_info).collect(),
        profile,
        sensitive,
        agreement,
        visits,
        conversations,
        plan,
        check_ins,
        concerns,
        merges,
        access,
    })
}

fn part_info(part: HeldPart) -> PartInfo {
    let who = part.who_can_see();
    PartInfo {
        part,
        title: part.title(),
        why: part.why(),
        who_can_see_words: roles_in_words(&who),
        who_can_see: who,
    }
}

/// "staff and managers"; every role: "everyone who works at the hub with hubdesk".
fn roles_in_words(roles: &[Role]) -> String {
    if roles.len() == Role::ALL.len() {
        return "everyone at the hub who uses hubdesk (the front desk, peer navigators, staff and managers)".into();
    }
    let words: Vec<&str> = roles
        .iter()
        .map(|r| match r {
            Role::Desk => "the front desk",
            Role::Navigator => "peer navigators",
            Role::Staff => "staff",
            Role::Manager => "managers",
        })
        .collect();
    match words.as_slice() {
        [] => "nobody".into(),
        [one] => format!("{one} only"),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn action_in_words(action: &str) -> &'static str {
    match action {
        "member.register" => "signed you up",
        "member.edit" => "changed your details",
        "member.view" | "member.viewed" => "looked at your record",
        "member.conversations.view" | "conversation.viewed" => "read your conversations",
        "member.plan.view" | "plan.viewed" => "read your self-care plan",
        "member.check_ins.view" => "looked at your check-ins",
        "conversation.add" => "wrote down a conversation with you",
        "member.merge" => "joined two records of yours",
        "member.not_duplicates" => "said you are not someone else with a similar name",
        "member.exported" => "made a copy of everything we hold about you",
        "member.withdraw_sign_in" | "visit.withdraw" => "undid a sign-in made by mistake",
        "concern.view" | "concern.viewed" => "read a worry about your safety",
        "concern.raise" => "wrote down a worry about your safety",
        "concern.act" => "wrote down what was done about a worry",
        "concern.close" => "closed a worry about your safety",
        _ => "did something with your record",
    }
}

fn agreement_of(
    ctx: &Ctx<'_>,
    records: &[(uuid::Uuid, MemberDoc)],
    names: &Names,
) -> Result<HeldAgreement> {
    let registration = records.iter().find_map(|(_, m)| m.agreement.clone());
    let mut accepted: Vec<HeldAcceptance> = records
        .iter()
        .flat_map(|(_, m)| m.accepted_agreements.values())
        .map(|a| HeldAcceptance {
            version: a.version.clone(),
            at: from_millis(a.at),
            recorded_by: Some(names.user(&a.by)),
        })
        .collect();
    accepted.sort_by(|a, b| a.at.cmp(&b.at));
    let texts = ctx.store.agreement_texts()?;
    let in_force = super::agreements::current_version(ctx, &texts)?.filter(|v| {
        texts
            .iter()
            .any(|t| compare_versions(&t.version, v).is_eq())
    });
    let due = match &in_force {
        Some(_) => {
            // The same question a sign-in asks, of the surviving record.
            let person = records.first().map(|(id, _)| *id);
            match person {
                Some(p) => ctx
                    .store
                    .with_doc(p, |am| Ok(super::agreements::due_on_sign_in(ctx, am, p)))?
                    .transpose()?
                    .flatten()
                    .is_some(),
                None => false,
            }
        }
        None => false,
    };
    Ok(HeldAgreement {
        at_registration: registration.as_ref().map(|a| HeldAcceptance {
            version: a.version.clone(),
            at: from_millis(a.accepted_at),
            recorded_by: None,
        }),
        consents: registration.map(|a| a.consents).unwrap_or_default(),
        accepted,
        in_force,
        due,
    })
}

fn visits_of(
    ctx: &Ctx<'_>,
    records: &[(uuid::Uuid, MemberDoc)],
    names: &Names,
) -> Result<Vec<HeldVisit>> {
    let activities: BTreeMap<String, String> = ctx
        .store
        .activities()?
        .into_iter()
        .map(|a| (a.id.to_string(), a.name))
        .collect();
    let mut days: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut out = Vec::new();
    for (_, m) in records {
        for v in m.visits.values() {
            if !days.contains_key(&v.day) {
                let date = match v.day.parse::<uuid::Uuid>() {
                    Ok(id) => ctx.store.day(id)?.map(|d| d.date),
                    Err(_) => None,
                };
                days.insert(v.day.clone(), date);
            }
            out.push(HeldVisit {
                date: days.get(&v.day).cloned().flatten(),
                hub: names.hub(&v.hub),
                signed_in_at: from_millis(v.signed_in_at),
                signed_in_by: names.user(&v.signed_in_by),
                signed_out_at: v.signed_out_at.map(from_millis),
                signed_out_at_close: v.signed_out_at_close,
                activities: v
                    .activities
                    .iter()
                    .map(|a| {
                        activities
                            .get(a)
                            .cloned()
                            .unwrap_or_else(|| "an activity no longer listed".into())
                    })
                    .collect(),
                withdrawn: !v.counts(),
            });
        }
    }
    out.sort_by(|a, b| b.signed_in_at.cmp(&a.signed_in_at));
    Ok(out)
}

/// The records joined into the person (a merge), with when and by whom where the
/// organisation's document says.
fn merges_of(
    ctx: &Ctx<'_>,
    person: uuid::Uuid,
    records: &[(uuid::Uuid, MemberDoc)],
    names: &Names,
) -> Result<Vec<HeldMerge>> {
    let org_id = ctx.device()?.org_id;
    let ids: Vec<uuid::Uuid> = records.iter().map(|(id, _)| *id).collect();
    let stamps: BTreeMap<String, doc::StampDoc> = ctx
        .store
        .with_doc(org_id, |am| {
            let mut found = BTreeMap::new();
            for a in &ids {
                for b in &ids {
                    if a < b {
                        let key = format!("{a}:{b}");
                        if let Some(s) = doc::get_entry::<doc::StampDoc>(am, "same_person", &key)? {
                            found.insert(key, s);
                        }
                    }
                }
            }
            Ok(found)
        })?
        .unwrap_or_default();
    let mut out = Vec::new();
    for (id, m) in records {
        if *id != person {
            let stamp = stamps
                .iter()
                .filter(|(k, _)| k.contains(&id.to_string()))
                .map(|(_, s)| s)
                .min_by_key(|s| s.at);
            out.push(HeldMerge {
                code: m.code.clone(),
                registered_at: Some(from_millis(m.registered_at)),
                merged_at: stamp.map(|s| from_millis(s.at)),
                merged_by: stamp.map(|s| names.user(&s.by)),
            });
        }
        // Joined by an older hubdesk, which kept the code of the record merged away.
        for old in m.merged.values() {
            out.push(HeldMerge {
                code: old.code.clone(),
                registered_at: None,
                merged_at: Some(from_millis(old.at)),
                merged_by: Some(names.user(&old.by)),
            });
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The printable page.

/// Text for the page: HTML escaped, bidirectional controls dropped (a name cannot reorder
/// what follows it), other control characters as spaces; line breaks kept (the page shows
/// them), and tabs.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if crate::domain::member::is_bidi_control(c) => {}
            // Zero-width and other format characters could hide words or join them.
            '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text people typed, isolated so its direction cannot spill into the words around it.
fn user_text(s: &str) -> String {
    format!("<bdi>{}</bdi>", esc(s))
}

const PAGE_CSS: &str = r#"
body { margin: 0; padding: 1.5rem; color: #111; background: #fff; font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 46rem; margin: 0 auto; }
h1 { font-size: 1.8rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .4rem; border-bottom: 2px solid #111; }
h3 { font-size: 1.05rem; margin: 1rem 0 .25rem; }
.held-about { margin: 0 0 1rem; color: #333; }
.held-intro { border: 2px solid #111; padding: .6rem .9rem; margin: 1rem 0; }
.held-meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .25rem 0 .75rem; }
.held-meta dt { font-weight: bold; }
.held-meta dd { margin: 0; }
.held-words { white-space: pre-wrap; margin: .25rem 0 .5rem; }
.held-empty { font-style: italic; color: #444; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; margin: .5rem 0; }
caption { text-align: left; font-weight: bold; padding: .25rem 0; }
th, td { border: 1px solid #777; padding: .2rem .4rem; vertical-align: top; text-align: left; }
thead th { background: #e5e7eb; }
.held-item { border-left: 4px solid #555; padding: .1rem .75rem; margin: .75rem 0; break-inside: avoid; page-break-inside: avoid; }
.held-private { border-left-color: #7f1d1d; }
@page { size: A4 portrait; margin: 14mm 12mm; }
@media print {
  body { padding: 0; font-size: 11pt; }
  main { max-width: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  thead th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

/// Everything held, as one printable page: inline CSS, no script, nothing fetched.
pub fn held_page(h: &HeldRecord, tz: &chrono_tz::Tz) -> String {
    let date = |t: DateTime<Utc>| t.with_timezone(tz).format("%-d %B %Y").to_string();
    let when = |t: DateTime<Utc>| t.with_timezone(tz).format("%-d %B %Y, %H:%M").to_string();
    let opt = |v: &Option<String>| match v {
        Some(v) if !v.trim().is_empty() => user_text(v),
        _ => "<span class=\"held-empty\">not given</span>".into(),
    };
    let mut b = String::new();
    let _ = write!(
        b,
        "<main><h1>What we hold about you</h1><p class=\"held-about\">{} ({}) &middot; {} &middot; made on {} by {}</p>",
        user_text(&h.preferred_name),
        esc(&h.code),
        user_text(&h.organisation),
        date(h.made_at),
        user_text(&h.made_by),
    );
    b.push_str(
        "<div class=\"held-intro\"><p>This is everything the hub keeps about you in hubdesk, the program the front desk uses. \
         Each part says what we keep, who at the hub can see it, and why we keep it.</p>\
         <p>If something is wrong, tell a member of staff and we will put it right. You can also ask us to delete your record. \
         Nobody outside the hub sees any of this, and reports about the hub only ever show numbers that don't name you.</p></div>",
    );
    b.push_str("<nav aria-label=\"Parts\"><h2 id=\"held-parts\">The parts</h2><ol>");
    for p in &h.parts {
        let _ = write!(
            b,
            "<li><a href=\"#held-{}\">{}</a></li>",
            p.part.key(),
            esc(p.title)
        );
    }
    b.push_str("</ol></nav>");
    for p in &h.parts {
        let _ = write!(
            b,
            "<section aria-labelledby=\"held-{key}\"><h2 id=\"held-{key}\">{}</h2><dl class=\"held-meta\"><dt>Who can see it</dt><dd>{}</dd><dt>Why we keep it</dt><dd>{}</dd></dl>",
            esc(p.title),
            esc(&capitalise(&p.who_can_see_words)),
            esc(p.why),
            key = p.part.key(),
        );
        section_body(&mut b, h, p.part, &date, &when, &opt);
        b.push_str("</section>");
    }
    b.push_str("</main>");
    let mut out = String::with_capacity(b.len() + PAGE_CSS.len() + 400);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>What we hold about {}</title><style>{PAGE_CSS}</style></head><body>{b}</body></html>\n",
        esc(&h.preferred_name)
    );
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "1 visit", "3 visits".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn empty(b: &mut String, words: &str) {
    let _ = write!(b, "<p class=\"held-empty\">{}</p>", esc(words));
}

fn section_body(
    b: &mut String,
    h: &HeldRecord,
    part: HeldPart,
    date: &dyn Fn(DateTime<Utc>) -> String,
    when: &dyn Fn(DateTime<Utc>) -> String,
    opt: &dyn Fn(&Option<String>) -> String,
) {
    match part {
        HeldPart::Profile => {
            let p = &h.profile;
            let _ = write!(
                b,
                "<dl class=\"held-meta\"><dt>Name you use</dt><dd>{}</dd><dt>Member code</dt><dd>{}</dd><dt>Born</dt><dd>{} (we keep only the month; age {})</dd><dt>Pronouns</dt><dd>{}</dd><dt>Gender</dt><dd>{}</dd><dt>How you heard about the hub</dt><dd>{}</dd><dt>Joined</dt><dd>{} (signed up by {})</dd></dl>",
                user_text(&p.preferred_name),
                esc(&p.code),
                esc(&p.born),
                p.age,
                opt(&p.pronouns),
                opt(&p.gender),
                opt(&p.heard_about),
                date(p.registered_at),
                user_text(&p.registered_by),
            );
        }
        HeldPart::Sensitive => {
            let s = &h.sensitive;
            let contact = match &s.emergency_contact {
                Some(c) => format!(
                    "{}{}{}",
                    user_text(&c.name),
                    c.relationship
                        .as_ref()
                        .map(|r| format!(" ({})", user_text(r)))
                        .unwrap_or_default(),
                    c.phone
                        .as_ref()
                        .map(|p| format!(", {}", user_text(p)))
                        .unwrap_or_default()
                ),
                None => "<span class=\"held-empty\">not given</span>".into(),
            };
            let _ = write!(
                b,
                "<dl class=\"held-meta\"><dt>Full (legal) name</dt><dd>{}</dd><dt>Postcode area</dt><dd>{} (only the first half of a postcode)</dd><dt>Who to call in an emergency</dt><dd>{contact}</dd></dl>",
                opt(&s.legal_name),
                opt(&s.postcode_district),
            );
        }
        HeldPart::Agreement => {
            let a = &h.agreement;
            match &a.at_registration {
                Some(r) => {
                    let _ = write!(
                        b,
                        "<p>When you joined on {}, you said yes to version {} of the member agreement.</p>",
                        date(r.at),
                        esc(&r.version)
                    );
                }
                None => b.push_str("<p>When you joined, we did not record that you said yes to the member agreement.</p>"),
            }
            for x in &a.accepted {
                let _ = write!(
                    b,
                    "<p>On {} you said yes to version {} (written down by {}).</p>",
                    date(x.at),
                    esc(&x.version),
                    user_text(x.recorded_by.as_deref().unwrap_or("someone"))
                );
            }
            if a.consents.is_empty() {
                empty(
                    b,
                    "You have not said yes to anything extra (like photos or texts).",
                );
            } else {
                b.push_str("<p>You said we may:</p><ul>");
                for c in &a.consents {
                    let _ = write!(b, "<li>{}</li>", user_text(&consent_in_words(c)));
                }
                b.push_str("</ul>");
            }
            if let (Some(v), true) = (&a.in_force, a.due) {
                let _ = write!(
                    b,
                    "<p>The agreement changed to version {}. We will ask you about it next time you come in.</p>",
                    esc(v)
                );
            }
        }
        HeldPart::Visits => {
            if h.visits.is_empty() {
                empty(b, "No visits yet.");
                return;
            }
            let _ = write!(
                b,
                "<table><caption>{}, newest first</caption><thead><tr><th scope=\"col\">Day</th><th scope=\"col\">Hub</th><th scope=\"col\">In</th><th scope=\"col\">Out</th><th scope=\"col\">Came for</th><th scope=\"col\">Signed in by</th></tr></thead><tbody>",
                count(h.visits.len(), "visit", "visits")
            );
            for v in &h.visits {
                let out = match (v.signed_out_at, v.signed_out_at_close) {
                    (_, true) => "when the day closed".to_string(),
                    (Some(t), false) => when(t),
                    (None, false) => "still in".to_string(),
                };
                let day = v.date.clone().unwrap_or_else(|| date(v.signed_in_at));
                let _ = write!(
                    b,
                    "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&day),
                    if v.withdrawn {
                        " (signed in by mistake and undone: it doesn't count)"
                    } else {
                        ""
                    },
                    user_text(v.hub.as_deref().unwrap_or("")),
                    esc(&when(v.signed_in_at)),
                    esc(&out),
                    user_text(&v.activities.join(", ")),
                    user_text(&v.signed_in_by),
                );
            }
            b.push_str("</tbody></table>");
        }
        HeldPart::Conversations | HeldPart::PrivateConversations => {
            let private = part == HeldPart::PrivateConversations;
            let list: Vec<&ConversationView> = h
                .conversations
                .iter()
                .filter(|c| c.private == private)
                .collect();
            if list.is_empty() {
                empty(
                    b,
                    if private {
                        "None."
                    } else {
                        "No conversations yet."
                    },
                );
                return;
            }
            for c in list {
                let _ = write!(
                    b,
                    "<article class=\"held-item{}\"><h3>{} with {}{}</h3>",
                    if private { " held-private" } else { "" },
                    esc(&date(c.at)),
                    user_text(&c.recorded_by),
                    c.hub
                        .as_ref()
                        .map(|x| format!(" at {}", user_text(x)))
                        .unwrap_or_default()
                );
                if let Some(w) = &c.words {
                    let fields = [
                        ("Why it is kept between staff", &w.private_reason),
                        ("What matters to you", &Some(w.what_matters.clone())),
                        ("Your strengths", &w.strengths),
                        ("People and things that help", &w.resources),
                        ("Choices you were thinking about", &w.choices),
                        ("Next steps you chose", &w.next_steps),
                        ("Follow up on", &w.follow_up),
                    ];
                    for (label, value) in fields {
                        if let Some(v) = value.as_ref().filter(|v| !v.trim().is_empty()) {
                            let _ = write!(
                                b,
                                "<h4>{}</h4><div class=\"held-words\">{}</div>",
                                esc(label),
                                user_text(v)
                            );
                        }
                    }
                }
                b.push_str("</article>");
            }
        }
        HeldPart::Plan => {
            let p = &h.plan;
            if !p.started && p.merged.is_empty() {
                empty(b, "No self-care plan yet.");
                return;
            }
            for s in &p.sections {
                let _ = write!(b, "<h3>{}</h3>", esc(s.heading));
                if s.text.trim().is_empty() {
                    empty(b, "Nothing written yet.");
                } else {
                    let _ = write!(b, "<div class=\"held-words\">{}</div>", user_text(&s.text));
                }
            }
            b.push_str("<h3>Steps</h3>");
            if p.steps.is_empty() {
                empty(b, "No steps yet.");
            } else {
                b.push_str("<ul>");
                for s in &p.steps {
                    let _ = write!(
                        b,
                        "<li>{}: {}</li>",
                        esc(&s.status_label),
                        user_text(&s.text)
                    );
                }
                b.push_str("</ul>");
            }
            for m in &p.merged {
                b.push_str("<h3>Also written with you on a record joined to this one</h3>");
                for s in m.sections.iter().filter(|s| !s.text.trim().is_empty()) {
                    let _ = write!(
                        b,
                        "<h4>{}</h4><div class=\"held-words\">{}</div>",
                        esc(s.heading),
                        user_text(&s.text)
                    );
                }
                if !m.steps.is_empty() {
                    b.push_str("<ul>");
                    for s in &m.steps {
                        let _ = write!(
                            b,
                            "<li>{}: {}</li>",
                            esc(&s.status_label),
                            user_text(&s.text)
                        );
                    }
                    b.push_str("</ul>");
                }
            }
        }
        HeldPart::CheckIns => {
            if h.check_ins.is_empty() {
                empty(b, "No check-ins yet.");
                return;
            }
            let _ = write!(
                b,
                "<table><caption>{}, newest first</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Questions</th><th scope=\"col\">Scores</th><th scope=\"col\">With</th></tr></thead><tbody>",
                count(h.check_ins.len(), "check-in", "check-ins")
            );
            for c in &h.check_ins {
                let v = &c.check_in;
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&when(v.at)),
                    user_text(&v.instrument_name),
                    if v.self_filled {
                        " (you filled it in)"
                    } else {
                        ""
                    },
                    user_text(&v.summary),
                    user_text(&v.recorded_by),
                );
            }
            b.push_str("</tbody></table>");
        }
        HeldPart::Safeguarding => {
            if h.concerns.is_empty() {
                empty(b, "None.");
                return;
            }
            for c in &h.concerns {
                let _ = write!(
                    b,
                    "<article class=\"held-item\"><h3>Written down on {} by {} ({})</h3><dl class=\"held-meta\"><dt>When it happened</dt><dd>{}</dd><dt>Who was there</dt><dd>{}</dd></dl><h4>What was said</h4><div class=\"held-words\">{}</div><h4>What was done straight away</h4><div class=\"held-words\">{}</div>",
                    esc(&when(c.raised_at)),
                    user_text(&c.raised_by),
                    if c.open { "still open" } else { "closed" },
                    esc(&when(c.happened_at)),
                    opt(&c.present),
                    user_text(&c.words),
                    user_text(&c.immediate_action),
                );
                for a in &c.actions {
                    let _ = write!(
                        b,
                        "<h4>{} by {}</h4><div class=\"held-words\">{}</div>",
                        esc(&when(a.at)),
                        user_text(&a.by),
                        user_text(&a.text)
                    );
                    if let Some(d) = &a.decision {
                        let _ = write!(
                            b,
                            "<p>Decided: {}{}</p>",
                            user_text(d),
                            a.reason
                                .as_ref()
                                .map(|r| format!(", because {}", user_text(r)))
                                .unwrap_or_default()
                        );
                    }
                }
                for x in &c.closes {
                    let _ = write!(
                        b,
                        "<p>Closed on {} by {}: {}</p>",
                        esc(&date(x.at)),
                        user_text(&x.by),
                        user_text(&x.outcome)
                    );
                }
                b.push_str("</article>");
            }
        }
        HeldPart::Merges => {
            if h.merges.is_empty() {
                empty(b, "None: you have one record.");
                return;
            }
            b.push_str("<ul>");
            for m in &h.merges {
                let _ = write!(
                    b,
                    "<li>The record with code {}{}{}</li>",
                    esc(&m.code),
                    m.registered_at
                        .map(|t| format!(", made on {}", date(t)))
                        .unwrap_or_default(),
                    match (&m.merged_at, &m.merged_by) {
                        (Some(t), Some(by)) =>
                            format!(", joined on {} by {}", date(*t), user_text(by)),
                        _ => String::new(),
                    }
                );
            }
            b.push_str("</ul>");
        }
        HeldPart::Access => {
            if h.access.is_empty() {
                empty(b, "Nobody yet.");
                return;
            }
            let _ = write!(
                b,
                "<table><caption>{}, oldest first</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Who</th><th scope=\"col\">What they did</th></tr></thead><tbody>",
                count(h.access.len(), "time", "times")
            );
            for a in &h.access {
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                    esc(&when(a.at)),
                    user_text(a.who.as_deref().unwrap_or("hubdesk")),
                    esc(&a.what),
                    a.detail
                        .as_ref()
                        .map(|d| format!(" ({})", user_text(d)))
                        .unwrap_or_default()
                );
            }
            b.push_str("</tbody></table>");
        }
    }
}

/// A consent's name as a sentence ("photos" reads "take photos of you at the hub and use
/// them"); one the organisation added reads as its name.
fn consent_in_words(c: &str) -> String {
    match c {
        "store-my-details" => "keep your details".into(),
        "contact-me-by-text" => "send you text messages".into(),
        "contact-me-by-email" => "send you emails".into(),
        "photos" => "take photos of you at the hub and use them".into(),
        "share-anonymous-stories" => "share your story without your name".into(),
        other => other.replace('-', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_says_who_can_see_it_from_the_roles_table() {
        for part in HeldPart::ALL {
            let who = part.who_can_see();
            assert!(!who.is_empty(), "{part:?}");
            for r in Role::ALL {
                assert_eq!(
                    who.contains(&r),
                    RoleSet::new([r]).allows(part.permission()),
                    "{part:?} {r}"
                );
            }
        }
        assert_eq!(
            roles_in_words(&HeldPart::Safeguarding.who_can_see()),
            "staff and managers"
        );
        assert_eq!(
            roles_in_words(&HeldPart::Access.who_can_see()),
            "managers only"
        );
    }

    #[test]
    fn page_text_is_escaped_and_bidi_and_control_characters_cannot_change_it() {
        let e = esc(
            "<script>alert('x')</script> & \u{202e}evil\u{202c} bell\u{7} zero\u{200b}width\nnext",
        );
        assert!(!e.contains('<') && !e.contains('\u{202e}') && !e.contains('\u{7}'));
        assert!(!e.contains('\u{200b}'));
        assert!(e.contains("&lt;script&gt;") && e.contains("&#39;x&#39;") && e.contains('\n'));
    }

    #[test]
    fn file_names_carry_the_code_never_anything_typed_beyond_it() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            held_file_name("K7M-42QX/../x", HeldFormat::Json, at),
            "what-we-hold-K7M-42QXx-2026-11-27.json"
        );
    }
}
