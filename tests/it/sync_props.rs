//! Property: whatever three laptops do apart, however their syncs are cut short, once all
//! have synced they show the same thing, and each one's tables equal a rebuild. With rounds
//! of a record or three, also: every complete session leaves the pair holding the same
//! records, and no checkpoint ever claims a change that has not arrived.

use std::collections::VecDeque;

use hubdesk::service::{self, Ctx};
use hubdesk::sync::session::Options;
use proptest::prelude::*;

use crate::support::{Hub, MANAGER, MANAGER_PIN};
use crate::sync::{assert_converged, laptops, sessions, sync_pair};
use crate::sync_rounds::{assert_checkpoint_holds, assert_same_records, observed_session, tiny};

#[derive(Debug, Clone)]
enum Op {
    Register {
        laptop: usize,
        name: usize,
    },
    SignIn {
        laptop: usize,
        member: usize,
    },
    SignOut {
        laptop: usize,
        member: usize,
    },
    /// The desk undoes a sign-in (the wrong person): the visit is withdrawn.
    UndoSignIn {
        laptop: usize,
        member: usize,
    },
    /// The desk undoes a sign-out: the same visit is open again.
    UndoSignOut {
        laptop: usize,
        member: usize,
    },
    /// The desk closes the day and opens it again (a reopened visit meets a close).
    CloseAndOpen {
        laptop: usize,
    },
    Edit {
        laptop: usize,
        member: usize,
        pronouns: usize,
    },
    Headcount {
        laptop: usize,
    },
    /// Staff say two members are one person (a merge)...
    Merge {
        laptop: usize,
        a: usize,
        b: usize,
    },
    /// ...or two different people.
    NotDuplicates {
        laptop: usize,
        a: usize,
        b: usize,
    },
    /// A manager opens a member's page (an entry in that laptop's audit log).
    View {
        laptop: usize,
        member: usize,
    },
    /// The manager sets their PIN again (a new hash and a new key pair, the same PIN, so later
    /// unlocks work), or makes a new recovery key: the keys every laptop seals its store key
    /// to, changed on laptops apart.
    NewKeys {
        laptop: usize,
        recovery: bool,
    },
    /// A manager renames the hub and changes a setting (the organisation's own fields).
    OrgEdit {
        laptop: usize,
        n: u32,
    },
    /// Time passes on one laptop (each keeps its own clock).
    Tick {
        laptop: usize,
        minutes: i64,
    },
    /// Staff type in a paper register on one laptop: close today, open a past day, sign a
    /// member in to it, close it, open today again.
    BackEntry {
        laptop: usize,
        days_ago: i64,
        member: usize,
    },
    /// A laptop's idle step folds some records' chunks into snapshots (storage only: what
    /// sync compares and sends must not change).
    Idle {
        laptop: usize,
        limit: usize,
    },
    /// Laptop 0 removes laptop 2, which is not told and keeps working (see `revocation`).
    Revoke,
    /// A navigator's conversation with a member, maybe private to staff, maybe with a
    /// follow-up some days on (see `converse`).
    Converse {
        laptop: usize,
        member: usize,
        private: bool,
        follow_up_days: Option<i64>,
    },
    /// An outcome check-in with a member, or a scale of the organisation's own added (with a
    /// range that differs by `value`, so laptops apart add different versions; see
    /// `check_in`).
    CheckIn {
        laptop: usize,
        member: usize,
        kind: u8,
        value: i32,
    },
    /// The manager starts or ends their shift (a shift started on two laptops apart is two
    /// shifts; closing the day on another laptop ends one it never saw).
    Shift {
        laptop: usize,
        start: bool,
    },
    /// Staff record a course and a spell as a volunteer (the organisation's document).
    Training {
        laptop: usize,
        n: u32,
    },
    /// A parent signs in, maybe told about the parent network then or later.
    Parent {
        laptop: usize,
        name: usize,
        signposted: bool,
    },
    /// A navigator adds a word somewhere in one section of a member's self-care plan (from
    /// the version they read: the section as this laptop holds it).
    PlanWords {
        laptop: usize,
        member: usize,
        section: usize,
        /// Where in the section, as a share of its length (0-100).
        at: usize,
    },
    /// A step added to a member's plan, or the first step's status changed.
    PlanStep {
        laptop: usize,
        member: usize,
        status: usize,
    },
    /// Someone raises a safeguarding concern about a member, or staff act on or close the
    /// laptop's `concern`-th concern (see `safeguard`).
    Safeguard {
        laptop: usize,
        member: usize,
        step: usize,
        concern: usize,
    },
    /// Staff ask for a member to be erased and a manager confirms it there and then (a legal
    /// hold or an open concern refuses it); first, requests waiting again because a record
    /// was joined apart to an erased one are confirmed.
    Erase {
        laptop: usize,
        member: usize,
    },
    /// Staff set a legal hold on a member, or clear the member's holds.
    Hold {
        laptop: usize,
        member: usize,
        set: bool,
    },
    /// A manager sets the retention schedule (a month unseen) and runs it `ahead` days on
    /// (every member not seen since, and not held, is anonymised; none with 0).
    Retention {
        laptop: usize,
        ahead: i64,
    },
    /// A manager sets words for an agreement version (`words` picks one of two texts, so
    /// laptops apart set different words for one version).
    Agreement {
        laptop: usize,
        version: u8,
        words: u8,
    },
    /// The desk records that a member accepted the version in force.
    Accept {
        laptop: usize,
        member: usize,
    },
    /// A session between two laptops, cut after `cut` messages if given.
    Sync {
        from: usize,
        to: usize,
        cut: Option<usize>,
    },
}

const NAMES: &[&str] = &["Zoë", "Łukasz", "Aoife", "Sam", "Kai", "Noor"];
const PRONOUNS: &[&str] = &["she/her", "he/him", "they/them"];
const PARENTS: &[&str] = &["Pat Parent", "Ro Parent", "Lee Parent"];

