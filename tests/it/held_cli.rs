//! The command line of "What we hold" and the member agreement: `agreement set|show`, the
//! sign-in's "Agreement due" line, `member accept-agreement` and `member export`.

#[test]
fn the_command_line_sets_a_version_says_it_is_due_at_sign_in_records_it_and_exports() {
    use crate::cli::{hubdesk, set_up};
    let dir = set_up();
    let d = dir.path();
    let maya = Some(("Maya", "2468"));
    let ok = |out: crate::cli::Out| {
        assert_eq!(out.code, 0, "stderr: {}", out.stderr);
        out
    };
    let m = ok(hubdesk(
        d,
        maya,
        &[
            "--json",
            "member",
            "register",
            "--name",
            "Kai",
            "--born",
            "2012-03",
            "--consent",
            "1",
        ],
    ))
    .json();
    let code = m["code"].as_str().unwrap();
    ok(hubdesk(d, maya, &["day", "open"]));
    let words = d.join("agreement-2.txt");
    std::fs::write(
        &words,
        "Our agreement, version 2.\r\nWe keep your name.\r\n",
    )
    .unwrap();
    let set = ok(hubdesk(
        d,
        maya,
        &[
            "agreement",
            "set",
            "--version",
            "2",
            "--text-file",
            words.to_str().unwrap(),
        ],
    ));
    assert!(set.stdout.contains("Version 2"), "{}", set.stdout);
    let lower = hubdesk(
        d,
        maya,
        &[
            "agreement",
            "set",
            "--version",
            "1",
            "--text-file",
            words.to_str().unwrap(),
        ],
    );
    assert_eq!(lower.code, 2, "{}", lower.stderr);
    assert!(
        ok(hubdesk(d, maya, &["agreement", "show"]))
            .stdout
            .contains("We keep your name.")
    );

    let signed = ok(hubdesk(d, maya, &["signin", code]));
    assert!(
        signed.stdout.contains("Agreement due: version 2")
            && signed
                .stdout
                .contains(&format!("member accept-agreement {code}")),
        "{}",
        signed.stdout
    );
    ok(hubdesk(d, maya, &["signout", code]));
    let json = ok(hubdesk(d, maya, &["--json", "signin", code])).json();
    assert_eq!(json["agreement_due"], "2");
    ok(hubdesk(
        d,
        maya,
        &["member", "accept-agreement", code, "--version", "2"],
    ));
    ok(hubdesk(d, maya, &["signout", code]));
    let signed = ok(hubdesk(d, maya, &["signin", code]));
    assert!(
        !signed.stdout.contains("Agreement due"),
        "{}",
        signed.stdout
    );

    // The export, to a file and to standard output; never over a file that is there.
    let file = d.join("kai.json");
    ok(hubdesk(
        d,
        maya,
        &[
            "member",
            "export",
            code,
            "--format",
            "json",
            "--out",
            file.to_str().unwrap(),
        ],
    ));
    let held: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(held["code"], code);
    assert_eq!(held["agreement"]["accepted"][0]["version"], "2");
    let again = hubdesk(
        d,
        maya,
        &[
            "member",
            "export",
            code,
            "--format",
            "json",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(again.code, 5, "{}", again.stderr);
    let page = ok(hubdesk(d, maya, &["member", "export", code, "--out", "-"]));
    assert!(
        page.stdout.starts_with("<!DOCTYPE html>"),
        "{}",
        page.stdout
    );
    assert!(page.stderr.contains("everything kept about a young person"));
    let bad = hubdesk(
        d,
        maya,
        &["member", "export", code, "--format", "pdf", "--out", "-"],
    );
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}
