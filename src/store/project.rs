//! Projections: documents flattened into plain rows for queries. Each function replaces a
//! document's rows wholesale, so projecting the same document twice, or rebuilding from
//! scratch, gives the same rows (the property test in tests/ holds this).

use automerge::AutoCommit;
use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{Result, SqlContext};
use crate::doc::{
    self, AgreementDoc, AuditDoc, AuditEntryDoc, CheckInDoc, ContactDoc, ConversationDoc, DayDoc,
    DocKind, MemberDoc, OrgDoc, ProfileDoc, SafeguardingDoc, VisitDoc,
};
use crate::domain::names::search_key;

/// Tables that hold projections, cleared by a rebuild. The FTS index is handled apart.
const PROJECTION_TABLES: &[&str] = &[
    "org",
    "agreements",
    "hubs",
    "users",
    "activities",
    "devices",
    "days",
    "members",
    "visits",
    "visit_activities",
    "withdrawn_visits",
    "contacts",
    "contact_visits",
    "tombstones",
    "conflicts",
    "member_aliases",
    "distinct_members",
    "same_person",
    "member_records",
    "conversations",
    "shifts",
    "training",
    "role_history",
    "concerns",
    "check_ins",
    "check_in_scores",
    "plan_edits",
    "audit",
    "erasure_requests",
    "holds",
    "erased_visits",
];

pub(super) fn project(conn: &Connection, kind: DocKind, id: Uuid, am: &AutoCommit) -> Result<()> {
    match kind {
        DocKind::Org => project_org(conn, id, am, &doc::read(am, kind)?),
        DocKind::Member => {
            doc::check_header(am, kind)?;
            project_person(conn, &group_of(conn, id)?, Some((id, am)))
        }
        DocKind::Day => project_day(conn, id, &doc::read(am, kind)?),
        DocKind::Contact => project_contact(conn, id, &doc::read(am, kind)?),
        DocKind::Safeguarding => project_safeguarding(conn, id, &doc::read(am, kind)?),
        DocKind::Audit => {
            let owner = doc::audit_owner(am, id)?;
            conn.execute("DELETE FROM audit WHERE doc_id = ?1", [id])
                .ctx("reproject audit")?;
            let log: AuditDoc = doc::read(am, kind)?;
            insert_audit_entries(
                conn,
                id,
                owner,
                &log.entries.into_iter().collect::<Vec<_>>(),
            )
        }
    }
}

/// Writes audit entries of the log `doc_id` (owned by laptop `owner`) as rows. Entries are
/// never changed, so rows are only ever added (or all of a log's rows written again).
pub(super) fn insert_audit_entries(
    conn: &Connection,
    doc_id: Uuid,
    owner: Uuid,
    entries: &[(String, AuditEntryDoc)],
) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO audit (id, doc_id, at, device, user_id, action, subject, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .ctx("project audit")?;
    for (key, e) in entries {
        // A key that is not an id was not written by hubdesk: nothing to show for it.
        let Some(id) = parse_id(key) else {
            continue;
        };
        stmt.execute(params![
            id,
            doc_id,
            e.at,
            owner,
            e.user.as_deref().and_then(parse_id),
            e.action,
            e.subject.as_deref().and_then(parse_id),
            e.detail
        ])
        .ctx("project audit")?;
    }
    Ok(())
}

/// [`project`] for a document this write created: a member record that no "same person"
/// fact joins to others is a person of its own with no rows yet, so none are looked for (a
/// joining laptop projects every record this way).
/// `view`: the record already read (on another thread, see [`super::Received`]).
pub(super) fn project_new(
    conn: &Connection,
    kind: DocKind,
    id: Uuid,
    am: &AutoCommit,
    view: Option<RecordView>,
) -> Result<()> {
    if kind == DocKind::Member {
        let group = group_of(conn, id)?;
        if group.len() == 1 {
            let view = match view {
                Some(v) => v,
                None => {
                    doc::check_header(am, kind)?;
                    RecordView::read(id, am)?
                }
            };
            return write_person(conn, vec![view], false);
        }
    }
    project(conn, kind, id, am)
}

/// A document decoded for a rebuild, ready to be written as rows. Decoding (Automerge's load
/// and hydrating the records) is most of a rebuild's work, so it runs on another thread than
/// the writes, which stay on the store's one connection.
pub(super) enum Decoded {
    /// A member record that is a person on its own (no "same person" fact names it).
    Record(Box<RecordView>),
    Day(DayDoc),
    Contact(ContactDoc),
    Safeguarding(SafeguardingDoc),
    /// An audit log and the laptop it belongs to.
    Audit(Uuid, AuditDoc),
    /// Projected the ordinary way (the organisation).
    Doc(DocKind, Box<AutoCommit>),
}

/// Decodes a document for [`project_decoded`]. A member record decoded here is a person on its
/// own: records that "same person" facts join are projected with their group by [`project`].
pub(super) fn decode(kind: DocKind, id: Uuid, am: AutoCommit) -> Result<Decoded> {
    Ok(match kind {
        DocKind::Member => {
            doc::check_header(&am, kind)?;
            Decoded::Record(Box::new(RecordView::read(id, &am)?))
        }
        DocKind::Day => Decoded::Day(doc::read(&am, kind)?),
        DocKind::Contact => Decoded::Contact(doc::read(&am, kind)?),
        DocKind::Safeguarding => Decoded::Safeguarding(doc::read(&am, kind)?),
        DocKind::Audit => Decoded::Audit(doc::audit_owner(&am, id)?, doc::read(&am, kind)?),
        DocKind::Org => Decoded::Doc(kind, Box::new(am)),
    })
}

/// Writes a decoded document's rows in a rebuild, after [`clear_all`] and the organisation:
/// the same rows as [`project`], without looking for old ones that cannot be there.
pub(super) fn project_decoded(conn: &Connection, id: Uuid, decoded: Decoded) -> Result<()> {
    match decoded {
        Decoded::Record(record) => write_person(conn, vec![*record], true),
        Decoded::Day(day) => project_day(conn, id, &day),
        Decoded::Contact(contact) => project_contact(conn, id, &contact),
        Decoded::Safeguarding(sg) => project_safeguarding(conn, id, &sg),
        Decoded::Audit(owner, log) => insert_audit_entries(
            conn,
            id,
            owner,
            &log.entries.into_iter().collect::<Vec<_>>(),
        ),
        Decoded::Doc(kind, am) => project(conn, kind, id, &am),
    }
}

/// The tables a rebuild fills with a row per member visit: their secondary indexes are dropped
/// for the rebuild and made again, sorted, at its end. Nothing a rebuild does before that may
/// look rows up in them by anything but their primary key.
const BULK_TABLES: &[&str] = &["visits", "visit_activities"];

