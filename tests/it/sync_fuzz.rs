//! Whatever another laptop sends, a session never panics and never half-writes: arbitrary
//! messages (made from the wire types, often with real ids and real record bytes), and real
//! captured sessions with bytes flipped and messages dropped, repeated or reordered, decoded
//! through the real framing. After each case the store passes SQLite's integrity check, its
//! tables equal a rebuild from its documents, and its cached documents equal the stored ones;
//! a message that ends the session in an error has written nothing.
//!
//! Each case starts from a copy of one prepared pair of laptops on disk, so a case costs a
//! file copy rather than setting up an organisation.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hubdesk::service::{self, OpenDay, ProfileEdit};
use hubdesk::store::Store;
use hubdesk::sync::session::{Options, Role, Session};
use hubdesk::sync::wire::{
    self, Assembler, DocBody, DocMsg, Feed, Hello, Limits, Msg, PROTOCOL_VERSION, PairStart,
    PairWelcome, Phase, Refusal, RefusalReason, Round, WireEntry,
};
use hubdesk::sync::{self as hsync};
use proptest::prelude::*;
use uuid::Uuid;

use crate::support::{Hub, t0};
use crate::sync::{device_id, sync_pair};
use crate::sync_rounds::tiny;

/// Which laptop a message went to in the captured session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    /// The initiator (laptop A).
    A,
    /// The responder (laptop B).
    B,
}

struct Prepared {
    _dir: tempfile::TempDir,
    a: PathBuf,
    b: PathBuf,
    a_id: Uuid,
    b_id: Uuid,
    org: Uuid,
    /// Every record either laptop holds.
    ids: Vec<Uuid>,
    /// A complete session between them with small rounds, in order.
    captured: Vec<(To, Msg)>,
    /// Every record message of that session.
    docs: Vec<DocMsg>,
}

fn options() -> Options {
    tiny(2, 400)
}

fn open(dir: &Path) -> Hub {
    Hub {
        store: Store::open(dir).unwrap(),
        clock: service::ManualClock::new(t0()),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Two laptops that shared some members, then each registered, edited and signed people in
/// apart, one record edited on both; and one session between them, captured.
fn prepared() -> &'static Prepared {
    static PREPARED: OnceLock<Prepared> = OnceLock::new();
    PREPARED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
        let (a_id, b_id, org) = {
            let a = Hub::set_up(Store::open(&a_dir).unwrap());
            let b = open(&b_dir);
            hsync::pair_locally(&a.store, &b.store, t0(), "laptop 2").unwrap();
            sync_pair(&b, &a).unwrap();
            let (ca, cb) = (a.manager(), b.manager());
            service::open_day(&ca, OpenDay::default()).unwrap();
            let shared: Vec<String> = (0..4)
                .map(|i| a.register(&ca, &format!("Shared {i}"), "2010-05").code)
                .collect();
            sync_pair(&b, &a).unwrap();
            let edit = |ctx: &service::Ctx<'_>, code: &str, p: &str| {
                service::update_member(
                    ctx,
                    code,
                    ProfileEdit {
                        pronouns: Some(p.into()),
                        ..Default::default()
                    },
                )
                .unwrap();
            };
            for i in 0..2 {
                a.register(&ca, &format!("Only A {i}"), "2009-01");
                b.register(&cb, &format!("Only B {i}"), "2009-02");
            }
            edit(&ca, &shared[0], "she/her");
            service::sign_in_member(&ca, &shared[0], &[]).unwrap();
            edit(&cb, &shared[1], "he/him");
            service::sign_in_member(&cb, &shared[1], &[]).unwrap();
            edit(&ca, &shared[2], "they/them");
            edit(&cb, &shared[2], "she/they");
            let org = a.store.local_device().unwrap().unwrap().org_id;
            (device_id(&a.store), device_id(&b.store), org)
        };
        // Capture a session on copies, so the prepared pair stays as it was before it.
        let captured = {
            let (ca, cb) = (dir.path().join("ca"), dir.path().join("cb"));
            copy_dir(&a_dir, &ca);
            copy_dir(&b_dir, &cb);
            let (a, b) = (open(&ca), open(&cb));
            let mut sa = Session::new(&a.store, t0(), Role::Initiator, b_id, options()).unwrap();
            let mut sb = Session::new(&b.store, t0(), Role::Responder, a_id, options()).unwrap();
            let mut captured = Vec::new();
            let mut to_b = sa.start().unwrap();
            while let Some(m) = to_b.pop() {
                captured.push((To::B, m.clone()));
                for reply in sb.handle(m).unwrap() {
                    captured.push((To::A, reply.clone()));
                    to_b.extend(sa.handle(reply).unwrap());
                }
            }
            assert!(sa.is_finished() && sb.is_finished());
            captured
        };
        let docs: Vec<DocMsg> = captured
            .iter()
            .filter_map(|(_, m)| match m {
                Msg::Round(r) => Some(r.docs.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let mut ids: Vec<Uuid> = {
            let (a, b) = (open(&a_dir), open(&b_dir));
            let mut ids: Vec<Uuid> = a.store.all_heads().unwrap().iter().map(|e| e.id).collect();
            ids.extend(b.store.all_heads().unwrap().iter().map(|e| e.id));
            ids
        };
        ids.sort();
        ids.dedup();
        assert!(
            docs.iter().any(|d| matches!(d.body, DocBody::Changes(_)))
                && docs.iter().any(|d| matches!(d.body, DocBody::Whole(_)))
                && docs.iter().any(|d| matches!(d.body, DocBody::Sync(_)))
                && docs.iter().any(|d| matches!(d.body, DocBody::Heads(_)))
                && docs.iter().any(|d| matches!(d.body, DocBody::Want)),
            "the captured session has every kind of record message"
        );
        Prepared {
            a: a_dir,
            b: b_dir,
            _dir: dir,
            a_id,
            b_id,
            org,
            ids,
            captured,
            docs,
        }
    })
}

/// A fresh copy of the prepared pair; the receiving laptop of `to`, and its session.
struct Case {
    _dir: tempfile::TempDir,
    hub: Hub,
}

impl Case {
    fn new(to: To) -> Case {
        let p = prepared();
        let dir = tempfile::tempdir().unwrap();
        let from = match to {
            To::A => &p.a,
            To::B => &p.b,
        };
        copy_dir(from, dir.path());
        let hub = open(dir.path());
        Case { _dir: dir, hub }
    }

    fn session(&self, to: To) -> Session<'_> {
        let p = prepared();
        let (role, peer) = match to {
            To::A => (Role::Initiator, p.b_id),
            To::B => (Role::Responder, p.a_id),
        };
        Session::new(&self.hub.store, t0(), role, peer, options()).unwrap()
    }
}

