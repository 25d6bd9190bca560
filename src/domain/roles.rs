//! Roles and what each may do: the matrix of DESIGN.md section 4, as code. service/ checks
//! every operation against it; the UI only mirrors it.

use std::fmt;

use super::ValidationError;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Desk,
    Navigator,
    Staff,
    Manager,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Desk, Role::Navigator, Role::Staff, Role::Manager];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Desk => "desk",
            Role::Navigator => "navigator",
            Role::Staff => "staff",
            Role::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(
                    "role",
                    format!("\"{s}\" is not a role; roles are desk, navigator, staff and manager"),
                )
            })
    }

    /// Each role includes everything of the one before it (desk < navigator < staff < manager).
    fn rank(self) -> u8 {
        match self {
            Role::Desk => 0,
            Role::Navigator => 1,
            Role::Staff => 2,
            Role::Manager => 3,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that is permission-checked. One variant per row of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Open/close the day, sign in/out, headcount, contacts, who is in.
    RunTheDay,
    /// Open a past day to type in a paper register (back-entry), within the organisation's
    /// window. Staff and managers: it rewrites what a day's counts say after the fact.
    BackEnterDays,
    /// Register, find, see basics (preferred name, code, age, pronouns).
    RegisterAndFind,
    /// See legal name, emergency contact, postcode, consents.
    SeeSensitiveProfile,
    EditProfileBasics,
    /// Conversations, self-care plans, check-ins (read and write).
    SupportRecords,
    NotesPrivateToStaff,
    RaiseSafeguardingConcern,
    ReadSafeguarding,
    OwnShifts,
    /// Merge duplicates, resolve conflicts, record training.
    MergeAndResolve,
    /// See other people's shifts, training and roles (everyone sees their own). Not a row of
    /// the matrix: it goes with recording training, so staff and managers.
    TeamRecords,
    /// Subject access export, legal hold, request erasure.
    SubjectRights,
    /// Activities catalogue, instruments.
    ManageCatalogue,
    /// Users, devices, pairing, settings, retention, confirm erasure.
    Administer,
    /// Reports and exports, audit log.
    Reports,
}

impl Permission {
    pub const ALL: [Permission; 16] = [
        Self::RunTheDay,
        Self::BackEnterDays,
        Self::RegisterAndFind,
        Self::SeeSensitiveProfile,
        Self::EditProfileBasics,
        Self::SupportRecords,
        Self::NotesPrivateToStaff,
        Self::RaiseSafeguardingConcern,
        Self::ReadSafeguarding,
        Self::OwnShifts,
        Self::MergeAndResolve,
        Self::TeamRecords,
        Self::SubjectRights,
        Self::ManageCatalogue,
        Self::Administer,
        Self::Reports,
    ];

    /// The least role that holds this permission.
    fn least_role(self) -> Role {
        use Permission::*;
        match self {
            RunTheDay
            | RegisterAndFind
            | EditProfileBasics
            | RaiseSafeguardingConcern
            | OwnShifts => Role::Desk,
            SupportRecords => Role::Navigator,
            SeeSensitiveProfile | NotesPrivateToStaff | ReadSafeguarding | MergeAndResolve
            | TeamRecords | SubjectRights | ManageCatalogue | BackEnterDays => Role::Staff,
            Administer | Reports => Role::Manager,
        }
    }

    /// What a refusal says the person cannot do ("You can't <this>").
    pub fn describe(self) -> &'static str {
        use Permission::*;
        match self {
            RunTheDay => "run the hub day",
            BackEnterDays => "open a past day to type in a paper register",
            RegisterAndFind => "register or look up members",
            SeeSensitiveProfile => "see legal names, emergency contacts, postcodes or consents",
            EditProfileBasics => "edit member profiles",
            SupportRecords => "read or write conversations, self-care plans or check-ins",
            NotesPrivateToStaff => "read notes kept private to staff",
            RaiseSafeguardingConcern => "raise a safeguarding concern",
            ReadSafeguarding => "read or act on safeguarding concerns",
            OwnShifts => "start or end shifts",
            MergeAndResolve => "merge duplicates, resolve conflicts or record training",
            TeamRecords => "see other people's shifts, training or roles",
            SubjectRights => "export a member's data, place legal holds or request erasure",
            ManageCatalogue => "change the activity catalogue or instruments",
            Administer => "manage users, devices, pairing, settings or retention",
            Reports => "see reports, exports or the audit log",
        }
    }

    /// Who to ask when refused.
    pub fn who_can(self) -> &'static str {
        match self.least_role() {
            Role::Desk => "anyone with an account",
            Role::Navigator => "a peer navigator, staff member or manager",
            Role::Staff => "a staff member or manager",
            Role::Manager => "a manager",
        }
    }
}