/// Drops the secondary indexes of [`BULK_TABLES`] and returns the statements that make them
/// again, for [`restore_indexes`] in the same transaction.
pub(super) fn drop_bulk_indexes(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (SELECT value FROM json_each(?1))
             ORDER BY name",
        )
        .ctx("list indexes")?;
    let tables = serde_json::to_string(BULK_TABLES).unwrap_or_default();
    let indexes: Vec<(String, String)> = stmt
        .query_map([tables], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx("list indexes")?
        .collect::<rusqlite::Result<_>>()
        .ctx("list indexes")?;
    for (name, _) in &indexes {
        conn.execute(&format!("DROP INDEX \"{name}\""), [])
            .ctx("drop an index for the rebuild")?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// Makes the indexes [`drop_bulk_indexes`] dropped again.
pub(super) fn restore_indexes(conn: &Connection, statements: &[String]) -> Result<()> {
    for sql in statements {
        conn.execute(sql, []).ctx("make an index again")?;
    }
    Ok(())
}

pub(super) fn clear_all(conn: &Connection) -> Result<()> {
    for table in PROJECTION_TABLES {
        conn.execute(&format!("DELETE FROM {table}"), [])
            .ctx("clear projections")?;
    }
    conn.execute("DELETE FROM member_search", [])
        .ctx("clear search index")?;
    Ok(())
}

fn parse_id(s: &str) -> Option<Uuid> {
    Uuid::parse_str(s).ok()
}

fn project_org(conn: &Connection, id: Uuid, am: &AutoCommit, org: &OrgDoc) -> Result<()> {
    for table in [
        "org",
        "hubs",
        "users",
        "activities",
        "devices",
        "tombstones",
        "training",
        "role_history",
        "erasure_requests",
        "holds",
        "agreements",
    ] {
        conn.execute(&format!("DELETE FROM {table}"), [])
            .ctx("reproject org")?;
    }
    for (key, r) in &org.erasure_requests {
        let (Some(id), Some(member)) = (parse_id(key), parse_id(&r.member)) else {
            continue;
        };
        conn.execute(
            "INSERT INTO erasure_requests (id, member_id, requested_at, requested_by, reason, confirmed_at, confirmed_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                member,
                r.requested.at,
                parse_id(&r.requested.by),
                r.reason,
                r.confirmed.as_ref().map(|c| c.at),
                r.confirmed.as_ref().and_then(|c| parse_id(&c.by)),
            ],
        )
        .ctx("project erasure requests")?;
    }
    for (key, h) in &org.holds {
        let (Some(id), Some(member)) = (parse_id(key), parse_id(&h.member)) else {
            continue;
        };
        conn.execute(
            "INSERT INTO holds (id, member_id, set_at, set_by, reason, cleared_at, cleared_by, cleared_reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                member,
                h.set.at,
                parse_id(&h.set.by),
                h.reason,
                h.cleared.as_ref().map(|c| c.at),
                h.cleared.as_ref().and_then(|c| parse_id(&c.by)),
                h.cleared.as_ref().map(|c| c.reason.as_str()),
            ],
        )
        .ctx("project holds")?;
    }
    for a in org.agreements.values() {
        conn.execute(
            "INSERT OR IGNORE INTO agreements (version, fingerprint, set_at, set_by) VALUES (?1, ?2, ?3, ?4)",
            params![a.version, a.fingerprint, a.at, a.by],
        )
        .ctx("project agreements")?;
    }
    for (key, t) in &org.training {
        let (Some(id), Some(user)) = (parse_id(key), parse_id(&t.user)) else {
            continue;
        };
        conn.execute(
            "INSERT INTO training (id, user_id, course, date) VALUES (?1, ?2, ?3, ?4)",
            params![id, user, t.course, t.date],
        )
        .ctx("project training")?;
    }
    for (key, r) in &org.role_history {
        let (Some(id), Some(user)) = (parse_id(key), parse_id(&r.user)) else {
            continue;
        };
        conn.execute(
            "INSERT INTO role_history (id, user_id, role, from_date, to_date) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, user, r.role, r.from, r.to],
        )
        .ctx("project role history")?;
    }
    let settings = serde_json::to_string(&SettingsJson::from(&org.settings)).unwrap_or_default();
    conn.execute(
        "INSERT INTO org (id, name, settings) VALUES (?1, ?2, ?3)",
        params![id, org.name, settings],
    )
    .ctx("project org")?;
    for (hub_id, hub) in &org.hubs {
        let Some(hub_id) = parse_id(hub_id) else {
            continue;
        };
        conn.execute(
            "INSERT INTO hubs (id, name, time_zone) VALUES (?1, ?2, ?3)",
            params![hub_id, hub.name, hub.time_zone],
        )
        .ctx("project hubs")?;
    }
    for (user_id, u) in &org.users {
        let Some(user_id) = parse_id(user_id) else {
            continue;
        };
        conn.execute(
            "INSERT INTO users (id, name, name_key, roles, secret_hash, active, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![user_id, u.name, search_key(&u.name), u.roles.join(","), u.secret_hash, u.active, u.created_at],
        )
        .ctx("project users")?;
    }
    for (activity_id, a) in &org.activities {
        let Some(activity_id) = parse_id(activity_id) else {
            continue;
        };
        conn.execute(
            "INSERT INTO activities (id, name, kind, retired) VALUES (?1, ?2, ?3, ?4)",
            params![activity_id, a.name, a.kind, a.retired],
        )
        .ctx("project activities")?;
    }
    for (device_id, d) in &org.devices {
        let Some(device_id) = parse_id(device_id) else {
            continue;
        };
        conn.execute(
            "INSERT INTO devices (id, name, tag, added_at, cert_sha256, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![device_id, d.name, d.tag, d.added_at, d.cert_sha256, d.revoked.as_ref().map(|r| r.at)],
        )
        .ctx("project devices")?;
    }
    for (doc_id, t) in &org.tombstones {
        let Some(doc_id) = parse_id(doc_id) else {
            continue;
        };
        // A void tombstone refuses nothing; one of any kind but a member or a safeguarding
        // record (a forged one naming the organisation or an audit log) is no tombstone.
        if t.void.is_some()
            || (t.kind != DocKind::Member.name() && t.kind != DocKind::Safeguarding.name())
        {
            continue;
        }
        conn.execute(
            "INSERT INTO tombstones (id, kind, at, reason, into_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                doc_id,
                t.kind,
                t.at,
                t.reason,
                t.into.as_deref().and_then(parse_id)
            ],
        )
        .ctx("project tombstones")?;
    }
    for pair in org.distinct_members.keys() {
        let Some((a, b)) = pair.split_once(':') else {
            continue;
        };
        let (Some(a), Some(b)) = (parse_id(a), parse_id(b)) else {
            continue;
        };
        conn.execute(
            "INSERT OR IGNORE INTO distinct_members (a, b) VALUES (?1, ?2)",
            params![a.min(b), a.max(b)],
        )
        .ctx("project distinct members")?;
    }
    project_org_conflicts(conn, id, am)?;
    project_same_person(conn, &org.same_person)
}

/// The organisation's fields two laptops changed while apart (a hub, user or activity
/// renamed on both, a setting changed on both): Automerge keeps every value and shows one, so
/// they are recorded like members' fields and wait in Review. Field keys are
/// "hub:ID:name", "user:ID:name", "activity:ID:kind", "setting:NAME" (see
/// service::resolve_conflict).
fn project_org_conflicts(conn: &Connection, org: Uuid, am: &AutoCommit) -> Result<()> {
    use automerge::ReadDoc;
    conn.prepare_cached("DELETE FROM conflicts WHERE doc_id = ?1")
        .ctx("reproject org conflicts")?
        .execute([org])
        .ctx("reproject org conflicts")?;
    let mut found: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for (map, prefix, fields) in ORG_CONFLICT_FIELDS {
        let Some((_, map_obj)) = am.get(automerge::ROOT, *map).map_err(doc::DocError::from)? else {
            continue;
        };
        for key in am.keys(&map_obj) {
            let Some((automerge::Value::Object(_), entry)) = am
                .get(&map_obj, key.as_str())
                .map_err(doc::DocError::from)?
            else {
                continue;
            };
            for field in *fields {
                let values = field_values(am, &entry, field)?;
                if values.len() >= 2 {
                    found.push((format!("{prefix}:{key}:{field}"), values));
                }
            }
        }
    }
    if let Some((_, settings)) = am
        .get(automerge::ROOT, "settings")
        .map_err(doc::DocError::from)?
    {
        // With agreement texts, the version in force is the highest text's (a fact every
        // laptop reads alike), so two laptops setting versions apart leave nothing to review.
        let has_texts = am
            .get(automerge::ROOT, "agreements")
            .map_err(doc::DocError::from)?
            .is_some_and(|(_, obj)| am.keys(&obj).next().is_some());
        for key in am.keys(&settings) {
            if has_texts && key == "current_agreement" {
                continue;
            }
            let values = field_values(am, &settings, &key)?;
            if values.len() >= 2 {
                found.push((format!("setting:{key}"), values));
            }
        }
    }
    for (field, values) in found {
        insert_conflict(conn, org, &field, values)?;
    }
    Ok(())
}

/// Records that a field of a document holds several values (every value kept, winner first).
fn insert_conflict(
    conn: &Connection,
    doc: Uuid,
    field: &str,
    values: Vec<serde_json::Value>,
) -> Result<()> {
    conn.prepare_cached("INSERT INTO conflicts (doc_id, field, vals) VALUES (?1, ?2, ?3)")
        .ctx("project conflict")?
        .execute(params![
            doc,
            field,
            serde_json::Value::Array(values).to_string()
        ])
        .ctx("project conflict")?;
    Ok(())
}

/// Which fields of the organisation's records can be in conflict: (map, key prefix, fields).
const ORG_CONFLICT_FIELDS: &[(&str, &str, &[&str])] = &[
    ("hubs", "hub", &["name", "time_zone"]),
    ("users", "user", &["name"]),
    ("activities", "activity", &["name", "kind"]),
];

