//! A round carries at most `max_docs_per_round` records and roughly `max_round_bytes`, so a
//! busy day takes many rounds. These tests shrink the rounds to a record or three and a few
//! hundred bytes, so that every queue a session keeps (changes the peer lacks, records asked
//! for whole, our own asks, heads to tell, Automerge sync) is left non-empty at the end of
//! some round, and check that ONE session still moves everything both ways, that a second
//! moves nothing, and that no checkpoint ever claims a change that has not arrived.

use automerge::ChangeHash;
use hubdesk::service::{self, Ctx, OpenDay, ProfileEdit};
use hubdesk::sync::session::{Backlog, Options, Report};
use hubdesk::sync::wire::Msg;

use crate::support::Hub;
use crate::sync::{assert_converged, device_id, laptops, sessions};

pub fn tiny(docs: usize, bytes: usize) -> Options {
    Options {
        max_docs_per_round: docs,
        max_round_bytes: bytes,
        max_whole_per_round: docs,
        ..Options::default()
    }
}

fn edit(ctx: &Ctx<'_>, code: &str, pronouns: &str) {
    service::update_member(
        ctx,
        code,
        ProfileEdit {
            pronouns: Some(pronouns.into()),
            ..Default::default()
        },
    )
    .unwrap();
}

/// Two laptops that shared eight members, then worked apart: each registered four more,
/// edited three that only it touched, and both edited the last two.
pub fn two_laptops_apart() -> Vec<Hub> {
    let all = laptops(1);
    let (a, b) = (all[0].manager(), all[1].manager());
    service::open_day(&a, OpenDay::default()).unwrap();
    let shared: Vec<String> = (0..8)
        .map(|i| all[0].register(&a, &format!("Shared {i}"), "2010-05").code)
        .collect();
    crate::sync::sync_pair(&all[1], &all[0]).unwrap();
    for i in 0..4 {
        all[0].register(&a, &format!("Only A {i}"), "2009-01");
        all[1].register(&b, &format!("Only B {i}"), "2009-02");
    }
    for code in &shared[0..3] {
        edit(&a, code, "she/her");
        service::sign_in_member(&a, code, &[]).unwrap();
    }
    for code in &shared[3..6] {
        edit(&b, code, "he/him");
    }
    for code in &shared[6..8] {
        edit(&a, code, "they/them");
        edit(&b, code, "she/they");
    }
    all
}

/// Two laptops that shared ten members, then only edited them apart: the second laptop six,
/// the first two. Nobody lacks a record, so no record travels whole and nobody asks for
/// one: what each changed travels as heads answered by changes.
pub fn two_laptops_that_only_edited() -> Vec<Hub> {
    let all = laptops(1);
    let (a, b) = (all[0].manager(), all[1].manager());
    let shared: Vec<String> = (0..10)
        .map(|i| all[0].register(&a, &format!("Shared {i}"), "2010-05").code)
        .collect();
    crate::sync::sync_pair(&all[1], &all[0]).unwrap();
    for code in &shared[0..6] {
        edit(&b, code, "he/him");
    }
    for code in &shared[6..8] {
        edit(&a, code, "she/her");
    }
    all
}

/// Everything `y` had written up to where `x` says it holds `y`'s feed, `x` holds.
pub fn assert_checkpoint_holds(x: &Hub, y: &Hub, when: &str) {
    let through = x
        .store
        .peer(device_id(&y.store))
        .unwrap()
        .map(|p| p.recv_through)
        .unwrap_or(0);
    let gone = x.store.tombstone_ids().unwrap();
    for e in y.store.feed_between(0, through).unwrap() {
        if gone.contains(&e.id) {
            continue;
        }
        let theirs: Vec<ChangeHash> = y
            .store
            .doc_head_list(e.id)
            .unwrap()
            .unwrap()
            .into_iter()
            .map(ChangeHash)
            .collect();
        let missing = x
            .store
            .with_doc_mut(e.id, |d| d.get_missing_deps(&theirs))
            .unwrap();
        assert!(
            missing.as_ref().is_some_and(|m| m.is_empty()),
            "{when}: the checkpoint of {through} claims record {} (a {:?}) but {} of its \
             changes have not arrived",
            e.id,
            e.kind,
            missing.map_or("all".to_string(), |m| m.len().to_string()),
        );
    }
}