/// A parent signs in (or is already in) and is told about the parent network, at sign-in or
/// afterwards.
fn parent(ctx: &Ctx<'_>, name: &str, signposted: bool) {
    crate::support::done_or_refused(
        "parent sign in",
        service::sign_in_contact(
            ctx,
            service::SignInContact {
                kind: "parent".into(),
                name: name.into(),
                signposted: false,
            },
        ),
    );
    if !signposted {
        return;
    }
    let here = service::contacts_in(ctx).unwrap_or_default();
    if let Some(c) = here.iter().find(|c| c.name == name) {
        crate::support::done_or_refused(
            "signpost",
            service::signpost_contact(ctx, &c.contact_id.to_string()),
        );
    }
}

fn op() -> impl Strategy<Value = Op> {
    op_weighted(1)
}

/// Ops with edits `edits` times as likely as the rest: laptops that edit records the others
/// hold make sessions whose rounds fill with changes answering heads.
fn op_weighted(edits: u32) -> impl Strategy<Value = Op> {
    let laptop = 0..3usize;
    prop_oneof![
        1 => (laptop.clone(), 0..NAMES.len()).prop_map(|(laptop, name)| Op::Register { laptop, name }),
        1 => (laptop.clone(), 0..8usize).prop_map(|(laptop, member)| Op::SignIn { laptop, member }),
        1 => (laptop.clone(), 0..8usize).prop_map(|(laptop, member)| Op::SignOut { laptop, member }),
        1 => (laptop.clone(), 0..8usize).prop_map(|(laptop, member)| Op::UndoSignIn { laptop, member }),
        1 => (laptop.clone(), 0..8usize).prop_map(|(laptop, member)| Op::UndoSignOut { laptop, member }),
        1 => laptop.clone().prop_map(|laptop| Op::CloseAndOpen { laptop }),
        edits => (laptop.clone(), 0..8usize, 0..PRONOUNS.len()).prop_map(|(laptop, member, pronouns)| {
            Op::Edit {
                laptop,
                member,
                pronouns,
            }
        }),
        1 => laptop.clone().prop_map(|laptop| Op::Headcount { laptop }),
        1 => (laptop.clone(), 0..8usize).prop_map(|(laptop, member)| Op::View { laptop, member }),
        1 => (laptop.clone(), 0..8usize, 0..8usize).prop_map(|(laptop, a, b)| Op::Merge {
            laptop,
            a,
            b
        }),
        1 => (laptop.clone(), 0..8usize, 0..8usize).prop_map(|(laptop, a, b)| Op::NotDuplicates {
            laptop,
            a,
            b
        }),
        1 => (laptop.clone(), 1..90i64).prop_map(|(laptop, minutes)| Op::Tick { laptop, minutes }),
        1 => (laptop.clone(), 1..4u32).prop_map(|(laptop, n)| Op::OrgEdit { laptop, n }),
        1 => (laptop.clone(), any::<bool>()).prop_map(|(laptop, recovery)| Op::NewKeys { laptop, recovery }),
        1 => (laptop.clone(), 1..4i64, 0..8usize).prop_map(|(laptop, days_ago, member)| {
            Op::BackEntry {
                laptop,
                days_ago,
                member,
            }
        }),
        1 => (laptop.clone(), 1..4usize).prop_map(|(laptop, limit)| Op::Idle { laptop, limit }),
        1 => Just(Op::Revoke),
        1 => (laptop.clone(), 0..8usize, any::<bool>(), proptest::option::of(0..3i64)).prop_map(
            |(laptop, member, private, follow_up_days)| Op::Converse {
                laptop,
                member,
                private,
                follow_up_days,
            }
        ),
        1 => (laptop.clone(), 0..8usize, 0..4u8, 0..11i32).prop_map(
            |(laptop, member, kind, value)| Op::CheckIn { laptop, member, kind, value }
        ),
        1 => (laptop.clone(), any::<bool>()).prop_map(|(laptop, start)| Op::Shift { laptop, start }),
        1 => (laptop.clone(), 1..4u32).prop_map(|(laptop, n)| Op::Training { laptop, n }),
        1 => (laptop.clone(), 0..3usize, any::<bool>()).prop_map(|(laptop, name, signposted)| {
            Op::Parent {
                laptop,
                name,
                signposted,
            }
        }),
        edits => (laptop.clone(), 0..8usize, 0..4usize, 0..=100usize).prop_map(
            |(laptop, member, section, at)| Op::PlanWords {
                laptop,
                member,
                section,
                at,
            }
        ),
        1 => (laptop.clone(), 0..8usize, 0..5usize).prop_map(|(laptop, member, status)| {
            Op::PlanStep {
                laptop,
                member,
                status,
            }
        }),
        1 => (laptop.clone(), 0..8usize, 0..3usize, 0..4usize).prop_map(
            |(laptop, member, step, concern)| Op::Safeguard {
                laptop,
                member,
                step,
                concern,
            }
        ),
        1 => (laptop.clone(), 0..8usize).prop_map(|(laptop, member)| Op::Erase { laptop, member }),
        1 => (laptop.clone(), 0..8usize, any::<bool>()).prop_map(|(laptop, member, set)| {
            Op::Hold { laptop, member, set }
        }),
        1 => (laptop.clone(), prop_oneof![Just(0i64), Just(45i64)])
            .prop_map(|(laptop, ahead)| Op::Retention { laptop, ahead }),
        1 => (laptop.clone(), 1..4u8, 0..2u8).prop_map(|(laptop, version, words)| Op::Agreement {
            laptop,
            version,
            words
        }),
        1 => (laptop.clone(), 0..8usize).prop_map(|(laptop, member)| Op::Accept { laptop, member }),
        1 => (laptop.clone(), 1..3usize, proptest::option::of(1..12usize)).prop_map(
            |(from, step, cut)| Op::Sync {
                from,
                to: (from + step) % 3,
                cut
            }
        ),
    ]
}