/// Projects the "same person" facts and re-projects every group they change. Facts are only
/// ever added, but the projection compares old and new anyway, so a rebuild and an
/// incremental update leave the same rows whatever happened in between.
fn project_same_person(
    conn: &Connection,
    facts: &std::collections::BTreeMap<String, doc::StampDoc>,
) -> Result<()> {
    let new: BTreeSet<(Uuid, Uuid)> = facts.keys().filter_map(|k| parse_pair(k)).collect();
    let old: BTreeSet<(Uuid, Uuid)> = {
        let mut stmt = conn
            .prepare_cached("SELECT a, b FROM same_person")
            .ctx("read same person")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("read same person")?;
        rows.collect::<rusqlite::Result<_>>()
            .ctx("read same person")?
    };
    if new == old {
        return Ok(());
    }
    conn.execute("DELETE FROM same_person", [])
        .ctx("reproject same person")?;
    for (a, b) in &new {
        conn.prepare_cached("INSERT INTO same_person (a, b) VALUES (?1, ?2)")
            .ctx("project same person")?
            .execute(params![a, b])
            .ctx("project same person")?;
    }
    let mut done = BTreeSet::new();
    for (a, b) in new.symmetric_difference(&old) {
        for id in [a, b] {
            if done.contains(id) {
                continue;
            }
            let group = group_of(conn, *id)?;
            done.extend(group.iter().copied());
            project_person(conn, &group, None)?;
        }
    }
    Ok(())
}

/// "a:b" as written in the organisation's maps of member pairs, smaller id first.
fn parse_pair(key: &str) -> Option<(Uuid, Uuid)> {
    let (a, b) = key.split_once(':')?;
    let (a, b) = (parse_id(a)?, parse_id(b)?);
    (a != b).then(|| (a.min(b), a.max(b)))
}

/// Whether a "same person" fact names the record `id`.
pub(super) fn is_joined(conn: &Connection, id: Uuid) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM same_person WHERE a = ?1) OR EXISTS (SELECT 1 FROM same_person WHERE b = ?1)",
    )
    .ctx("group of records")?
    .query_row([id], |r| r.get(0))
    .ctx("group of records")
}

/// Every record id joined to `id` by "same person" facts, `id` included (transitively).
/// Ids of records this laptop does not hold yet are included: they join when they arrive.
pub(super) fn group_of(conn: &Connection, id: Uuid) -> Result<BTreeSet<Uuid>> {
    let mut group = BTreeSet::from([id]);
    let mut todo = vec![id];
    let mut stmt = conn
        .prepare_cached(
            "SELECT b FROM same_person WHERE a = ?1 UNION SELECT a FROM same_person WHERE b = ?1",
        )
        .ctx("group of records")?;
    while let Some(next) = todo.pop() {
        let linked = stmt
            .query_map([next], |r| r.get::<_, Uuid>(0))
            .ctx("group of records")?;
        for other in linked {
            let other = other.ctx("group of records")?;
            if group.insert(other) {
                todo.push(other);
            }
        }
    }
    Ok(group)
}

/// Removes every row projected from a document (it was erased or merged away).
pub(super) fn remove(conn: &Connection, kind: DocKind, id: Uuid) -> Result<()> {
    match kind {
        DocKind::Org => {}
        DocKind::Member => {
            clear_record(conn, id)?;
            // The rest of a person this record belonged to is shown without it.
            let mut rest = group_of(conn, id)?;
            rest.remove(&id);
            if !rest.is_empty() {
                project_person(conn, &rest, None)?;
            }
        }
        DocKind::Day => {
            for sql in [
                "DELETE FROM days WHERE id = ?1",
                "DELETE FROM erased_visits WHERE day_id = ?1",
            ] {
                conn.execute(sql, [id]).ctx("remove day")?;
            }
        }
        DocKind::Contact => {
            for sql in [
                "DELETE FROM contact_visits WHERE contact_id = ?1",
                "DELETE FROM contacts WHERE id = ?1",
            ] {
                conn.execute(sql, [id]).ctx("remove contact")?;
            }
        }
        DocKind::Safeguarding => {
            conn.execute("DELETE FROM concerns WHERE doc_id = ?1", [id])
                .ctx("remove concerns")?;
        }
        DocKind::Audit => {
            conn.execute("DELETE FROM audit WHERE doc_id = ?1", [id])
                .ctx("remove audit log")?;
        }
    }
    Ok(())
}

/// Writes the words-free rows of a member record's safeguarding concerns. A document that
/// names another member than its id belongs to was not made by hubdesk (the id is derived
/// from the member's): it is refused, so a laptop cannot hang concerns on someone else.
fn project_safeguarding(conn: &Connection, id: Uuid, sg: &SafeguardingDoc) -> Result<()> {
    let member = parse_id(&sg.member)
        .filter(|m| crate::domain::safeguarding_doc_id(*m) == id)
        .ok_or_else(|| {
            doc::DocError::Hydrate(autosurgeon::HydrateError::unexpected(
                "the safeguarding record of the member its id names",
                "a record for someone else".to_string(),
            ))
        })?;
    conn.prepare_cached("DELETE FROM concerns WHERE doc_id = ?1")
        .ctx("project concerns")?
        .execute([id])
        .ctx("project concerns")?;
    let mut insert = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO concerns (id, doc_id, member_id, raised_at, raised_by, hub_id, closed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .ctx("project concerns")?;
    for (key, c) in &sg.concerns {
        // An entry whose key is not an id was not written by hubdesk: left out.
        let Some(concern) = parse_id(key) else {
            continue;
        };
        insert
            .execute(params![
                concern,
                id,
                member,
                c.raised_at,
                c.raised_by,
                parse_id(&c.hub),
                c.closed_at()
            ])
            .ctx("project concerns")?;
    }
    Ok(())
}

/// The profile fields two laptops can change at once, as stored in `profile`.
const PROFILE_FIELDS: &[&str] = &[
    "preferred_name",
    "legal_name",
    "born",
    "pronouns",
    "gender",
    "postcode_district",
    "heard_about",
];

/// Every value a member record holds for each profile field: all of Automerge's values
/// (winner first) when laptops changed the field at once, else its value if set.
fn profile_values(am: &AutoCommit) -> Result<Vec<(&'static str, Vec<serde_json::Value>)>> {
    use automerge::ReadDoc;
    let Ok(Some((_, profile))) = am.get(automerge::ROOT, "profile") else {
        return Ok(PROFILE_FIELDS.iter().map(|f| (*f, Vec::new())).collect());
    };
    let mut out = Vec::with_capacity(PROFILE_FIELDS.len());
    for field in PROFILE_FIELDS {
        out.push((*field, field_values(am, &profile, field)?));
    }
    Ok(out)
}

/// Every value an object holds for a field: all of Automerge's values (winner first) when
/// laptops set it at once, else its value if set (not null).
fn field_values(
    am: &AutoCommit,
    obj: &automerge::ObjId,
    field: &str,
) -> Result<Vec<serde_json::Value>> {
    use automerge::ReadDoc;
    let all = am.get_all(obj, field).map_err(doc::DocError::from)?;
    let winner = am.get(obj, field).map_err(doc::DocError::from)?;
    let mut values: Vec<serde_json::Value> = Vec::new();
    if all.len() >= 2 {
        for (value, _) in winner.into_iter().chain(all) {
            let v = scalar_json(&value);
            if !values.contains(&v) {
                values.push(v);
            }
        }
    } else if let Some((value, _)) = winner {
        let v = scalar_json(&value);
        if !v.is_null() {
            values.push(v);
        }
    }
    Ok(values)
}

/// Records the fields of a record on its own that hold more than one value after a merge of
/// concurrent edits (Automerge keeps them all; the projection shows the winner).
fn project_member_conflicts(conn: &Connection, id: Uuid, am: &AutoCommit) -> Result<()> {
    conn.prepare_cached("DELETE FROM conflicts WHERE doc_id = ?1")
        .ctx("reproject conflicts")?
        .execute([id])
        .ctx("reproject conflicts")?;
    for (field, values) in profile_values(am)? {
        if values.len() < 2 {
            continue;
        }
        insert_conflict(conn, id, &format!("profile.{field}"), values)?;
    }
    Ok(())
}

fn scalar_json(value: &automerge::Value<'_>) -> serde_json::Value {
    use automerge::ScalarValue as S;
    match value {
        automerge::Value::Scalar(s) => match s.as_ref() {
            S::Str(t) => serde_json::Value::String(t.to_string()),
            S::Int(n) => serde_json::json!(n),
            S::Uint(n) => serde_json::json!(n),
            S::F64(n) => serde_json::json!(n),
            S::Boolean(b) => serde_json::json!(b),
            S::Null => serde_json::Value::Null,
            other => serde_json::Value::String(other.to_string()),
        },
        automerge::Value::Object(_) => serde_json::Value::String("(a record)".into()),
    }
}

fn project_member_aliases(
    conn: &Connection,
    id: Uuid,
    merged: &std::collections::BTreeMap<String, doc::MergedDoc>,
) -> Result<()> {
    conn.prepare_cached("DELETE FROM member_aliases WHERE member_id = ?1")
        .ctx("reproject aliases")?
        .execute([id])
        .ctx("reproject aliases")?;
    for merged in merged.values() {
        conn.prepare_cached(
            "INSERT OR REPLACE INTO member_aliases (code_key, member_id) VALUES (?1, ?2)",
        )
        .ctx("project alias")?
        .execute(params![search_key(&merged.code), id])
        .ctx("project alias")?;
    }
    Ok(())
}

/// The settings as the projection keeps them (JSON in org.settings).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct SettingsJson {
    pub lockout_failures: u32,
    pub lockout_minutes: u32,
    pub idle_lock_minutes: u32,
    pub current_agreement: String,
    pub consent_options: Vec<String>,
    /// Absent from settings projected before the setting existed (until the org document
    /// next changes): those organisations have the default.
    #[serde(default = "default_back_entry_days")]
    pub back_entry_days: u32,
}

