//! The `hubdesk` binary: its JSON shapes and exit codes are a contract other tools rely on.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub(crate) struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {:?}", self.stdout))
    }
}

pub(crate) fn hubdesk(dir: &Path, user: Option<(&str, &str)>, args: &[&str]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubdesk"));
    cmd.arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("HUBDESK_USER")
        .env_remove("HUBDESK_PIN")
        .env_remove("HUBDESK_DATA_DIR");
    if let Some((name, pin)) = user {
        cmd.env("HUBDESK_USER", name).env("HUBDESK_PIN", pin);
    }
    Out::from(cmd.output().expect("run hubdesk"))
}

impl From<std::process::Output> for Out {
    fn from(out: std::process::Output) -> Self {
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

const M: Option<(&str, &str)> = Some(("Maya", "2468"));

pub(crate) fn set_up() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubdesk"));
    let out = cmd
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "init",
            "--org",
            "Test Org",
            "--hub",
            "Riverside",
            "--device",
            "desk-1",
            "--manager",
            "Maya",
        ])
        .env("HUBDESK_PIN", "2468")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn ok(out: Out) -> Value {
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    out.json()
}

#[test]
fn a_hub_day_on_the_command_line_prints_the_promised_json() {
    let dir = set_up();
    let d = dir.path();
    let added = ok(hubdesk(
        d,
        M,
        &["--json", "activity", "add", "Art group", "--kind", "group"],
    ));
    assert_eq!(added["kind"], "group");
    let day = ok(hubdesk(d, M, &["--json", "day", "open"]));
    for key in ["date", "hub", "open", "signed_in", "headcount"] {
        assert!(day.get(key).is_some(), "day has {key}: {day}");
    }
    assert_eq!(day["open"], true);

    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "member",
            "register",
            "--name",
            "Zoë",
            "--born",
            "2010-04",
            "--pronouns",
            "she/her",
        ],
    ));
    for key in ["id", "code", "preferred_name", "age"] {
        assert!(m.get(key).is_some(), "member has {key}: {m}");
    }
    assert_eq!(m["preferred_name"], "Zoë");
    assert_eq!(m["age"], 16);
    let code = m["code"].as_str().unwrap().to_string();

    let shown = ok(hubdesk(d, M, &["--json", "member", "show", &code]));
    assert_eq!(shown["id"], m["id"]);
    let found = ok(hubdesk(d, M, &["--json", "member", "find", "zoe"]));
    assert_eq!(found[0]["code"], code.as_str());

    ok(hubdesk(
        d,
        M,
        &["--json", "signin", &code, "--for", "Art group"],
    ));
    let here = ok(hubdesk(d, M, &["--json", "here"]));
    let entry = &here[0];
    for key in ["member_id", "code", "preferred_name", "since", "activities"] {
        assert!(entry.get(key).is_some(), "here entry has {key}: {entry}");
    }
    assert_eq!(entry["activities"][0], "Art group");

    ok(hubdesk(d, M, &["--json", "headcount", "add", "2"]));
    ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "contact",
            "signin",
            "--kind",
            "parent",
            "--name",
            "Pat",
            "--signposted",
        ],
    ));
    let roll = hubdesk(d, M, &["here", "--format", "csv"]);
    assert_eq!(roll.code, 0);
    assert!(
        roll.stdout
            .starts_with("\"name\",\"code\",\"kind\",\"since\",\"for\""),
        "{}",
        roll.stdout
    );
    // Text is quoted, so a ';' in a name never splits it in a spreadsheet that separates
    // with ';'.
    assert!(
        roll.stdout.contains("\"Pat\",\"\",\"parent\""),
        "{}",
        roll.stdout
    );
    let text = hubdesk(d, M, &["here", "--format", "text"]);
    assert!(
        text.stdout.contains("ROLL CALL") && text.stdout.contains("Zoë"),
        "{}",
        text.stdout
    );

    let day = ok(hubdesk(d, M, &["--json", "day", "show"]));
    assert_eq!(
        (day["signed_in"].as_i64(), day["headcount"].as_i64()),
        (Some(1), Some(2))
    );
    ok(hubdesk(d, M, &["--json", "signout", &code]));
    let closed = ok(hubdesk(d, M, &["--json", "day", "close"]));
    assert_eq!(closed["open"], false);
}

#[test]
fn exit_codes_follow_the_contract() {
    let dir = set_up();
    let d = dir.path();
    // 2: invalid input.
    let bad = hubdesk(
        d,
        M,
        &[
            "member",
            "register",
            "--name",
            "Zoë",
            "--born",
            "next April",
        ],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(
        bad.stderr.trim().lines().count(),
        1,
        "one sentence: {}",
        bad.stderr
    );
    // 5: no open day.
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    assert_eq!(hubdesk(d, M, &["signin", code]).code, 5);
    ok(hubdesk(d, M, &["--json", "day", "open"]));
    ok(hubdesk(d, M, &["--json", "signin", code]));
    // 5: already signed in; also a likely duplicate registration.
    let twice = hubdesk(d, M, &["signin", code]);
    assert_eq!(twice.code, 5);
    assert!(
        twice.stderr.contains("already signed in"),
        "{}",
        twice.stderr
    );
    let dup = hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "kai", "--born", "2012-03",
        ],
    );
    assert_eq!(dup.code, 5);
    assert!(dup.json()["possible_duplicates"][0]["code"] == code);
    // 4: not found.
    assert_eq!(hubdesk(d, M, &["member", "show", "ZZZ-ZZZZ"]).code, 4);
    assert_eq!(
        hubdesk(d, M, &["member", "show", &uuid::Uuid::now_v7().to_string()]).code,
        4
    );
    // 3: not permitted, wrong PIN, locked out.
    let add = Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(d)
        .args(["user", "add", "Dee", "--role", "desk"])
        .env("HUBDESK_USER", "Maya")
        .env("HUBDESK_PIN", "2468")
        .env("HUBDESK_NEW_PIN", "1357")
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let desk = Some(("Dee", "1357"));
    assert_eq!(hubdesk(d, desk, &["user", "list"]).code, 3);
    assert_eq!(hubdesk(d, Some(("Dee", "0000")), &["here"]).code, 3);
    for _ in 0..4 {
        hubdesk(d, Some(("Dee", "0000")), &["here"]);
    }
    let locked = hubdesk(d, desk, &["here"]);
    assert_eq!(locked.code, 3);
    assert!(locked.stderr.contains("Try again in"), "{}", locked.stderr);
    assert_eq!(hubdesk(d, None, &["here"]).code, 3, "no user given");
}

#[test]
fn names_in_any_script_round_trip_and_are_found() {
    let dir = set_up();
    let d = dir.path();
    let names = [
        ("Zoë", "zoe"),
        ("Łukasz", "lukasz"),
        ("Siobhán O'Brien", "obrien"),
        ("李雷", "lilei"),
        ("Sky 🌈✨", "sky"),
        ("ليلى", "ليلى"),
        ("נועה כהן", "נועה"),
    ];
    for (name, _) in &names {
        ok(hubdesk(
            d,
            M,
            &[
                "--json", "member", "register", "--name", name, "--born", "2011-05", "--force",
            ],
        ));
    }
    for (name, typed) in &names {
        let found = ok(hubdesk(d, M, &["--json", "member", "find", typed]));
        let shown: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["preferred_name"].as_str().unwrap())
            .collect();
        assert!(shown.contains(name), "{typed} finds {name}: {shown:?}");
    }
}

