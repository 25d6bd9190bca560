// Shifts, training and the parent network in the real window: a navigator starts and ends a
// shift from "My shift", staff record her training and see the team's hours, and the desk
// counts a parent told about the parent network. Screenshots land in artifacts/e2e/.
//
// Run through ../scripts/e2e (it builds the app, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Key } from "selenium-webdriver";
import { helpers, startDriver } from "./support.mjs";

let driver;
let h;

before(async () => {
  driver = await startDriver();
  h = helpers(driver);
});

after(async () => {
  if (driver) await driver.quit();
});

async function lockScreen() {
  await h.click("#lock-button");
  await h.find(".tiles .tile");
}

test("a navigator's shift, the team's training and the parent network", async (t) => {
  await t.test("the manager opens the day; a navigator starts her shift from My shift", async () => {
    await h.setUpOrganisation({ users: [{ name: "Nia", roles: "navigator", pin: "135791" }, { name: "Stef", roles: "staff", pin: "864202" }] });
    await h.unlockAs("Maya", "246810");
    await h.core("open_day", { req: {} });
    await lockScreen();
    await h.unlockAs("Nia", "135791");
    await h.click("#nav a[href='#/team']");
    await h.find("#start-shift");
    assert.equal(await h.textOf("#shift-now"), "You are not on shift.");
    await h.look("team-01-my-shift-off");
    await (await h.find("#start-shift")).sendKeys(Key.ENTER);
    await driver.wait(async () => /^You have been on shift at Riverside Hub since \d\d:\d\d/.test(await h.textOf("#shift-now")), 5000);
    await h.look("team-02-on-shift");
    // A navigator sees her own only: no team tables, no forms to record training.
    assert.equal(await h.count("#team-hours, #training-form"), 0);
  });

  await t.test("ending the shift lists it in this month's shifts", async () => {
    await h.click("#end-shift");
    await driver.wait(async () => (await h.textOf("#shift-now")) === "You are not on shift.", 5000);
    assert.match(await h.textOf("#my-shifts"), /Riverside Hub\s*\d\d:\d\d to \d\d:\d\d/);
    assert.match(await h.textOf("#my-hours"), /in 1 shift\./);
    await lockScreen();
  });

  await t.test("staff record her training; a date after today is refused beside its field", async () => {
    await h.unlockAs("Stef", "864202");
    await h.click("#nav a[href='#/team']");
    await h.find("#training-form");
    assert.match(await h.textOf("#team-hours"), /Nia/);
    await h.click("#training-user option[value='Nia']");
    await h.type("#training-course", "Youth mental health first aid");
    await driver.executeScript("document.querySelector('#training-date').max = ''; document.querySelector('#training-date').value = '2099-01-01'");
    await h.click("#training-form button[type=submit]");
    await driver.wait(async () => /after today/.test(await h.textOf("#training-date-error")), 5000);
    assert.equal(await h.focusedId(), "training-date");
    await driver.executeScript("document.querySelector('#training-date').value = '2026-10-01'");
    await h.click("#training-form button[type=submit]");
    await driver.wait(async () => /Youth mental health first aid/.test(await h.textOf("#team-training")), 5000);
    await h.look("team-03-staff", { at: "#team-training" });
  });

  await t.test("the desk signs a parent in and counts them told about the parent network", async () => {
    await h.click("#nav a[href='#/day']");
    await h.type("#contact-name", "Pat Parent");
    await h.click("#contact-submit");
    // The list redraws as the sign-in lands: click the button that is there once it settles.
    await driver.wait(async () => {
      try {
        await h.click("[data-key^='signpost-']");
        return true;
      } catch {
        return false;
      }
    }, 5000);
    await driver.wait(async () => /told about the parent network/.test(await h.textOf("#contacts-in")), 5000);
    const counts = await h.textOf("#counts");
    assert.match(counts, /Parents told about the parent network\s*1/);
    await h.look("team-04-parent-network", { at: "#contacts-in" });
  });
});