fn default_back_entry_days() -> u32 {
    doc::DEFAULT_BACK_ENTRY_DAYS
}

impl From<&doc::SettingsDoc> for SettingsJson {
    fn from(s: &doc::SettingsDoc) -> Self {
        Self {
            lockout_failures: s.lockout_failures,
            lockout_minutes: s.lockout_minutes,
            idle_lock_minutes: s.idle_lock_minutes,
            current_agreement: s.current_agreement.clone(),
            consent_options: s.consent_options.clone(),
            back_entry_days: s.back_entry_days,
        }
    }
}

/// One member record, read for projecting its person.
pub(super) struct RecordView {
    id: Uuid,
    doc: MemberDoc,
    /// Per profile field, every value this record holds for it: all of Automerge's values
    /// (winner first) when two laptops changed it at once, else the value if set.
    values: Vec<(&'static str, Vec<serde_json::Value>)>,
    plan_edits: Vec<PlanEdit>,
}

impl RecordView {
    pub(super) fn read(id: Uuid, am: &AutoCommit) -> Result<Self> {
        Ok(Self {
            id,
            doc: doc::read(am, DocKind::Member)?,
            values: profile_values(am)?,
            plan_edits: read_plan_edits(am),
        })
    }
}

/// One saved change of a record's self-care plan (see `plan_edits` in migration 0018).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlanEdit {
    change: [u8; 32],
    /// Millis UTC (Automerge keeps a change's time in whole seconds).
    at: i64,
    started: bool,
}

/// The saved changes of a record's plan: the changes whose message marks them as the plan's
/// (as its history lists them), the earliest of them (by time, then hash, so every laptop
/// and every rebuild picks the same one) marked as the one that started it. The start change
/// itself is left out: it is made alike on every laptop with no time (see `doc::plan`), so
/// the plan started when its first words or step were saved.
///
/// A record without a plan object has none (nor one whose plan has a shape hubdesk never
/// writes: the rest of the record is still projected).
fn read_plan_edits(am: &AutoCommit) -> Vec<PlanEdit> {
    if !matches!(doc::plan::plan_obj(am), Ok(Some(_))) {
        return Vec::new();
    }
    // Automerge lists changes only through a mutable handle (it closes any open transaction
    // first). A copy of one record is cheap, and only records with a plan pay for it.
    let mut copy = am.clone();
    let mut edits: Vec<PlanEdit> = copy
        .get_changes_meta(&[])
        .iter()
        .filter(|m| {
            m.message
                .as_deref()
                .is_some_and(|s| s.starts_with(doc::plan::PLAN_CHANGE_PREFIX))
        })
        .map(|m| PlanEdit {
            change: m.hash.0,
            at: m.timestamp.saturating_mul(1000),
            started: false,
        })
        .collect();
    if let Some(first) = edits.iter_mut().min_by_key(|e| (e.at, e.change)) {
        first.started = true;
    }
    edits
}

/// Writes the rows of one record's plan edits for `person`, replacing the record's old ones.
fn project_plan_edits(
    conn: &Connection,
    person: Uuid,
    record: Uuid,
    edits: &[PlanEdit],
    fresh: bool,
) -> Result<()> {
    if !fresh {
        conn.prepare_cached("DELETE FROM plan_edits WHERE record_id = ?1")
            .ctx("project plan edits")?
            .execute([record])
            .ctx("project plan edits")?;
    }
    let mut insert = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO plan_edits (record_id, change, member_id, at, started)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .ctx("project plan edits")?;
    for e in edits {
        insert
            .execute(params![
                record,
                e.change.as_slice(),
                person,
                e.at,
                e.started
            ])
            .ctx("project plan edits")?;
    }
    Ok(())
}

/// Projects the person made of the records in `group` (one record, or several that "same
/// person" facts join): one members row for the surviving record (earliest registered, then
/// lowest id) whose empty fields are filled from the others in that order, every record's
/// visits and codes, and a conflict wherever the records hold different values. Replaces
/// whatever was projected for any record of the group before. `known` is a record already in
/// hand; the others are read from their chunks. The result depends only on the documents, so
/// every laptop and every rebuild shows the same person.
fn project_person(
    conn: &Connection,
    group: &BTreeSet<Uuid>,
    known: Option<(Uuid, &AutoCommit)>,
) -> Result<()> {
    for id in group {
        clear_record(conn, *id)?;
    }
    let mut records = Vec::with_capacity(group.len());
    for id in group {
        match known {
            Some((k, am)) if k == *id => records.push(RecordView::read(*id, am)?),
            _ => {
                let Some(am) = super::load_doc(conn, *id, &reader_actor())? else {
                    continue;
                };
                // A fact naming something that is not a member record joins nothing.
                if doc::check_header(&am, DocKind::Member).is_err() {
                    continue;
                }
                records.push(RecordView::read(*id, &am)?);
            }
        }
    }
    write_person(conn, records, false)
}

/// Writes the rows of the person made of `records` (see [`project_person`]). `fresh`: the
/// tables were just cleared and nothing was projected for these records yet (a rebuild), so
/// no old rows are looked for.
fn write_person(conn: &Connection, mut records: Vec<RecordView>, fresh: bool) -> Result<()> {
    records.sort_by_key(|r| (r.doc.registered_at, r.id));
    let Some(survivor) = records.first() else {
        return Ok(());
    };
    let person = survivor.id;
    let mut profile = survivor.doc.profile.clone();
    for r in &records[1..] {
        profile.fill_gaps_from(&r.doc.profile);
    }
    let agreement = records.iter().find_map(|r| r.doc.agreement.as_ref());
    project_member_row(
        conn,
        person,
        &survivor.doc.code,
        survivor.doc.registered_at,
        &profile,
        agreement,
        fresh,
    )?;
    for (i, field) in PROFILE_FIELDS.iter().enumerate() {
        let mut values: Vec<serde_json::Value> = Vec::new();
        for r in &records {
            for v in &r.values[i].1 {
                if !values.contains(v) {
                    values.push(v.clone());
                }
            }
        }
        if values.len() < 2 {
            continue;
        }
        insert_conflict(conn, person, &format!("profile.{field}"), values)?;
    }
    let mut latest: Option<i64> = None;
    for r in &records {
        conn.prepare_cached("INSERT INTO member_records (id, person_id) VALUES (?1, ?2)")
            .ctx("project record")?
            .execute(params![r.id, person])
            .ctx("project record")?;
        let other_codes = (r.id != person).then_some(r.doc.code.as_str());
        let legacy = r.doc.merged.values().map(|m| m.code.as_str());
        for code in other_codes.into_iter().chain(legacy) {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO member_aliases (code_key, member_id) VALUES (?1, ?2)",
            )
            .ctx("project alias")?
            .execute(params![search_key(code), person])
            .ctx("project alias")?;
        }
        for (visit_id, v) in &r.doc.visits {
            let written = project_visit(conn, person, r.id, visit_id, Some(v), fresh)?;
            latest = latest.max(written);
        }
        project_conversations(conn, person, r.id, &r.doc.conversations, fresh)?;
        project_check_ins(conn, person, r.id, &r.doc.check_ins, fresh)?;
        project_plan_edits(conn, person, r.id, &r.plan_edits, fresh)?;
    }
    if fresh {
        // The latest visit just written is the latest there is: no need to look (a rebuild
        // has the visits' indexes dropped, and looking would read every visit each time).
        conn.prepare_cached("UPDATE members SET last_seen = ?2 WHERE id = ?1")
            .ctx("last seen")?
            .execute(params![person, latest])
            .ctx("last seen")?;
        Ok(())
    } else {
        refresh_last_seen(conn, person)
    }
}

