// "What we hold" and the member agreement in the real window: a manager sets a new version of
// the agreement in Admin (a lower one refused at its field); the desk signs a member in (the sign-in is done at once) and the agreement's
// words wait under the search with Accepted, from the keyboard; staff open What we hold from
// the member page, see every part with who can see it, save it as a web page and as JSON (the
// save dialog answered by a folder, HUBDESK_SAVE_AS) and print it; the desk is refused it.
// At 1366x768 and 200% zoom, with axe.
//
// Run through ../scripts/e2e (it builds the app, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
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

const see = (css, pattern, what) => h.see(css, pattern, what);

const WORDS = "Our agreement, version 2.\nWe keep your name and when you come in.\nYou can ask to see it, or ask us to delete it.";

test("the desk is offered a new agreement after a sign-in and staff see and save what we hold", async () => {
  await h.setUpOrganisation({
    users: [
      { name: "Sid", roles: "staff", pin: "135791" },
      { name: "Dee", roles: "desk", pin: "258025" },
    ],
  });
  // The test's data, through the app's own bridge, as Maya (manager).
  await h.core("unlock", { name: "Maya", pin: "246810" });
  await h.core("open_day", { req: {} });
  const reg = await h.core("register_member", {
    req: {
      profile: { preferred_name: "Zoë O'Brien", legal_name: "Zoë Anne O'Brien", born: "2010-04", pronouns: "she/her" },
      agreement_version: "1",
      consents: ["photos"],
      force: true,
    },
  });
  const code = reg.member.code;
  await h.core("add_conversation", { idOrCode: code, req: { what_matters: "Getting back to football <b>now</b>" } });
  await h.core("set_agreement", { version: "1", text: "Our agreement, version 1." });
  await h.core("lock");
  await driver.navigate().refresh();
  await h.find(".tiles .tile");

  // The manager sets version 2 in Admin, Member agreement: a lower version is refused at its
  // field, the dialog asks once more, and the new words are in force.
  await h.unlockAs("Maya", "246810");
  await driver.executeScript('location.hash = "#/admin/agreement"');
  await see("#agreement-current", /In force: version 1, set .* by Maya/, "the words in force");
  await h.type("#agreement-version", "0.9");
  await (await h.find("#agreement-text")).sendKeys("Lower");
  await h.click("#agreement-set");
  await h.click("dialog[open] button[type=submit]");
  await see("#agreement-version-error", /lower than version 1/, "a lower version is refused at its field");
  assert.equal(await h.focusedId(), "agreement-version");
  await h.type("#agreement-version", "2");
  await driver.executeScript("const t = document.querySelector('#agreement-text'); t.value = arguments[0];", WORDS);
  await h.click("#agreement-set");
  await see("dialog[open]", /Set version 2 of the member agreement\?/, "asked once more");
  await h.click("dialog[open] button[type=submit]");
  await see("#toast", /Version 2 of the agreement is in force/, "set");
  await see("#agreement-current", /In force: version 2/, "version 2 in force");
  const rows = await driver.executeScript("return [...document.querySelectorAll('#agreement-versions tbody tr')].map((r) => [...r.cells].map((c) => c.textContent).join('|'))");
  assert.equal(rows.length, 2);
  assert.match(rows[0], /^2\|.*\|Maya\|in force$/);
  assert.match(rows[1], /^1\|.*\|Maya\|earlier$/);
  await h.look("agreement-admin", { at: "#agreement-form" });
  await h.click("#lock-button");
  await h.find(".tiles .tile");

  // The desk: type the code, Enter. Signed in at once; the agreement waits under the search.
  await h.unlockAs("Dee", "258025");
  const search = await h.find("#search");
  await search.sendKeys(code, Key.ENTER);
  await see("#toast", /Zoë O'Brien .* is signed in\. A new agreement \(version 2\)/, "signed in, and told");
  await see("#agreement-due", /New agreement for Zoë O'Brien .*version 2/, "the prompt under the search");
  assert.equal(await h.focusedId(), "search", "the next person can be signed in straight away");
  const here = await h.core("who_is_in");
  assert.equal(here.length, 1, "the sign-in was not held up");
  // From the keyboard: Tab to "Show the words", open them, then Accepted.
  await (await h.find("#agreement-show")).sendKeys(Key.ENTER);
  await see("#agreement-words", /We keep your name and when you come in/, "the words shown");
  await h.look("agreement-due", { at: "#agreement-due" });
  await (await h.find("#agreement-accepted")).sendKeys(Key.ENTER);
  await see("#toast", /Recorded: Zoë O'Brien accepted version 2/, "recorded");
  assert.equal(await h.count("#agreement-due"), 0, "the prompt is gone");
  assert.equal(await h.focusedId(), "search", "back to the search");
  assert.equal(await h.core("agreement_due", { idOrCode: code }), null);

  // The desk may not open What we hold: no link, and the core refuses the page.
  await driver.executeScript(`location.hash = "#/member/${encodeURIComponent(code)}"`);
  await see("h1", /Zoë O'Brien/, "her page for the desk");
  assert.equal(await h.count("#held-link"), 0, "no link for the desk");
  await driver.executeScript(`location.hash = "#/held/${encodeURIComponent(code)}"`);
  await see("#held-error", /can't export a member's data/, "refused by the core");

  // Staff: from the member page, What we hold.
  await h.core("lock");
  await driver.navigate().refresh();
  await h.find(".tiles .tile");
  await h.unlockAs("Sid", "135791");
  await driver.executeScript(`location.hash = "#/member/${encodeURIComponent(code)}"`);
  await see("h1", /Zoë O'Brien/, "her page for staff");
  await h.click("#held-link");
  await see("#held-title", /What we hold about Zoë O'Brien/, "the page");
  assert.equal(await h.focusedId(), "held-title", "focus on the page's heading");
  const page = await driver.executeScript("return document.querySelector('main').innerText");
  for (const words of [/Zoë Anne O'Brien/, /Getting back to football <b>now<\/b>/, /Who can see it/, /Why we keep it/,
    /Staff and managers/, /said yes to version 2/, /Notes kept between staff/, /Who looked at or copied your record/]) {
    assert.match(page, words);
  }
  // The list of parts moves focus to the part chosen.
  await (await h.find("nav a[data-part='visits']")).sendKeys(Key.ENTER);
  assert.equal(await h.focusedId(), "held-visits");
  await h.look("what-we-hold", { at: "#held-title" });
  await h.look("what-we-hold-visits", { at: "#held-visits" });

  // Staff do not see the audit part (managers only): the page says it is left out.
  assert.match(page, /Left out of this copy: this part is for managers only/);
  assert.match(page, /What this copy does not list/);

  // No reason, no copy: the core refuses before any dialog opens and the reason field has focus.
  await h.click("#held-save-html");
  await see("#held-status", /Say why you are making this copy/, "a reason is asked for");
  assert.equal(await h.focusedId(), "held-reason", "focus on the reason");
  await (await h.find("#held-reason")).sendKeys("She asked for everything we hold");

  // Saved where the dialog says (a folder, for the test), as HTML and as JSON.
  await h.click("#held-save-html");
  await see("#held-status", /Saved as .*\.html/, "the page saved");
  const htmlPath = (await h.textOf("#held-status")).match(/Saved as (.*\.html)/)[1];
  assert.ok(existsSync(htmlPath), htmlPath);
  const html = readFileSync(htmlPath, "utf8");
  assert.match(html, /What we hold about you/);
  assert.match(html, /Getting back to football &lt;b&gt;now&lt;\/b&gt;/);
  assert.ok(!/<script/i.test(html), "no script in the saved page");
  assert.ok(!htmlPath.includes("Zo"), "the file name holds the code, not the name");
  await h.click("#held-save-json");
  await see("#held-status", /Saved as .*\.json/, "the data saved");
  const json = JSON.parse(readFileSync((await h.textOf("#held-status")).match(/Saved as (.*\.json)/)[1], "utf8"));
  assert.equal(json.code, code);
  assert.equal(json.sensitive.legal_name, "Zoë Anne O'Brien");
  assert.deepEqual(json.parts.find((p) => p.part === "safeguarding").who_can_see, ["staff", "manager"]);
  // Printed: to a PDF in the folder under the test.
  await h.click("#held-print");
  await driver.wait(async () => /Saved as .*\.pdf|did not work|cancelled/.test(await h.textOf("#held-status")), 30000, "the print answered");
  const pdf = (await h.textOf("#held-status")).match(/Saved as (.*\.pdf)/);
  assert.ok(pdf, await h.textOf("#held-status"));
  assert.equal(readFileSync(pdf[1]).subarray(0, 5).toString(), "%PDF-");
  // Escape goes back to her page.
  await (await h.find("#held-title")).sendKeys(Key.ESCAPE);
  await see("h1", /^Zoë O'Brien$/, "back on her page");
});
