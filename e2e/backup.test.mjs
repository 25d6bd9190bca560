// Backups and a laptop removed from the organisation, in the real window. First a manager
// makes a backup from the Backups screen, into the folder that answers the save dialog
// (HUBDESK_SAVE_AS, set by scripts/e2e for this file, as for reports), and sets a schedule.
// Then a laptop removed from the organisation: a second laptop (the CLI, in a
// data folder of its own) joins through the app, a manager there removes the app's laptop and
// calls it; the app, sitting at its lock screen, erases its records and says so at once.
// Screenshots land in artifacts/e2e/.
//
// Run through ../scripts/e2e (it builds the app and the CLI, starts Xvfb and tauri-driver).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { helpers, startDriver } from "./support.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const cli = process.env.HUBDESK_CLI || join(here, "..", "target", "debug", "hubdesk");
// The app's data folder, as scripts/e2e gives it to this file.
const appData = process.env.E2E_DATA ? join(process.env.E2E_DATA, "backup") : null;
// Where the save dialog's answer puts a backup made from the screen.
const savedIn = process.env.HUBDESK_SAVE_AS;

let driver;
let h;
let other;

before(async () => {
  driver = await startDriver();
  h = helpers(driver);
  other = mkdtempSync(join(tmpdir(), "hubdesk-other-"));
});

after(async () => {
  if (driver) await driver.quit();
  if (other) rmSync(other, { recursive: true, force: true });
});

/// The CLI on the other laptop: its exit code and what it said.
function onOtherLaptop(args, { asManager = false } = {}) {
  const env = { ...process.env, HUBDESK_DATA_DIR: other, HUBDESK_SYNC: "off", HUBDESK_MDNS: "off" };
  if (asManager) Object.assign(env, { HUBDESK_USER: "Maya", HUBDESK_PIN: "246810" });
  try {
    return { code: 0, out: execFileSync(cli, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (err) {
    return { code: err.status, out: String(err.stdout || ""), err: String(err.stderr || "") };
  }
}

test("a manager makes a backup from the Backups screen and sets this laptop's schedule", async () => {
  assert.ok(savedIn, "scripts/e2e sets HUBDESK_SAVE_AS for this file");
  await h.setUpOrganisation();
  await h.unlockAs("Maya", "246810");
  await h.click("#nav-backup");
  await h.find("#backup-now");
  assert.equal(await h.textOf("h1"), "Backups");
  assert.equal(await h.textOf("#backup-last"), "No backup has been made on this laptop yet.");

  // The save dialog is answered by the folder: the backup goes there under its dated name.
  await h.click("#backup-now");
  await driver.wait(async () => (await h.textOf("#backup-last")).startsWith("Made "), 30000, "the screen says the backup was made");
  const made = readdirSync(savedIn).filter((n) => /^hubdesk-backup-\d{4}-\d{2}-\d{2}-\d{6}\.hdbackup$/.test(n));
  assert.equal(made.length, 1, `one backup in ${savedIn}: ${readdirSync(savedIn)}`);
  assert.ok((await h.textOf("#backup-last")).includes(join(savedIn, made[0])), "the screen says where it went");

  // A schedule into the same folder, kept three deep; then a backup into that folder.
  await h.type("#backup-folder", savedIn);
  await h.click("#backup-every option[value=daily]");
  await h.type("#backup-keep", "3");
  await h.click("#backup-schedule-form button[type=submit]");
  await driver.wait(async () => (await h.textOf("#backup-scheduled")).startsWith("Scheduled: every day"), 15000, "the schedule is shown");
  assert.equal(await h.textOf("#backup-scheduled"), `Scheduled: every day to ${savedIn}, keeping the last 3.`);
  await h.click("#backup-now-folder");
  await driver.wait(async () => readdirSync(savedIn).filter((n) => n.endsWith(".hdbackup")).length === 2, 30000, "a second backup in the folder");
  await h.find("#backup-now");
  await h.look("backup");
  await h.core("lock");
});

test("a removed laptop erases its records and says so over the lock screen", async (t) => {
  let addr;
  await t.test("another laptop joins through the app", async () => {
    if (!(await h.core("app_status")).set_up) await h.setUpOrganisation();
    await h.core("unlock", { name: "Maya", pin: "246810" });
    await h.core("register_member", { req: { profile: { preferred_name: "Zephyrine Quill", born: "2010-04" }, force: true } });
    await driver.wait(async () => {
      const s = await h.core("sync_status");
      addr = s.worker && s.worker.listening;
      return Boolean(addr);
    }, 15000, "the app listens for other laptops");
    const { code } = await h.core("pair_code");
    const joined = onOtherLaptop(["sync", "join", addr, "--code", code, "--device", "Back office"]);
    assert.equal(joined.code, 0, joined.err);
    await h.core("lock");
    await driver.navigate().refresh();
    await h.find(".tiles .tile");
  });

  await t.test("a manager on the other laptop removes the app's laptop and calls it", async () => {
    const revoked = onOtherLaptop(["device", "revoke", "Desk laptop"], { asManager: true });
    assert.equal(revoked.code, 0, revoked.err);
    const called = onOtherLaptop(["sync", "now", addr], { asManager: true });
    assert.equal(called.code, 6, called.err);
    assert.match(called.err, /removed from the organisation/);
  });

  await t.test("the app, at its lock screen, shows at once that it was removed", async () => {
    await h.find("#removed-message", 30000);
    assert.match(await h.textOf("#removed-message"), /^This laptop was removed from Riverside Youth Hubs on \d{1,2} \w+ \d{4}; its records have been erased\.$/);
    assert.equal(await h.textOf("#removed-title"), "This laptop was removed");
    assert.equal(await h.focusedId(), "removed-title");
    assert.equal(await h.count(".tiles .tile"), 0, "no lock screen behind it");
    if (appData) {
      assert.ok(!existsSync(join(appData, "hubdesk.db")), "the database is erased");
      assert.ok(!existsSync(join(appData, "store.key")), "the key is erased");
      assert.ok(!existsSync(join(appData, "keyring.json")), "the keyring is erased");
      assert.ok(existsSync(join(appData, "removed.json")), "the note is there");
    }
    await h.checkNoEmptyValues("removed");
    await h.checkAccessibility("removed");
    // No screenshot here: on this screen WebKitWebDriver's Take Screenshot never answered
    // (under Xvfb; the screen itself was seen drawn right in a screenshot taken as it
    // appeared). See the report of issue 12.
  });

  await t.test("starting again says the same", async () => {
    await driver.navigate().refresh();
    await h.find("#removed-message");
    assert.equal(await h.textOf("#removed-title"), "This laptop was removed");
  });
});