#[test]
fn very_long_input_is_refused_cleanly_and_nothing_is_written() {
    let dir = set_up();
    let d = dir.path();
    let long = "A".repeat(100_000);
    let out = hubdesk(
        d,
        M,
        &["member", "register", "--name", &long, "--born", "2010-04"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("the most is 80"), "{}", out.stderr);
    assert!(out.stderr.len() < 200, "the error does not echo the input");
    let out = hubdesk(d, M, &["member", "find", &long]);
    assert_eq!(out.code, 2);
    let found = ok(hubdesk(d, M, &["--json", "member", "find", "aaa"]));
    assert_eq!(found, serde_json::json!([]));
}

#[test]
fn the_demo_builds_on_an_empty_directory_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let built = ok(hubdesk(
        d,
        None,
        &[
            "--json",
            "demo",
            "--members",
            "40",
            "--days",
            "6",
            "--seed",
            "7",
        ],
    ));
    assert_eq!(built["members"], 40);
    assert!(built["org"].as_str().unwrap().contains("DEMO"));
    let desk = Some(("Demo Desk", "1357"));
    ok(hubdesk(d, desk, &["--json", "day", "open"]));
    let again = hubdesk(d, None, &["demo", "--members", "10", "--days", "2"]);
    assert_eq!(again.code, 5);
}

#[test]
fn the_same_seed_builds_the_same_members() {
    let list = |seed: &str| {
        let dir = tempfile::tempdir().unwrap();
        ok(hubdesk(
            dir.path(),
            None,
            &[
                "--json",
                "demo",
                "--members",
                "30",
                "--days",
                "5",
                "--seed",
                seed,
            ],
        ));
        let found = ok(hubdesk(
            dir.path(),
            Some(("Demo Manager", "2468")),
            &["--json", "member", "find", "a"],
        ));
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["code"].to_string(),
                    m["preferred_name"].to_string(),
                    m["born"].to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(list("3"), list("3"));
    assert_ne!(list("3"), list("4"));
}

/// A free loopback port (bound and released; good enough for a test).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Serving(std::process::Child);

/// Whether process `pid` holds a listening TCP socket on `port` (Linux: its socket inodes
/// against the kernel's table of listening sockets).
fn listens(pid: u32, port: u16) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    let sockets: std::collections::HashSet<String> = fds
        .flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|link| {
            let link = link.to_string_lossy().into_owned();
            Some(
                link.strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect();
    let port = format!("{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .any(|f| {
                f.len() > 9
                    && f[3] == "0A"
                    && f[1].rsplit(':').next() == Some(port.as_str())
                    && sockets.contains(f[9])
            })
    })
}

/// Waits (a bounded number of polls) until `child` itself listens on `addr`. Something else
/// answering on that port is not enough: a serve that could not start must fail the test, not
/// let it carry on against whoever holds the port.
fn serving(child: &mut std::process::Child, addr: &str) -> Result<(), String> {
    let port: u16 = addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("an address with a port");
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
            }
            return Err(format!(
                "sync serve exited ({status}) before listening: {stderr}"
            ));
        }
        if listens(child.id(), port) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    Err(format!("sync serve never listened on {addr}"))
}