/// Every record's heads, the feed position and every table row.
type Fingerprint = (Vec<(Uuid, [u8; 16])>, i64, Vec<String>);

/// What the tables, the records and the feed hold: an error must leave it as it was.
fn fingerprint(store: &Store) -> Fingerprint {
    let mut heads: Vec<_> = store
        .all_heads()
        .unwrap()
        .into_iter()
        .map(|e| (e.id, e.heads))
        .collect();
    heads.sort();
    (
        heads,
        store.feed_position().unwrap(),
        store.projection_dump().unwrap(),
    )
}

/// The store is sound: SQLite's integrity check passes, every cached record equals the
/// stored one, and the tables equal a rebuild from the records.
fn assert_sound(store: &Store) {
    assert_eq!(store.integrity_check().unwrap(), "ok");
    for e in store.all_heads().unwrap() {
        let mut stored = store.doc_head_list(e.id).unwrap().unwrap();
        let mut seen: Vec<[u8; 32]> = store
            .with_doc_mut(e.id, |d| d.get_heads().iter().map(|h| h.0).collect())
            .unwrap()
            .unwrap();
        stored.sort();
        seen.sort();
        assert_eq!(seen, stored, "record {} as cached equals as stored", e.id);
    }
    let dump = store.projection_dump().unwrap();
    store.rebuild_all().unwrap();
    assert_eq!(
        store.projection_dump().unwrap(),
        dump,
        "the tables equal a rebuild"
    );
}

/// Feeds `msgs` to the session until one is refused; checks that the refused one wrote
/// nothing and that the error is a sentence for a person, not a panic.
fn feed(session: &mut Session<'_>, store: &Store, msgs: Vec<Msg>) {
    for m in msgs {
        let refusal = matches!(m, Msg::Refused(_));
        let before = fingerprint(store);
        if let Err(e) = session.handle(m) {
            assert!(!e.to_string().is_empty());
            // A refusal from the peer may mark this laptop removed; nothing else writes.
            if !refusal {
                assert_eq!(
                    fingerprint(store),
                    before,
                    "a refused message wrote nothing: {e}"
                );
            }
            return;
        }
    }
}

// ---- arbitrary messages ------------------------------------------------------------------

/// A record id: one of the prepared pair's (or its organisation's, or a laptop's), or any.
#[derive(Debug, Clone)]
enum Id {
    Known(usize),
    Org,
    Device(bool),
    Any(u128),
}