/// Removes every row projected from one member record, whether it was the person's
/// surviving record or joined to one.
fn clear_record(conn: &Connection, id: Uuid) -> Result<()> {
    let rowid: Option<i64> = conn
        .prepare_cached("SELECT rowid FROM members WHERE id = ?1")
        .ctx("find member row")?
        .query_row([id], |r| r.get(0))
        .optional()
        .ctx("find member row")?;
    if let Some(rowid) = rowid {
        conn.prepare_cached("DELETE FROM member_search WHERE rowid = ?1")
            .ctx("unindex member")?
            .execute([rowid])
            .ctx("unindex member")?;
    }
    for sql in [
        // A visit's member_id is its person, and every person is a record of the group being
        // cleared, so this finds every visit of the group (through the index on member_id).
        "DELETE FROM visit_activities WHERE visit_id IN (SELECT id FROM visits WHERE member_id = ?1)",
        "DELETE FROM visits WHERE member_id = ?1",
        "DELETE FROM withdrawn_visits WHERE member_id = ?1",
        "DELETE FROM members WHERE id = ?1",
        // Like visits: a conversation's member_id is its person.
        "DELETE FROM conversations WHERE member_id = ?1 OR record_id = ?1",
        "DELETE FROM check_in_scores WHERE check_in_id IN (SELECT id FROM check_ins WHERE member_id = ?1 OR record_id = ?1)",
        "DELETE FROM check_ins WHERE member_id = ?1 OR record_id = ?1",
        "DELETE FROM plan_edits WHERE member_id = ?1 OR record_id = ?1",
        "DELETE FROM member_records WHERE id = ?1 OR person_id = ?1",
        "DELETE FROM member_aliases WHERE member_id = ?1",
        "DELETE FROM conflicts WHERE doc_id = ?1",
    ] {
        conn.prepare_cached(sql)
            .ctx("clear member")?
            .execute([id])
            .ctx("clear member")?;
    }
    Ok(())
}

/// The actor documents are loaded with for reading only (never committed).
fn reader_actor() -> automerge::ActorId {
    automerge::ActorId::from([0u8; 16].as_slice())
}

/// What changed in a member document between two sets of heads, from Automerge's diff.
#[derive(Debug, Default)]
pub(super) struct MemberChange {
    /// Anything outside `visits` changed: the member row and its search keys.
    pub row: bool,
    /// Keys of visits added, changed or removed.
    pub visits: std::collections::BTreeSet<String>,
    /// Anything under `conversations` changed: the record's conversations are projected
    /// again (a few dozen rows at most, and written once each).
    pub conversations: bool,
    /// Anything under `check_ins` changed: the record's check-ins are projected again.
    pub check_ins: bool,
    /// Anything under `plans` changed: the record's plan edits are projected again (its
    /// history is read only then, never on a sign-in).
    pub plans: bool,
}

impl MemberChange {
    /// What the changes made after `before` touched, read from their operations: each
    /// operation names the object and key it writes, and an object's path in the document
    /// says which visit (or which part of the member row) it belongs to.
    ///
    /// This is what a sign-in pays instead of Automerge's diff, which walks the whole record
    /// (a quarter of a sign-in on a member with years of visits). Unlike a patch log, it also
    /// sees an operation that changes nothing visible (a conflict resolved to the value that
    /// was already shown), so the field's conflict marker is projected again. `None` when an
    /// operation's object cannot be placed; the caller then diffs.
    pub(super) fn from_changes(
        doc: &mut AutoCommit,
        before: &[automerge::ChangeHash],
    ) -> Option<Self> {
        use automerge::legacy::{Key, ObjectId};
        use automerge::{Prop, ReadDoc};
        let mut change = MemberChange::default();
        // Objects already placed: a visit's fields are many operations on one object.
        let mut placed: std::collections::HashMap<automerge::legacy::OpId, Option<String>> =
            std::collections::HashMap::new();
        let changes = doc.get_changes(before);
        for c in &changes {
            for op in c.decode().operations {
                let key = match &op.key {
                    Key::Map(k) => Some(k.as_str()),
                    Key::Seq(_) => None,
                };
                match op.obj {
                    ObjectId::Root => match key {
                        Some("visits") => {
                            change.row = true;
                            change.visits.insert(String::new());
                        }
                        Some(CONVERSATIONS) => change.conversations = true,
                        Some(CHECK_INS) => change.check_ins = true,
                        Some(PLANS) => change.plans = true,
                        _ => change.row = true,
                    },
                    ObjectId::Id(obj) => {
                        let visit = match placed.get(&obj) {
                            Some(visit) => visit.clone(),
                            None => {
                                let id = doc.import_obj(&obj.to_string()).ok()?;
                                let path = doc.parents(&id).ok()?.path();
                                let mut props = path.iter().map(|(_, prop)| prop);
                                let visit = match props.next() {
                                    Some(Prop::Map(top))
                                        if top == CONVERSATIONS
                                            || top == CHECK_INS
                                            || top == PLANS =>
                                    {
                                        Some(top.clone())
                                    }
                                    Some(Prop::Map(top)) if top == "visits" => {
                                        match props.next() {
                                            Some(Prop::Map(visit)) => Some(visit.clone()),
                                            // The op writes to the visits map itself: its
                                            // key is the visit.
                                            None => Some(String::new()),
                                            Some(Prop::Seq(_)) => return None,
                                        }
                                    }
                                    _ => None,
                                };
                                placed.insert(obj, visit.clone());
                                visit
                            }
                        };
                        match visit {
                            Some(place) if place == CONVERSATIONS => change.conversations = true,
                            Some(place) if place == CHECK_INS => change.check_ins = true,
                            Some(place) if place == PLANS => change.plans = true,
                            Some(visit) if visit.is_empty() => match key {
                                Some(k) => {
                                    change.visits.insert(k.to_string());
                                }
                                None => return None,
                            },
                            Some(visit) => {
                                change.visits.insert(visit);
                            }
                            None => change.row = true,
                        }
                    }
                }
            }
        }
        Some(change)
    }

    pub(super) fn from_patches(patches: &[automerge::Patch]) -> Self {
        use automerge::{PatchAction, Prop};
        let mut change = MemberChange::default();
        for patch in patches {
            let mut props = patch.path.iter().map(|(_, prop)| prop);
            let action_key = match &patch.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => {
                    Some(key.as_str())
                }
                _ => None,
            };
            match props.next() {
                Some(Prop::Map(top)) if top == CONVERSATIONS => change.conversations = true,
                None if action_key == Some(CONVERSATIONS) => change.conversations = true,
                Some(Prop::Map(top)) if top == CHECK_INS => change.check_ins = true,
                None if action_key == Some(CHECK_INS) => change.check_ins = true,
                Some(Prop::Map(top)) if top == PLANS => change.plans = true,
                None if action_key == Some(PLANS) => change.plans = true,
                Some(Prop::Map(top)) if top == "visits" => match props.next() {
                    Some(Prop::Map(visit)) => {
                        change.visits.insert(visit.clone());
                    }
                    _ => match action_key {
                        Some(visit) => {
                            change.visits.insert(visit.to_string());
                        }
                        None => change.row = true,
                    },
                },
                None if action_key == Some("visits") => {
                    // The whole visits map was replaced: treat every visit as changed.
                    change.row = true;
                    change.visits.insert(String::new());
                }
                _ => change.row = true,
            }
        }
        change
    }
}

