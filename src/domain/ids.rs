//! Identifiers: UUIDv7 newtypes, one per kind of thing, so a VisitId can never be passed
//! where a MemberId is meant. New ids are made by the caller (service/), never here.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! new_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

new_id!(/// A young person who is a member.
    MemberId);
new_id!(/// One attendance of a member at a hub day.
    VisitId);
new_id!(/// Someone who logs into the app.
    UserId);
new_id!(/// A laptop.
    DeviceId);
new_id!(/// A hub (a place that holds drop-in days).
    HubId);
new_id!(/// An activity in the catalogue.
    ActivityId);
new_id!(/// A hub day. Derived from hub and date, see [`HubDayId::for_hub_and_date`].
    HubDayId);
new_id!(/// A parent, visitor or professional who is not a member.
    ContactId);
new_id!(/// The organisation.
    OrgId);
new_id!(/// One entry of the anonymous headcount.
    HeadcountId);
new_id!(/// A strength-based conversation with a member.
    ConversationId);
new_id!(/// A navigator's or volunteer's shift at a hub.
    ShiftId);
new_id!(/// A course a user completed.
    TrainingId);
new_id!(/// A spell in which a user was a member, peer navigator or volunteer.
    RoleSpellId);
new_id!(/// One step a member is taking, in their self-care plan.
    PlanStepId);
new_id!(/// A safeguarding concern raised about a member.
    ConcernId);
new_id!(/// One action or decision staff recorded on a safeguarding concern.
    ConcernActionId);
new_id!(/// An outcome check-in: one instrument's answers from a member at one time.
    CheckInId);

/// Namespace for ids that are derived rather than random. Do not change: derived ids must be
/// the same on every laptop forever.
const DERIVED_NAMESPACE: Uuid = Uuid::from_u128(0x6875_6264_6573_6b00_9a1c_2f0e_5b7d_4c31);

impl HubDayId {
    /// Two laptops that open the same hub on the same date offline must end up with one day
    /// after they sync, so the id is a function of hub and date.
    pub fn for_hub_and_date(hub: HubId, date: chrono::NaiveDate) -> Self {
        let name = format!("hubday:{}:{}", hub, date.format("%Y-%m-%d"));
        Self(Uuid::new_v5(&DERIVED_NAMESPACE, name.as_bytes()))
    }
}

/// The id of a member record's safeguarding document (at most one per record). Two laptops
/// that each raise the first concern about a member while apart must end up with one
/// document after they sync, so the id is a function of the member record's id.
pub fn safeguarding_doc_id(member: uuid::Uuid) -> Uuid {
    let name = format!("safeguarding:{member}");
    Uuid::new_v5(&DERIVED_NAMESPACE, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn the_same_hub_and_date_always_give_the_same_day_id() {
        let hub = HubId::new();
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(
            HubDayId::for_hub_and_date(hub, d),
            HubDayId::for_hub_and_date(hub, d)
        );
        assert_ne!(
            HubDayId::for_hub_and_date(hub, d),
            HubDayId::for_hub_and_date(hub, d.succ_opt().unwrap())
        );
        assert_ne!(
            HubDayId::for_hub_and_date(hub, d),
            HubDayId::for_hub_and_date(HubId::new(), d)
        );
    }

    #[test]
    fn a_members_safeguarding_document_has_one_id_everywhere_and_none_other_shares_it() {
        let m = MemberId::new();
        assert_eq!(safeguarding_doc_id(m.0), safeguarding_doc_id(m.0));
        assert_ne!(
            safeguarding_doc_id(m.0),
            safeguarding_doc_id(MemberId::new().0)
        );
        assert_ne!(safeguarding_doc_id(m.0), m.0);
    }
}