#[derive(Debug, Clone)]
enum Body {
    Sync(Vec<u8>),
    Want,
    Whole(Vec<u8>),
    Heads(Vec<[u8; 32]>),
    Changes(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Doc {
    /// A record message of the captured session, perhaps about another record, of another
    /// kind, or with a byte changed.
    Captured {
        index: usize,
        id: Option<Id>,
        kind: Option<u8>,
        flip: Option<(usize, u8)>,
    },
    Made {
        id: Id,
        kind: u8,
        body: Body,
    },
}

/// A feed line: which record, its kind, its heads hash.
type Entry = (Id, u8, [u8; 16]);

#[derive(Debug, Clone)]
enum Arb {
    Hello {
        protocol_ok: bool,
        org_ok: bool,
        device_ok: bool,
        have_through: i64,
        digest: bool,
    },
    Round {
        phase: Option<Phase>,
        feed: Option<(i64, Vec<Entry>)>,
        digest: Option<Vec<[u8; 8]>>,
        full_digest: bool,
        mismatch: Option<Vec<u16>>,
        entries: Vec<Entry>,
        docs: Vec<Doc>,
        more: bool,
    },
    Done(i64),
    DoneAck(i64),
    Refused(u8, String),
    Pair(u8, Vec<u8>),
}

fn id() -> impl Strategy<Value = Id> {
    prop_oneof![
        4 => any::<usize>().prop_map(Id::Known),
        1 => Just(Id::Org),
        1 => any::<bool>().prop_map(Id::Device),
        1 => any::<u128>().prop_map(Id::Any),
    ]
}

fn kind() -> impl Strategy<Value = u8> {
    prop_oneof![4 => 0..8u8, 1 => any::<u8>()]
}

fn through() -> impl Strategy<Value = i64> {
    prop_oneof![4 => -2..80i64, 1 => any::<i64>()]
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..96)
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        bytes().prop_map(Body::Sync),
        Just(Body::Want),
        bytes().prop_map(Body::Whole),
        proptest::collection::vec(any::<[u8; 32]>(), 0..4).prop_map(Body::Heads),
        bytes().prop_map(Body::Changes),
    ]
}

