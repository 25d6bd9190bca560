// Safeguarding in the real window: a peer navigator raises a concern from a member's page and
// is told it was passed on, then cannot open it; the desk sees only "Speak to staff" in the
// search results, in who is in and on the member page; staff on the same laptop open the list and the
// concern (its words), record an action with a decision and its reason, and close it; the
// manager sees on the concern's page that each read was recorded. Every new screen at
// 1366x768 and 200% zoom, with axe.
//
// Run through ../scripts/e2e (it builds the app, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Key } from "selenium-webdriver";
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

const WORDS = "He said: I don't want to go home tonight, my stepdad shouts all the time.";

/// Text or an attribute of what the page shows now, read in one step in the page: screens
/// redraw when the core says something changed, and an element found a moment earlier may be
/// gone by the time it is read.
const textNow = (css) => h.textNow(css);
async function invalid(css) {
  return driver.executeScript("const e = document.querySelector(arguments[0]); return !!e && e.getAttribute('aria-invalid') === 'true'", css);
}

const click = (css) => h.click(css);
const type = (css, text) => h.type(css, text);

async function go(hash) {
  await driver.executeScript("location.hash = arguments[0]", hash);
}

async function lock() {
  await click("#lock-button");
  await h.find(".tiles .tile");
}

test("a safeguarding concern, from the navigator who hears it to staff who close it", async (t) => {
  let code;
  let concernId;

  await t.test("set up with a navigator, a desk volunteer and a staff member", async () => {
    await h.setUpOrganisation({
      users: [
        { name: "Nia", roles: "navigator", pin: "135791" },
        { name: "Dee", roles: "desk", pin: "864202" },
        { name: "Sid", roles: "staff", pin: "975310" },
      ],
    });
    await h.unlockAs("Nia", "135791");
    const reg = await h.core("register_member", { req: { profile: { preferred_name: "Tomasz Nowak", born: "2010-05" } } });
    code = reg.member.code;
  });

  await t.test("the navigator raises a concern from the member page and is told it was passed on", async () => {
    await go(`#/member/${encodeURIComponent(code)}`);
    await h.find("#concern-open");
    await h.look("safeguarding-member-page", { at: "#safeguarding" });
    await click("#concern-open");
    assert.equal(await h.focusedId(), "concern-words", "the form opens on its first field");
    // Sent empty: the core's refusal goes beside the words, and nothing is written.
    await click("#concern-form button[type=submit]");
    await driver.wait(async () => invalid("#concern-words"), 5000, "the words marked");
    await h.look("safeguarding-concern-form", { at: "#concern-form" });
    assert.equal((await h.core("list_concerns", { openOnly: false })).length, 0);
    await type("#concern-words", WORDS);
    await type("#concern-present", "Nia and Jo (volunteer)");
    await type("#concern-action", "Told Tomasz I would pass it on to staff today");
    await click("#concern-form button[type=submit]");
    await driver.wait(async () => (await textNow("#concern-passed-on")).startsWith("Saved for staff"), 10000, "passed on");
    assert.equal(await h.focusedId(), "concern-passed-on", "focus goes to the confirmation");
    await h.look("safeguarding-passed-on", { at: "#safeguarding" });
    const mine = await h.core("list_concerns", { openOnly: false });
    assert.equal(mine.length, 1);
    assert.equal(mine[0].open, undefined, "the navigator is not told whether it is open");
    concernId = mine[0].id;
  });

  await t.test("the navigator cannot open the concern", async () => {
    assert.equal(await (await h.find("#nav-concerns")).isDisplayed(), false, "no Concerns screen");
    await go(`#/concerns/${concernId}`);
    await driver.wait(async () => (await textNow("#concern-page-error")).includes("passed on to staff"), 10000, "refused");
    const page = await textNow("main");
    assert.ok(!page.includes("stepdad"), "not a word of it");
    await h.look("safeguarding-navigator-refused");
    await go("#/concerns");
    await h.find("#other-concerns");
    assert.ok(!(await textNow("main")).includes("stepdad"));
    await h.look("safeguarding-navigator-list");
    await lock();
  });

  await t.test("the desk sees only Speak to staff, in search, who is in and the member page", async () => {
    await h.unlockAs("Dee", "864202");
    await go("#/day");
    const open = await driver.findElements({ css: "#open-day" });
    if (open.length) {
      await open[0].click();
    }
    await h.find("#search");
    await type("#search", "Tomasz");
    await driver.wait(async () => (await driver.executeScript("const r = document.querySelector('#results'); return r && r.dataset.for")) === "Tomasz", 10000, "results");
    const marker = await textNow("#results .result .speak-to-staff");
    assert.equal(marker, "Speak to staff");
    await h.look("safeguarding-desk-search", { at: "#results" });
    // Enter signs Tomasz in: who is in carries the same marker, and nothing more.
    await h.again(async () => (await h.find("#search")).sendKeys(Key.ENTER));
    await driver.wait(async () => (await textNow("#who-is-in")).includes("Speak to staff"), 10000, "the marker in who is in");
    assert.ok(!(await textNow("#who-is-in")).includes("stepdad"));
    await h.look("safeguarding-desk-who-is-in", { at: "#who-is-in" });
    await go(`#/member/${encodeURIComponent(code)}`);
    await h.find("h1 + .speak-to-staff");
    assert.ok(!(await textNow("main")).includes("stepdad"));
    await h.look("safeguarding-desk-member");
    await lock();
  });

  await t.test("staff open the list and the concern, act on it and close it", async () => {
    await h.unlockAs("Sid", "975310");
    await click("#nav-concerns");
    await h.find("#open-concerns");
    await h.look("safeguarding-concerns-list", { at: "#open-concerns" });
    await click(`#open-concerns a[href="#/concerns/${concernId}"]`);
    await driver.wait(async () => (await textNow("main")).includes("stepdad"), 10000, "the words");
    await h.look("safeguarding-concern-page");
    // A decision without its reason is refused beside the reason.
    await type("#act-text", "Spoke with the duty social worker");
    await type("#act-decision", "Arrange for Tomasz to stay with his aunt tonight");
    await click("#act-form button[type=submit]");
    await driver.wait(async () => invalid("#act-reason"), 5000, "the reason marked");
    await h.look("safeguarding-act-refused", { at: "#act-form" });
    await type("#act-reason", "He said home is not safe tonight; his aunt agreed");
    await click("#act-form button[type=submit]");
    await driver.wait(async () => (await textNow("#concern-actions")).includes("his aunt agreed"), 10000, "the action");
    await type("#close-outcome", "Staying with his aunt; support plan agreed with the duty team");
    await click("#close-form button[type=submit]");
    await driver.wait(async () => (await textNow("#concern-state")) === "Closed", 10000, "closed");
    await h.look("safeguarding-concern-closed");
    await lock();
  });

  await t.test("the manager sees that every read was recorded, and the marker is gone", async () => {
    await h.unlockAs("Maya", "246810");
    await go(`#/concerns/${concernId}`);
    await driver.wait(async () => (await textNow("#concern-audit")).includes("read by Maya"), 10000, "the trail");
    const trail = await textNow("#concern-audit");
    assert.match(trail, /raised by Nia/);
    assert.match(trail, /read by Sid/);
    assert.match(trail, /acted on by Sid/);
    assert.match(trail, /closed by Sid/);
    assert.match(trail, /read by Maya/);
    await h.look("safeguarding-concern-audit", { at: "#concern-audit" });
    const member = await h.core("show_member", { idOrCode: code });
    assert.equal(member.speak_to_staff, undefined, "no marker once closed");
  });
});