/// `hubdesk sync serve` on `dir` in the background, off the LAN, its stdout going to
/// `stdout` and its stderr to a pipe.
fn serve(dir: &Path, addr: &str, env: &[(&str, &str)], stdout: std::process::Stdio) -> Serving {
    let child = Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(dir)
        .args(["sync", "serve", "--listen", addr])
        .env("HUBDESK_MDNS", "off")
        .envs(env.iter().copied())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut serving = Serving(child);
    if let Err(e) = self::serving(&mut serving.0, addr) {
        panic!("{e}");
    }
    serving
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn two_laptops_pair_sync_exchange_files_and_revoke_from_the_command_line() {
    let a = set_up();
    let b = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let _server = serve(a.path(), &addr, &[], std::process::Stdio::null());
    let code = hubdesk(a.path(), M, &["--json", "sync", "pair-code"]).json()["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let out = hubdesk(
        b.path(),
        None,
        &["sync", "join", &addr, "--code", wrong, "--device", "desk-2"],
    );
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(out.stderr.contains("not right"), "{}", out.stderr);

    let out = hubdesk(
        b.path(),
        None,
        &[
            "--json", "sync", "join", &addr, "--code", &code, "--device", "desk-2",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["peer_name"], "desk-1");

    let out = hubdesk(
        b.path(),
        M,
        &[
            "member",
            "register",
            "--name",
            "Zoë Adams",
            "--born",
            "2010-04",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = hubdesk(b.path(), None, &["--json", "sync", "now", &addr]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let synced = out.json();
    // The member, and the entry of it in this laptop's audit log.
    assert_eq!(synced["report"]["docs_sent"], 2);
    assert!(synced["traffic"]["bytes_sent"].as_u64().unwrap() > 0);
    let found = hubdesk(a.path(), M, &["--json", "member", "find", "zoe"]).json();
    assert_eq!(found.as_array().unwrap().len(), 1);

    let status = hubdesk(b.path(), None, &["--json", "sync", "status"]).json();
    assert_eq!(status["peers"][0]["name"], "desk-1");
    assert_eq!(status["peers"][0]["pending"], 0);

    let file = a.path().join("to-desk-2.hdsync");
    let out = hubdesk(a.path(), M, &["sync", "export", file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = hubdesk(
        b.path(),
        M,
        &["--json", "sync", "import", file.to_str().unwrap()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json()["docs_changed"],
        0,
        "desk-2 already had everything"
    );

    let devices = hubdesk(a.path(), M, &["--json", "device", "list"]).json();
    assert_eq!(devices.as_array().unwrap().len(), 2);
    let out = hubdesk(a.path(), M, &["device", "revoke", "desk-2"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // desk-2, not told yet, writes a sync file: desk-1 refuses it whole.
    let late = b.path().join("from-desk-2.hdsync");
    let out = hubdesk(b.path(), M, &["sync", "export", late.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = hubdesk(a.path(), M, &["sync", "import", late.to_str().unwrap()]);
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(out.stderr.contains("removed"), "{}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    // desk-2 syncs: desk-1 tells it, with the organisation's record, and desk-2 forgets.
    let out = hubdesk(b.path(), None, &["--json", "sync", "now", &addr]);
    assert_eq!(out.code, 7, "{}", out.stderr);
    let said = out.stderr.trim().to_string();
    assert!(
        said.starts_with("This laptop was removed from Test Org on ")
            && said.ends_with("; its records have been erased."),
        "{said}"
    );
    assert_eq!(out.json()["error"]["kind"], "removed");
    for gone in [
        "hubdesk.db",
        "hubdesk.db-wal",
        "store.key",
        "from-desk-2.hdsync",
    ] {
        assert!(!b.path().join(gone).exists(), "{gone} is still there");
    }
    assert!(b.path().join("removed.json").exists());
    // Every later command says the same, and sets nothing up again.
    for args in [
        &["member", "find", "zoe"][..],
        &["sync", "status"],
        &["sync", "now", &addr],
    ] {
        let out = hubdesk(b.path(), M, args);
        assert_eq!(out.code, 7, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.trim(), said);
    }
    assert!(!b.path().join("hubdesk.db").exists());
}

#[test]
fn a_birth_month_register_refuses_is_refused_by_update_too() {
    let dir = set_up();
    let d = dir.path();
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    for born in ["2030-01", "1980-01"] {
        let register = hubdesk(
            d,
            M,
            &["member", "register", "--name", "Ash", "--born", born],
        );
        let update = hubdesk(d, M, &["member", "update", code, "--born", born]);
        assert_eq!(register.code, 2, "{born}: {}", register.stderr);
        assert_eq!(update.code, 2, "{born}: {}", update.stderr);
        assert_eq!(update.stderr, register.stderr, "{born}: the same sentence");
    }
    let shown = ok(hubdesk(d, M, &["--json", "member", "show", code]));
    assert_eq!(shown["born"], "2012-03");
    ok(hubdesk(
        d,
        M,
        &["--json", "member", "update", code, "--born", "2012-04"],
    ));
}

#[test]
fn duplicates_merge_and_conflicts_from_the_command_line() {
    let dir = set_up();
    for name in ["Sam Smith", "Sam Smyth"] {
        let out = hubdesk(
            dir.path(),
            M,
            &[
                "member", "register", "--name", name, "--born", "2009-05", "--force",
            ],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    // A whole birth date is kept as its month, and the CLI says so on stderr.
    let dated = hubdesk(
        dir.path(),
        M,
        &[
            "member",
            "register",
            "--name",
            "Nia Mensah",
            "--born",
            "14/03/2010",
        ],
    );
    assert_eq!(dated.code, 0, "{}", dated.stderr);
    assert_eq!(
        dated.stderr.trim(),
        "Kept March 2010: hubdesk keeps only the month."
    );
    assert!(dated.stdout.contains("born 2010-03"), "{}", dated.stdout);
    let page = hubdesk(dir.path(), M, &["--json", "member", "duplicates"]).json();
    assert_eq!(page["total"], 1);
    let pairs = page["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 1);
    assert_eq!(
        pairs[0]["why"], "same birth month, names differ by one letter",
        "the likeness is explained in words"
    );
    let text = hubdesk(
        dir.path(),
        M,
        &["member", "duplicates", "--filter", "smyth"],
    );
    assert!(text.stdout.contains("Pairs 1-1 of 1."), "{}", text.stdout);
    let none = hubdesk(
        dir.path(),
        M,
        &["member", "duplicates", "--filter", "nobody"],
    );
    assert_eq!(none.stdout.trim(), "No likely duplicates.");
    let keep = pairs[0]["first"]["code"].as_str().unwrap().to_string();
    let other = pairs[0]["second"]["code"].as_str().unwrap().to_string();
    let out = hubdesk(dir.path(), M, &["member", "merge", &keep, &other]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown = hubdesk(dir.path(), M, &["--json", "member", "show", &other]).json();
    assert_eq!(
        shown["code"],
        keep.as_str(),
        "the old code leads to the member kept"
    );
    // The two records disagree on the name: one conflict to settle, nothing dropped.
    let conflicts = hubdesk(dir.path(), M, &["--json", "conflicts"]).json();
    let conflicts = conflicts.as_array().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0]["field"], "preferred_name");
    let out = hubdesk(
        dir.path(),
        M,
        &[
            "conflicts",
            "resolve",
            &other,
            "preferred_name",
            "--value",
            "Sam Smith",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let none = hubdesk(dir.path(), M, &["--json", "conflicts"]).json();
    assert_eq!(none.as_array().unwrap().len(), 0);
    // A field with no conflict (any more, or ever) is not silently set: exit 5.
    for (field, value) in [("preferred_name", "Samuel"), ("pronouns", "he/him")] {
        let out = hubdesk(
            dir.path(),
            M,
            &["conflicts", "resolve", &keep, field, "--value", value],
        );
        assert_eq!(out.code, 5, "{field}: {}", out.stderr);
        assert!(out.stderr.contains("no conflict"), "{}", out.stderr);
    }
    let shown = hubdesk(dir.path(), M, &["--json", "member", "show", &keep]).json();
    assert_eq!(shown["preferred_name"], "Sam Smith");
    assert!(shown["pronouns"].is_null(), "{shown}");
    let out = hubdesk(
        dir.path(),
        M,
        &["conflicts", "resolve", &keep, "colour", "--value", "x"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn a_day_after_today_or_beyond_the_back_entry_window_is_refused_with_exit_2() {
    let dir = set_up();
    let d = dir.path();
    let today = ok(hubdesk(d, M, &["--json", "day", "open"]));
    for (typo, says) in [
        ("9999-12-31", "after today"),
        ("1900-01-01", "up to 31 days back"),
    ] {
        let out = hubdesk(d, M, &["day", "open", "--date", typo]);
        assert_eq!(out.code, 2, "{typo}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{typo}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    }
    // Month 13 never reaches the core: clap refuses it, also with 2.
    assert_eq!(
        hubdesk(d, M, &["day", "open", "--date", "2026-13-01"]).code,
        2
    );
    // A past day while today's is open: 5, naming the open day.
    let today_date = today["date"].as_str().unwrap();
    let yesterday = chrono::NaiveDate::parse_from_str(today_date, "%Y-%m-%d").unwrap()
        - chrono::Duration::days(1);
    let out = hubdesk(d, M, &["day", "open", "--date", &yesterday.to_string()]);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains(today_date), "{}", out.stderr);
    let shown = ok(hubdesk(d, M, &["--json", "day", "show"]));
    assert_eq!(
        shown["date"], today["date"],
        "today's day is still the desk's"
    );
    assert_eq!(shown["back_entry"], Value::Null);
    assert_eq!(shown["also_open"], serde_json::json!([]));

    // The window is the organisation's setting.
    let set = ok(hubdesk(
        d,
        M,
        &["--json", "settings", "set", "--back-entry-days", "7"],
    ));
    assert_eq!(set["back_entry_days"], 7);
    let shown = hubdesk(d, M, &["settings", "show"]);
    assert!(
        shown.stdout.contains("up to 7 days back"),
        "{}",
        shown.stdout
    );
    assert_eq!(
        hubdesk(d, M, &["settings", "set", "--back-entry-days", "400"]).code,
        2
    );
}

#[test]
fn sync_serve_syncs_out_to_a_paired_laptop_on_its_timer_and_stops_on_sigterm() {
    // desk-1 only answers (HUBDESK_SYNC=off), so whatever reaches it was sent by desk-2.
    let a = set_up();
    let a_addr = format!("127.0.0.1:{}", free_port());
    let _desk_1 = serve(
        a.path(),
        &a_addr,
        &[("HUBDESK_SYNC", "off")],
        std::process::Stdio::null(),
    );
    let code = hubdesk(a.path(), M, &["--json", "sync", "pair-code"]).json()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let b = tempfile::tempdir().unwrap();
    let out = hubdesk(
        b.path(),
        None,
        &[
            "sync", "join", &a_addr, "--code", &code, "--device", "desk-2",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);

    // desk-2 runs headless, syncing every second; the member is registered while it runs,
    // so only its timer (no `sync now`, nothing poked) can carry it to desk-1.
    let b_addr = format!("127.0.0.1:{}", free_port());
    let mut desk_2 = serve(
        b.path(),
        &b_addr,
        &[("HUBDESK_SYNC_INTERVAL_SECONDS", "1")],
        std::process::Stdio::piped(),
    );
    // Whoever read its log went away: printing a session must not bring the peer down.
    drop(desk_2.0.stdout.take());
    let out = hubdesk(
        b.path(),
        M,
        &[
            "member",
            "register",
            "--name",
            "Ola Nowak",
            "--born",
            "2009-11",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut arrived = false;
    for _ in 0..300 {
        let found = hubdesk(a.path(), M, &["--json", "member", "find", "ola"]);
        if found.code == 0 && found.json().as_array().is_some_and(|a| a.len() == 1) {
            arrived = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        arrived,
        "desk-2's serve never synced the member out to desk-1"
    );
    assert!(
        desk_2.0.try_wait().unwrap().is_none(),
        "sync serve died printing into a closed pipe"
    );

    // A service manager stops it with SIGTERM: it ends its loop and exits 0.
    let pid = desk_2.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let mut exited = None;
    for _ in 0..300 {
        if let Some(status) = desk_2.0.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = exited.expect("sync serve did not stop on SIGTERM");
    let mut stderr = String::new();
    if let Some(mut e) = desk_2.0.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
    }
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("Stopped serving sync."), "{stderr}");
}

/// hubdesk with its stdout going into a pipe whose reading end is already closed (as in
/// `hubdesk here | true`): every write to stdout fails with a broken pipe.
fn into_closed_pipe(dir: &Path, user: Option<(&str, &str)>, args: &[&str]) -> Out {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubdesk"));
    cmd.arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("HUBDESK_USER")
        .env_remove("HUBDESK_PIN")
        .env_remove("HUBDESK_DATA_DIR")
        .stdout(writer)
        .stderr(std::process::Stdio::piped());
    if let Some((name, pin)) = user {
        cmd.env("HUBDESK_USER", name).env("HUBDESK_PIN", pin);
    }
    let out = cmd.output().expect("run hubdesk");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts `out` failed with `code` and said so in one line on stderr, with no trace of
/// clap's usage blocks, a panic or SQLCipher's own log.
fn one_sentence(out: &Out, code: i32) -> String {
    assert_eq!(out.code, code, "stderr: {}", out.stderr);
    let line = out.stderr.trim();
    assert_eq!(line.lines().count(), 1, "one sentence: {:?}", out.stderr);
    for noise in [
        "Usage",
        "tip:",
        "--help'",
        "panicked",
        "ERROR CORE",
        "error:",
    ] {
        assert!(!line.contains(noise), "{noise} in {line:?}");
    }
    line.to_string()
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let dir = set_up();
    let d = dir.path();
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    ok(hubdesk(d, M, &["--json", "day", "open"]));
    ok(hubdesk(d, M, &["--json", "signin", code]));
    for args in [
        &["member", "show", code][..],
        &["member", "find", "kai"],
        &["here"],
        &["here", "--format", "text"],
        &["--json", "here"],
        &["--help"],
    ] {
        let out = into_closed_pipe(d, M, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr, "", "{args:?}");
    }
    // An error still says why on stderr, and keeps its exit code.
    let out = into_closed_pipe(d, M, &["--json", "member", "show", "ZZZ-ZZZZ"]);
    one_sentence(&out, 4);
    // Likely duplicates are listed on stdout before the refusal: it still ends in exit 5.
    let out = into_closed_pipe(
        d,
        M,
        &["member", "register", "--name", "kai", "--born", "2012-03"],
    );
    one_sentence(&out, 5);
}

#[test]
fn a_command_line_clap_refuses_is_one_sentence_with_exit_2() {
    let dir = set_up();
    let d = dir.path();
    for (args, says) in [
        (&["here", "--bogus"][..], "has no option --bogus"),
        (&["here", "--formt", "csv"], "did you mean --format?"),
        (&["here", "--format", "xml"], "one of csv, text"),
        (&["day", "open", "--date", "yesterday"], "YYYY-MM-DD"),
        (
            &["member", "register", "--name", "-2+3", "--born", "2010-01"],
            "write --name=-2+3",
        ),
        (&["member", "register", "--born", "2010-01"], "needs --name"),
        (&["member"], "`hubdesk member --help` lists them"),
    ] {
        let out = hubdesk(d, M, args);
        let line = one_sentence(&out, 2);
        assert!(line.contains(says), "{args:?}: {line}");
        assert_eq!(out.stdout, "", "{args:?}");
    }
    // Bytes that are not text are refused the same way (reading them must not panic).
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let out = Command::new(env!("CARGO_BIN_EXE_hubdesk"))
            .arg("--data-dir")
            .arg(d)
            .args(["member", "find"])
            .arg(std::ffi::OsStr::from_bytes(b"\xff"))
            .output()
            .unwrap();
        let out = Out::from(out);
        one_sentence(&out, 2);
    }
    // The same refusal in JSON: one value on stdout naming the field.
    let out = hubdesk(d, M, &["--json", "day", "open", "--date", "yesterday"]);
    one_sentence(&out, 2);
    let err = &out.json()["error"];
    assert_eq!(err["kind"], "validation");
    assert_eq!(err["field"], "date");
    assert!(err["message"].as_str().unwrap().contains("YYYY-MM-DD"));
}

#[test]
fn with_json_every_error_is_one_json_value_with_its_kind_and_exit_code() {
    let dir = set_up();
    let d = dir.path();
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    // (who, command, kind, exit code, field)
    type Case<'a> = (
        Option<(&'a str, &'a str)>,
        &'a [&'a str],
        &'a str,
        i32,
        Value,
    );
    let cases: [Case; 5] = [
        (
            M,
            &[
                "member",
                "register",
                "--name",
                "Ola",
                "--born",
                "next April",
            ],
            "validation",
            2,
            Value::from("born"),
        ),
        (M, &["signin", code], "conflict", 5, Value::Null),
        (
            M,
            &["member", "show", "ZZZ-ZZZZ"],
            "not_found",
            4,
            Value::Null,
        ),
        (
            Some(("Maya", "0000")),
            &["here"],
            "permission",
            3,
            Value::Null,
        ),
        (
            None,
            &["sync", "now", "127.0.0.1:1"],
            "sync",
            1,
            Value::Null,
        ),
    ];
    for (user, args, kind, exit, field) in cases {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        let out = hubdesk(d, user, &with_json);
        let line = one_sentence(&out, exit);
        let value = out.json();
        assert_eq!(value["error"]["kind"], kind, "{args:?}: {value}");
        assert_eq!(value["error"]["message"], line.as_str(), "{args:?}");
        assert_eq!(value["error"]["field"], field, "{args:?}: {value}");
    }
    // Likely duplicates: the error and the candidates, still one value.
    let out = hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "kai", "--born", "2012-03",
        ],
    );
    assert_eq!(out.code, 5, "{}", out.stderr);
    let value = out.json();
    assert_eq!(value["error"]["kind"], "conflict");
    assert_eq!(value["possible_duplicates"][0]["code"], code);
}

#[test]
fn a_wrong_key_or_a_damaged_store_is_one_sentence_without_sqlcipher_log_lines() {
    let dir = set_up();
    let d = dir.path();
    let key = d.join("store.key");
    let real_key = std::fs::read(&key).unwrap();
    std::fs::write(&key, "ab".repeat(32)).unwrap();
    let line = one_sentence(&hubdesk(d, M, &["here"]), 1);
    assert!(line.contains("key file does not match"), "{line}");

    std::fs::write(&key, real_key).unwrap();
    let db = d.join("hubdesk.db");
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().take(4096) {
        *b = !*b;
    }
    std::fs::write(&db, bytes).unwrap();
    one_sentence(&hubdesk(d, M, &["here"]), 1);
}

#[test]
fn a_data_dir_that_is_a_file_or_holds_no_store_is_explained_and_nothing_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "not a folder").unwrap();
    let line = one_sentence(&hubdesk(&file, M, &["here"]), 2);
    assert!(line.contains("is a file, not a folder"), "{line}");

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for args in [
        &["here"][..],
        &["member", "find", "kai"],
        &["day", "show"],
        &["sync", "status"],
        &["member", "register", "--name", "Kai", "--born", "2012-03"],
    ] {
        let line = one_sentence(&hubdesk(&empty, M, args), 5);
        assert!(line.contains("no hubdesk store in"), "{args:?}: {line}");
        assert!(line.contains("hubdesk init"), "{args:?}: {line}");
        assert_eq!(
            std::fs::read_dir(&empty).unwrap().count(),
            0,
            "{args:?} left something behind"
        );
    }

    // A store whose key file is gone: never a new key, and it says why it cannot open.
    let d = set_up();
    std::fs::remove_file(d.path().join("store.key")).unwrap();
    let line = one_sentence(&hubdesk(d.path(), M, &["here"]), 1);
    assert!(line.contains("key file (store.key) is missing"), "{line}");
    assert!(!d.path().join("store.key").exists());
}

#[test]
fn sync_now_refuses_this_laptops_own_address_and_an_address_that_is_not_one() {
    let a = set_up();
    let addr = format!("127.0.0.1:{}", free_port());
    let _desk_1 = serve(
        a.path(),
        &addr,
        &[("HUBDESK_SYNC", "off")],
        std::process::Stdio::null(),
    );
    let line = one_sentence(&hubdesk(a.path(), None, &["sync", "now", &addr]), 2);
    assert!(line.contains("is this laptop itself"), "{line}");
    let status = ok(hubdesk(a.path(), None, &["--json", "sync", "status"]));
    assert_eq!(status["peers"], serde_json::json!([]), "not its own peer");

    for typo in ["127.0.0.1:99999", "127.0.0.1:port", ":47810"] {
        let out = hubdesk(a.path(), None, &["--json", "sync", "now", typo]);
        let line = one_sentence(&out, 2);
        assert!(line.contains("is not an address"), "{typo}: {line}");
        assert!(!line.contains(&format!("{typo}:47810")), "{line}");
        assert_eq!(out.json()["error"]["field"], "address");
    }
}

#[test]
fn sync_serve_on_a_busy_port_says_only_that_it_could_not_listen() {
    let a = set_up();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(a.path())
        .args(["sync", "serve", "--listen", &addr])
        .env("HUBDESK_MDNS", "off")
        .env("HUBDESK_SYNC", "off")
        .output()
        .unwrap();
    let line = one_sentence(&Out::from(out), 1);
    assert!(line.starts_with("Could not listen on"), "{line}");
    assert!(!line.contains("Serving"), "{line}");
}

#[test]
fn a_second_pairing_code_keeps_the_first_valid_and_a_repeated_join_says_how_to_finish() {
    let a = set_up();
    let addr = format!("127.0.0.1:{}", free_port());
    let _desk_1 = serve(
        a.path(),
        &addr,
        &[("HUBDESK_SYNC", "off")],
        std::process::Stdio::null(),
    );
    let first = ok(hubdesk(a.path(), M, &["--json", "sync", "pair-code"]));
    let second = ok(hubdesk(a.path(), M, &["--json", "sync", "pair-code"]));
    assert_eq!(first["code"], second["code"], "the first code still works");
    let code = first["code"].as_str().unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = hubdesk(
        b.path(),
        None,
        &["sync", "join", &addr, "--code", code, "--device", "desk-2"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // A used code is gone: the next one is new.
    let third = ok(hubdesk(a.path(), M, &["--json", "sync", "pair-code"]));
    assert_ne!(third["code"], first["code"]);

    // Joining again (after a join that was cut short, say) says how to finish instead.
    let out = hubdesk(
        b.path(),
        None,
        &["sync", "join", &addr, "--code", code, "--device", "desk-2"],
    );
    let line = one_sentence(&out, 5);
    assert!(line.contains(&format!("hubdesk sync now {addr}")), "{line}");
}

#[test]
fn a_store_that_will_not_open_is_explained_in_one_sentence_and_detailed_in_the_log() {
    let dir = set_up();
    // Same key file, but the database is now noise: SQLCipher cannot decrypt it.
    std::fs::write(dir.path().join("hubdesk.db"), vec![0x5a; 8192]).unwrap();
    let out = hubdesk(dir.path(), M, &["here"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let logs = dir.path().join("logs");
    let logged: String = std::fs::read_dir(&logs)
        .unwrap_or_else(|e| panic!("no log folder in the data directory ({e})"))
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        logged.contains("ERROR") && logged.contains("could not be opened"),
        "{logged}"
    );
    // The log holds no personal data: the org's users' names never reach it.
    assert!(!logged.contains("Maya"), "{logged}");
    // The appender's own complaints do not reach the person either.
    assert!(!out.stderr.contains("log directory"), "{}", out.stderr);
}

#[test]
fn a_command_that_logs_nothing_leaves_no_log_folder() {
    let dir = set_up();
    ok(hubdesk(dir.path(), M, &["--json", "user", "list"]));
    assert!(!dir.path().join("logs").exists());
}

#[test]
fn a_serve_that_cannot_listen_fails_the_test_rather_than_another_listener_passing_for_it() {
    let dir = set_up();
    // The port is taken (by this test), so serve cannot listen; the port still answers.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["sync", "serve", "--listen", &addr])
        .env("HUBDESK_MDNS", "off")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let waited = serving(&mut child, &addr);
    if child.try_wait().unwrap().is_none() {
        child.kill().unwrap();
    }
    child.wait().unwrap();
    let err = waited.expect_err("a serve that could not listen was taken as serving");
    assert!(err.contains("exited"), "{err}");
}

#[test]
fn after_a_command_the_command_line_folds_the_records_it_changed() {
    let dir = set_up();
    let d = dir.path();
    ok(hubdesk(d, M, &["--json", "day", "open"]));
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2010-04",
        ],
    ));
    let code = m["code"].as_str().unwrap().to_string();
    let id: uuid::Uuid = m["id"].as_str().unwrap().parse().unwrap();
    ok(hubdesk(d, M, &["--json", "signin", &code]));
    ok(hubdesk(d, M, &["--json", "signout", &code]));
    // The sign-in and the sign-out each appended a chunk; the idle step after each command
    // folded them, and nothing else waits.
    let store = hubdesk::store::Store::open_existing(d).unwrap();
    assert_eq!(store.chunk_count(id).unwrap(), 1);
    assert_eq!(store.compaction_pending().unwrap(), 0);
    let shown = ok(hubdesk(d, M, &["--json", "member", "show", &code]));
    assert_eq!(shown["visit_count"], 1, "{shown}");
}

#[test]
fn undo_of_a_sign_in_and_of_a_sign_out_on_the_command_line() {
    let dir = set_up();
    let d = dir.path();
    ok(hubdesk(d, M, &["--json", "day", "open"]));
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Sam Lee", "--born", "2010-04",
        ],
    ));
    let code = m["code"].as_str().unwrap().to_string();

    // The wrong person signed in, and undone: withdrawn, and the day counts nothing.
    let signed_in = ok(hubdesk(d, M, &["--json", "signin", &code]));
    let visit = signed_in["visit"].as_str().unwrap().to_string();
    let undone = ok(hubdesk(
        d,
        M,
        &["--json", "undo", "signin", &code, "--visit", &visit],
    ));
    assert_eq!(undone["preferred_name"], "Sam Lee");
    let day = ok(hubdesk(d, M, &["--json", "day", "show"]));
    assert_eq!(
        (day["signed_in"].as_i64(), day["visits"].as_i64()),
        (Some(0), Some(0))
    );
    // Again: nothing to undo, exit 5 with one sentence (and the error as JSON).
    let again = hubdesk(d, M, &["--json", "undo", "signin", &code]);
    assert_eq!(again.code, 5, "{}", again.stderr);
    assert!(
        again.stderr.contains("is not signed in"),
        "{}",
        again.stderr
    );
    assert!(again.json().get("error").is_some(), "{}", again.stdout);

    // A sign-out undone: the same visit, open again.
    ok(hubdesk(d, M, &["--json", "signin", &code]));
    ok(hubdesk(d, M, &["--json", "signout", &code]));
    let back = hubdesk(d, M, &["undo", "signout", &code]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(
        back.stdout.contains("is back in, on the same visit"),
        "{}",
        back.stdout
    );
    let day = ok(hubdesk(d, M, &["--json", "day", "show"]));
    assert_eq!(
        (day["signed_in"].as_i64(), day["visits"].as_i64()),
        (Some(1), Some(1))
    );
    // Not a visit id: exit 2.
    let bad = hubdesk(d, M, &["undo", "signout", &code, "--visit", "x"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn conversations_on_the_command_line_print_one_json_value_and_refuse_with_the_usual_codes() {
    let dir = set_up();
    let d = dir.path();
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    // A week on from the laptop's today, wherever in the day the test runs.
    let next_week = (chrono::Utc::now() + chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    let added = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "conversation",
            "add",
            code,
            "--what-matters",
            "Getting back into music",
            "--strengths",
            "Plays guitar",
            "--next-steps",
            "Visit the open day",
            "--follow-up",
            &next_week,
        ],
    ));
    assert_eq!(added["private"], false);
    assert_eq!(added["words"]["follow_up"], next_week.as_str());
    ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "conversation",
            "add",
            code,
            "--what-matters",
            "Kept with staff",
            "--private",
            "--reason",
            "Asked by the member",
        ],
    ));
    let listed = ok(hubdesk(d, M, &["--json", "conversation", "list", code]));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["words"]["what_matters"], "Kept with staff");
    assert_eq!(listed[1]["words"]["strengths"], "Plays guitar");
    assert!(ok(hubdesk(d, M, &["--json", "conversation", "due"])).is_array());
    let text = hubdesk(d, M, &["conversation", "list", code]);
    assert!(
        text.stdout
            .contains("What matters: Getting back into music"),
        "{}",
        text.stdout
    );

    // 2: a follow-up before today, in one sentence, and nothing written.
    let bad = hubdesk(
        d,
        M,
        &[
            "conversation",
            "add",
            code,
            "--what-matters",
            "x",
            "--follow-up",
            "2000-01-01",
        ],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(bad.stderr.trim().lines().count(), 1, "{}", bad.stderr);
    // 2: private without a reason is a usage error.
    let no_reason = hubdesk(
        d,
        M,
        &[
            "conversation",
            "add",
            code,
            "--what-matters",
            "x",
            "--private",
        ],
    );
    assert_eq!(no_reason.code, 2, "{}", no_reason.stderr);
    // 4: no such member.
    assert_eq!(hubdesk(d, M, &["conversation", "list", "ZZZ-ZZZZ"]).code, 4);
    // 3: the desk may not read them.
    let add = Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(d)
        .args(["user", "add", "Dee", "--role", "desk"])
        .env("HUBDESK_USER", "Maya")
        .env("HUBDESK_PIN", "2468")
        .env("HUBDESK_NEW_PIN", "1357")
        .output()
        .unwrap();
    assert!(add.status.success());
    let refused = hubdesk(d, Some(("Dee", "1357")), &["conversation", "list", code]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("can't read or write conversations"),
        "{}",
        refused.stderr
    );
    let listed = ok(hubdesk(d, M, &["--json", "conversation", "list", code]));
    assert_eq!(
        listed.as_array().unwrap().len(),
        2,
        "nothing more was written"
    );
}

#[test]
fn instruments_and_check_ins_on_the_command_line_print_one_json_value_and_refuse_with_exit_2() {
    let dir = set_up();
    let d = dir.path();
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    let listed = ok(hubdesk(d, M, &["--json", "instrument", "list"]));
    assert_eq!(listed.as_array().unwrap().len(), 5);
    let added = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "instrument",
            "add-scale",
            "Feeling safe",
            "--min",
            "0",
            "--max",
            "10",
            "--outcome",
            "confidence",
        ],
    ));
    assert_eq!(added["instrument"]["id"], "feeling-safe");
    assert_eq!(added["instrument"]["meaningful_change"], 2.0);
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/instruments/calm-and-connected.json");
    let imported = ok(hubdesk(
        d,
        M,
        &["--json", "instrument", "import", fixture.to_str().unwrap()],
    ));
    assert_eq!(imported["instrument"]["id"], "calm-connected-example");

    // 2, one sentence, nothing written: a malformed file, an answer out of range, the wrong
    // number of answers, a word for a number, goals without a score each.
    let broken = d.join("broken.json");
    std::fs::write(&broken, "{\"id\": \"x\",").unwrap();
    let not_there = d.join("not-there.json");
    for args in [
        vec!["instrument", "import", broken.to_str().unwrap()],
        vec!["instrument", "import", not_there.to_str().unwrap()],
        vec![
            "checkin",
            "add",
            code,
            "--instrument",
            "ons4",
            "--answers",
            "5,6,11,2",
        ],
        vec![
            "checkin",
            "add",
            code,
            "--instrument",
            "rosenberg",
            "--answers",
            "1,2,3",
        ],
        vec![
            "checkin",
            "add",
            code,
            "--instrument",
            "ons4",
            "--answers",
            "5,six,1,2",
        ],
        vec![
            "checkin",
            "add",
            code,
            "--instrument",
            "gbo",
            "--goal",
            "Go to college",
            "--goal",
            "Sleep",
            "--answers",
            "4",
        ],
    ] {
        let out = hubdesk(d, M, &args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        let json = hubdesk(d, M, &[&["--json"], args.as_slice()].concat());
        assert_eq!(json.code, 2);
        assert_eq!(json.json()["error"]["kind"], "validation");
    }
    assert_eq!(
        ok(hubdesk(d, M, &["--json", "instrument", "list"]))
            .as_array()
            .unwrap()
            .len(),
        7,
        "nothing more was imported"
    );
    let empty = ok(hubdesk(d, M, &["--json", "checkin", "list", code]));
    assert!(empty["check_ins"].as_array().unwrap().is_empty());

    ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "checkin",
            "add",
            code,
            "--instrument",
            "ons4",
            "--answers",
            "5,6,,2",
        ],
    ));
    let goals = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "checkin",
            "add",
            code,
            "--instrument",
            "gbo",
            "--goal",
            "Go to college",
            "--goal",
            "Sleep before midnight",
            "--answers",
            "4,2",
        ],
    ));
    assert_eq!(goals["summary"], "Go to college 4; Sleep before midnight 2");
    let listed = ok(hubdesk(
        d,
        M,
        &["--json", "checkin", "list", code, "--instrument", "ons4"],
    ));
    assert_eq!(listed["check_ins"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["check_ins"][0]["summary"],
        "Life satisfaction 5 (medium); Worthwhile 6 (medium); Happiness not answered; Anxiety 2 (low)"
    );
    let text = hubdesk(d, M, &["checkin", "list", code]);
    assert!(
        text.stdout
            .contains("Goal Based Outcomes with Maya: Go to college 4"),
        "{}",
        text.stdout
    );
}

#[test]
fn an_unknown_instrument_is_not_found_and_a_scale_named_like_another_is_a_conflict() {
    let dir = set_up();
    let d = dir.path();
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    // 4, like an unknown member.
    for args in [
        vec![
            "checkin",
            "add",
            code,
            "--instrument",
            "nosuch",
            "--answers",
            "4",
        ],
        vec!["checkin", "list", code, "--instrument", "nosuch"],
    ] {
        let out = hubdesk(d, M, &args);
        assert_eq!(out.code, 4, "{args:?}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    }
    let scale = |max: &'static str| {
        vec![
            "instrument",
            "add-scale",
            "Feeling safe",
            "--min",
            "0",
            "--max",
            max,
            "--outcome",
            "confidence",
        ]
    };
    ok(hubdesk(
        d,
        M,
        &[&["--json"], scale("10").as_slice()].concat(),
    ));
    // 5: the same id with another range, in one sentence; the same scale again is 0.
    let clash = hubdesk(d, M, &scale("5"));
    assert_eq!(clash.code, 5, "{}", clash.stderr);
    assert_eq!(
        clash.stderr.trim(),
        "There is already a scale called Feeling safe (0 to 10, confidence); give this one another name."
    );
    let same = hubdesk(d, M, &scale("10"));
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(same.stdout.contains("nothing changed"), "{}", same.stdout);
}

#[test]
fn re_importing_an_earlier_version_on_the_command_line_says_it_is_current_again() {
    let dir = set_up();
    let d = dir.path();
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/instruments/calm-and-connected.json");
    let mut plain: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    plain.as_object_mut().unwrap().remove("conversion");
    let plain_file = d.join("plain.json");
    std::fs::write(&plain_file, plain.to_string()).unwrap();
    let (v1, v2) = (fixture.to_str().unwrap(), plain_file.to_str().unwrap());
    let first = ok(hubdesk(d, M, &["--json", "instrument", "import", v1]));
    let second = hubdesk(d, M, &["instrument", "import", v2]);
    assert!(
        second
            .stdout
            .contains("New check-ins use it instead of version"),
        "{}",
        second.stdout
    );
    let back = hubdesk(d, M, &["instrument", "import", v1]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(
        back.stdout.contains("it is the current version again")
            && back
                .stdout
                .contains("New check-ins use it instead of version"),
        "{}",
        back.stdout
    );
    let listed = ok(hubdesk(d, M, &["--json", "instrument", "list"]));
    let calm = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "calm-connected-example")
        .unwrap();
    assert_eq!(calm["fingerprint"], first["instrument"]["fingerprint"]);
    let again = hubdesk(d, M, &["instrument", "import", v1]);
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);
}

#[test]
fn shifts_training_and_signposts_on_the_command_line_print_json_and_refuse_with_the_usual_codes() {
    let dir = set_up();
    let d = dir.path();
    let add = Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(d)
        .args(["user", "add", "Nia", "--role", "navigator"])
        .env("HUBDESK_USER", "Maya")
        .env("HUBDESK_PIN", "2468")
        .env("HUBDESK_NEW_PIN", "1357")
        .output()
        .unwrap();
    assert!(add.status.success());
    let nia = Some(("Nia", "1357"));
    // 5: no day open yet.
    assert_eq!(hubdesk(d, nia, &["shift", "start"]).code, 5);
    ok(hubdesk(d, M, &["--json", "day", "open"]));
    let started = ok(hubdesk(d, nia, &["--json", "shift", "start"]));
    assert_eq!(started["user"], "Nia");
    assert!(started["ended_at"].is_null());
    // 5: already on shift, in one sentence.
    let again = hubdesk(d, nia, &["shift", "start"]);
    assert_eq!(again.code, 5, "{}", again.stderr);
    assert_eq!(again.stderr.trim().lines().count(), 1, "{}", again.stderr);
    let ended = ok(hubdesk(d, nia, &["--json", "shift", "end"]));
    assert!(ended["ended_at"].is_string());
    let mine = ok(hubdesk(d, nia, &["--json", "shift", "mine"]));
    assert_eq!(mine["month"]["shifts"].as_array().unwrap().len(), 1);
    // 3: a navigator neither lists others' shifts nor records training.
    assert_eq!(
        hubdesk(d, nia, &["shift", "list", "--user", "Maya"]).code,
        3
    );
    assert_eq!(
        hubdesk(
            d,
            nia,
            &[
                "training",
                "add",
                "Nia",
                "--course",
                "First aid",
                "--date",
                "2026-01-01"
            ]
        )
        .code,
        3
    );
    // 2: a date in the year 9999, an unknown role; nothing written.
    let bad = hubdesk(
        d,
        M,
        &[
            "training",
            "add",
            "Nia",
            "--course",
            "First aid",
            "--date",
            "9999-12-31",
        ],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    let bad = hubdesk(
        d,
        M,
        &[
            "role-history",
            "add",
            "Nia",
            "--role",
            "client",
            "--from",
            "2026-01-01",
        ],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(
        ok(hubdesk(d, M, &["--json", "training", "list"]))
            .as_array()
            .unwrap()
            .len(),
        0
    );
    ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "training",
            "add",
            "Nia",
            "--course",
            "First aid",
            "--date",
            "2026-01-01",
        ],
    ));
    ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "role-history",
            "add",
            "Nia",
            "--role",
            "peer navigator",
            "--from",
            "2025-09-01",
        ],
    ));
    let listed = ok(hubdesk(d, nia, &["--json", "training", "list", "Nia"]));
    assert_eq!(listed[0]["course"], "First aid");
    let roles = ok(hubdesk(d, nia, &["--json", "role-history", "list", "Nia"]));
    assert_eq!(roles[0]["role"], "peer navigator");
    // A parent told about the parent network is counted on the day.
    let parent = ok(hubdesk(
        d,
        M,
        &[
            "--json", "contact", "signin", "--kind", "parent", "--name", "Pat",
        ],
    ));
    let id = parent["contact_id"].as_str().unwrap();
    assert_eq!(
        ok(hubdesk(d, M, &["--json", "contact", "signpost", id]))["signposted"],
        true
    );
    assert_eq!(
        ok(hubdesk(d, M, &["--json", "day", "show"]))["parent_signposts"],
        1
    );
    // Her own, without naming herself.
    let own = ok(hubdesk(d, nia, &["--json", "training", "list"]));
    assert_eq!(own.as_array().unwrap().len(), 1);
    // 4: no such user (for staff; anyone else is refused before the name is looked up).
    assert_eq!(hubdesk(d, M, &["training", "list", "Nobody"]).code, 4);
    assert_eq!(hubdesk(d, nia, &["training", "list", "Nobody"]).code, 3);
    // 4: no such contact, or not an id at all; 5: known but not in.
    assert_eq!(hubdesk(d, M, &["contact", "signpost", "garbage"]).code, 4);
    ok(hubdesk(d, M, &["--json", "contact", "signout", id]));
    assert_eq!(hubdesk(d, M, &["contact", "signpost", id]).code, 5);
}

#[test]
fn plans_on_the_command_line_print_one_json_value_and_refuse_with_the_usual_codes() {
    let dir = set_up();
    let d = dir.path();
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    let empty = ok(hubdesk(d, M, &["--json", "plan", "show", code]));
    assert_eq!(empty["started"], false);
    let edited = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "plan",
            "edit",
            code,
            "--section",
            "what-helps",
            "--text",
            "Tea with Sam 🍵\nMusic",
        ],
    ));
    assert_eq!(edited["sections"][2]["section"], "what-helps");
    assert_eq!(edited["sections"][2]["text"], "Tea with Sam 🍵\nMusic");
    let added = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "plan",
            "step",
            "add",
            code,
            "--text",
            "Call the college",
        ],
    ));
    let step = added["steps"][0]["id"].as_str().unwrap().to_string();
    let set = ok(hubdesk(
        d,
        M,
        &[
            "--json", "plan", "step", "set", code, &step, "--status", "done",
        ],
    ));
    assert_eq!(set["steps"][0]["status"], "done");
    let history = ok(hubdesk(d, M, &["--json", "plan", "history", code]));
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[2]["what"], "What helps edited");
    assert_eq!(history[2]["by"], "Maya");
    let then = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "plan",
            "show",
            code,
            "--version",
            history[2]["version"].as_str().unwrap(),
        ],
    ));
    assert_eq!(then["steps"].as_array().unwrap().len(), 0);
    let text = hubdesk(d, M, &["plan", "show", code]);
    assert!(
        text.stdout
            .contains("What helps (what-helps)\n  Tea with Sam 🍵\n  Music"),
        "{}",
        text.stdout
    );
    let page = d.join("plan.html");
    let printed = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "plan",
            "print",
            code,
            "--out",
            page.to_str().unwrap(),
        ],
    ));
    assert_eq!(printed["written"], page.to_str().unwrap());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Kai&#39;s self-care plan") && !html.contains(code));
    // A second print never overwrites the first.
    assert_eq!(
        hubdesk(
            d,
            M,
            &["plan", "print", code, "--out", page.to_str().unwrap()]
        )
        .code,
        5
    );

    // 2: an unknown section, step or status, in one sentence, and nothing written.
    let before = ok(hubdesk(d, M, &["--json", "plan", "history", code]));
    for bad in [
        vec!["plan", "edit", code, "--section", "feelings", "--text", "x"],
        vec![
            "plan",
            "edit",
            code,
            "--section",
            "what-helps",
            "--text",
            "a\u{1b}[31m",
        ],
        vec![
            "plan", "step", "add", code, "--text", "x", "--status", "finished",
        ],
        vec![
            "plan",
            "step",
            "set",
            code,
            "not-a-step",
            "--status",
            "done",
        ],
        vec!["plan", "step", "set", code, &step, "--status", "finished"],
        vec!["plan", "show", code, "--version", "zz"],
    ] {
        let out = hubdesk(d, M, &bad);
        assert_eq!(out.code, 2, "{bad:?}: {}", out.stderr);
        assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        let json = hubdesk(d, M, &[&["--json"][..], &bad].concat());
        assert_eq!(json.json()["error"]["kind"], "validation");
    }
    assert_eq!(
        ok(hubdesk(d, M, &["--json", "plan", "history", code])),
        before
    );
    // 4: no such member.
    assert_eq!(hubdesk(d, M, &["plan", "show", "ZZZ-ZZZZ"]).code, 4);
    // 3: the desk may not read or write plans.
    let add = Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(d)
        .args(["user", "add", "Dee", "--role", "desk"])
        .env("HUBDESK_USER", "Maya")
        .env("HUBDESK_PIN", "2468")
        .env("HUBDESK_NEW_PIN", "1357")
        .output()
        .unwrap();
    assert!(add.status.success());
    for args in [
        vec!["plan", "show", code],
        vec![
            "plan",
            "edit",
            code,
            "--section",
            "what-helps",
            "--text",
            "x",
        ],
    ] {
        let refused = hubdesk(d, Some(("Dee", "1357")), &args);
        assert_eq!(refused.code, 3, "{}", refused.stderr);
        assert!(
            refused.stderr.contains("self-care plans"),
            "{}",
            refused.stderr
        );
    }
}