fn doc() -> impl Strategy<Value = Doc> {
    prop_oneof![
        3 => (
            any::<usize>(),
            proptest::option::weighted(0.2, id()),
            proptest::option::weighted(0.2, kind()),
            proptest::option::weighted(0.3, (any::<usize>(), 1..=255u8)),
        )
            .prop_map(|(index, id, kind, flip)| Doc::Captured { index, id, kind, flip }),
        1 => (id(), kind(), body()).prop_map(|(id, kind, body)| Doc::Made { id, kind, body }),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    (id(), kind(), any::<[u8; 16]>())
}

fn arb() -> impl Strategy<Value = Arb> {
    let phase = proptest::option::weighted(0.9, prop_oneof![Just(Phase::Org), Just(Phase::Docs)]);
    prop_oneof![
        1 => (any::<bool>(), any::<bool>(), any::<bool>(), through(), any::<bool>()).prop_map(
            |(p, o, d, have_through, digest)| Arb::Hello {
                protocol_ok: p || o,
                org_ok: o || d,
                device_ok: d || p,
                have_through,
                digest,
            }
        ),
        6 => (
            phase,
            proptest::option::of((through(), proptest::collection::vec(entry(), 0..4))),
            proptest::option::weighted(0.2, proptest::collection::vec(any::<[u8; 8]>(), 0..3)),
            any::<bool>(),
            proptest::option::weighted(0.2, proptest::collection::vec(any::<u16>(), 0..4)),
            proptest::collection::vec(entry(), 0..3),
            proptest::collection::vec(doc(), 0..5),
            any::<bool>(),
        )
            .prop_map(|(phase, feed, digest, full_digest, mismatch, entries, docs, more)| {
                Arb::Round { phase, feed, digest, full_digest, mismatch, entries, docs, more }
            }),
        1 => through().prop_map(Arb::Done),
        1 => through().prop_map(Arb::DoneAck),
        1 => (0..8u8, "[a-z ]{0,20}").prop_map(|(r, m)| Arb::Refused(r, m)),
        1 => (0..5u8, bytes()).prop_map(|(k, b)| Arb::Pair(k, b)),
    ]
}

fn resolve_id(i: &Id) -> Uuid {
    let p = prepared();
    match i {
        Id::Known(n) => p.ids[n % p.ids.len()],
        Id::Org => p.org,
        Id::Device(a) => {
            if *a {
                p.a_id
            } else {
                p.b_id
            }
        }
        Id::Any(n) => Uuid::from_u128(*n),
    }
}

fn flip(bytes: &mut [u8], at: usize, by: u8) {
    if !bytes.is_empty() {
        let n = bytes.len();
        bytes[at % n] ^= by;
    }
}

fn resolve_doc(d: &Doc) -> DocMsg {
    let p = prepared();
    match d {
        Doc::Captured {
            index,
            id,
            kind,
            flip: f,
        } => {
            let mut m = p.docs[index % p.docs.len()].clone();
            if let Some(i) = id {
                m.id = resolve_id(i);
            }
            if let Some(k) = kind {
                m.kind = *k;
            }
            if let Some((at, by)) = f {
                match &mut m.body {
                    DocBody::Sync(b) | DocBody::Whole(b) | DocBody::Changes(b) => flip(b, *at, *by),
                    DocBody::Heads(h) => {
                        if let Some(first) = h.first_mut() {
                            flip(first, *at, *by);
                        }
                    }
                    DocBody::Want => {}
                }
            }
            m
        }
        Doc::Made { id, kind, body } => DocMsg {
            id: resolve_id(id),
            kind: *kind,
            body: match body.clone() {
                Body::Sync(b) => DocBody::Sync(b),
                Body::Want => DocBody::Want,
                Body::Whole(b) => DocBody::Whole(b),
                Body::Heads(h) => DocBody::Heads(h),
                Body::Changes(b) => DocBody::Changes(b),
            },
        },
    }
}

fn resolve_entry((i, kind, heads): &Entry) -> WireEntry {
    WireEntry {
        id: resolve_id(i),
        kind: *kind,
        heads: *heads,
    }
}

/// The message `arb` stands for, sent to the laptop `to` by the other one.
fn resolve(arb: &Arb, to: To) -> Msg {
    let p = prepared();
    let sender = match to {
        To::A => p.b_id,
        To::B => p.a_id,
    };
    match arb {
        Arb::Hello {
            protocol_ok,
            org_ok,
            device_ok,
            have_through,
            digest,
        } => Msg::Hello(Hello {
            protocol: if *protocol_ok {
                PROTOCOL_VERSION
            } else {
                PROTOCOL_VERSION + 1
            },
            org: if *org_ok { p.org } else { Uuid::from_u128(7) },
            device: if *device_ok {
                sender
            } else {
                Uuid::from_u128(8)
            },
            have_through: *have_through,
            digest: *digest,
        }),
        Arb::Round {
            phase,
            feed,
            digest,
            full_digest,
            mismatch,
            entries,
            docs,
            more,
        } => Msg::Round(Round {
            phase: *phase,
            feed: feed.as_ref().map(|(through, entries)| Feed {
                through: *through,
                entries: entries.iter().map(resolve_entry).collect(),
            }),
            digest: digest.as_ref().map(|d| {
                if *full_digest {
                    let mut all = vec![[0u8; 8]; hsync::DIGEST_BUCKETS];
                    for (i, b) in d.iter().enumerate() {
                        all[i * 97 % hsync::DIGEST_BUCKETS] = *b;
                    }
                    all
                } else {
                    d.clone()
                }
            }),
            digest_mismatch: mismatch.clone(),
            digest_entries: entries.iter().map(resolve_entry).collect(),
            docs: docs.iter().map(resolve_doc).collect(),
            more: *more,
        }),
        Arb::Done(t) => Msg::Done { through: *t },
        Arb::DoneAck(t) => Msg::DoneAck { through: *t },
        Arb::Refused(r, message) => Msg::Refused(Refusal {
            reason: [
                RefusalReason::NotPaired,
                RefusalReason::Revoked,
                RefusalReason::OtherOrganisation,
                RefusalReason::ProtocolVersion,
                RefusalReason::WrongCode,
                RefusalReason::NoPairingCode,
                RefusalReason::Busy,
                RefusalReason::Error,
            ][usize::from(*r % 8)],
            message: message.clone(),
        }),
        Arb::Pair(k, b) => match k % 5 {
            // A removal notice whose "organisation record" is anything at all.
            4 => Msg::Revoked(b.clone()),
            0 => Msg::PairStart(PairStart {
                protocol: PROTOCOL_VERSION,
                device: sender,
                device_name: "x".into(),
                spake: b.clone(),
            }),
            1 => Msg::PairSpake(b.clone()),
            2 => Msg::PairConfirm(b.clone()),
            _ => Msg::PairWelcome(PairWelcome {
                org: p.org,
                org_key: [1; 32],
                tag: 9,
                by_device: sender,
            }),
        },
    }
}

/// The captured messages that went to `to`, in order.
fn captured_to(to: To) -> Vec<Msg> {
    prepared()
        .captured
        .iter()
        .filter(|(t, _)| *t == to)
        .map(|(_, m)| m.clone())
        .collect()
}

fn side() -> impl Strategy<Value = To> {
    prop_oneof![Just(To::A), Just(To::B)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::support::cases(96), ..ProptestConfig::default() })]

    /// A real session's first `prefix` messages (to reach every stage), then anything.
    #[test]
    fn arbitrary_messages_never_panic_nor_half_write(
        to in side(),
        prefix in 0..12usize,
        tail in proptest::collection::vec(arb(), 1..6),
    ) {
        let case = Case::new(to);
        let mut session = case.session(to);
        let mut msgs: Vec<Msg> = captured_to(to).into_iter().take(prefix).collect();
        msgs.extend(tail.iter().map(|a| resolve(a, to)));
        if to == To::A {
            session.start().unwrap();
        }
        feed(&mut session, &case.hub.store, msgs);
        drop(session);
        assert_sound(&case.hub.store);
    }
}

