// Outcome reports in the real window: a manager previews a report of this month (figures beside
// last month's, and the charts with their words), exports it as XLSX and CSV and prints it to
// PDF, with the save dialog answered by HUBDESK_SAVE_AS (scripts/e2e sets it to a folder for
// this file only), is refused without a reason, and exports member rows on their own. A desk
// user is not offered Reports, and the core refuses them when asked directly.
//
// Run through ../scripts/e2e (it builds the app, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Key } from "selenium-webdriver";
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

/// Sets a date input the way a date picker does (WebKit's date fields take no typed keys
/// through WebDriver) and tells the screen it changed.
async function setValue(css, value) {
  await driver.executeScript(
    "const i = document.querySelector(arguments[0]); i.value = arguments[1]; i.dispatchEvent(new Event('input')); i.dispatchEvent(new Event('change'));",
    css,
    value,
  );
}

/// The file the status line says was saved: it is in the test's folder, there and not empty.
async function savedFile(css, extension) {
  const text = await h.textOf(css);
  const m = text.match(/Saved as (.+?\.[a-z]+)\./);
  assert.ok(m, `${css} says where: ${text}`);
  const path = m[1];
  assert.ok(path.startsWith(savedIn), `${path} is in ${savedIn}`);
  assert.ok(path.endsWith(`.${extension}`), `${path} is .${extension}`);
  assert.ok(existsSync(path) && statSync(path).size > 0, `${path} exists and is not empty`);
  return path;
}