/// Which queues were left non-empty at the end of some round, on either side.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub changes: bool,
    pub whole: bool,
    pub wants: bool,
    pub heads: bool,
    pub dirty: bool,
}

impl Seen {
    fn note(&mut self, b: Backlog) {
        self.changes |= b.changes > 0;
        self.whole |= b.whole > 0;
        self.wants |= b.wants > 0;
        self.heads |= b.heads > 0;
        self.dirty |= b.dirty > 0;
    }

    fn or(self, o: Seen) -> Seen {
        Seen {
            changes: self.changes || o.changes,
            whole: self.whole || o.whole,
            wants: self.wants || o.wants,
            heads: self.heads || o.heads,
            dirty: self.dirty || o.dirty,
        }
    }
}

/// One complete session, `a` initiating, checking both checkpoints after every message.
pub fn observed_session(a: &Hub, b: &Hub, options: Options) -> (Report, Report, Seen) {
    let (mut sa, mut sb) = sessions(a, b, options).unwrap();
    let mut seen = Seen::default();
    let mut to_b: Vec<Msg> = sa.start().unwrap();
    let mut messages = 0;
    while !to_b.is_empty() {
        let mut to_a = Vec::new();
        for m in to_b.drain(..) {
            to_a.extend(sb.handle(m).unwrap());
            seen.note(sb.backlog());
        }
        for m in to_a {
            to_b.extend(sa.handle(m).unwrap());
            seen.note(sa.backlog());
        }
        messages += 1;
        assert!(messages < 10_000, "a session that never ends");
        assert_checkpoint_holds(a, b, &format!("after message {messages}"));
        assert_checkpoint_holds(b, a, &format!("after message {messages}"));
    }
    assert!(sa.is_finished() && sb.is_finished(), "the session finished");
    assert!(sa.backlog().is_empty(), "{:?}", sa.backlog());
    assert!(sb.backlog().is_empty(), "{:?}", sb.backlog());
    (sa.report().clone(), sb.report().clone(), seen)
}

/// Both laptops hold exactly the same records at the same heads.
pub fn assert_same_records(a: &Hub, b: &Hub) {
    let heads = |h: &Hub| {
        let mut all: Vec<_> = h
            .store
            .all_heads()
            .unwrap()
            .into_iter()
            .map(|e| (e.id, e.heads))
            .collect();
        all.sort();
        all
    };
    assert_eq!(heads(a), heads(b), "both laptops hold the same records");
}

fn one_session_is_enough(options: Options, a_initiates: bool) -> Seen {
    one_session_moves_everything(two_laptops_apart(), options, a_initiates)
}

fn one_session_moves_everything(all: Vec<Hub>, options: Options, a_initiates: bool) -> Seen {
    let (x, y) = if a_initiates { (0, 1) } else { (1, 0) };
    let (first, _, seen) = observed_session(&all[x], &all[y], options.clone());
    assert!(first.rounds > 3, "tiny rounds took {} rounds", first.rounds);
    assert_same_records(&all[0], &all[1]);
    assert_converged(&all);
    assert_checkpoint_holds(&all[0], &all[1], "after the session");
    assert_checkpoint_holds(&all[1], &all[0], "after the session");
    for (i, j) in [(x, y), (y, x)] {
        let (again, other, _) = observed_session(&all[i], &all[j], options.clone());
        assert_eq!(
            (again.docs_sent, again.docs_received, again.feed_sent),
            (0, 0, 0),
            "a second session moves nothing: {again:?}"
        );
        assert_eq!(
            (other.docs_sent, other.docs_received, other.feed_sent),
            (0, 0, 0),
            "a second session moves nothing: {other:?}"
        );
    }
    seen
}

#[test]
fn one_session_of_one_record_rounds_moves_everything_both_ways() {
    one_session_is_enough(tiny(1, 1 << 20), true);
    one_session_is_enough(tiny(1, 1 << 20), false);
}

