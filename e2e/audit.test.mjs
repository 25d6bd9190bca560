// The audit log in the real window: a manager opens two members' pages (each an entry), opens
// Audit log from the menu, filters it by one member's code (only that member's entries, newest
// first, in a table a screen reader reads by its headers), is refused an export without a
// reason, and exports the filtered entries as CSV with the save dialog answered by
// HUBDESK_SAVE_AS (scripts/e2e sets it to a folder for this file): the file holds the code and
// the actions, never a name, and the export is itself in the log. The desk is not offered the
// audit log, and the core refuses it when asked directly.
//
// Run through ../scripts/e2e (it builds the app, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { helpers, shots, startDriver } from "./support.mjs";

let driver;
let h;
const savedIn = process.env.HUBDESK_SAVE_AS;

before(async () => {
  driver = await startDriver();
  h = helpers(driver);
});

after(async () => {
  if (driver) await driver.quit();
});

const see = (css, pattern, what) => h.see(css, pattern, what);

/// Types into a field as a keyboard does: focus it, empty it, then the keys (WebDriver's own
/// clear() sometimes lost the element after a screenshot's zoom here).
async function typeInto(css, text) {
  await driver.executeScript("const i = document.querySelector(arguments[0]); i.focus(); i.value = '';", css);
  await h.keys(text);
}

/// The text of every cell of one column of the audit table (1-based).
async function column(n) {
  return driver.executeScript(
    "return [...document.querySelectorAll('#audit-rows tr')].map((r) => r.cells[arguments[0] - 1] ? r.cells[arguments[0] - 1].textContent : '')",
    n,
  );
}

test("a manager filters the audit log by member and exports it; the desk cannot", async (t) => {
  assert.ok(savedIn, "scripts/e2e sets HUBDESK_SAVE_AS for this file");
  const codes = {};
  let about = 0; // how many entries are about Ada

  await t.test("two members, and each one's page opened", async () => {
    await h.setUpOrganisation({ users: [{ name: "Dee", roles: "desk", pin: "135791" }] });
    await h.unlockAs("Maya", "246810");
    for (const [name, born] of [["Ada Lovelock", "2010-04"], ["Bo Brightwell", "2009-11"]]) {
      const reg = await h.core("register_member", { req: { profile: { preferred_name: name, born } } });
      codes[name] = reg.member.code;
    }
    const base = (await driver.getCurrentUrl()).split("#")[0];
    for (const code of Object.values(codes)) {
      await driver.navigate().to(`${base}#/member/${encodeURIComponent(code)}`);
      await see("main", new RegExp(code), "the member page");
    }
  });

  await t.test("Audit log opens from the menu, newest first, in a table with headers", async () => {
    await h.click("#nav-audit");
    await h.find("#audit-table");
    assert.equal(await h.focusedId(), "audit-title");
    await see("#audit-status", /Showing entries 1 to \d+/, "entries shown");
    const headers = await driver.executeScript("return [...document.querySelectorAll('#audit-table th')].map((th) => th.getAttribute('scope') + ':' + th.textContent)");
    assert.deepEqual(headers, ["col:When", "col:Who", "col:Laptop", "col:Action", "col:Member", "col:Detail"]);
    const actions = await column(4);
    assert.ok(actions.includes("member.viewed"), actions.join());
    const times = await driver.executeScript("return [...document.querySelectorAll('#audit-rows time')].map((t) => t.getAttribute('datetime'))");
    assert.ok(times.every((t, i) => i === 0 || times[i - 1] >= t), "newest first");
    await h.look("audit-01-log");
  });

  await t.test("filtered by one member's code: only their entries", async () => {
    const code = codes["Ada Lovelock"];
    await typeInto("#audit-member", code);
    await h.click("#audit-show");
    await see("#audit-caption", /entries 1 to \d+,/, "the entries about Ada");
    const members = await column(5);
    assert.ok(members.length >= 2 && members.every((c) => c === code), members.join());
    const actions = await column(4);
    assert.ok(actions.includes("member.viewed"), actions.join());
    assert.equal(actions.at(-1), "member.register", "the oldest last");
    about = actions.length;
    assert.equal(await h.focusedId(), "audit-results-title");
    const text = await driver.executeScript("return document.querySelector('main').innerText");
    assert.doesNotMatch(text, /Ada Lovelock|Bo Brightwell/, "never a member's name");
    await h.look("audit-02-filtered", { at: "#audit-results" });
  });

  await t.test("an unknown member is refused beside the field", async () => {
    await typeInto("#audit-member", "ZZZ");
    await h.click("#audit-show");
    await driver.wait(async () => /\w/.test(await h.textOf("#audit-member-error")), 15000, "the refusal");
    assert.equal(await h.focusedId(), "audit-member");
    await driver.executeScript("document.querySelector('#audit-member').value = arguments[0]", codes["Ada Lovelock"]);
    await h.click("#audit-show");
    await see("#audit-caption", new RegExp(`entries 1 to ${about},`), "Ada's entries again");
  });

  await t.test("an export without a reason is refused beside the reason", async () => {
    await h.click("#audit-export");
    await driver.wait(async () => /\w/.test(await h.textOf("#audit-reason-error")), 15000, "the reason asked for");
    assert.equal(await h.focusedId(), "audit-reason");
  });

  await t.test("the filtered entries are saved as CSV, and the export is itself logged", async () => {
    await typeInto("#audit-reason", "Subject access request");
    await h.click("#audit-export");
    await see("#audit-export-status", /Saved as .*\.csv\./, "the CSV saved");
    const m = (await h.textOf("#audit-export-status")).match(/Saved as (.+?\.csv)\./);
    const path = m[1];
    assert.ok(path.startsWith(savedIn) && existsSync(path), `${path} is in ${savedIn}`);
    const csv = readFileSync(path, "utf8");
    copyFileSync(path, join(shots, "audit-03-export.csv"));
    const lines = csv.trim().split("\n");
    assert.match(lines[0], /^when \(UTC\),user,laptop,action,member code/);
    assert.equal(lines.length, about + 1, csv);
    assert.match(csv, new RegExp(codes["Ada Lovelock"]));
    assert.doesNotMatch(csv, /Lovelock|Brightwell/, "never a member's name");
    await h.look("audit-03-exported", { at: "#audit-export-form" });
    await h.click("#audit-show");
    await see("#audit-caption", new RegExp(`entries 1 to ${about + 1},`), "the export is in the log");
    assert.equal((await column(4))[0], "audit.exported");
    assert.match((await column(6))[0], /Reason: Subject access request/);
  });

  await t.test("the desk is not offered the audit log, and the core refuses it", async () => {
    await h.click("#lock-button");
    await h.find(".tiles .tile");
    await h.unlockAs("Dee", "135791");
    assert.equal(await (await h.find("#nav-audit")).isDisplayed(), false);
    await assert.rejects(h.core("audit_log", { filter: {}, offset: 0, limit: 10 }), /"kind":"permission"/);
    await driver.navigate().to(`${(await driver.getCurrentUrl()).split("#")[0]}#/audit`);
    await see("main", /The audit log is for managers\./, "the screen refuses too");
    assert.equal(await h.count("#audit-table"), 0);
  });
});
