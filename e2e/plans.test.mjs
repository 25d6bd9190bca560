// Self-care plans in the real window: a navigator writes a member's plan with them on the
// member page (a section saved with its button, another with Ctrl+Enter, a line break and an
// emoji kept), adds a step and changes its status, opens an earlier version read-only, and
// opens the page to print for the member and saves it. The desk sees no plan. At 1366x768 and
// 200% zoom, with axe.
//
// Run through ../scripts/e2e (it builds the app, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { By, Key } from "selenium-webdriver";
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

/// Waits for a text in an element, as a person waits to see it.
async function see(css, pattern, what) {
  await driver.wait(async () => {
    try {
      return pattern.test(await h.textOf(css));
    } catch {
      return false;
    }
  }, 8000, what);
}

test("a navigator writes a member's self-care plan with them, looks back at an earlier version and prints it", async () => {
  await h.setUpOrganisation({
    users: [
      { name: "Nia", roles: "navigator", pin: "135791" },
      { name: "Dee", roles: "desk", pin: "258025" },
    ],
  });
  await h.unlockAs("Nia", "135791");
  const reg = await h.core("register_member", { req: { profile: { preferred_name: "Zoë O'Brien", born: "2010-04" }, force: true } });
  const code = reg.member.code;
  await driver.executeScript(`location.hash = "#/member/${encodeURIComponent(code)}"`);
  await see("#plan", /Not started yet/, "an empty plan on the member page");

  // A section saved with its own button, its line break and emoji kept.
  // Enter in a text area starts a new line; it does not save.
  await h.type("#plan-keeps-me-well", "Walking by the river");
  await h.keys(Key.ENTER, "Music 🎧");
  await h.click("#plan-keeps-me-well-save");
  await see("#plan-updated", /Last changed .* by Nia/, "the plan saved");
  // Another with Ctrl+Enter, from the keyboard alone.
  const helps = await h.type("#plan-what-helps", "Tea with my aunt");
  await driver.actions().keyDown(Key.CONTROL).sendKeys(Key.ENTER).keyUp(Key.CONTROL).perform();
  await see("#toast", /Saved “What helps”/, "Ctrl+Enter saved the section");
  assert.equal(await helps.getAttribute("value"), "Tea with my aunt");

  // A step, then its status.
  await h.type("#plan-new-step", "Call the college");
  await (await h.find("#plan-new-step")).sendKeys(Key.ENTER);
  await see("#plan-steps", /Call the college/, "the step listed");
  assert.equal(await h.focusedId(), "plan-new-step", "focus stays to add another");
  await h.click("#plan-step-1 option[value='doing']");
  await see("#toast", /Call the college”: Doing it/, "the status saved");
  const saved = await h.core("show_plan", { idOrCode: code });
  assert.equal(saved.sections[0].text, "Walking by the river\nMusic 🎧");
  assert.equal(saved.steps[0].status, "doing");
  await h.look("plan-section", { at: "#plan" });

  // A later edit, then the earlier version, read-only.
  const again = await h.find("#plan-keeps-me-well");
  await again.sendKeys(Key.END, " and swimming");
  await h.click("#plan-keeps-me-well-save");
  await see("#toast", /Saved “What keeps me well”/, "the second edit saved");
  await h.click("#plan-versions-toggle");
  await see("#plan-versions", /What keeps me well edited, by Nia/, "the versions listed");
  const versions = await driver.findElements(By.css("#plan-versions button"));
  assert.equal(versions.length, 5, "two edits of one section, one of another, a step added, its status changed");
  // The oldest: the first edit, before "What helps" and the step.
  await versions[versions.length - 1].click();
  await see("#plan-version-view", /Read only/, "the earlier version shown");
  const then = await h.textOf("#plan-version-view");
  assert.match(then, /Walking by the river\nMusic 🎧/);
  assert.doesNotMatch(then, /swimming|Tea with my aunt|Call the college/);
  assert.equal(await h.focusedId(), "plan-version-title", "focus moves to the version shown");
  await h.look("plan-earlier-version", { at: "#plan-version-view" });
  await h.click("#plan-version-close");

  // The page to print: her name and words, no code.
  await h.click("#plan-print-link");
  await see("#plan-page-title", /Zoë O'Brien's self-care plan/, "the print page");
  const page = await driver.executeScript("return document.querySelector('main').innerText");
  assert.match(page, /Walking by the river\nMusic 🎧 and swimming/);
  assert.match(page, /Doing it: Call the college/);
  assert.ok(!page.includes(code), "no member code on the page");
  await h.look("plan-print", { at: "#plan-page-title" });
  await h.click("#plan-save-page");
  await see("#plan-print-status", /Saved as .*\.html/, "the page saved");
  const path = (await h.textOf("#plan-print-status")).match(/Saved as (.*\.html)/)[1];
  assert.ok(existsSync(path), path);
  const html = readFileSync(path, "utf8");
  assert.match(html, /Zoë O&#39;Brien&#39;s self-care plan/);
  assert.ok(!html.includes(code));
  // And as a PDF, for a laptop without a printer: the page prints alone.
  await h.click("#plan-save-pdf");
  await driver.wait(async () => /Saved as .*\.pdf|did not work/.test(await h.textOf("#plan-print-status")), 30000, "the PDF answered");
  const pdf = (await h.textOf("#plan-print-status")).match(/Saved as (.*\.pdf)/);
  assert.ok(pdf, await h.textOf("#plan-print-status"));
  assert.ok(readFileSync(pdf[1]).subarray(0, 5).toString() === "%PDF-", "a PDF file");
  await h.keys(Key.ESCAPE);
  await see("h1", /Zoë O'Brien/, "back on her page");

  // The desk sees no plan on the member page.
  await h.core("lock");
  await driver.navigate().refresh();
  await h.find(".tiles .tile");
  await h.unlockAs("Dee", "258025");
  await driver.executeScript(`location.hash = "#/member/${encodeURIComponent(code)}"`);
  await see("h1", /Zoë O'Brien/, "her page for the desk");
  assert.equal(await h.count("#plan"), 0, "no plan for the desk");
});
