//! The sync protocol's messages and how they are framed on a byte stream.
//!
//! A message is postcard-encoded and cut into frames: a 4-byte big-endian length, then a flag
//! byte (1 = the message's last frame) and the bytes. A frame may not be longer than
//! [`Limits::max_frame`] and a message not longer than [`Limits::max_message`]; anything
//! else ends the session with [`SyncError::Malformed`]. Nothing here does IO.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::SyncError;

/// Bumped when a peer of an older version could misunderstand a message.
pub const PROTOCOL_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame payload, flag byte included.
    pub max_frame: usize,
    /// Largest message once its frames are joined.
    pub max_message: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame: 1 << 20,
            max_message: 256 << 20,
        }
    }
}

/// Everything two laptops say to each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Msg {
    Hello(Hello),
    Round(Round),
    /// The initiator holds everything the responder offered; both may advance checkpoints.
    /// `through`: the sender's feed position the receiver now holds everything up to
    /// (past the feed it sent, when all it wrote since came from this session).
    Done {
        through: i64,
    },
    /// The responder has advanced its checkpoint too; `through` as for Done.
    DoneAck {
        through: i64,
    },
    Refused(Refusal),
    /// Pairing, on a connection from a laptop that is not yet a device of the organisation.
    PairStart(PairStart),
    PairSpake(Vec<u8>),
    /// HMAC over both certificates with the key SPAKE2 agreed: proof of the same code.
    PairConfirm(Vec<u8>),
    PairWelcome(PairWelcome),
    /// Sent instead of a hello to a laptop that was removed from the organisation: the
    /// organisation's record (saved whole; it holds no member's data), so the removed laptop
    /// can see its own revocation there rather than take anyone's word for it. A refusal
    /// follows. Last, so the variants before it keep their numbers on the wire.
    Revoked(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub org: Uuid,
    pub device: Uuid,
    /// The sender holds everything the receiver's feed had up to here.
    pub have_through: i64,
    /// The initiator asks for a digest comparison this session.
    pub digest: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// The organisation's document only: devices, revocations, tombstones.
    Org,
    /// Everything else.
    Docs,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Round {
    pub phase: Option<Phase>,
    /// The sender's change feed (first Docs round only).
    pub feed: Option<Feed>,
    /// Digest buckets: the initiator's first Docs round carries all of them; the responder
    /// answers with the buckets that differ.
    pub digest: Option<Vec<[u8; 8]>>,
    pub digest_mismatch: Option<Vec<u16>>,
    /// Feed entries for every document in the differing digest buckets.
    pub digest_entries: Vec<WireEntry>,
    pub docs: Vec<DocMsg>,
    /// The sender still has something queued that did not fit in this round's budget
    /// (changes, whole records, asks, heads or Automerge sync messages). The initiator ends
    /// the session only after a round in which neither side says `more` and it has nothing
    /// left to send, so a sender must never say false while anything is queued.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feed {
    /// The sender's feed position the entries run to.
    pub through: i64,
    pub entries: Vec<WireEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireEntry {
    pub id: Uuid,
    pub kind: u8,
    pub heads: [u8; 16],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocMsg {
    pub id: Uuid,
    pub kind: u8,
    pub body: DocBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DocBody {
    /// An Automerge sync message.
    Sync(Vec<u8>),
    /// The receiver has none of this document: send it whole (smaller and one round).
    Want,
    /// The whole document, as Automerge saves it.
    Whole(Vec<u8>),
    /// The sender's heads of a document the receiver announced as changed. If the receiver
    /// knows them all, it answers with `Changes`; if not, both changed it and they fall
    /// back to Automerge sync.
    Heads(Vec<[u8; 32]>),
    /// Every change the receiver lacks (saved after the heads it sent).
    Changes(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefusalReason {
    NotPaired,
    Revoked,
    OtherOrganisation,
    ProtocolVersion,
    WrongCode,
    NoPairingCode,
    Busy,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    pub reason: RefusalReason,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairStart {
    pub protocol: u32,
    pub device: Uuid,
    pub device_name: String,
    pub spake: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairWelcome {
    pub org: Uuid,
    pub org_key: [u8; 32],
    /// The member-code tag given to the new laptop.
    pub tag: u32,
    /// The device that paired us.
    pub by_device: Uuid,
}

/// Encodes a message as one or more frames.
pub fn encode(msg: &Msg, limits: &Limits) -> Result<Vec<Vec<u8>>, SyncError> {
    let bytes =
        postcard::to_allocvec(msg).map_err(|e| SyncError::Malformed(format!("encode: {e}")))?;
    if bytes.len() > limits.max_message {
        return Err(SyncError::Malformed(format!(
            "a message of {} bytes is larger than the {} allowed",
            bytes.len(),
            limits.max_message
        )));
    }
    let chunk = limits.max_frame.saturating_sub(1).max(1);
    let pieces: Vec<&[u8]> = if bytes.is_empty() {
        vec![&[]]
    } else {
        bytes.chunks(chunk).collect()
    };
    let last = pieces.len() - 1;
    Ok(pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let mut frame = Vec::with_capacity(piece.len() + 5);
            frame.extend_from_slice(&((piece.len() + 1) as u32).to_be_bytes());
            frame.push(u8::from(i == last));
            frame.extend_from_slice(piece);
            frame
        })
        .collect())
}

/// Joins frames back into messages. Feed it frame payloads (after the length prefix).
#[derive(Debug, Default)]
pub struct Assembler {
    partial: Vec<u8>,
}

impl Assembler {
    /// Checks a frame's declared length before its bytes are read.
    pub fn check_length(len: u32, limits: &Limits) -> Result<usize, SyncError> {
        let len = len as usize;
        if len == 0 || len > limits.max_frame {
            return Err(SyncError::Malformed(format!(
                "a frame of {len} bytes (allowed 1 to {})",
                limits.max_frame
            )));
        }
        Ok(len)
    }

    /// Adds one frame's payload; returns the message when it was the last frame.
    pub fn push(&mut self, payload: &[u8], limits: &Limits) -> Result<Option<Msg>, SyncError> {
        let (&flag, bytes) = payload
            .split_first()
            .ok_or_else(|| SyncError::Malformed("an empty frame".into()))?;
        if flag > 1 {
            return Err(SyncError::Malformed("a frame with an unknown flag".into()));
        }
        if self.partial.len() + bytes.len() > limits.max_message {
            return Err(SyncError::Malformed(format!(
                "a message larger than the {} bytes allowed",
                limits.max_message
            )));
        }
        self.partial.extend_from_slice(bytes);
        if flag == 0 {
            return Ok(None);
        }
        let whole = std::mem::take(&mut self.partial);
        postcard::from_bytes(&whole)
            .map(Some)
            .map_err(|e| SyncError::Malformed(format!("a message that does not decode: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(frames: &[Vec<u8>], limits: &Limits) -> Result<Vec<Msg>, SyncError> {
        let mut a = Assembler::default();
        let mut out = Vec::new();
        for f in frames {
            let len = u32::from_be_bytes(f[..4].try_into().unwrap());
            let n = Assembler::check_length(len, limits)?;
            assert_eq!(n, f.len() - 4);
            out.extend(a.push(&f[4..], limits)?);
        }
        Ok(out)
    }

    #[test]
    fn a_message_larger_than_a_frame_is_split_and_joined() {
        let limits = Limits {
            max_frame: 64,
            max_message: 1 << 20,
        };
        let msg = Msg::Round(Round {
            docs: vec![DocMsg {
                id: Uuid::now_v7(),
                kind: 2,
                body: DocBody::Whole(vec![7; 5000]),
            }],
            ..Round::default()
        });
        let frames = encode(&msg, &limits).unwrap();
        assert!(frames.len() > 50);
        assert_eq!(decode_all(&frames, &limits).unwrap(), vec![msg]);
    }

    #[test]
    fn oversized_frames_and_messages_are_refused() {
        let limits = Limits {
            max_frame: 64,
            max_message: 1000,
        };
        assert!(Assembler::check_length(65, &limits).is_err());
        assert!(Assembler::check_length(0, &limits).is_err());
        let big = Msg::PairSpake(vec![0; 2000]);
        assert!(encode(&big, &limits).is_err());
        let mut a = Assembler::default();
        let mut err = None;
        for _ in 0..20 {
            let mut frame = vec![0u8];
            frame.extend([1u8; 63]);
            if let Err(e) = a.push(&frame, &limits) {
                err = Some(e);
                break;
            }
        }
        assert!(matches!(err, Some(SyncError::Malformed(_))));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let limits = Limits::default();
        let mut a = Assembler::default();
        assert!(a.push(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f], &limits).is_err());
        assert!(a.push(&[9, 1, 2], &limits).is_err());
        assert!(a.push(&[], &limits).is_err());
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let limits = Limits::default();
            let mut a = Assembler::default();
            let mut with_flag = vec![1u8];
            with_flag.extend(&bytes);
            let _ = a.push(&with_flag, &limits);
            let _ = a.push(&bytes, &limits);
        }
    }
}