#[test]
fn concerns_on_the_command_line_print_one_json_value_and_refuse_with_the_usual_codes() {
    let dir = set_up();
    let d = dir.path();
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    let add = Command::new(env!("CARGO_BIN_EXE_hubdesk"))
        .arg("--data-dir")
        .arg(d)
        .args(["user", "add", "Nia", "--role", "navigator"])
        .env("HUBDESK_USER", "Maya")
        .env("HUBDESK_PIN", "2468")
        .env("HUBDESK_NEW_PIN", "1357")
        .output()
        .unwrap();
    assert!(add.status.success());
    let nia = Some(("Nia", "1357"));
    let raised = ok(hubdesk(
        d,
        nia,
        &[
            "--json",
            "concern",
            "raise",
            code,
            "--words",
            "I can't go home tonight",
            "--action",
            "Told Kai I'd pass it on",
            "--present",
            "Jo",
            "--when",
            "2026-01-02T10:00",
        ],
    ));
    assert_eq!(raised["passed_on"], true);
    assert!(!raised.to_string().contains("go home"), "{raised}");
    let id = raised["id"].as_str().unwrap();
    // The navigator: only "passed on", and 3 on reading it.
    let mine = ok(hubdesk(d, nia, &["--json", "concern", "list"]));
    assert_eq!(mine[0]["passed_on"], true);
    assert!(mine[0].get("open").is_none());
    let refused = hubdesk(d, nia, &["concern", "show", id]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("passed on to staff"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("go home"));

    let shown = ok(hubdesk(d, M, &["--json", "concern", "show", id]));
    assert_eq!(shown["words"], "I can't go home tonight");
    assert_eq!(shown["happened_at"], "2026-01-02T10:00:00Z");
    let acted = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "concern",
            "act",
            id,
            "--text",
            "Called the duty team",
            "--decision",
            "A home visit",
            "--reason",
            "What Kai said",
        ],
    ));
    assert_eq!(acted["actions"][0]["decision"], "A home visit");
    let listed = ok(hubdesk(d, M, &["--json", "concern", "list", "--open"]));
    assert_eq!(listed.as_array().unwrap().len(), 1);

    // 2: a decision without its reason, blank words, a time in the future; nothing written.
    for args in [
        &["concern", "act", id, "--text", "x", "--decision", "y"][..],
        &["concern", "raise", code, "--words", " ", "--action", "x"][..],
        &[
            "concern",
            "raise",
            code,
            "--words",
            "w",
            "--action",
            "x",
            "--when",
            "2999-01-01T10:00",
        ][..],
        &["concern", "close", id, "--outcome", "  "][..],
    ] {
        let bad = hubdesk(d, M, args);
        assert_eq!(bad.code, 2, "{args:?}: {}", bad.stderr);
        assert_eq!(bad.stderr.trim().lines().count(), 1, "{}", bad.stderr);
    }
    let listed = ok(hubdesk(d, M, &["--json", "concern", "list"]));
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "nothing more was written"
    );
    // 4: no such concern.
    assert_eq!(hubdesk(d, M, &["concern", "show", "nope"]).code, 4);
    let closed = ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "concern",
            "close",
            id,
            "--outcome",
            "Safe at an aunt's",
        ],
    ));
    assert_eq!(closed["open"], false);
    // 5: closed is closed.
    assert_eq!(
        hubdesk(d, M, &["concern", "close", id, "--outcome", "again"]).code,
        5
    );
}

