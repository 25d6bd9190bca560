//! Pure types and rules of the drop-in hub: members, hub days, roles, codes, names.
//!
//! Nothing here touches SQLite, Automerge, the clock or files. Time, ids and the acting user
//! are passed in, so every rule can be tested with plain values.

pub mod age;
pub mod agreement;
pub mod birth;
pub mod code;
pub mod conversation;
pub mod ids;
pub mod instruments;
pub mod lockout;
pub mod member;
pub mod names;
pub mod plan;
pub mod roles;
pub mod safeguarding;
pub mod team;

pub use age::BirthMonth;
pub use code::MemberCode;
pub use ids::*;
pub use roles::{Permission, Role, RoleSet};

use std::fmt;

/// Input that a person typed was not acceptable. `reason` is written for a person at a front
/// desk and completes the sentence "<field> <reason>".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct ValidationError {
    pub field: &'static str,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }

    pub fn message(&self) -> String {
        let mut s = self.reason.clone();
        if let Some(first) = s.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        if !s.ends_with('.') {
            s.push('.');
        }
        s
    }
}

/// What a member came for, and the kinds of activity a hub offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivityKind {
    Group,
    WellbeingProject,
    Collaboration,
    OneToOne,
    Space,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 5] = [
        Self::Group,
        Self::WellbeingProject,
        Self::Collaboration,
        Self::OneToOne,
        Self::Space,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::WellbeingProject => "wellbeing-project",
            Self::Collaboration => "collaboration",
            Self::OneToOne => "one-to-one",
            Self::Space => "space",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim()).ok_or_else(|| {
            ValidationError::new(
                "kind",
                "the kind of activity must be one of group, wellbeing-project, collaboration, one-to-one or space",
            )
        })
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// People who come in without becoming members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContactKind {
    Parent,
    Visitor,
    Professional,
}

impl ContactKind {
    pub const ALL: [ContactKind; 3] = [Self::Parent, Self::Visitor, Self::Professional];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parent => "parent",
            Self::Visitor => "visitor",
            Self::Professional => "professional",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                ValidationError::new("kind", "a contact is a parent, a visitor or a professional")
            })
    }
}

impl fmt::Display for ContactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
