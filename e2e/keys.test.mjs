// Encryption at rest in the real window: set-up shows the recovery key once, and after the app
// restarts nothing is open until someone unlocks: the lock screen's names come from the
// keyring, a wrong PIN opens nothing, the right one opens the store.
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

test("the recovery key at set-up and the lock screen before the store is open", async (t) => {
  await t.test("set-up shows the recovery key once, grouped for reading, with Print", async () => {
    await h.find("#org");
    await h.type("#org", "Riverside Youth Hubs");
    await h.type("#hub", "Riverside Hub");
    await h.type("#manager", "Maya");
    await h.type("#pin", "246810");
    await h.type("#pin2", "246810");
    await h.click("form button[type=submit]");
    const code = await h.textOf("#recovery-code");
    assert.match(code, /^[0-9A-Z]{4}(-[0-9A-Z]{4}){7}$/);
    assert.equal(await driver.executeScript("return document.activeElement.id"), "recovery-title");
    assert.ok(await h.find("#print-recovery"));
    await h.look("keys-01-recovery-key");
    await h.click("#recovery-kept");
    await h.find(".tiles .tile");
    assert.equal(await h.count("#recovery-code"), 0, "shown once");
  });

  await t.test("after a restart the tiles come from the keyring and a wrong PIN opens nothing", async () => {
    await driver.quit();
    driver = await startDriver();
    h = helpers(driver);
    const tile = await h.find(".tiles .tile");
    assert.equal(await tile.getText(), "Maya");
    assert.equal(await h.textOf("#who-user"), "Locked");
    await h.look("keys-02-lock-before-open");
    await tile.click();
    await h.type("#pin", "111111");
    await (await h.find("#pin")).sendKeys(Key.ENTER);
    await driver.wait(async () => (await h.textOf("#unlock-error")).length > 0, 15000);
    assert.match(await h.textOf("#unlock-error"), /not Maya's/);
    await h.look("keys-03-wrong-pin-before-open");
    await h.type("#pin", "246810");
    await (await h.find("#pin")).sendKeys(Key.ENTER);
    await driver.wait(async () => (await h.textOf("#who-user")).includes("as Maya "), 15000, "unlocked");
    await h.find("#open-day");
  });
});
