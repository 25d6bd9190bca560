// Outcome check-ins in the real window: staff add a scale and import a definition (pasted) on
// the Instruments screen, a bad file imports nothing; a navigator records an ONS4 check-in on a
// member's page (a bad answer refused, charts drawn); then hands the laptop over, and the young
// person answers one question at a time with the keyboard and a tap, changes an answer with
// Back, saves, and the app is at the LOCK SCREEN with nothing of the member on it. A second
// hand-over stopped with Escape saves nothing and locks too.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Key } from "selenium-webdriver";
import { startDriver, helpers } from "./support.mjs";

const CALM = readFileSync(new URL("../tests/fixtures/instruments/calm-and-connected.json", import.meta.url), "utf8");

test("outcome check-ins and the hand-over screen", async (t) => {
  const driver = await startDriver();
  const h = helpers(driver);
  const { find, type, look, core, keys } = h;
  // Read in the page in one go: the screen redraws itself after each change, and an element
  // found a moment earlier may be gone.
  const textOf = async (css) => {
    await find(css);
    return h.textNow(css);
  };
  let code = "";
  /// Chooses an option of a select, as a person choosing it does (the change event follows).
  const pick = async (css, value) => {
    await find(css);
    await driver.executeScript("const s = document.querySelector(arguments[0]); s.focus(); s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));", css, value);
  };
  try {
    await h.setUpOrganisation({
      users: [
        { name: "Nia", roles: "navigator", pin: "135791" },
        { name: "Stef", roles: "staff", pin: "258025" },
      ],
    });

    await t.test("staff add a scale and import a pasted definition; a broken one imports nothing", async () => {
      await h.unlockAs("Stef", "258025");
      await h.click("#nav-instruments");
      await find("#scale-form");
      assert.match(await textOf("#instruments-list-title"), /Instruments \(5\)/);
      await type("#scale-name", "Feeling safe");
      await type("#scale-max", "10");
      await h.click("#scale-form button[type='submit']");
      await driver.wait(async () => (await textOf("#instruments-list-title")).includes("(6)"), 10000, "the scale is listed");
      // A broken file: one sentence, nothing imported.
      await (await find("#import-text")).sendKeys('{"id": "calm"');
      await h.click("#import-form button[type='submit']");
      await driver.wait(async () => (await textOf("#import-error")).includes("not valid JSON"), 10000, "the broken file is refused");
      assert.match(await textOf("#instruments-list-title"), /\(6\)/);
      await driver.executeScript("const t = document.querySelector('#import-text'); t.value = arguments[0];", CALM);
      await h.click("#import-form button[type='submit']");
      await driver.wait(async () => (await textOf("#instruments-list-title")).includes("(7)"), 10000, "the definition is listed");
      assert.match(await textOf("table"), /Calm and Connected Scale \(example\)/);
      await look("30a-instruments", { at: "#import-form" });
      await core("lock");
      await driver.navigate().refresh();
      await find(".tiles .tile");
    });

    await t.test("a navigator records an ONS4 check-in on the member's page and sees its charts", async () => {
      await core("unlock", { name: "Maya", pin: "246810" });
      const reg = await core("register_member", { req: { profile: { preferred_name: "Zara Quinn", born: "2010-04" } } });
      code = reg.member.code;
      await core("record_check_in", { idOrCode: code, req: { instrument: "ons4", answers: [4, 5, 3, 8] } });
      await core("lock");
      await driver.navigate().refresh();
      await find(".tiles .tile");
      await h.unlockAs("Nia", "135791");
      await driver.executeScript(`location.hash = "#/member/${code}"`);
      await find("#check-ins");
      await pick("#checkin-instrument", "ons4");
      await find("#checkin-item-3");
      // Happiness is left "Not answered": ONS4 reports each question alone and allows blanks.
      for (const [n, v] of [[0, "7"], [1, "8"], [3, "2"]]) await pick(`#checkin-item-${n}`, v);
      await h.click("#checkin-form button[type='submit']");
      await driver.wait(async () => (await textOf("#check-ins")).includes("Earlier check-ins (2)"), 10000, "the check-in is listed");
      assert.match(await textOf("ol.check-ins"), /Life satisfaction 7 \(high\); Worthwhile 8 \(high\); Happiness not answered; Anxiety 2 \(low\)/);
      assert.equal(await h.count(".measure svg[role='img']"), 4, "one chart per ONS4 question, never a total");
      assert.match(await textOf(".measures"), /Anxiety\. 2 check-ins\. First 8 on .*latest 2 \(low\).*down 6, better; reaches the meaningful change/);
      await look("30b-check-ins", { at: "#check-ins" });
    });

    await t.test("the self-filled check-in asks one question at a time and ends at the lock screen", { timeout: 90000 }, async () => {
      await pick("#checkin-instrument", "rosenberg");
      await h.click("#checkin-hand-over");
      await find("#handover-start");
      const page = await driver.executeScript("return document.body.innerText");
      assert.ok(!page.includes("Zara") && !page.includes(code) && !page.includes("Nia"), `nothing of the member or user shows: ${page}`);
      assert.equal(await driver.executeScript("return getComputedStyle(document.querySelector('.who')).visibility"), "hidden");
      await look("30c-hand-over-start");
      await h.click("#handover-start");
      await find("#handover-answer-0");
      assert.match(await textOf(".handover-progress"), /Question 1 of 10/);
      await look("30d-hand-over-question");
      // Number keys answer, Enter goes on.
      await keys("2");
      await keys(Key.ENTER);
      await driver.wait(async () => (await textOf(".handover-progress")).includes("Question 2 of 10"), 5000);
      // Back changes an answer: the first is still 2, and becomes 3 by a tap.
      await h.click("#handover-back");
      await driver.wait(async () => (await textOf(".handover-progress")).includes("Question 1 of 10"), 5000);
      assert.equal(await driver.executeScript("return document.querySelector('#handover-answer-2').checked"), true);
      await h.click("label[for='handover-answer-3']");
      await h.click("#handover-next");
      for (let q = 2; q <= 10; q++) {
        await driver.wait(async () => (await textOf(".handover-progress")).includes(`Question ${q} of 10`), 5000);
        await keys("2");
        await keys(Key.ENTER);
      }
      await find("#handover-save");
      assert.match(await textOf(".handover-lead"), /You answered 10 of 10/);
      await look("30e-hand-over-end");
      await h.click("#handover-save");
      // The lock screen, never the member's record.
      await find(".tiles .tile");
      assert.match(await textOf("#who-user"), /Locked/);
      const after = await driver.executeScript("return document.body.innerText");
      assert.ok(!after.includes("Zara"), "the member's record is not shown");
      await h.unlockAs("Nia", "135791");
      assert.ok(!(await driver.executeScript("return location.hash")).includes(code), "unlocking again does not open the record");
      const view = await core("list_check_ins", { idOrCode: code });
      const self = view.check_ins.filter((c) => c.self_filled);
      assert.equal(self.length, 1);
      assert.equal(self[0].instrument, "rosenberg");
      // 3 for the first (changed with Back), 2 for the rest, five of them reverse-scored.
      assert.equal(self[0].summary, "Total 16 of 30");
    });

    await t.test("a hand-over stopped with Escape saves nothing and locks", { timeout: 90000 }, async () => {
      await driver.executeScript(`location.hash = "#/member/${code}"`);
      await pick("#checkin-instrument", "gse");
      await h.click("#checkin-hand-over");
      await h.click("#handover-start");
      await find("#handover-answer-1");
      await keys("3");
      await keys(Key.ESCAPE);
      await find(".tiles .tile");
      assert.match(await textOf("#who-user"), /Locked/);
      await core("unlock", { name: "Nia", pin: "135791" });
      const view = await core("list_check_ins", { idOrCode: code });
      assert.equal(view.check_ins.filter((c) => c.instrument === "gse").length, 0, "nothing saved");
      await core("lock");
    });
  } finally {
    await driver.quit();
  }
});