/// Runs a session but stops after `cut` messages, as a dropped connection would.
fn sync_cut(a: &Hub, b: &Hub, cut: usize, options: Options) {
    let (mut sa, mut sb) = sessions(a, b, options).unwrap();
    let mut to_b: VecDeque<_> = sa.start().unwrap().into();
    let mut to_a = VecDeque::new();
    for _ in 0..cut {
        if let Some(m) = to_b.pop_front() {
            to_a.extend(sb.handle(m).unwrap());
        } else if let Some(m) = to_a.pop_front() {
            to_b.extend(sa.handle(m).unwrap());
        } else {
            return;
        }
    }
}

/// The member record that holds the person with `code` on `hub`.
fn record_of(hub: &Hub, code: &str) -> uuid::Uuid {
    let all = hub.store.all_members().unwrap();
    all.iter().find(|m| m.code == code).unwrap().id
}

fn code_of(hub: &Hub, member: usize) -> Option<String> {
    let mut all = hub.store.all_members().unwrap();
    all.sort_by(|a, b| a.code.cmp(&b.code));
    all.get(member).map(|m| m.code.clone())
}

/// A paper register typed in between two sessions of today's day on one laptop.
fn back_entry(ctx: &Ctx<'_>, days_ago: i64, code: Option<String>) {
    let today = service::close_day(ctx).unwrap();
    let today = chrono::NaiveDate::parse_from_str(&today.date, "%Y-%m-%d").unwrap();
    let past = service::OpenDay {
        hub: None,
        date: Some(today - chrono::Duration::days(days_ago)),
    };
    let day = service::open_day(ctx, past).unwrap();
    assert!(day.back_entry.is_some());
    if let Some(code) = code {
        // Already on this day's register from an earlier pass: a conflict, as at the desk.
        match service::sign_in_member(ctx, &code, &[]) {
            Ok(_) | Err(service::Error::Conflict(_)) => {}
            Err(e) => panic!("signing in to the back-entry day failed: {e}"),
        }
    }
    service::close_day(ctx).unwrap();
    service::open_day(ctx, Default::default()).unwrap();
}

/// A conversation with the member `code`, recorded the way a navigator or staff member would.
fn converse(ctx: &Ctx<'_>, code: Option<String>, private: bool, follow_up_days: Option<i64>) {
    let Some(code) = code else { return };
    let today = ctx.now().date_naive();
    let input = hubdesk::domain::conversation::ConversationInput {
        what_matters: "What matters to them".into(),
        next_steps: Some("A step they chose".into()),
        follow_up: follow_up_days.map(|d| {
            (today + chrono::Duration::days(d))
                .format("%Y-%m-%d")
                .to_string()
        }),
        private,
        reason: private.then(|| "They asked for it to stay with staff".into()),
        ..Default::default()
    };
    service::add_conversation(ctx, &code, input).unwrap();
}

/// A check-in (ONS4, a goal, the organisation's own scale) or a version of that scale
/// imported (one of three: a new one, or one already held made current again, which raises
/// its rank).
fn check_in(ctx: &Ctx<'_>, code: Option<String>, kind: u8, value: i32) {
    use hubdesk::domain::instruments::{Outcome, builtin};
    use hubdesk::service::{CheckInInput, GoalInput};
    if kind == 3 {
        let def = builtin::single_scale(
            "confidence",
            "Confidence",
            0,
            10 + value % 3,
            Outcome::Confidence,
            2.0,
        )
        .unwrap();
        service::import_instrument(ctx, &serde_json::to_string(&def).unwrap()).unwrap();
        return;
    }
    let Some(code) = code else { return };
    let input = match kind {
        0 => CheckInInput {
            instrument: "ons4".into(),
            answers: vec![Some(value), Some(10 - value), None, Some(value / 2)],
            ..Default::default()
        },
        1 => CheckInInput {
            instrument: "gbo".into(),
            goals: vec![GoalInput {
                id: None,
                goal: "Feel ready for college".into(),
                score: value,
            }],
            ..Default::default()
        },
        _ => CheckInInput {
            instrument: "confidence".into(),
            answers: vec![Some(value)],
            ..Default::default()
        },
    };
    // The scale may not have reached this laptop yet (not found), or the answer may be past
    // the current version's range: refused with a sentence, nothing written.
    if let Err(e) = service::record_check_in(ctx, &code, input) {
        assert!(matches!(e.kind(), "validation" | "not_found"), "{e}");
    }
}

/// Every laptop lists the same check-ins, measures and instruments for each person.
/// Every laptop holds the same key pairs (users' and the recovery key's) to seal its store
/// key to, and the manager's PIN opens the manager's pair on each.
fn assert_keys_agree(all: &[Hub]) {
    let keys: Vec<_> = all.iter().map(|h| h.store.key_holders().unwrap()).collect();
    for k in &keys[1..] {
        assert_eq!(k, &keys[0], "the laptops seal to different keys");
    }
    if let Some((holders, _)) = &keys[0] {
        let manager = holders.iter().find(|h| h.name == MANAGER).unwrap();
        assert!(manager.keys.as_ref().unwrap().opens_with(MANAGER_PIN));
    }
}