/// Re-projects only what `change` names. Must leave the same rows as [`project_member`]; the
/// property test in tests/ holds the two together.
pub(super) fn project_member_change(
    conn: &Connection,
    id: Uuid,
    am: &AutoCommit,
    change: &MemberChange,
) -> Result<()> {
    let group = group_of(conn, id)?;
    if change.visits.contains("") || group.len() > 1 {
        // A person made of several records is re-projected whole: rare, and small.
        doc::check_header(am, DocKind::Member)?;
        return project_person(conn, &group, Some((id, am)));
    }
    if change.row {
        let merged: std::collections::BTreeMap<String, doc::MergedDoc> =
            autosurgeon::hydrate_prop(am, automerge::ROOT, "merged").unwrap_or_default();
        project_member_conflicts(conn, id, am)?;
        project_member_aliases(conn, id, &merged)?;
        conn.prepare_cached("INSERT OR IGNORE INTO member_records (id, person_id) VALUES (?1, ?1)")
            .ctx("project record")?
            .execute([id])
            .ctx("project record")?;
        doc::check_header(am, DocKind::Member)?;
        let code: String =
            autosurgeon::hydrate_prop(am, automerge::ROOT, "code").map_err(doc::DocError::from)?;
        let registered_at: i64 = autosurgeon::hydrate_prop(am, automerge::ROOT, "registered_at")
            .map_err(doc::DocError::from)?;
        let profile: ProfileDoc = autosurgeon::hydrate_prop(am, automerge::ROOT, "profile")
            .map_err(doc::DocError::from)?;
        let agreement: Option<AgreementDoc> =
            autosurgeon::hydrate_prop(am, automerge::ROOT, "agreement")
                .map_err(doc::DocError::from)?;
        project_member_row(
            conn,
            id,
            &code,
            registered_at,
            &profile,
            agreement.as_ref(),
            false,
        )?;
    }
    for visit_id in &change.visits {
        let visit: Option<VisitDoc> = doc::get_entry(am, "visits", visit_id)?;
        project_visit(conn, id, id, visit_id, visit.as_ref(), false)?;
    }
    if change.conversations {
        let conversations: std::collections::BTreeMap<String, ConversationDoc> =
            map_or_empty(am, CONVERSATIONS)?;
        project_conversations(conn, id, id, &conversations, false)?;
    }
    if change.check_ins {
        let check_ins: std::collections::BTreeMap<String, CheckInDoc> =
            map_or_empty(am, CHECK_INS)?;
        project_check_ins(conn, id, id, &check_ins, false)?;
    }
    if change.plans {
        project_plan_edits(conn, id, id, &read_plan_edits(am), false)?;
    }
    refresh_last_seen(conn, id)
}

/// A top-level map of a record, or an empty one: a record older than the map (conversations,
/// check-ins) has none until its first entry.
fn map_or_empty<T: autosurgeon::Hydrate + Default>(am: &AutoCommit, map: &str) -> Result<T> {
    use automerge::ReadDoc;
    Ok(
        match am.get(automerge::ROOT, map).map_err(doc::DocError::from)? {
            Some(_) => {
                autosurgeon::hydrate_prop(am, automerge::ROOT, map).map_err(doc::DocError::from)?
            }
            None => T::default(),
        },
    )
}

/// The root map of a member record that holds its self-care plan.
const PLANS: &str = "plans";

/// The root map of a member record that holds its outcome check-ins.
const CHECK_INS: &str = "check_ins";

/// Writes the rows of one record's check-ins for `person`, replacing the record's old ones:
/// ids, times, instrument and the scores given when recorded; never a goal's words.
fn project_check_ins(
    conn: &Connection,
    person: Uuid,
    record: Uuid,
    check_ins: &std::collections::BTreeMap<String, CheckInDoc>,
    fresh: bool,
) -> Result<()> {
    if !fresh {
        conn.prepare_cached(
            "DELETE FROM check_in_scores WHERE check_in_id IN (SELECT id FROM check_ins WHERE record_id = ?1)",
        )
        .ctx("project check-ins")?
        .execute([record])
        .ctx("project check-ins")?;
        conn.prepare_cached("DELETE FROM check_ins WHERE record_id = ?1")
            .ctx("project check-ins")?
            .execute([record])
            .ctx("project check-ins")?;
    }
    let mut insert = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO check_ins (id, member_id, record_id, at, instrument, fingerprint, outcome, self_filled, hub_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .ctx("project check-ins")?;
    let mut score = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO check_in_scores (check_in_id, part, value) VALUES (?1, ?2, ?3)",
        )
        .ctx("project check-ins")?;
    for (key, c) in check_ins {
        let Some(id) = parse_id(key) else { continue };
        insert
            .execute(params![
                id,
                person,
                record,
                c.at,
                c.instrument,
                c.fingerprint,
                c.outcome,
                c.self_filled,
                parse_id(&c.hub),
            ])
            .ctx("project check-ins")?;
        for s in &c.scores {
            // A value that is not a number (from a damaged record) is stored as blank.
            let value = s.value.filter(|v| v.is_finite());
            score
                .execute(params![id, s.part, value])
                .ctx("project check-ins")?;
        }
    }
    Ok(())
}

/// The root map of a member record that holds its conversations.
const CONVERSATIONS: &str = "conversations";