#[test]
fn one_session_of_rounds_of_a_few_hundred_bytes_moves_everything_both_ways() {
    let seen =
        one_session_is_enough(tiny(3, 300), true).or(one_session_is_enough(tiny(3, 300), false));
    assert_eq!(
        seen,
        Seen {
            changes: true,
            whole: true,
            wants: true,
            heads: true,
            dirty: true
        },
        "every queue was left non-empty at some round's end"
    );
}

#[test]
fn one_session_of_two_record_rounds_moves_everything_both_ways() {
    one_session_is_enough(tiny(2, 500), true);
    one_session_is_enough(tiny(2, 500), false);
}

#[test]
fn a_round_budget_of_zero_still_moves_one_record_a_round() {
    one_session_is_enough(tiny(0, 0), true);
}

/// The initiator may send Done only once the responder has said it has nothing more: a
/// responder that still holds queued changes must say so, whatever fills its round.
#[test]
fn a_responder_whose_round_is_full_says_it_has_more() {
    let all = two_laptops_apart();
    let (mut sa, mut sb) = sessions(&all[0], &all[1], tiny(8, 250)).unwrap();
    let mut to_b = sa.start().unwrap();
    let mut checked = 0;
    while let Some(m) = to_b.pop() {
        for reply in sb.handle(m).unwrap() {
            if let Msg::Round(r) = &reply {
                assert_eq!(
                    r.more,
                    !sb.backlog().is_empty(),
                    "`more` says whether anything is still queued: {:?}",
                    sb.backlog()
                );
                checked += usize::from(!sb.backlog().is_empty());
            }
            to_b.extend(sa.handle(reply).unwrap());
        }
    }
    assert!(sa.is_finished() && sb.is_finished());
    assert!(checked > 0, "some round ended with something still queued");
}

/// The first laptop tells its heads of the six records the second changed, several in one
/// small round; the second's answers (changes) fill its rounds, and nothing the first says
/// back needs an answer. The second must still say it has more, or the first sends Done and
/// both checkpoints move past changes that never left.
#[test]
fn changes_answering_many_heads_are_all_sent_before_the_session_ends() {
    let seen = one_session_moves_everything(two_laptops_that_only_edited(), tiny(8, 250), true);
    assert!(seen.changes && seen.heads, "{seen:?}");
    one_session_moves_everything(two_laptops_that_only_edited(), tiny(8, 250), false);
    for options in [tiny(3, 1 << 20), tiny(2, 300)] {
        one_session_moves_everything(two_laptops_that_only_edited(), options.clone(), true);
        one_session_moves_everything(two_laptops_that_only_edited(), options, false);
    }
}

#[test]
fn a_done_that_comes_while_the_responder_still_has_something_to_send_moves_no_checkpoint() {
    let all = two_laptops_apart();
    let peer = |x: &Hub, y: &Hub| {
        x.store
            .peer(device_id(&y.store))
            .unwrap()
            .map(|p| p.recv_through)
    };
    let before = peer(&all[1], &all[0]);
    let (mut sa, mut sb) = sessions(&all[0], &all[1], tiny(1, 1 << 20)).unwrap();
    let mut to_b = sa.start().unwrap();
    // Run until the responder says it has more, then end the session anyway, as a peer
    // that miscounted would.
    loop {
        let m = to_b.pop().expect("the responder said `more` at some point");
        let replies = sb.handle(m).unwrap();
        if replies
            .iter()
            .any(|r| matches!(r, Msg::Round(r) if r.more && r.phase == Some(hubdesk::sync::wire::Phase::Docs)))
        {
            break;
        }
        for r in replies {
            to_b.extend(sa.handle(r).unwrap());
        }
    }
    let through = all[0].store.feed_position().unwrap();
    let err = sb.handle(Msg::Done { through }).unwrap_err();
    assert!(
        err.to_string()
            .contains("before this one had sent everything"),
        "{err}"
    );
    assert_eq!(
        peer(&all[1], &all[0]),
        before,
        "the responder's checkpoint did not move"
    );
    drop((sa, sb));
    one_session_moves_everything(all, tiny(1, 1 << 20), true);
}