fn assert_check_ins_agree(all: &[Hub]) {
    let seen: Vec<Vec<String>> = all
        .iter()
        .map(|h| {
            let ctx = Ctx::new(&h.store, &h.clock).as_user(h.unlock(MANAGER, MANAGER_PIN));
            let mut members = h.store.all_members().unwrap();
            members.sort_by(|a, b| a.code.cmp(&b.code));
            let mut lines: Vec<String> = service::list_instruments(&ctx)
                .unwrap()
                .into_iter()
                .map(|i| format!("{} {} {}", i.id, i.fingerprint, i.max))
                .collect();
            for m in &members {
                let v = service::list_check_ins(&ctx, &m.code, None).unwrap();
                lines.extend(
                    v.check_ins
                        .iter()
                        .map(|c| format!("{} {} {} {}", m.code, c.id, c.fingerprint, c.summary)),
                );
                lines.extend(
                    v.measures
                        .iter()
                        .map(|x| format!("{} {} {} {}", m.code, x.part, x.title, x.description)),
                );
            }
            lines
        })
        .collect();
    assert!(
        seen.iter().all(|s| *s == seen[0]),
        "laptops disagree on check-ins: {seen:?}"
    );
}

/// A safeguarding step: 0 raises a concern about the member `code`; 1 records an action
/// (with a decision and its reason) on this laptop's `concern`-th concern; 2 closes it. A
/// concern another laptop already closed is a refusal, as at the desk.
fn safeguard(ctx: &Ctx<'_>, code: Option<String>, step: usize, concern: usize) {
    use hubdesk::domain::safeguarding::{ConcernActionInput, ConcernInput};
    if step == 0 {
        let Some(code) = code else { return };
        let input = ConcernInput {
            words: "Their own words".into(),
            action: "Passed it on".into(),
            present: Some("Nobody else".into()),
            when: None,
        };
        service::raise_concern(ctx, &code, input).unwrap();
        return;
    }
    let all = service::list_concerns(ctx, false).unwrap();
    let Some(c) = all.get(concern % all.len().max(1)) else {
        return;
    };
    let id = c.id.to_string();
    let done = if step == 1 {
        service::act_on_concern(
            ctx,
            &id,
            ConcernActionInput {
                text: "Called the duty team".into(),
                decision: Some("A home visit".into()),
                reason: Some("What they said".into()),
            },
        )
        .map(|_| ())
    } else {
        service::close_concern(ctx, &id, "Support in place").map(|_| ())
    };
    match done {
        Ok(()) | Err(service::Error::Conflict(_)) => {}
        Err(e) => panic!("safeguarding step {step} failed: {e}"),
    }
}

/// Every laptop shows the same concerns, whole, and the same desk markers.
/// Every laptop holds the same agreement texts, puts the same one in force, and says the same
/// of each member: which versions they accepted and whether one is due.
fn assert_agreements_agree(all: &[Hub]) {
    let seen: Vec<Vec<String>> = all
        .iter()
        .map(|h| {
            let ctx = Ctx::new(&h.store, &h.clock).as_user(h.unlock(MANAGER, MANAGER_PIN));
            let mut lines: Vec<String> = service::list_agreements(&ctx)
                .unwrap()
                .into_iter()
                .map(|a| {
                    format!(
                        "{} {} {} {}",
                        a.version, a.fingerprint, a.in_force, a.disputed
                    )
                })
                .collect();
            let mut members = h.store.all_members().unwrap();
            members.sort_by(|a, b| a.code.cmp(&b.code));
            for m in members {
                let due = service::agreement_due(&ctx, &m.code).unwrap();
                let held = service::what_we_hold(&ctx, &m.code).unwrap();
                let accepted: Vec<&str> = held
                    .agreement
                    .accepted
                    .iter()
                    .map(|a| a.version.as_str())
                    .collect();
                lines.push(format!(
                    "{} {:?} {:?} {}",
                    m.code,
                    due.map(|d| d.fingerprint),
                    accepted,
                    held.agreement.due
                ));
            }
            lines
        })
        .collect();
    for (i, s) in seen.iter().enumerate() {
        assert_eq!(s, &seen[0], "laptop {i} tells the agreements differently");
    }
}

fn assert_concerns_agree(all: &[Hub]) {
    let seen: Vec<Vec<String>> = all
        .iter()
        .map(|h| {
            let ctx = Ctx::new(&h.store, &h.clock).as_user(h.unlock(MANAGER, MANAGER_PIN));
            let mut lines: Vec<String> = service::list_concerns(&ctx, false)
                .unwrap()
                .into_iter()
                .map(|c| {
                    let d = service::show_concern(&ctx, &c.id.to_string()).unwrap();
                    format!(
                        "{} {:?} {:?} {} {:?} {:?}",
                        c.id,
                        c.member.as_ref().map(|m| &m.code),
                        c.open,
                        d.words,
                        d.actions.iter().map(|a| &a.id).collect::<Vec<_>>(),
                        d.closes
                    )
                })
                .collect();
            let mut members = h.store.all_members().unwrap();
            members.sort_by(|a, b| a.code.cmp(&b.code));
            for m in members {
                let shown = service::show_member(&ctx, &m.code).unwrap();
                lines.push(format!("{} {}", m.code, shown.summary.speak_to_staff));
            }
            lines
        })
        .collect();
    assert!(
        seen.iter().all(|s| *s == seen[0]),
        "laptops disagree on concerns: {seen:?}"
    );
}