#[test]
fn a_page_or_sync_file_is_never_written_over_anything_and_only_its_owner_reads_it() {
    let dir = set_up();
    let d = dir.path();
    let m = ok(hubdesk(
        d,
        M,
        &[
            "--json", "member", "register", "--name", "Kai", "--born", "2012-03",
        ],
    ));
    let code = m["code"].as_str().unwrap();
    ok(hubdesk(
        d,
        M,
        &[
            "--json",
            "plan",
            "edit",
            code,
            "--section",
            "what-helps",
            "--text",
            "Music",
        ],
    ));
    let out = d.join("plan.html");
    let out = out.to_str().unwrap();
    ok(hubdesk(
        d,
        M,
        &["--json", "plan", "print", code, "--out", out],
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(out).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by its owner only: {mode:o}");
    }
    // 5: it exists already (a file, or a folder), in one sentence; nothing is overwritten.
    let before = std::fs::read(out).unwrap();
    for taken in [out, d.to_str().unwrap()] {
        let again = hubdesk(d, M, &["plan", "print", code, "--out", taken]);
        assert_eq!(again.code, 5, "{}", again.stderr);
        assert!(
            again.stderr.contains("choose another name"),
            "{}",
            again.stderr
        );
    }
    assert_eq!(std::fs::read(out).unwrap(), before);
    // 2: no such folder.
    let nowhere = d.join("no-such-folder").join("plan.html");
    let bad = hubdesk(
        d,
        M,
        &["plan", "print", code, "--out", nowhere.to_str().unwrap()],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("There is no folder"), "{}", bad.stderr);
    let taken = hubdesk(d, M, &["sync", "export", out]);
    assert_eq!(taken.code, 5, "{}", taken.stderr);
}