/// The roles one user holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoleSet(Vec<Role>);

impl RoleSet {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Self {
        let mut v: Vec<Role> = roles.into_iter().collect();
        v.sort();
        v.dedup();
        Self(v)
    }

    /// Parses "desk,navigator".
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let roles = s
            .split(',')
            .filter(|r| !r.trim().is_empty())
            .map(Role::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if roles.is_empty() {
            return Err(ValidationError::new(
                "role",
                "give at least one role: desk, navigator, staff or manager",
            ));
        }
        Ok(Self::new(roles))
    }

    pub fn allows(&self, permission: Permission) -> bool {
        let need = permission.least_role().rank();
        self.0.iter().any(|r| r.rank() >= need)
    }

    pub fn roles(&self) -> &[Role] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for RoleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|r| r.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;
    use rstest::rstest;

    /// The matrix of DESIGN.md section 4, cell by cell: (desk, navigator, staff, manager).
    #[rstest]
    #[case::run_the_day(RunTheDay, [true, true, true, true])]
    #[case::back_enter_days(BackEnterDays, [false, false, true, true])]
    #[case::register_and_find(RegisterAndFind, [true, true, true, true])]
    #[case::see_sensitive_profile(SeeSensitiveProfile, [false, false, true, true])]
    #[case::edit_profile_basics(EditProfileBasics, [true, true, true, true])]
    #[case::support_records(SupportRecords, [false, true, true, true])]
    #[case::notes_private_to_staff(NotesPrivateToStaff, [false, false, true, true])]
    #[case::raise_safeguarding(RaiseSafeguardingConcern, [true, true, true, true])]
    #[case::read_safeguarding(ReadSafeguarding, [false, false, true, true])]
    #[case::own_shifts(OwnShifts, [true, true, true, true])]
    #[case::merge_and_resolve(MergeAndResolve, [false, false, true, true])]
    #[case::team_records(TeamRecords, [false, false, true, true])]
    #[case::subject_rights(SubjectRights, [false, false, true, true])]
    #[case::manage_catalogue(ManageCatalogue, [false, false, true, true])]
    #[case::administer(Administer, [false, false, false, true])]
    #[case::reports(Reports, [false, false, false, true])]
    fn each_role_holds_exactly_its_cells_of_the_matrix(
        #[case] p: Permission,
        #[case] expected: [bool; 4],
    ) {
        for (role, want) in Role::ALL.into_iter().zip(expected) {
            assert_eq!(RoleSet::new([role]).allows(p), want, "{role} / {p:?}");
        }
    }

    #[test]
    fn the_matrix_table_covers_every_permission() {
        // If a permission is added, the rstest table above must grow with it.
        assert_eq!(Permission::ALL.len(), 16);
    }

    #[test]
    fn several_roles_give_the_union() {
        let both = RoleSet::parse("desk,staff").unwrap();
        assert!(both.allows(ReadSafeguarding));
        assert!(!both.allows(Administer));
    }

    #[test]
    fn no_roles_allow_nothing() {
        let none = RoleSet::default();
        assert!(Permission::ALL.iter().all(|p| !none.allows(*p)));
    }

    #[test]
    fn unknown_roles_are_refused_with_the_list() {
        let err = RoleSet::parse("desk,admin").unwrap_err();
        assert!(err.message().contains("desk, navigator, staff and manager"));
    }
}