// ---- captured sessions, changed in flight -------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    Drop(usize),
    Repeat(usize),
    Swap(usize),
    /// Flip bits of one byte of the framed stream (length prefixes and flags included).
    Flip(usize, u8),
    /// Cut the stream short.
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<usize>().prop_map(Mutation::Drop),
        1 => any::<usize>().prop_map(Mutation::Repeat),
        1 => any::<usize>().prop_map(Mutation::Swap),
        3 => (any::<usize>(), 1..=255u8).prop_map(|(at, by)| Mutation::Flip(at, by)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Small frames, so a message spans several and flips hit lengths and flags too.
fn limits() -> Limits {
    Limits {
        max_frame: 200,
        ..Limits::default()
    }
}

/// The messages a transport would hand the session after `mutations`: message-level changes
/// first, then byte-level ones on the framed stream, which is read back as the network
/// reader does (a length, then that many bytes, joined into messages) until it fails.
fn mutated(mut msgs: Vec<Msg>, mutations: &[Mutation]) -> Vec<Msg> {
    for m in mutations {
        let n = msgs.len();
        if n == 0 {
            break;
        }
        match *m {
            Mutation::Drop(i) => {
                msgs.remove(i % n);
            }
            Mutation::Repeat(i) => {
                let copy = msgs[i % n].clone();
                msgs.insert(i % n, copy);
            }
            Mutation::Swap(i) => msgs.swap(i % n, (i + 1) % n),
            Mutation::Flip(..) | Mutation::Truncate(_) => {}
        }
    }
    let limits = limits();
    let mut stream: Vec<u8> = msgs
        .iter()
        .flat_map(|m| wire::encode(m, &limits).unwrap())
        .flatten()
        .collect();
    for m in mutations {
        match *m {
            Mutation::Flip(at, by) => flip(&mut stream, at, by),
            Mutation::Truncate(at) => stream.truncate(at % (stream.len() + 1)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut assembler = Assembler::default();
    let mut rest = &stream[..];
    while rest.len() >= 4 {
        let (len, tail) = rest.split_at(4);
        let Ok(n) = Assembler::check_length(
            u32::from_be_bytes([len[0], len[1], len[2], len[3]]),
            &limits,
        ) else {
            break;
        };
        if tail.len() < n {
            break;
        }
        let (payload, tail) = tail.split_at(n);
        match assembler.push(payload, &limits) {
            Ok(Some(m)) => out.push(m),
            Ok(None) => {}
            Err(_) => break,
        }
        rest = tail;
    }
    out
}

#[test]
fn a_captured_session_replayed_unchanged_to_either_laptop_finishes() {
    for to in [To::A, To::B] {
        let case = Case::new(to);
        let mut session = case.session(to);
        if to == To::A {
            session.start().unwrap();
        }
        let msgs = mutated(captured_to(to), &[]);
        assert_eq!(
            msgs,
            captured_to(to),
            "the framing gives back what it was given"
        );
        feed(&mut session, &case.hub.store, msgs);
        assert!(
            session.is_finished(),
            "{to:?} finished the replayed session"
        );
        drop(session);
        assert_sound(&case.hub.store);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::support::cases(96), ..ProptestConfig::default() })]

    #[test]
    fn a_captured_session_changed_in_flight_never_panics_nor_half_writes(
        to in side(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let case = Case::new(to);
        let mut session = case.session(to);
        if to == To::A {
            session.start().unwrap();
        }
        feed(&mut session, &case.hub.store, mutated(captured_to(to), &mutations));
        drop(session);
        assert_sound(&case.hub.store);
    }
}
