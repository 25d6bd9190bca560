// A busy door, in the real window on the demo organisation (400 members): thirty members
// signed in, half found by typing part of their name as a person does, half by a barcode
// scanner (the code and Enter with no delay between keys), each checked to be the right one;
// someone already in is offered a sign-out; nobody found goes to Register with the name; the
// chips reset; a headcount is undone; the roll call is opened and saved. At 1366x768 and at
// 200% zoom, with axe. Prints keystrokes per sign-in for a member found by name.
//
// Run through ../scripts/e2e (it builds the app, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { By, Key, until } from "selenium-webdriver";
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

/// Waits until the result list answers `text` (as a person waits to see the list change).
async function resultsFor(text) {
  await driver.wait(async () => (await (await h.find("#results")).getAttribute("data-for")) === text, 10000, `results for "${text}"`);
  return driver.executeScript(`return [...document.querySelectorAll("#results .result")].map((r) => r.querySelector(".code").textContent)`);
}

/// Is the highlighted row fully inside the window?
async function highlightInView() {
  return driver.executeScript(`
    const row = document.querySelector('#results [aria-selected="true"]');
    if (!row) return "no highlighted row";
    const r = row.getBoundingClientRect();
    // Within a pixel: rows sit on fractional pixels at 200%.
    return r.top >= -1 && r.bottom <= window.innerHeight + 1 ? true : "top " + r.top + ", bottom " + r.bottom + ", window " + window.innerHeight;
  `);
}

async function inNow() {
  return (await h.core("who_is_in")).map((e) => e.code);
}