/// Every laptop lists the same conversations and follow-ups for each person.
fn assert_conversations_agree(all: &[Hub]) {
    let seen: Vec<Vec<String>> = all
        .iter()
        .map(|h| {
            let ctx = Ctx::new(&h.store, &h.clock).as_user(h.unlock(MANAGER, MANAGER_PIN));
            let mut members = h.store.all_members().unwrap();
            members.sort_by(|a, b| a.code.cmp(&b.code));
            members
                .iter()
                .flat_map(|m| {
                    service::list_conversations(&ctx, &m.code)
                        .unwrap()
                        .into_iter()
                        .map(|c| format!("{} {} {} {:?}", m.code, c.id, c.private, c.words))
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .collect();
    assert!(
        seen.iter().all(|s| *s == seen[0]),
        "laptops disagree on conversations: {seen:?}"
    );
}

const SECTIONS: [&str; 4] = [
    "keeps-me-well",
    "early-signs",
    "what-helps",
    "people-and-places",
];
const STATUSES: [&str; 4] = ["not-started", "doing", "done", "set-aside"];

/// Adds the word `word` into one section of the member's plan, at `at` percent of its length,
/// as an editor sending the section's whole new text would. Returns the record it went into.
fn plan_words(ctx: &Ctx<'_>, code: Option<String>, section: usize, at: usize, word: &str) -> bool {
    let Some(code) = code else { return false };
    let plan = service::show_plan(ctx, &code).unwrap();
    let old: Vec<char> = plan.sections[section].text.chars().collect();
    // At a word's edge, never inside one (a word split in two would read as lost).
    let mut pos = old.len() * at / 100;
    while pos > 0 && old[pos - 1] != ' ' {
        pos -= 1;
    }
    let mut new: String = old[..pos].iter().collect();
    new.push_str(&format!(" {word} "));
    new.extend(&old[pos..]);
    service::edit_plan_section(
        ctx,
        &code,
        service::PlanSectionEdit {
            section: SECTIONS[section].into(),
            text: new,
            version: plan.version,
        },
    )
    .unwrap();
    true
}

fn plan_step(ctx: &Ctx<'_>, code: Option<String>, status: usize) {
    let Some(code) = code else { return };
    let plan = service::show_plan(ctx, &code).unwrap();
    match (plan.steps.first(), STATUSES.get(status)) {
        (Some(first), Some(status)) => {
            service::set_plan_step(
                ctx,
                &code,
                service::PlanStepChange {
                    step: first.id.clone(),
                    status: Some((*status).into()),
                    text: None,
                },
            )
            .unwrap();
        }
        _ => {
            service::add_plan_step(
                ctx,
                &code,
                service::NewPlanStep {
                    text: format!("Step {}", plan.steps.len() + 1),
                    status: None,
                },
            )
            .unwrap();
        }
    }
}

/// Every laptop shows the same plan for each person, and no word any laptop added to a plan
/// is lost: each is in a plan on every laptop (in the record it was written to, which a
/// merge may since have put behind another record of the person).
///
/// Except words written in a record a revoked laptop made after its revocation, which a laptop
/// that had not heard of it yet accepted: once it hears, the record is refused with all that
/// was written in it, on every laptop (what revoking a lost laptop is for).
fn assert_plans_agree(all: &[Hub], words: &[(String, uuid::Uuid)]) {
    let seen: Vec<Vec<String>> = all
        .iter()
        .map(|h| {
            let ctx = Ctx::new(&h.store, &h.clock).as_user(h.unlock(MANAGER, MANAGER_PIN));
            let mut members = h.store.all_members().unwrap();
            members.sort_by(|a, b| a.code.cmp(&b.code));
            members
                .iter()
                .map(|m| {
                    let p = service::show_plan(&ctx, &m.code).unwrap();
                    format!(
                        "{} {:?} {:?} {:?}",
                        m.code, p.sections, p.steps, p.updated_at
                    )
                })
                .collect()
        })
        .collect();
    assert!(
        seen.iter().all(|s| *s == seen[0]),
        "laptops disagree on plans: {seen:?}"
    );
    for hub in all {
        let mut held = String::new();
        for e in hub.store.all_heads().unwrap() {
            let plan = hub
                .store
                .with_doc(e.id, |am| Ok(hubdesk::doc::plan::read_plan(am).unwrap()))
                .unwrap()
                .flatten();
            for text in plan.iter().flat_map(|p| p.sections.values()) {
                held.push_str(text);
                held.push('\n');
            }
        }
        let records: std::collections::HashSet<uuid::Uuid> = hub
            .store
            .all_heads()
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        for (word, record) in words {
            if records.contains(record) {
                assert!(held.contains(word.as_str()), "{word} was lost: {held}");
            }
        }
    }
}

/// Every laptop holds the same audit log (every laptop's entries, as each wrote them), and
/// its tables equal a rebuild from the audit documents.
fn assert_audit_logs_agree(all: &[Hub]) {
    let read = |hub: &Hub| {
        let ctx = crate::sync::ctx_of(hub);
        service::audit_log(
            &ctx,
            &service::AuditFilter {
                limit: Some(service::MAX_AUDIT_LINES),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let first = read(&all[0]);
    assert!(
        first.iter().any(|r| r.action == "org.set_up"),
        "the log holds the first laptop's entries"
    );
    for (i, hub) in all.iter().enumerate() {
        let log = read(hub);
        assert_eq!(log, first, "laptop {i}'s audit log differs from laptop 0's");
        hub.store.rebuild_all().unwrap();
        assert_eq!(
            read(hub),
            log,
            "laptop {i}: its audit log differs after a rebuild"
        );
    }
}

/// No laptop holds a document its organisation has tombstoned, nor a row of an erased member.
fn assert_nothing_erased_remains(all: &[Hub]) {
    for (i, hub) in all.iter().enumerate() {
        let tombstoned = hub.store.tombstone_ids().unwrap();
        for id in &tombstoned {
            assert!(
                hub.store.doc_heads(*id).unwrap().is_none(),
                "laptop {i} still holds erased record {id}"
            );
            assert!(hub.store.member_by_id(*id).unwrap().is_none());
        }
    }
}

/// Every laptop lists the same people in the building, each once.
fn assert_presence_agrees(all: &[Hub]) {
    let here: Vec<Vec<String>> = all
        .iter()
        .map(|h| {
            let ctx = Ctx::new(&h.store, &h.clock).as_user(h.unlock(MANAGER, MANAGER_PIN));
            service::who_is_in(&ctx)
                .unwrap()
                .into_iter()
                .map(|h| h.code)
                .collect()
        })
        .collect();
    for list in &here {
        let mut once = list.clone();
        once.sort();
        once.dedup();
        assert_eq!(once.len(), list.len(), "someone is listed twice: {list:?}");
    }
    assert!(
        here.iter().all(|h| *h == here[0]),
        "laptops disagree on who is in: {here:?}"
    );
}

/// Three laptops that synced once, then `ops`; sessions keep to `rounds` if given (and are
/// then checked as they go), else to the default limits.
fn run_ops(ops: &[Op], rounds: Option<Options>) -> (Vec<Hub>, Vec<(String, uuid::Uuid)>) {
    let all = laptops(2);
    // Words added to plans by laptops 0 and 1 (never refused).
    let mut plan_words_kept = Vec::new();
    let ctxs: Vec<Ctx<'_>> = all
        .iter()
        .map(|h| Ctx::new(&h.store, &h.clock).as_user(h.unlock(MANAGER, MANAGER_PIN)))
        .collect();
    service::open_day(&ctxs[0], Default::default()).unwrap();
    sync_pair(&all[1], &all[0]).unwrap();
    sync_pair(&all[2], &all[0]).unwrap();
    for op in ops {
        match *op {
            Op::Register { laptop, name } => {
                all[laptop].register(&ctxs[laptop], NAMES[name], "2010-03");
            }
            Op::SignIn { laptop, member } => {
                if let Some(code) = code_of(&all[laptop], member) {
                    crate::support::done_or_refused(
                        "sign in",
                        service::sign_in_member(&ctxs[laptop], &code, &[]),
                    );
                }
            }
            Op::SignOut { laptop, member } => {
                if let Some(code) = code_of(&all[laptop], member) {
                    crate::support::done_or_refused(
                        "sign out",
                        service::sign_out_member(&ctxs[laptop], &code),
                    );
                }
            }
            Op::UndoSignIn { laptop, member } => {
                if let Some(code) = code_of(&all[laptop], member) {
                    crate::support::done_or_refused(
                        "undo sign in",
                        service::withdraw_sign_in(&ctxs[laptop], &code, None),
                    );
                }
            }
            Op::UndoSignOut { laptop, member } => {
                if let Some(code) = code_of(&all[laptop], member) {
                    crate::support::done_or_refused(
                        "undo sign out",
                        service::reopen_sign_out(&ctxs[laptop], &code, None),
                    );
                }
            }
            Op::CloseAndOpen { laptop } => {
                crate::support::done_or_refused("close", service::close_day(&ctxs[laptop]));
                crate::support::done_or_refused(
                    "open",
                    service::open_day(&ctxs[laptop], Default::default()),
                );
            }
            Op::Edit {
                laptop,
                member,
                pronouns,
            } => {
                if let Some(code) = code_of(&all[laptop], member) {
                    service::update_member(
                        &ctxs[laptop],
                        &code,
                        service::ProfileEdit {
                            pronouns: Some(PRONOUNS[pronouns].into()),
                            ..Default::default()
                        },
                    )
                    .unwrap();
                }
            }
            Op::Headcount { laptop } => {
                service::add_headcount(&ctxs[laptop], 1).unwrap();
            }
            Op::View { laptop, member } => {
                if let Some(code) = code_of(&all[laptop], member) {
                    crate::support::done_or_refused(
                        "view",
                        service::show_member(&ctxs[laptop], &code),
                    );
                }
            }
            Op::Merge { laptop, a, b } | Op::NotDuplicates { laptop, a, b } => {
                if let (Some(a), Some(b)) = (code_of(&all[laptop], a), code_of(&all[laptop], b)) {
                    let done = if matches!(op, Op::Merge { .. }) {
                        service::merge_members(&ctxs[laptop], &a, &b).map(|_| ())
                    } else {
                        service::mark_not_duplicates(&ctxs[laptop], &a, &b)
                    };
                    // The same member twice is refused; anything else must work.
                    if a != b {
                        done.unwrap();
                    }
                }
            }
            Op::NewKeys { laptop, recovery } => {
                if recovery {
                    service::renew_recovery_key(&ctxs[laptop]).unwrap();
                } else {
                    service::change_user_secret(&ctxs[laptop], MANAGER, MANAGER_PIN).unwrap();
                }
            }
            Op::OrgEdit { laptop, n } => {
                let hub = service::list_hubs(&ctxs[laptop]).unwrap()[0].id.to_string();
                service::update_hub(&ctxs[laptop], &hub, Some(&format!("Hub {n}")), None).unwrap();
                service::update_settings(
                    &ctxs[laptop],
                    service::SettingsEdit {
                        idle_lock_minutes: Some(n),
                        ..Default::default()
                    },
                )
                .unwrap();
            }
            Op::Tick { laptop, minutes } => {
                all[laptop]
                    .clock
                    .advance(chrono::Duration::minutes(minutes));
            }
            Op::BackEntry {
                laptop,
                days_ago,
                member,
            } => {
                back_entry(&ctxs[laptop], days_ago, code_of(&all[laptop], member));
            }
            Op::Idle { laptop, limit } => {
                all[laptop].store.compact_some(limit).unwrap();
            }
            Op::Revoke => revocation::revoke(&all),
            Op::Converse {
                laptop,
                member,
                private,
                follow_up_days,
            } => converse(
                &ctxs[laptop],
                code_of(&all[laptop], member),
                private,
                follow_up_days,
            ),
            Op::CheckIn {
                laptop,
                member,
                kind,
                value,
            } => check_in(&ctxs[laptop], code_of(&all[laptop], member), kind, value),
            Op::Shift { laptop, start } => {
                if start {
                    crate::support::done_or_refused(
                        "shift start",
                        service::start_shift(&ctxs[laptop]),
                    );
                } else {
                    crate::support::done_or_refused("shift end", service::end_shift(&ctxs[laptop]));
                }
            }
            Op::Training { laptop, n } => {
                service::add_training(&ctxs[laptop], MANAGER, &format!("Course {n}"), "2026-11-01")
                    .unwrap();
                service::add_role_spell(&ctxs[laptop], MANAGER, "volunteer", "2026-01-01", None)
                    .unwrap();
            }
            Op::Parent {
                laptop,
                name,
                signposted,
            } => parent(&ctxs[laptop], PARENTS[name], signposted),
            Op::PlanWords {
                laptop,
                member,
                section,
                at,
            } => {
                let word = format!("w{}é🎧", plan_words_kept.len() + 100 * laptop);
                let code = code_of(&all[laptop], member);
                let record = code.as_ref().map(|c| record_of(&all[laptop], c));
                let written = plan_words(&ctxs[laptop], code, section, at, &word);
                if let (true, true, Some(record)) = (written, laptop < 2, record) {
                    plan_words_kept.push((word, record));
                }
            }
            Op::PlanStep {
                laptop,
                member,
                status,
            } => plan_step(&ctxs[laptop], code_of(&all[laptop], member), status),
            Op::Safeguard {
                laptop,
                member,
                step,
                concern,
            } => safeguard(&ctxs[laptop], code_of(&all[laptop], member), step, concern),
            Op::Erase { laptop, member } => {
                // A record joined apart to one erased waits again: confirm those first.
                for w in service::list_erasure_requests(&ctxs[laptop]).unwrap() {
                    if w.joined.is_some() {
                        crate::support::done_or_refused(
                            "confirm joined erasure",
                            service::confirm_erasure(&ctxs[laptop], &w.id.to_string()),
                        );
                    }
                }
                if let Some(code) = code_of(&all[laptop], member) {
                    match service::request_erasure(&ctxs[laptop], &code, "Asked to be forgotten") {
                        Ok(r) => crate::support::done_or_refused(
                            "confirm erasure",
                            service::confirm_erasure(&ctxs[laptop], &r.id.to_string()),
                        ),
                        Err(e) => crate::support::done_or_refused::<()>("request erasure", Err(e)),
                    }
                }
            }
            Op::Hold {
                laptop,
                member,
                set,
            } => {
                if let Some(code) = code_of(&all[laptop], member) {
                    if set {
                        service::set_hold(&ctxs[laptop], &code, "Inquiry moratorium").unwrap();
                    } else {
                        crate::support::done_or_refused(
                            "clear hold",
                            service::clear_hold(&ctxs[laptop], &code, "Inquiry closed"),
                        );
                    }
                }
            }
            Op::Retention { laptop, ahead } => {
                let ctx = &ctxs[laptop];
                service::set_retention(
                    ctx,
                    service::RetentionSchedule {
                        unseen_months: Some(1),
                        until_age: None,
                        safeguarding_years: Some(1),
                    },
                )
                .unwrap();
                let clock = &all[laptop].clock;
                clock.advance(chrono::Duration::days(ahead));
                let run = service::run_retention(ctx);
                clock.advance(chrono::Duration::days(-ahead));
                run.unwrap();
            }
            Op::Agreement {
                laptop,
                version,
                words,
            } => crate::support::done_or_refused(
                "set agreement",
                service::set_agreement(
                    &ctxs[laptop],
                    &version.to_string(),
                    &format!("Words {words} of version {version}."),
                ),
            ),
            Op::Accept { laptop, member } => {
                if let Some(code) = code_of(&all[laptop], member) {
                    crate::support::done_or_refused(
                        "accept agreement",
                        service::accept_agreement(&ctxs[laptop], &code, None),
                    );
                }
            }
            Op::Sync { from, to, .. } if revocation::refused(&all, from, to) => {}
            Op::Sync {
                from,
                to,
                cut: Some(cut),
            } => {
                sync_cut(
                    &all[from],
                    &all[to],
                    cut,
                    rounds.clone().unwrap_or_default(),
                );
            }
            Op::Sync {
                from,
                to,
                cut: None,
            } => match &rounds {
                None => {
                    sync_pair(&all[from], &all[to]).unwrap();
                }
                Some(options) => {
                    observed_session(&all[from], &all[to], options.clone());
                    assert_same_records(&all[from], &all[to]);
                }
            },
        }
        revocation::assert_none_admitted(&all);
    }
    if rounds.is_some() {
        for (x, y) in [(0, 1), (1, 2), (2, 0)] {
            if revocation::refused(&all, x, y) {
                continue;
            }
            assert_checkpoint_holds(&all[x], &all[y], "after the ops");
            assert_checkpoint_holds(&all[y], &all[x], "after the ops");
        }
    }
    drop(ctxs);
    (all, plan_words_kept)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::support::cases(24), ..ProptestConfig::default() })]

    #[test]
    fn three_replicas_converge_after_any_partial_syncs(ops in proptest::collection::vec(op(), 1..30)) {
        let (all, words) = run_ops(&ops, None);
        for (x, y) in [(0, 1), (1, 2), (2, 0), (0, 1), (1, 2)] {
            if !revocation::refused(&all, x, y) {
                sync_pair(&all[x], &all[y]).unwrap();
            }
        }
        revocation::assert_none_admitted(&all);
        let agreeing = revocation::agreeing(&all);
        // First: the checks after it read records, and reading one is audited.
        assert_audit_logs_agree(agreeing);
        assert_converged(agreeing);
        assert_nothing_erased_remains(&all);
        assert_presence_agrees(agreeing);
        assert_conversations_agree(agreeing);
        assert_concerns_agree(agreeing);
        // Words written into a record since erased went with it.
        let erased = agreeing[0].store.tombstone_ids().unwrap();
        let words: Vec<_> = words.into_iter().filter(|(_, r)| !erased.contains(r)).collect();
        assert_plans_agree(agreeing, &words);
        assert_check_ins_agree(agreeing);
        assert_agreements_agree(agreeing);
        assert_keys_agree(agreeing);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::support::cases(16), ..ProptestConfig::default() })]

    #[test]
    fn three_replicas_syncing_a_record_or_three_a_round_converge_and_strand_nothing(
        ops in proptest::collection::vec(op_weighted(4), 1..30),
        docs in 1..=3usize,
        bytes in prop_oneof![Just(1usize << 20), 150..600usize],
    ) {
        let rounds = tiny(docs, bytes);
        let (all, words) = run_ops(&ops, Some(rounds.clone()));
        for (x, y) in [(0, 1), (1, 2), (2, 0), (0, 1)] {
            if !revocation::refused(&all, x, y) {
                observed_session(&all[x], &all[y], rounds.clone());
            }
        }
        revocation::assert_none_admitted(&all);
        let agreeing = revocation::agreeing(&all);
        // First: the checks after it read records, and reading one is audited.
        assert_audit_logs_agree(agreeing);
        assert_converged(agreeing);
        assert_nothing_erased_remains(&all);
        assert_presence_agrees(agreeing);
        assert_conversations_agree(agreeing);
        assert_concerns_agree(agreeing);
        // Words written into a record since erased went with it.
        let erased = agreeing[0].store.tombstone_ids().unwrap();
        let words: Vec<_> = words.into_iter().filter(|(_, r)| !erased.contains(r)).collect();
        assert_plans_agree(agreeing, &words);
        assert_check_ins_agree(agreeing);
        assert_agreements_agree(agreeing);
        assert_keys_agree(agreeing);
    }
}

/// Found by the property above: laptop 2 registers a member after its revocation; laptop 1,
/// not told yet, takes the record and writes in its plan; once the revocation is heard the
/// record is refused everywhere, words and all, and every laptop agrees it is gone.
#[test]
fn words_written_in_a_record_a_revoked_laptop_made_go_with_the_record() {
    let ops = [
        Op::Revoke,
        Op::Register { laptop: 2, name: 0 },
        Op::Sync {
            from: 1,
            to: 2,
            cut: None,
        },
        Op::PlanWords {
            laptop: 1,
            member: 0,
            section: 0,
            at: 0,
        },
    ];
    let rounds = tiny(1, 1 << 20);
    let (all, words) = run_ops(&ops, Some(rounds.clone()));
    assert_eq!(words.len(), 1, "laptop 1 wrote in the plan before it heard");
    for (x, y) in [(0, 1), (1, 2), (2, 0), (0, 1)] {
        if !revocation::refused(&all, x, y) {
            observed_session(&all[x], &all[y], rounds.clone());
        }
    }
    revocation::assert_none_admitted(&all);
    let agreeing = revocation::agreeing(&all);
    assert_converged(agreeing);
    for hub in agreeing {
        assert!(hub.store.all_members().unwrap().is_empty());
    }
    assert_plans_agree(agreeing, &words);
}

/// The Revoke op: laptop 2 is removed an hour after t0 by laptop 0's clock and works on two
/// hours after t0 by its own, never told (its own syncs with a laptop that knows are refused
/// before any data moves, as TLS does); its later work can only travel through a laptop that
/// has not heard yet.
mod revocation {
    use hubdesk::doc;
    use hubdesk::service::{self, Ctx};

    use crate::support::{Hub, MANAGER, MANAGER_PIN, t0};
    use crate::sync::device_id;

    pub fn revoke(all: &[Hub]) {
        if revoked_at(&all[0]).is_some() {
            return;
        }
        all[0].clock.set(t0() + chrono::Duration::hours(1));
        let ctx =
            Ctx::new(&all[0].store, &all[0].clock).as_user(all[0].unlock(MANAGER, MANAGER_PIN));
        service::revoke_device(&ctx, "laptop 3").unwrap();
        all[2].clock.set(t0() + chrono::Duration::hours(2));
    }

    /// When `hub` knows laptop 2 was revoked (millis), if it does.
    pub fn revoked_at(hub: &Hub) -> Option<i64> {
        let d = hub.store.devices().unwrap();
        let name = |n: &str| d.iter().find(|x| x.name == n).and_then(|x| x.revoked_at);
        name("laptop 3").map(|at| at.timestamp_millis())
    }

    /// The laptops that must agree: all, or all but laptop 2 once it was removed.
    pub fn agreeing(all: &[Hub]) -> &[Hub] {
        if revoked_at(&all[0]).is_some() {
            &all[..2]
        } else {
            all
        }
    }

    /// A session between these two is refused: one is laptop 2 and the other knows.
    pub fn refused(all: &[Hub], a: usize, b: usize) -> bool {
        (a == 2 && revoked_at(&all[b]).is_some()) || (b == 2 && revoked_at(&all[a]).is_some())
    }

    /// No laptop that knows of the revocation holds a change laptop 2 made after it.
    pub fn assert_none_admitted(all: &[Hub]) {
        let d = doc::device_actor(device_id(&all[2].store));
        for (i, hub) in all.iter().enumerate().take(2) {
            let Some(at) = revoked_at(hub) else { continue };
            for e in hub.store.all_heads().unwrap() {
                let late = hub
                    .store
                    .with_doc_mut(e.id, |am| {
                        am.get_changes_meta(&[])
                            .iter()
                            .filter(|m| *m.actor == d && m.timestamp * 1000 > at)
                            .count()
                    })
                    .unwrap()
                    .unwrap_or(0);
                assert_eq!(
                    late, 0,
                    "laptop {i} holds laptop 2's later changes in {}",
                    e.id
                );
            }
        }
    }
}