const pad = (n) => String(n).padStart(2, "0");
const now = new Date();
const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
const monthStart = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-01`;

test("a manager previews, exports and prints an outcome report; the desk cannot", async (t) => {
  assert.ok(savedIn, "scripts/e2e sets HUBDESK_SAVE_AS for this file");

  await t.test("a day with three members signed in", async () => {
    await h.setUpOrganisation({ users: [{ name: "Dee", roles: "desk", pin: "135791" }] });
    await h.unlockAs("Maya", "246810");
    await h.core("open_day", { req: {} });
    for (const [name, born] of [["Ada", "2010-04"], ["Bo", "2009-11"], ["Cy", "2011-02"]]) {
      const reg = await h.core("register_member", { req: { profile: { preferred_name: name, born } } });
      await h.core("sign_in_member", { idOrCode: reg.member.code, activities: [] });
    }
  });

  await t.test("Reports opens from the menu with last month chosen", async () => {
    await h.click("#nav-reports");
    await h.find("#report-form");
    assert.equal(await h.focusedId(), "reports-title");
    assert.equal(await (await h.find("#report-threshold")).getAttribute("value"), "10");
    assert.equal(await (await h.find("#report-threshold-warning")).isDisplayed(), false);
    await h.look("reports-01-choices");
  });

  await t.test("a period that ends before it starts is refused in the core's words", async () => {
    await setValue("#report-from", "2026-03-31");
    await setValue("#report-to", "2026-03-01");
    await h.click("#report-preview-button");
    await driver.wait(async () => {
      const shown = await driver.executeScript(
        "return [...document.querySelectorAll('.field-error, #report-error')].map((e) => e.textContent).join(' ')",
      );
      return /\w/.test(shown);
    }, 15000, "the refusal shown");
    assert.equal(await (await h.find("#report-preview")).isDisplayed(), false);
  });

  await t.test("the preview shows this month's figures with the charts' words, focus on its heading", async () => {
    await setValue("#report-from", monthStart);
    await setValue("#report-to", today);
    await setValue("#report-threshold", "1");
    assert.equal(await (await h.find("#report-threshold-warning")).isDisplayed(), true);
    await (await h.find("#report-preview-button")).sendKeys(Key.ENTER);
    await see("#report-preview-title", /^Preview: All hubs, /, "the preview");
    assert.equal(await h.focusedId(), "report-preview-title");
    const body = await h.textOf("#report-body");
    assert.match(body, /Visits/);
    assert.match(body, /Unique members/);
    // The charts are drawn, and each says in words what it shows.
    assert.ok((await h.count("#report-body svg")) >= 1, "a chart in the preview");
    const named = await driver.executeScript(
      "return [...document.querySelectorAll('#report-body svg')].every((s) => s.getAttribute('role') === 'img' && (s.getAttribute('aria-label') || s.querySelector('title')))",
    );
    assert.ok(named, "every chart has its words");
    await h.look("reports-02-preview", { at: "#report-preview" });
    const weeks = await driver.executeScript("return document.querySelector('#report-body .report-chart svg desc').textContent");
    assert.match(weeks, /Week 1/, "the chart of visits by week says its figures in words");
    await h.look("reports-02b-chart", { at: "#report-body .report-chart" });
  });

  await t.test("with the usual threshold, three members are held back, in words", async () => {
    await setValue("#report-threshold", "10");
    assert.equal(await (await h.find("#report-threshold-warning")).isDisplayed(), false);
    assert.equal(await (await h.find("#report-stale")).isDisplayed(), true);
    await h.click("#report-preview-button");
    await driver.wait(async () => !(await (await h.find("#report-stale")).isDisplayed()), 15000, "a fresh preview");
    assert.match(await h.textOf("#report-body"), /Small numbers are held back \(threshold 10\)/);
    assert.match(await h.textOf("#report-table-attendance"), /Unique members\s*suppressed/);
    await h.look("reports-02c-held-back", { at: "#report-table-attendance" });
    // Back to every count for the exports below.
    await setValue("#report-threshold", "1");
  });

  await t.test("an export without a reason is refused beside the reason", async () => {
    await h.click("#report-format option[value='xlsx']");
    await h.click("#report-export-button");
    await driver.wait(async () => /\w/.test(await h.textOf("#report-reason-error")), 15000, "the reason asked for");
    assert.equal(await h.focusedId(), "report-reason");
  });

  await t.test("XLSX and CSV are saved where the save dialog answered", async () => {
    await h.type("#report-reason", "Quarterly report to the funder");
    await h.click("#report-export-button");
    await see("#report-status", /Saved as .*\.xlsx\./, "the XLSX saved");
    const xlsx = await savedFile("#report-status", "xlsx");
    assert.match(xlsx, /outcome-report-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.xlsx$/);
    await h.click("#report-format option[value='csv']");
    await h.click("#report-export-button");
    await see("#report-status", /Saved as .*\.zip\./, "the CSV zip saved");
    await savedFile("#report-status", "zip");
    await h.look("reports-03-exported", { at: "#report-export-form" });
  });

  await t.test("printing the preview makes a PDF of the report alone", async () => {
    await h.click("#report-print-button");
    await see("#report-status", /Saved as .*\.pdf\./, "the PDF printed");
    const pdf = await savedFile("#report-status", "pdf");
    // Kept beside the screenshots, to look at: the report alone, no menus or buttons.
    copyFileSync(pdf, join(shots, "reports-05-printed.pdf"));
  });

  await t.test("member rows are a separate export with a reason of their own", async () => {
    await h.click("#members-export-button");
    await driver.wait(async () => /\w/.test(await h.textOf("#members-reason-error")), 15000, "the reason asked for");
    assert.equal(await h.focusedId(), "members-reason");
    await h.type("#members-reason", "Checking attendance with the hub lead");
    await h.click("#members-export-button");
    await see("#members-status", /Saved as .*\.csv\./, "the rows saved");
    await savedFile("#members-status", "csv");
    await h.look("reports-04-members", { at: "#members-export-form" });
  });

  await t.test("the desk is not offered Reports, and the core refuses it", async () => {
    await h.click("#lock-button");
    await h.find(".tiles .tile");
    await h.unlockAs("Dee", "135791");
    assert.equal(await (await h.find("#nav-reports")).isDisplayed(), false);
    await assert.rejects(
      h.core("report_preview", { from: monthStart, to: today, hub: null, threshold: null }),
      /"kind":"permission"/,
    );
    await assert.rejects(
      h.core("report_export", { from: monthStart, to: today, hub: null, threshold: null, format: "csv", reason: "x" }),
      /"kind":"permission"/,
    );
    await driver.navigate().to(`${await driver.getCurrentUrl().then((u) => u.split("#")[0])}#/reports`);
    await see("main", /Reports are for managers\./, "the screen refuses too");
  });
});
