// The real hubdesk window, driven through WebDriver (tauri-driver + WebKitWebDriver), under
// Xvfb. One session walks the front desk's day: first-run set-up, unlock, open the day,
// register, find without accents, Enter signs in, who is in, a conversation on her page, sign out, a wrong PIN, the idle
// lock, a pairing code and the review screen. Every screen is screenshotted into artifacts/e2e/ and checked with axe-core.
//
// Run through ../scripts/e2e (it builds the app, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { By, Key, until } from "selenium-webdriver";
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

// The shared helpers (e2e/support.mjs), under the names this file's steps use.
const find = (css, timeout) => h.find(css, timeout);
const type = (css, text) => h.type(css, text);
const textOf = (css) => h.textOf(css);
const screenshot = (name) => h.screenshot(name);
/// Screenshots at 1366x768 and at 200% zoom (the app's own zoom keys), then the checks.
const look = (name, opts) => h.look(name, opts);

test("a front desk day in the real window", async (t) => {
  await t.test("first run opens on set-up, which creates the organisation", async () => {
    await find("#org");
    await look("01-setup");
    await type("#org", "Riverside Youth Hubs");
    await type("#hub", "Riverside Hub");
    await type("#manager", "Maya");
    await type("#pin", "246810");
    await type("#pin2", "246810");
    await h.click("form button[type=submit]");
    // The recovery key, shown this once, before anything else.
    await find("#recovery-code");
    await h.click("#recovery-kept");
    await driver.wait(until.elementLocated(By.css(".tiles .tile")), 15000);
  });

  await t.test("the lock screen unlocks with the right PIN", async () => {
    await look("02-lock");
    const tile = await find(".tiles .tile");
    assert.equal(await tile.getText(), "Maya");
    await tile.click();
    await type("#pin", "246810");
    await (await find("#pin")).sendKeys(Key.ENTER);
    await find("#open-day");
    assert.match(await textOf("#who-user"), /Maya/);
  });

  await t.test("the desk opens the day and the search box has focus", async () => {
    await look("03-day-closed");
    await h.click("#open-day");
    const search = await find("#search");
    await driver.wait(async () => (await driver.switchTo().activeElement().getAttribute("id")) === "search", 5000);
    assert.equal(await search.getAttribute("id"), "search");
    await look("04-day-open");
  });

  await t.test("registering a member shows the new code until the desk goes back to the day", async () => {
    await h.click("#register-link");
    await type("#name", "Zoë O'Brien");
    await type("#born", "1990-04");
    await h.click("#agreement-no");
    await h.click("#register-submit");
    await driver.wait(async () => (await textOf("#born-error")).length > 0, 5000);
    assert.match(await textOf("#born-error"), /members are 11 to 25/i);
    assert.equal(await (await find("#born")).getAttribute("aria-invalid"), "true");
    await type("#born", "2010-04");
    await type("#pronouns", "she/her");
    await look("05-register");
    await h.click("#sign-in-now"); // register only; the desk signs her in below
    await h.click("#register-submit");
    await find("#registered-code");
    assert.match(await textOf("#registered-title"), /Zoë O'Brien is registered/);
    await h.click("#registered-done");
    await find("#search");
  });

  await t.test("typing part of the name without accents finds her and Enter signs her in", async () => {
    const search = await type("#search", "zoe obr");
    await driver.wait(until.elementLocated(By.css("#result-0")), 5000);
    assert.match(await textOf("#result-0"), /Zoë O'Brien/);
    await look("06-search");
    await search.sendKeys(Key.ENTER);
    await driver.wait(async () => (await textOf("#who-is-in")).includes("Zoë O'Brien"), 5000);
    await look("07-who-is-in");
  });

  await t.test("her page shows her profile and today's visit, legal name hidden until asked", async () => {
    await h.click("#who-is-in a");
    await driver.wait(async () => (await textOf("h1")).includes("Zoë O'Brien"), 5000);
    assert.match(await textOf("table.visits"), /still in/);
    const reveal = await find("#show-legal");
    assert.equal(await reveal.getAttribute("aria-expanded"), "false");
    await look("07b-member");
    await h.click("a[href='#/day']");
    await find("#search");
  });

  await t.test("a conversation is recorded with her on her page, and an empty one is refused beside its field", async () => {
    await h.click("#who-is-in a");
    await driver.wait(async () => (await textOf("h1")).includes("Zoë O'Brien"), 5000);
    assert.match(await textOf("#conversations"), /No conversations yet/);
    const form = await find("#conversation-form");
    await (await form.findElement(By.css("button[type='submit']"))).click();
    await driver.wait(async () => /what matters/i.test(await textOf("#conv-what-matters-error")), 5000);
    assert.equal(await (await find("#conv-what-matters")).getAttribute("aria-invalid"), "true");
    const what = await find("#conv-what-matters");
    await what.clear();
    // Enter in a text area starts a new line; it does not send the form.
    await what.sendKeys("Getting back into drawing.", Key.ENTER, "Seeing her friends again.");
    await type("#conv-strengths", "Patient, funny, good with her little brother");
    await type("#conv-next-steps", "Come to Thursday's art group");
    // The date picker is WebKit's own control: its value is set here, to today (its minimum).
    await driver.executeScript("const d = document.getElementById('conv-follow-up'); d.value = d.min;");
    await h.click("#conversation-form button[type='submit']");
    // The list, not the form: the typed words are in the form until the page is drawn again.
    await driver.wait(async () => {
      try {
        return (await textOf("ol.conversations")).includes("Come to Thursday's art group");
      } catch {
        return false;
      }
    }, 5000);
    assert.match(await textOf("#conversations"), /Earlier conversations \(1\)/);
    assert.match(await textOf("ol.conversations"), /drawing\.\nSeeing her friends/, "her line break is kept");
    assert.equal(await driver.executeScript("return document.getElementById('conv-what-matters').value"), "", "the form is empty again");
    await look("07c-conversation", { at: "#conversations" });
    await h.click("a[href='#/day']");
    await find("#search");
    await driver.wait(async () => /Zoë O'Brien \(.+\) due today/.test(await textOf("#follow-ups")), 5000);
    await look("07d-follow-ups", { at: "#follow-ups" });
    await driver.executeScript("window.scrollTo(0, 0)");
  });

  await t.test("sign out takes her off the list", async () => {
    // The button names her code too: two people of one name are two different buttons.
    await h.click("#who-is-in button[aria-label^='Sign out Zoë O\\'Brien, ']");
    await driver.wait(async () => (await textOf("#who-is-in")).includes("Nobody is signed in"), 5000);
  });

  await t.test("a wrong PIN is refused with a reason", async () => {
    await h.click("#lock-button");
    await h.click(".tiles .tile");
    await type("#pin", "0000");
    await (await find("#pin")).sendKeys(Key.ENTER);
    await driver.wait(async () => (await textOf("#unlock-error")).length > 0, 5000);
    assert.match(await textOf("#unlock-error"), /Wrong PIN/);
    await look("08-wrong-pin");
    await type("#pin", "246810");
    await (await find("#pin")).sendKeys(Key.ENTER);
    await find("#search");
  });

  await t.test("the admin screen is there for a manager, one section at a time", async () => {
    await h.click("#nav-admin");
    await find("#user-name");
    assert.equal(await (await find("#admin-nav-users")).getAttribute("aria-current"), "page");
    assert.equal(await h.count("#admin-hubs"), 0, "only the chosen section shows");
    await look("09-admin");
    for (const section of ["activities", "hubs", "laptops", "agreement", "settings"]) {
      await h.click(`#admin-nav-${section}`);
      await find(`#admin-${section}`);
      assert.equal(await (await find(`#admin-nav-${section}`)).getAttribute("aria-current"), "page");
      // The section's heading takes focus, so a screen reader says where the link went.
      assert.equal(await driver.switchTo().activeElement().getAttribute("id"), `${section}-title`);
      await look(`09-admin-${section}`);
    }
  });

  await t.test("a dialog asks for the new PIN: labelled, Escape cancels, focus comes back", async () => {
    await h.click("#admin-nav-users");
    const reset = await find("button[aria-label='Reset PIN for Maya']");
    await reset.click();
    const dialog = await find("dialog[open]");
    const labelledBy = await dialog.getAttribute("aria-labelledby");
    assert.equal(await textOf(`#${labelledBy}`), "Reset PIN for Maya");
    // Focus is in the dialog, on its field.
    assert.equal(await driver.switchTo().activeElement().getAttribute("type"), "password");
    await look("12-dialog-reset-pin");
    await driver.switchTo().activeElement().sendKeys(Key.ESCAPE);
    await driver.wait(async () => (await h.count("dialog")) === 0, 5000);
    assert.equal(await driver.switchTo().activeElement().getAttribute("aria-label"), "Reset PIN for Maya");
    // Roles are ticked, not typed as a comma list; the ones held now are ticked already.
    await h.click("button[aria-label='Roles of Maya']");
    await find("dialog[open] fieldset");
    assert.equal(await (await find("dialog[open] #edit-role-manager")).isSelected(), true);
    assert.equal(await (await find("dialog[open] #edit-role-desk")).isSelected(), false);
    await look("12b-dialog-roles");
    await driver.switchTo().activeElement().sendKeys(Key.ESCAPE);
    await driver.wait(async () => (await h.count("dialog")) === 0, 5000);
  });

  await t.test("renaming a hub is done with the keyboard alone, and a refusal shows in the dialog", async () => {
    await h.click("#admin-nav-hubs");
    await h.click("button[aria-label='Rename Riverside Hub']");
    await find("dialog[open]");
    const input = driver.switchTo().activeElement();
    await input.sendKeys(Key.chord(Key.CONTROL, "a"), Key.BACK_SPACE, Key.ENTER);
    // An empty name is refused where it was typed; the dialog stays open.
    await driver.wait(async () => (await textOf("dialog[open] .error")).length > 0, 5000);
    await look("13-dialog-refused");
    await driver.switchTo().activeElement().sendKeys("Riverside Hub North", Key.ENTER);
    await driver.wait(async () => (await h.count("dialog")) === 0, 5000);
    await driver.wait(async () => (await textOf("#admin-hubs")).includes("Riverside Hub North"), 5000);
    assert.match(await textOf("#toast"), /Hub renamed/);
    await h.click("a[href='#/day']");
    await find("#search");
  });

  await t.test("the manager shows a pairing code for a new laptop, and sync says where it stands", async () => {
    assert.match(await textOf("#sync-state"), /No other laptops paired/);
    await h.click("#nav-admin");
    await h.click("#admin-nav-laptops");
    await h.click("#show-pairing-code");
    const code = await textOf(".pairing-code");
    assert.match(code, /^[0-9]{6}$/);
    await look("10-pairing-code");
    await h.click("#nav-review");
    await find("#dup-title");
    assert.match(await textOf("main"), /No likely duplicates/);
    await look("11-review");
    await h.click("a[href='#/day']");
    await find("#search");
  });

  await t.test("closing the day asks first, and Escape leaves it open", async () => {
    await h.click("#close-day");
    const dialog = await find("dialog[open]");
    assert.match(await dialog.getText(), /Anyone still in will be signed out/);
    // Something that cannot be undone starts on the safe answer.
    assert.equal(await driver.switchTo().activeElement().getText(), "Cancel");
    await look("14-dialog-close-day");
    await driver.switchTo().activeElement().sendKeys(Key.ESCAPE);
    await driver.wait(async () => (await h.count("dialog")) === 0, 5000);
    await find("#search");
    assert.equal(await driver.switchTo().activeElement().getAttribute("id"), "close-day");
  });

  await t.test("at 200% zoom a toast covers neither the search box nor anything else", async () => {
    await driver.executeScript("document.documentElement.style.zoom = '200%'");
    try {
      await driver.executeScript("document.getElementById('toast').textContent = 'Riverside Test is signed in.'");
      const overlap = await driver.executeScript(`
        const t = document.getElementById("toast").getBoundingClientRect();
        const s = document.getElementById("search").getBoundingClientRect();
        const main = document.getElementById("main").getBoundingClientRect();
        return { search: !(t.right <= s.left || s.right <= t.left || t.bottom <= s.top || s.bottom <= t.top), main: t.bottom > main.top };
      `);
      await screenshot("15-toast-zoom200");
      assert.deepEqual(overlap, { search: false, main: false });
    } finally {
      await driver.executeScript("document.getElementById('toast').textContent = ''; document.documentElement.style.zoom = ''");
    }
  });

  await t.test("left alone, the app locks itself", async () => {
    // HUBDESK_IDLE_LOCK_SECONDS is short in this run; wait for the lock screen to appear.
    await driver.wait(until.elementLocated(By.css(".tiles .tile")), 60000);
    assert.equal(await textOf("#who-user"), "Locked");
  });
});

// Registering and Review (issue 13, items 9-12): kept in a test of its own so it merges apart
// from the day screen's. It runs after the day above, which ends on the lock screen.
test("registering refuses a likely duplicate until the desk chooses, and Review compares pairs", async (t) => {
  const focused = async () => driver.switchTo().activeElement();

  await t.test("unlock and open the register form", async () => {
    await h.click(".tiles .tile");
    await type("#pin", "246810");
    await (await find("#pin")).sendKeys(Key.ENTER);
    await find("#search");
    await h.click("#register-link");
    await find("#register-form");
  });

  await t.test("a full birth date is read as its month, and the form says so; nothing is cut", async () => {
    await type("#name", "Chris Jones");
    const born = await type("#born", "14/03/2010");
    assert.equal(await born.getAttribute("maxlength"), null);
    assert.equal(await born.getAttribute("value"), "14/03/2010");
    await driver.wait(async () => (await textOf("#born-hint")).includes("Kept March 2010"), 5000);
    assert.equal(await textOf("#born-hint"), "Kept March 2010: hubdesk keeps only the month.");
    await type("#born", "Mar 2010");
    await driver.wait(async () => (await textOf("#born-hint")) === "March 2010.", 5000);
  });

  await t.test("the consents wait for the agreement, which has no answer chosen", async () => {
    assert.equal(await (await find("#agreement-yes")).isSelected(), false);
    assert.equal(await (await find("#agreement-no")).isSelected(), false);
    const photos = await find("#consents input[data-consent='photos']");
    assert.equal(await photos.isEnabled(), false);
    assert.match(await textOf("#consents"), /Take photos of me at the hub/);
    assert.match(await textOf("#consents-hint"), /need the member agreement/);
    // Registering without an answer is refused beside the question.
    await h.click("#register-submit");
    await driver.wait(async () => (await textOf("#agreement-error")).length > 0, 5000);
    await h.click("#agreement-yes");
    assert.equal(await photos.isEnabled(), true);
    await photos.click();
    await look("20-register-consents");
    await h.click("#register-submit");
    await find("#registered-code");
    assert.match(await textOf("#registered-code"), /^[0-9A-Z]+-[0-9A-Z]+$/);
    assert.match(await textOf(".registered"), /They are signed in now/);
    assert.equal(await (await focused()).getAttribute("id"), "registered-done");
    await look("21-registered");
    await h.click("#register-another");
    await find("#register-form");
  });

  await t.test("the same person with the names swapped is offered, and Enter moves to the matches", async () => {
    await type("#name", "Jones Chris");
    const born = await type("#born", "03/2010");
    await driver.wait(until.elementLocated(By.css("#duplicates .candidate")), 5000);
    assert.match(await textOf("#duplicates"), /first name and surname swapped/);
    await h.click("#agreement-no");
    await born.sendKeys(Key.ENTER);
    await driver.wait(async () => (await (await focused()).getAttribute("class") || "").includes("candidate"), 5000);
    assert.match(await textOf("#register-error"), /None of these/);
    assert.equal(await h.count("#registered-code"), 0, "nothing was registered");
    await look("22-register-duplicate");
    await h.click("#register-anyway");
    await find("#registered-code");
    await h.click("#registered-done");
    await find("#search");
  });

  await t.test("Review lists the pair in words, compares them side by side, and asks before merging", async () => {
    await h.click("#nav-review");
    await find("#dup-pairs");
    assert.match(await textOf("#dup-count"), /Pairs 1–1 of 1/);
    assert.match(await textOf("#dup-pairs"), /Same birth month, first name and surname swapped/);
    await h.click("#dup-pairs button[aria-expanded]");
    await find("#dup-pairs .compare");
    assert.match(await textOf("#dup-pairs .compare"), /Registered first: Chris Jones/);
    await look("23-review-compare");
    await h.click("#dup-pairs .merge-careful button.danger");
    const dialog = await find("dialog[open]");
    assert.match(await dialog.getText(), /Chris Jones .* and Jones Chris/s);
    assert.equal(await (await focused()).getText(), "Cancel");
    await (await focused()).sendKeys(Key.ESCAPE);
    await driver.wait(async () => (await h.count("dialog")) === 0, 5000);
    await type("#dup-filter", "nobody");
    await (await find("#dup-filter")).sendKeys(Key.ENTER);
    await driver.wait(async () => /No likely duplicates with/.test(await textOf("#dup-count")), 5000);
    await look("24-review-filtered");
  });
});
