// Erasure, legal holds and retention in the real window: a staff member sets a legal hold on a
// member's page (which stops an erasure request), clears it and asks for the erasure, with the
// reason field's refusal beside it; the manager confirms on the Erasure and retention screen,
// the member is gone, and the manager sets the retention schedule and runs it. Every new screen at
// 1366x768 and 200% zoom, with axe.
//
// Run through ../scripts/e2e (it builds the app, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDriver, helpers } from "./support.mjs";

let driver;
let h;

before(async () => {
  driver = await startDriver();
  h = helpers(driver);
});

after(async () => {
  if (driver) await driver.quit();
});

const textNow = (css) => h.textNow(css);

async function enabled(css) {
  return driver.executeScript("const e = document.querySelector(arguments[0]); return !!e && !e.disabled", css);
}
const click = (css) => h.click(css);
const type = (css, text) => h.type(css, text);

async function go(hash) {
  await driver.executeScript("location.hash = arguments[0]", hash);
}

test("a member is held, then erased at their request, and the retention schedule is set", async (t) => {
  let code;
  let requestId;

  await t.test("set up with a staff member and a member to forget", async () => {
    await h.setUpOrganisation({ users: [{ name: "Sid", roles: "staff", pin: "975310" }] });
    await h.unlockAs("Sid", "975310");
    const reg = await h.core("register_member", { req: { profile: { preferred_name: "Zephyrine Quillfeather", born: "2010-05" }, force: true } });
    code = reg.member.code;
  });

  await t.test("staff set a legal hold on the member page, which stops an erasure request", async () => {
    await go(`#/member/${encodeURIComponent(code)}`);
    await h.find("#forget");
    await h.look("erase-member-page", { at: "#forget" });
    // Sent without a reason: the core's refusal goes beside the field.
    await click("#hold-submit");
    await driver.wait(async () => (await textNow("#forget")).includes("cannot be empty"), 10000, "the reason refused");
    await type("#hold-reason", "Inquiry moratorium on all records");
    await click("#hold-submit");
    await driver.wait(async () => (await textNow("#hold-standing")).includes("Inquiry moratorium"), 10000, "the hold shown");
    assert.equal(await enabled("#erase-submit"), false, "no request while held");
    await h.look("erase-member-held", { at: "#forget" });
    const refused = await h.core("request_erasure", { idOrCode: code, reason: "Asked to be forgotten" }).catch((e) => e.message);
    assert.match(String(refused), /legal hold/);
  });

  await t.test("staff clear the hold and ask for the erasure", async () => {
    await type("#hold-reason", "Inquiry closed");
    await click("#hold-submit");
    await driver.wait(async () => enabled("#erase-submit"), 10000, "the request open again");
    await type("#erase-reason", "Asked at the desk to be forgotten");
    await click("#erase-submit");
    await driver.wait(async () => (await textNow("#toast")).includes("Erasure requested"), 10000, "requested");
    const pending = await h.core("list_erasure_requests");
    assert.equal(pending.length, 1);
    requestId = pending[0].id;
    await go("#/erase");
    await h.find("#erasure-requests");
    assert.ok((await textNow("#erasure-requests")).includes("Waiting for a manager"), "staff cannot confirm");
    await h.look("erase-screen-staff");
    await click("#lock-button");
    await h.find(".tiles .tile");
  });

  await t.test("the manager confirms the erasure with the keyboard and the member is gone", async () => {
    await h.unlockAs("Maya", "246810");
    await go("#/erase");
    await h.find(`#confirm-${requestId}`);
    await h.look("erase-screen-manager");
    await click(`#confirm-${requestId}`);
    assert.equal(await h.focusedId(), `erase-now-${requestId}`, "focus goes to the final button");
    await h.look("erase-confirm", { at: "#erasure-requests" });
    await click(`#erase-now-${requestId}`);
    await driver.wait(async () => (await textNow("#toast")).startsWith("Erased"), 10000, "erased");
    await driver.wait(async () => (await textNow("#erasure-requests")).includes("No erasure requests"), 10000, "none left");
    const gone = await h.core("show_member", { idOrCode: code }).catch((e) => e.message);
    assert.match(String(gone), /not_found/);
    assert.ok(!(await textNow("main")).includes("Zephyrine"));
  });

  await t.test("the manager sets the retention schedule and sees who is due", async () => {
    await type("#ret-unseen", "24");
    await type("#ret-age", "26");
    await type("#ret-sg", "7");
    await click("#retention-form button[type=submit]");
    await driver.wait(async () => (await textNow("#toast")).includes("Retention schedule saved"), 10000, "saved");
    await h.find("#retention-summary");
    assert.ok((await textNow("#retention-summary")).includes("0 members are due now"));
    await h.find("#retention-run");
    assert.equal(await enabled("#retention-run"), false, "nobody to run for");
    await h.look("erase-retention", { at: "#retention" });
  });

  await t.test("the manager runs the schedule: the screen says it is working, then what it did", async () => {
    // Someone 23 or 24 today, due at 18 under the schedule set now.
    const born = `${new Date().getFullYear() - 24}-01`;
    await h.core("register_member", { req: { profile: { preferred_name: "Olwen Oldest", born }, force: true } });
    await type("#ret-unseen", "");
    await type("#ret-age", "18");
    await click("#retention-form button[type=submit]");
    await driver.wait(async () => (await textNow("#retention-summary")).includes("1 member is due now"), 10000, "one due");
    await click("#retention-run");
    await click("#retention-run-now");
    await driver.wait(async () => (await textNow("#toast")).includes("Anonymised 1 member; deleted 0 safeguarding records."), 30000, "done and told");
    assert.equal((await h.core("find_members", { text: "Olwen" })).length, 0, "anonymised");
    await driver.wait(async () => (await textNow("#retention-summary")).includes("0 members are due now"), 10000, "nobody due now");
  });
});