/// Writes the rows of one record's conversations for `person`, replacing the record's old
/// ones. Only what queries need: never the words.
fn project_conversations(
    conn: &Connection,
    person: Uuid,
    record: Uuid,
    conversations: &std::collections::BTreeMap<String, ConversationDoc>,
    fresh: bool,
) -> Result<()> {
    if !fresh {
        conn.prepare_cached("DELETE FROM conversations WHERE record_id = ?1")
            .ctx("project conversations")?
            .execute([record])
            .ctx("project conversations")?;
    }
    let mut insert = conn
        .prepare_cached(
            "INSERT OR REPLACE INTO conversations (id, member_id, record_id, at, follow_up, private, hub_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .ctx("project conversations")?;
    for (key, c) in conversations {
        let Some(id) = parse_id(key) else { continue };
        insert
            .execute(params![
                id,
                person,
                record,
                c.at,
                c.follow_up,
                c.private_reason.is_some(),
                parse_id(&c.hub),
            ])
            .ctx("project conversations")?;
    }
    Ok(())
}

fn project_member_row(
    conn: &Connection,
    id: Uuid,
    code: &str,
    registered_at: i64,
    p: &ProfileDoc,
    agreement: Option<&AgreementDoc>,
    fresh: bool,
) -> Result<()> {
    let name_key = search_key(&p.preferred_name);
    let legal_key = p.legal_name.as_deref().map(search_key);
    let code_key = search_key(code);
    let emergency = p.emergency_contact.as_ref().map(|e| {
        serde_json::json!({"name": e.name, "phone": e.phone, "relationship": e.relationship})
            .to_string()
    });
    let agreement = agreement.map(|a| {
        serde_json::json!({"version": a.version, "accepted_at": a.accepted_at, "consents": a.consents}).to_string()
    });
    let old_rowid: Option<i64> = if fresh {
        None
    } else {
        conn.prepare_cached("SELECT rowid FROM members WHERE id = ?1")
            .ctx("find member row")?
            .query_row([id], |r| r.get(0))
            .optional()
            .ctx("find member row")?
    };
    if let Some(rowid) = old_rowid {
        conn.execute("DELETE FROM member_search WHERE rowid = ?1", [rowid])
            .ctx("unindex member")?;
    }
    let rowid: i64 = conn
        .prepare_cached(
            "INSERT INTO members (id, code, code_key, preferred_name, name_key, legal_name, legal_key, born,
                 pronouns, gender, postcode_district, heard_about, emergency_contact, agreement, registered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT(id) DO UPDATE SET code = excluded.code, code_key = excluded.code_key,
                 preferred_name = excluded.preferred_name, name_key = excluded.name_key,
                 legal_name = excluded.legal_name, legal_key = excluded.legal_key, born = excluded.born,
                 pronouns = excluded.pronouns, gender = excluded.gender,
                 postcode_district = excluded.postcode_district, heard_about = excluded.heard_about,
                 emergency_contact = excluded.emergency_contact, agreement = excluded.agreement,
                 registered_at = excluded.registered_at
             RETURNING rowid",
        )
        .ctx("project member")?
        .query_row(
            params![
                id,
                code,
                code_key,
                p.preferred_name,
                name_key,
                p.legal_name,
                legal_key,
                p.born,
                p.pronouns,
                p.gender,
                p.postcode_district,
                p.heard_about,
                emergency,
                agreement,
                registered_at
            ],
            |r| r.get(0),
        )
        .ctx("project member")?;
    let keys = [
        Some(name_key.as_str()),
        legal_key.as_deref(),
        Some(code_key.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    if fresh {
        // Indexed all at once at the end of the rebuild (index_new_members): inserted one by
        // one, the search index writes a segment for every statement that follows.
        return Ok(());
    }
    conn.prepare_cached("INSERT INTO member_search (rowid, keys) VALUES (?1, ?2)")
        .ctx("index member")?
        .execute(params![rowid, keys])
        .ctx("index member")?;
    Ok(())
}

/// Adds to the search index every member row not in it yet (those a rebuild wrote fresh), with
/// the keys [`project_member_row`] gives: name, legal name if any, code, joined by spaces.
pub(super) fn index_new_members(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT INTO member_search (rowid, keys)
         SELECT rowid, name_key || coalesce(' ' || legal_key, '') || ' ' || code_key
         FROM members WHERE rowid NOT IN (SELECT rowid FROM member_search) ORDER BY rowid",
        [],
    )
    .ctx("index members")?;
    Ok(())
}

/// Writes one visit's rows, or removes them when the visit is gone. A withdrawn visit goes to
/// `withdrawn_visits` instead, where nothing that counts visits looks. Returns the sign-in
/// time of a visit it wrote to `visits`.
fn project_visit(
    conn: &Connection,
    person: Uuid,
    record: Uuid,
    visit_id: &str,
    v: Option<&VisitDoc>,
    fresh: bool,
) -> Result<Option<i64>> {
    let Some(visit_uuid) = parse_id(visit_id) else {
        return Ok(None);
    };
    let unproject = || -> Result<()> {
        conn.prepare_cached("DELETE FROM visit_activities WHERE visit_id = ?1")
            .ctx("project visit")?
            .execute([visit_uuid])
            .ctx("project visit")?;
        conn.prepare_cached("DELETE FROM visits WHERE id = ?1")
            .ctx("project visit")?
            .execute([visit_uuid])
            .ctx("project visit")?;
        // A primary-key look-up in a table of a handful of rows: nothing a sign-in notices.
        conn.prepare_cached("DELETE FROM withdrawn_visits WHERE id = ?1")
            .ctx("project visit")?
            .execute([visit_uuid])
            .ctx("project visit")?;
        Ok(())
    };
    if !fresh {
        unproject()?;
    }
    let Some(v) = v else { return Ok(None) };
    let Some(day_id) = parse_id(&v.day) else {
        if fresh {
            // Not written, but a visit of this id another record holds is gone, as it would be
            // when projected one by one.
            unproject()?;
        }
        return Ok(None);
    };
    if let Some(withdrawn) = &v.withdrawn {
        if fresh {
            // Rare enough to look: the same visit held by another record already projected
            // is replaced, as it would be when projected one by one.
            unproject()?;
        }
        conn.prepare_cached(
            "INSERT INTO withdrawn_visits (id, member_id, record_id, day_id, signed_in_at, withdrawn_at, withdrawn_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .ctx("project visit")?
        .execute(params![
            visit_uuid,
            person,
            record,
            day_id,
            v.signed_in_at,
            withdrawn.at,
            withdrawn.by
        ])
        .ctx("project visit")?;
        return Ok(None);
    }
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO visits (id, member_id, record_id, day_id, signed_in_at, signed_out_at, signed_out_at_close)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .ctx("project visit")?;
    let row = params![
        visit_uuid,
        person,
        record,
        day_id,
        v.signed_in_at,
        v.signed_out_at,
        v.signed_out_at_close
    ];
    match insert.execute(row) {
        Ok(_) => {}
        // In a rebuild a visit id is only already there if another record holds the same
        // visit: the later one replaces it, as it would when projected one by one.
        Err(rusqlite::Error::SqliteFailure(e, _))
            if fresh && e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            unproject()?;
            insert.execute(row).ctx("project visit")?;
        }
        Err(e) => return Err(e).ctx("project visit"),
    }
    let mut insert_activity = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO visit_activities (visit_id, activity_id) VALUES (?1, ?2)",
        )
        .ctx("project visit")?;
    for a in v.activities.iter().filter_map(|a| parse_id(a)) {
        insert_activity
            .execute(params![visit_uuid, a])
            .ctx("project visit")?;
    }
    Ok(Some(v.signed_in_at))
}

/// A member's latest sign-in, which ranks search results.
fn refresh_last_seen(conn: &Connection, id: Uuid) -> Result<()> {
    conn.prepare_cached(
        "UPDATE members SET last_seen = (SELECT max(signed_in_at) FROM visits WHERE member_id = ?1) WHERE id = ?1",
    )
    .ctx("last seen")?
    .execute([id])
    .ctx("last seen")?;
    Ok(())
}

fn project_day(conn: &Connection, id: Uuid, d: &DayDoc) -> Result<()> {
    let first_opening = d.openings.values().min_by_key(|o| (o.at, o.by.clone()));
    let headcount: i64 = d.headcount.values().map(|h| h.count).sum();
    conn.execute(
        "INSERT INTO days (id, hub_id, date, opened_at, opened_by, closed_at, closed_by, headcount,
             back_entry_at, back_entry_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(id) DO UPDATE SET hub_id = excluded.hub_id, date = excluded.date,
             opened_at = excluded.opened_at, opened_by = excluded.opened_by,
             closed_at = excluded.closed_at, closed_by = excluded.closed_by, headcount = excluded.headcount,
             back_entry_at = excluded.back_entry_at, back_entry_by = excluded.back_entry_by",
        params![
            id,
            parse_id(&d.hub),
            d.date,
            first_opening.map(|o| o.at),
            first_opening.and_then(|o| parse_id(&o.by)),
            d.closed.as_ref().map(|c| c.at),
            d.closed.as_ref().and_then(|c| parse_id(&c.by)),
            headcount,
            d.back_entry.as_ref().map(|b| b.at),
            d.back_entry.as_ref().and_then(|b| parse_id(&b.by)),
        ],
    )
    .ctx("project day")?;
    conn.prepare_cached("DELETE FROM shifts WHERE day_id = ?1")
        .ctx("reproject shifts")?
        .execute([id])
        .ctx("reproject shifts")?;
    let hub = parse_id(&d.hub);
    for (key, s) in &d.shifts {
        let (Some(shift_id), Some(user)) = (parse_id(key), parse_id(&s.user)) else {
            continue;
        };
        let (ended_at, at_close) = d.shift_end(key, s);
        conn.prepare_cached(
            "INSERT INTO shifts (id, day_id, hub_id, user_id, started_at, ended_at, at_close)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .ctx("project shift")?
        .execute(params![
            shift_id,
            id,
            hub,
            user,
            s.started_at,
            ended_at,
            at_close
        ])
        .ctx("project shift")?;
    }
    conn.prepare_cached("DELETE FROM erased_visits WHERE day_id = ?1")
        .ctx("reproject erased visits")?
        .execute([id])
        .ctx("reproject erased visits")?;
    for (key, v) in &d.erased_visits {
        conn.prepare_cached(
            "INSERT INTO erased_visits (day_id, key, activities) VALUES (?1, ?2, ?3)",
        )
        .ctx("project erased visit")?
        .execute(params![id, key, v.activities.join(",")])
        .ctx("project erased visit")?;
    }
    Ok(())
}

fn project_contact(conn: &Connection, id: Uuid, c: &ContactDoc) -> Result<()> {
    conn.execute(
        "INSERT INTO contacts (id, kind, name, name_key, signposted, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, name = excluded.name, name_key = excluded.name_key,
             signposted = excluded.signposted, created_at = excluded.created_at",
        params![
            id,
            c.contact_kind,
            c.name,
            search_key(&c.name),
            c.signposted || c.visits.values().any(|v| v.signposted),
            c.created_at
        ],
    )
    .ctx("project contact")?;
    conn.execute("DELETE FROM contact_visits WHERE contact_id = ?1", [id])
        .ctx("reproject contact visits")?;
    let signposted_at = signposted_visits(c);
    for (key, v) in &c.visits {
        let (Some(visit_id), Some(day_id)) = (parse_id(key), parse_id(&v.day)) else {
            continue;
        };
        conn.execute(
            "INSERT INTO contact_visits (id, contact_id, day_id, signed_in_at, signed_out_at, signed_out_at_close, signposted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                visit_id,
                id,
                day_id,
                v.signed_in_at,
                v.signed_out_at,
                v.signed_out_at_close,
                signposted_at.contains(key.as_str())
            ],
        )
        .ctx("project contact visit")?;
    }
    Ok(())
}

/// The visits (map keys) at which a parent was told about the parent network: every visit
/// that records it, and, for the contact-wide flag an older hubdesk wrote, their first visit
/// (earliest sign-in, then lowest id): the same visit on every laptop, whatever order the
/// visits arrived in, and never taken back by a later signpost.
fn signposted_visits(c: &ContactDoc) -> BTreeSet<&str> {
    let mut at: BTreeSet<&str> = c
        .visits
        .iter()
        .filter(|(_, v)| v.signposted)
        .map(|(k, _)| k.as_str())
        .collect();
    if c.signposted
        && let Some((first, _)) = c
            .visits
            .iter()
            .min_by_key(|(k, v)| (v.signed_in_at, k.as_str()))
    {
        at.insert(first.as_str());
    }
    at
}

/// All projected rows as sorted lines of text (row ids left out: they are not data).
pub(super) fn dump(conn: &Connection) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    // Not the audit log: reading a record writes an entry, so a test comparing dumps around a
    // read would see the read. Its own checks compare it (tests/it/sync_props.rs).
    for table in PROJECTION_TABLES.iter().filter(|t| **t != "audit") {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table}"))
            .ctx("dump")?;
        let n = stmt.column_count();
        let mut rows = stmt.query([]).ctx("dump")?;
        while let Some(row) = rows.next().ctx("dump")? {
            let mut line = format!("{table}:");
            for i in 0..n {
                let v: rusqlite::types::Value = row.get(i).ctx("dump")?;
                line.push_str(&format!(" {v:?}"));
            }
            lines.push(line);
        }
    }
    // The search index is contentless (it cannot give its text back): check that it holds
    // exactly one entry per member.
    let mut stmt = conn
        .prepare("SELECT m.id FROM members m WHERE m.rowid IN (SELECT rowid FROM member_search)")
        .ctx("dump search")?;
    let indexed = stmt
        .query_map([], |r| r.get::<_, Uuid>(0))
        .ctx("dump search")?;
    for id in indexed {
        lines.push(format!("member_search: {}", id.ctx("dump search")?));
    }
    let entries: i64 = conn
        .query_row("SELECT count(*) FROM member_search", [], |r| r.get(0))
        .ctx("dump search")?;
    lines.push(format!("member_search entries: {entries}"));
    lines.sort();
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_projected_before_the_back_entry_window_existed_still_read() {
        let before = r#"{"lockout_failures":5,"lockout_minutes":5,"idle_lock_minutes":5,
            "current_agreement":"1","consent_options":["photos"]}"#;
        let s: SettingsJson = serde_json::from_str(before).unwrap();
        assert_eq!(s.back_entry_days, doc::DEFAULT_BACK_ENTRY_DAYS);
    }

    /// What a change touched, by both readings: the operations (what a write uses) and
    /// Automerge's diff (the fallback).
    fn touched(
        doc: &mut AutoCommit,
        before: &[automerge::ChangeHash],
    ) -> (MemberChange, MemberChange) {
        let after = doc.get_heads();
        let by_ops = MemberChange::from_changes(doc, before).expect("every op placed");
        let by_diff = MemberChange::from_patches(&doc.diff(before, &after));
        (by_ops, by_diff)
    }

    fn visit_keys(c: &MemberChange) -> Vec<&str> {
        c.visits.iter().map(String::as_str).collect()
    }

    #[test]
    fn a_write_names_the_visits_and_row_it_touched_as_the_diff_does_and_a_resolved_conflict_too() {
        use automerge::transaction::Transactable;
        use automerge::{ObjType, ROOT, ReadDoc};
        let mut doc = AutoCommit::new().with_actor(automerge::ActorId::from([1u8; 16].as_slice()));
        doc.put(ROOT, "code", "AB-1234").unwrap();
        let visits = doc.put_object(ROOT, "visits", ObjType::Map).unwrap();
        let v1 = doc.put_object(&visits, "v1", ObjType::Map).unwrap();
        doc.put(&v1, "signed_in_at", 1_i64).unwrap();
        doc.commit();

        // A sign-in: a new visit with its fields and its list of activities.
        let before = doc.get_heads();
        let v2 = doc.put_object(&visits, "v2", ObjType::Map).unwrap();
        doc.put(&v2, "signed_in_at", 2_i64).unwrap();
        let activities = doc.put_object(&v2, "activities", ObjType::List).unwrap();
        doc.insert(&activities, 0, "art").unwrap();
        doc.commit();
        let (ops, diff) = touched(&mut doc, &before);
        assert_eq!((visit_keys(&ops), ops.row), (vec!["v2"], false));
        assert_eq!((visit_keys(&diff), diff.row), (vec!["v2"], false));

        // A sign-out of one visit, and a profile edit in the same change.
        let before = doc.get_heads();
        doc.put(&v1, "signed_out_at", 3_i64).unwrap();
        doc.put(ROOT, "code", "AB-9999").unwrap();
        doc.commit();
        let (ops, diff) = touched(&mut doc, &before);
        assert_eq!((visit_keys(&ops), ops.row), (vec!["v1"], true));
        assert_eq!((visit_keys(&diff), diff.row), (vec!["v1"], true));

        // A visit taken out.
        let before = doc.get_heads();
        doc.delete(&visits, "v2").unwrap();
        doc.commit();
        let (ops, diff) = touched(&mut doc, &before);
        assert_eq!(visit_keys(&ops), vec!["v2"]);
        assert_eq!(visit_keys(&diff), vec!["v2"]);

        // Two laptops sign v1 out apart: a conflict. One of them then writes the value that
        // was already shown, which ends the conflict without changing what is seen.
        let mut other = doc
            .fork()
            .with_actor(automerge::ActorId::from([2u8; 16].as_slice()));
        doc.put(&v1, "signed_out_at", 10_i64).unwrap();
        doc.commit();
        other.put(&v1, "signed_out_at", 20_i64).unwrap();
        other.commit();
        doc.merge(&mut other).unwrap();
        let shown = doc
            .get(&v1, "signed_out_at")
            .unwrap()
            .unwrap()
            .0
            .into_scalar()
            .unwrap();
        assert_eq!(doc.get_all(&v1, "signed_out_at").unwrap().len(), 2);
        let before = doc.get_heads();
        doc.put(&v1, "signed_out_at", shown).unwrap();
        doc.commit();
        assert_eq!(doc.get_all(&v1, "signed_out_at").unwrap().len(), 1);
        let (ops, _) = touched(&mut doc, &before);
        assert_eq!(
            visit_keys(&ops),
            vec!["v1"],
            "the visit is projected again, so its conflict is no longer shown"
        );
    }

    #[test]
    fn a_conversation_written_is_named_as_the_records_conversations_and_nothing_else() {
        use automerge::transaction::Transactable;
        use automerge::{ObjType, ROOT};
        let mut doc = AutoCommit::new().with_actor(automerge::ActorId::from([1u8; 16].as_slice()));
        doc.put(ROOT, "code", "AB-1234").unwrap();
        doc.put_object(ROOT, "visits", ObjType::Map).unwrap();
        doc.commit();

        // The layout upgrade's map, then a conversation in it, then one changed field.
        for step in 0..3 {
            let before = doc.get_heads();
            match step {
                0 => {
                    doc.put_object(ROOT, CONVERSATIONS, ObjType::Map).unwrap();
                }
                1 => {
                    let c = ConversationDoc {
                        at: 1,
                        by: "u".into(),
                        hub: "h".into(),
                        what_matters: "w".into(),
                        strengths: None,
                        resources: None,
                        choices: None,
                        next_steps: None,
                        follow_up: Some("2026-11-26".into()),
                        private_reason: None,
                    };
                    doc::put_entry(&mut doc, CONVERSATIONS, "c1", &c).unwrap();
                }
                _ => {
                    let (_, map) = automerge::ReadDoc::get(&doc, ROOT, CONVERSATIONS)
                        .unwrap()
                        .unwrap();
                    let (_, c1) = automerge::ReadDoc::get(&doc, &map, "c1").unwrap().unwrap();
                    doc.put(&c1, "follow_up", "2026-11-27").unwrap();
                }
            }
            doc.commit();
            let (ops, diff) = touched(&mut doc, &before);
            for (how, c) in [("ops", &ops), ("diff", &diff)] {
                assert!(c.conversations, "step {step} by {how}");
                assert!(!c.row && c.visits.is_empty(), "step {step} by {how}");
            }
        }
    }
}