test("a busy door on the demo organisation", async (t) => {
  let members = [];
  const keystrokes = []; // name typed from its start, in the window
  const byWordsKeys = []; // "ay r", in the window

  await t.test("the demo opens, the desk unlocks and the day is open", async () => {
    await h.click("#open-demo");
    const tiles = await driver.wait(until.elementsLocated(By.css(".tiles .tile")), 120000);
    for (const tile of tiles) if ((await tile.getText()) === "Demo Desk") await tile.click();
    await h.type("#pin", "135791");
    await (await h.find("#pin")).sendKeys(Key.ENTER);
    const first = await driver.wait(until.elementLocated(By.css("#search, #open-day")), 30000);
    if ((await first.getAttribute("id")) === "open-day") await first.click();
    await h.find("#who-is-in");
    await driver.wait(async () => (await driver.switchTo().activeElement().getAttribute("id")) === "search", 5000);
    // Thirty members not in yet, chosen through the core's own search (test data only).
    const seen = new Set(await inNow());
    for (const letters of ["an", "ar", "el", "ma", "ie", "on", "ra", "li", "en", "ha", "ol", "ch"]) {
      for (const m of await h.core("find_members", { text: letters })) {
        if (!seen.has(m.code) && m.preferred_name.trim()) {
          seen.add(m.code);
          members.push(m);
        }
      }
      if (members.length >= 30) break;
    }
    members = members.slice(0, 30);
    assert.equal(members.length, 30, "the demo has thirty members to sign in");
  });

  await t.test("the highlighted result stays in view at 1366x768 and at 200% zoom", async () => {
    for (const percent of [100, 200]) {
      await h.zoom(percent);
      assert.equal(await h.focusedId(), "search");
      await h.keys("a");
      const shown = await resultsFor("a");
      assert.equal(shown.length, 20);
      assert.match(await h.textOf("#search-status"), /20\+ shown, keep typing/);
      // The first result sits straight under the box: nothing between them but one line.
      assert.equal(await highlightInView(), true, `at ${percent}%: the first result is in view while typing`);
      for (let i = 0; i < 12; i++) {
        await h.keys(Key.ARROW_DOWN);
        assert.equal(await highlightInView(), true, `at ${percent}%, after ↓ ${i + 1} times`);
      }
      await h.screenshot(`20-busy-highlight-${percent}`);
      await h.keys(Key.ESCAPE);
    }
    await h.zoom(100);
  });

  await t.test("thirty members signed in, by partial name and by scanner, each the right one", async () => {
    // The same members, if the desk types the start of the first name, a space and the
    // start of the surname ("ay r"), the fewest keys that put them in the first three rows:
    // counted through the core's search (what the box shows), before anyone is signed in,
    // since signing in moves a member up the ranking.
    const best = [];
    for (const m of members.filter((_, i) => i % 2 === 0)) {
      const [first, ...others] = m.preferred_name.split(/\s+/).filter(Boolean);
      const last = others.join(" ");
      let fewest = Infinity;
      for (let i = 1; i <= Math.min(3, first.length); i++) {
        for (let j = 1; j <= last.length && i + 1 + j < fewest; j++) {
          const typed = `${first.slice(0, i)} ${last.slice(0, j)}`;
          const at = (await h.core("find_members", { text: typed })).findIndex((f) => f.code === m.code);
          if (at >= 0 && at <= 2) {
            fewest = Math.min(fewest, typed.length + at + 1);
            break;
          }
        }
      }
      best.push(fewest);
    }
    for (const [i, m] of members.entries()) {
      if (i === 20) await h.zoom(200); // the last ten at 200% zoom
      assert.equal(await h.focusedId(), "search", "the box has the keyboard for the next person");
      if (i % 2 === 1) {
        // A scanner: the code and Enter in one burst, with no wait for any search.
        await h.keys(m.code, Key.ENTER);
      } else {
        // A person, two ways in turn: the name a letter at a time from its start; or the
        // first two letters of the first name, a space, and the surname a letter at a time
        // ("ay r"). Either until they are among the first three rows, then ↓ to them, Enter.
        const [first, ...others] = m.preferred_name.split(/\s+/).filter(Boolean);
        const byWords = i % 4 === 2 && others.length > 0;
        const keys = byWords ? [...`${first.slice(0, 2)} `, ...others.join(" ")] : [...m.preferred_name];
        let typed = "";
        let at = -1;
        for (const ch of keys) {
          await h.keys(ch);
          typed += ch;
          if (!ch.trim()) continue;
          const codes = await resultsFor(typed);
          at = codes.indexOf(m.code);
          if (at >= 0 && at <= 2) break;
        }
        assert.ok(at >= 0, `${m.preferred_name} is found by "${typed}"`);
        for (let k = 0; k < at; k++) await h.keys(Key.ARROW_DOWN);
        assert.equal(await highlightInView(), true);
        assert.match(await h.textOf('#results [aria-selected="true"]'), new RegExp(m.code));
        await h.keys(Key.ENTER);
        (byWords ? byWordsKeys : keystrokes).push(typed.length + at + 1);
      }
      await driver.wait(async () => (await h.textOf("#who-is-in")).includes(m.code), 10000, `${m.code} shows as in`);
      assert.ok((await inNow()).includes(m.code), `the core has ${m.preferred_name} (${m.code}) in`);
      assert.equal(await (await h.find("#search")).getAttribute("value"), "", "the box is empty for the next person");
      if (i === 1) await h.look("21-busy-signed-in");
    }
    await h.zoom(100);
    assert.equal((await inNow()).length, 30);
    const mean = (xs) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
    console.log(`keystrokes per sign-in by name in the window, typed from the start of the name: mean ${mean(keystrokes)}, max ${Math.max(...keystrokes)}, each ${keystrokes.join(" ")}`);
    console.log(`keystrokes per sign-in by name in the window, two letters, a space, the surname's start ("ay r"): mean ${mean(byWordsKeys)}, max ${Math.max(...byWordsKeys)}, each ${byWordsKeys.join(" ")}`);
    console.log(`keystrokes per sign-in by name, the fewest over 1-3 letters of the first name, a space, the surname's start (through the core, all ${best.length}): mean ${mean(best.filter(Number.isFinite))}, max ${Math.max(...best)}, each ${best.join(" ")}`);
  });

  await t.test("Enter on someone already in offers the sign-out in the page; Escape keeps them in", async () => {
    const m = members[0];
    const search = await h.find("#search");
    await h.keys(m.code);
    await resultsFor(m.code);
    assert.match(await h.textOf("#result-0"), /in since \d\d:\d\d/);
    await h.keys(Key.ENTER);
    const dialog = await h.find("dialog[open]");
    assert.match(await dialog.getText(), new RegExp(`${m.preferred_name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is already in`));
    assert.equal(await h.textOf("#day-error"), "", "no error at the top of the page");
    await h.look("22-busy-already-in");
    await h.keys(Key.ESCAPE);
    await driver.wait(async () => (await h.count("dialog")) === 0, 5000);
    assert.ok((await inNow()).includes(m.code));
    // Enter again, and Enter on "Sign out": out, with Undo in the toast.
    const visitsBefore = (await h.core("show_day")).visits;
    await h.keys(Key.ENTER);
    await h.find("dialog[open]");
    await h.keys(Key.ENTER);
    await driver.wait(async () => !(await inNow()).includes(m.code), 5000);
    await h.click("#toast-action");
    await driver.wait(async () => (await inNow()).includes(m.code), 5000, "Undo signs them back in");
    // On the same visit: one afternoon is still one visit.
    await driver.wait(async () => (await h.textOf("#toast")).includes("is back in, on the same visit"), 5000);
    assert.equal((await h.core("show_day")).visits, visitsBefore, "no second visit");
  });

  await t.test("Undo of a sign-in of the wrong person brings Visits today back", async () => {
    const visitsShown = async () => driver.executeScript(`
      const dt = [...document.querySelectorAll(".count dt")].find((d) => d.textContent.startsWith("Visits"));
      return dt ? Number(dt.nextElementSibling.textContent) : null;`);
    const before = await visitsShown();
    assert.equal(before, (await h.core("show_day")).visits);
    // Someone not in yet, found through the core's search (test data only).
    const here = new Set(await inNow());
    const wrong = (await h.core("find_members", { text: "be" })).find((f) => !here.has(f.code));
    assert.ok(wrong, "someone to sign in by mistake");
    const lastSeen = wrong.last_seen ?? null;
    await h.keys(wrong.code, Key.ENTER);
    await driver.wait(async () => (await inNow()).includes(wrong.code), 5000);
    await driver.wait(async () => (await visitsShown()) === before + 1, 5000, "the sign-in counts at first");
    await h.alt("u");
    await driver.wait(async () => !(await inNow()).includes(wrong.code), 5000, "Undo takes the sign-in back");
    await driver.wait(async () => (await visitsShown()) === before, 5000, "Visits today is back");
    const toastText = await h.textOf("#toast");
    assert.match(toastText, /^Undone: .+'s sign-in is withdrawn; it counts nowhere\.$/);
    assert.equal((await h.core("show_day")).visits, before);
    // Nor is it their last visit.
    const again = (await h.core("find_members", { text: wrong.code })).find((f) => f.code === wrong.code);
    assert.equal(again.last_seen ?? null, lastSeen, "their last visit is as before");
    await h.look("22b-busy-sign-in-undone");
    // The member page lists it apart, as withdrawn, and not among the visits.
    await driver.executeScript(`location.hash = "#/member/${encodeURIComponent(wrong.code)}"`);
    const withdrawn = await h.find("#withdrawn-visits");
    assert.match(await withdrawn.getText(), /Sign-ins undone at the desk \(withdrawn: not visits, counted nowhere\)/);
    assert.match(await withdrawn.getText(), /by Demo Desk/);
    await h.look("22c-busy-member-withdrawn", { at: "#withdrawn-visits" });
    await driver.executeScript(`location.hash = "#/day"`);
    await driver.wait(async () => (await h.focusedId()) === "search", 5000);
  });

  await t.test("a chip chosen by key is announced, and Escape or a sign-in resets it", async () => {
    const chip = await h.find(".chip");
    const name = await chip.getAttribute("data-name");
    const search = await h.find("#search");
    await h.keys("zz");
    await resultsFor("zz");
    await h.alt("1");
    assert.equal(await chip.getAttribute("aria-pressed"), "true");
    const announced = async () => (await h.find("#day-announce")).getAttribute("textContent");
    await driver.wait(async () => (await announced()).includes(`${name}: chosen`), 5000, "the chip's change is announced");
    await h.keys(Key.ESCAPE);
    assert.equal(await chip.getAttribute("aria-pressed"), "false");
    assert.equal(await h.textOf("#search-status"), "");
    assert.equal(await search.getAttribute("aria-activedescendant"), null);
    assert.equal(await search.getAttribute("aria-expanded"), "false");
    // Chosen for one person, then gone for the next.
    const next = members[0];
    await h.core("sign_out_member", { idOrCode: next.code });
    await h.alt("1");
    await h.keys(next.code, Key.ENTER);
    await driver.wait(async () => (await h.textOf("#toast")).includes(`for ${name}`), 5000);
    assert.equal(await chip.getAttribute("aria-pressed"), "false", "the chip is off for the next person");
  });

  await t.test("a scanner that ends with two Enters signs in once and asks nothing", async () => {
    const m = members[3];
    await h.core("sign_out_member", { idOrCode: m.code });
    // The two Enters arrive together, before the page has handled the first (WebDriver's
    // keys wait for each other; a scanner on a busy laptop does not).
    await h.keys(m.code);
    await driver.executeScript(`const s = document.getElementById("search");
      for (let i = 0; i < 2; i++) s.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));`);
    await driver.wait(async () => (await inNow()).includes(m.code), 5000);
    await driver.wait(async () => (await h.textOf("#toast")).includes(`${m.code}) is signed in`), 5000);
    assert.equal(await h.count("dialog[open]"), 0, "no sign-out offered for the second Enter");
    assert.equal(await h.textOf("#search-error"), "");
  });

  await t.test("a headcount by key, and Undo takes it back", async () => {
    const before = (await h.core("show_day")).headcount;
    await h.alt("h");
    await driver.wait(async () => (await h.core("show_day")).headcount === before + 1, 5000);
    assert.match(await h.textOf("#toast"), new RegExp(`Headcount is now ${before + 1}`));
    await h.look("23-busy-headcount-toast");
    await h.alt("u");
    await driver.wait(async () => (await h.core("show_day")).headcount === before, 5000, "Undo takes the +1 back");
    await driver.wait(async () => (await h.textOf("#toast")).includes(`back to ${before}`), 5000);
  });

  await t.test("a parent by key: Alt+P, the name, Enter", async () => {
    await h.alt("p");
    assert.equal(await driver.switchTo().activeElement().getAttribute("id"), "contact-name");
    await h.keys("Pat Parent", Key.ENTER);
    await driver.wait(async () => (await h.textOf("#contacts-in")).includes("Pat Parent"), 5000);
    assert.equal(await driver.switchTo().activeElement().getAttribute("id"), "search");
  });

  await t.test("an error shows beside the box and goes with the next keystroke", async () => {
    const search = await h.find("#search");
    await h.keys("K7M-42QX", Key.ENTER); // not a real code: its check letter is wrong
    await driver.wait(async () => (await h.textOf("#search-error")) !== "", 5000);
    assert.equal(await h.textOf("#day-error"), "");
    await h.keys(Key.BACK_SPACE);
    assert.equal(await h.textOf("#search-error"), "");
    await h.keys(Key.ESCAPE);
  });

  await t.test("Enter with nobody found opens Register with the name typed", async () => {
    const search = await h.find("#search");
    await h.keys("Qzxv Newcomer");
    await resultsFor("Qzxv Newcomer");
    assert.match(await h.textOf("#search-status"), /Nobody found/);
    await h.keys(Key.ENTER);
    const name = await h.find("#name");
    await driver.wait(async () => (await name.getAttribute("value")) === "Qzxv Newcomer", 5000);
    await h.click("a[href='#/day']");
    await h.find("#search");
  });

  await t.test("sign-out from the table keeps the page still and the keyboard on the next row", async () => {
    // The day screen is drawn once the search box has the keyboard (it takes it last).
    await driver.wait(async () => (await h.focusedId()) === "search", 5000);
    await driver.executeScript("document.getElementById('who-is-in').scrollIntoView({ block: 'start' })");
    const y = await driver.executeScript("return window.scrollY");
    const buttons = await driver.findElements(By.css("#who-is-in tbody button"));
    const label = await buttons[0].getAttribute("aria-label");
    assert.match(label, /^Sign out .+, [0-9A-Z]{3}-[0-9A-Z]{4}$/, "the button says whose code");
    await buttons[0].click();
    // Read in one go: the list redraws twice (the answer, then the change event).
    const focusedButton = () => driver.executeScript(`const a = document.activeElement;
      return a && a.tagName === "BUTTON" && a.closest("#who-is-in") ? a.getAttribute("aria-label") : null`);
    await driver.wait(async () => {
      const now = await focusedButton();
      return now !== null && now !== label;
    }, 5000, "the keyboard is on the next row's Sign out");
    assert.equal(await driver.executeScript("return window.scrollY"), y, "no scroll jump");
    const headers = await driver.executeScript(`return [...document.querySelectorAll("th")].filter((th) => !th.textContent.trim()).length`);
    assert.equal(headers, 0, "no empty table headers");
  });

  await t.test("the roll call: live, with tick boxes, saved as a page where there is no printer", async () => {
    const search = await h.find("#search");
    await h.alt("f");
    await h.find("#roll-call-table");
    const expected = (await h.core("who_is_in")).length + (await h.core("contacts_in")).length;
    const boxes = await driver.findElements(By.css("#roll-call-body input[type=checkbox]"));
    assert.equal(boxes.length, expected);
    await boxes[0].click();
    assert.match(await h.textOf("#roll-call-summary"), new RegExp(`^1 of ${expected} accounted for`));
    // Live: someone signing in on any laptop shows up, and the tick stays.
    await h.core("sign_in_member", { idOrCode: members[0].code, activities: [] }).catch(() => {});
    await h.core("add_headcount", { n: 1 });
    await driver.wait(async () => (await h.textOf("#roll-call-headcount")).includes("without registering"), 5000);
    assert.equal(await (await driver.findElements(By.css("#roll-call-body input[type=checkbox]")))[0].isSelected(), true);
    await h.look("24-roll-call");
    // As a PDF, printed by the webview through GTK's print-to-file (no printer here).
    await h.click("#save-roll-call-pdf");
    await driver.wait(async () => /^(Saved as|Printing did not work)/.test(await h.textOf("#print-status")), 30000);
    const pdf = (await h.textOf("#print-status")).match(/^Saved as (.+?\.pdf)\./);
    assert.ok(pdf, await h.textOf("#print-status"));
    assert.equal(readFileSync(pdf[1]).subarray(0, 5).toString(), "%PDF-", "a PDF was written");
    // As a web page, written by the shell.
    await h.click("#save-roll-call");
    await driver.wait(async () => (await h.textOf("#print-status")).endsWith(".html. Open it on a laptop with a printer, or show it on screen."), 10000);
    const path = (await h.textOf("#print-status")).match(/^Saved as (.+?\.html)\./)[1];
    assert.ok(existsSync(path), path);
    const page = readFileSync(path, "utf8");
    for (const e of await h.core("who_is_in")) assert.ok(page.includes(e.code), `${e.code} is on the saved page`);
    await h.keys(Key.ESCAPE);
    await h.find("#search");
  });

  await t.test("the closed day is said in words", async () => {
    await h.click("#close-day");
    await h.click("dialog[open] button[type=submit]");
    const closed = await h.find("#closed-day");
    assert.match(await closed.getText(), /^The day of (Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day \d{1,2} [A-Z][a-z]+ is closed\.$/);
    await h.look("25-busy-day-closed");
  });
});
