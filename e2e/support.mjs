// What the end-to-end tests share: a WebDriver session on the real window, screenshots at
// 1366x768 and 200% zoom, axe-core in the page, and the "no programmer's empty value" check.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Builder, By, Capabilities, Key } from "selenium-webdriver";

const here = dirname(fileURLToPath(import.meta.url));
const app = process.env.HUBDESK_APP || join(here, "..", "target", "debug", "hubdesk-desktop");
export const shots = process.env.HUBDESK_SHOTS || join(here, "..", "artifacts", "e2e");
mkdirSync(shots, { recursive: true });

export async function startDriver() {
  const caps = new Capabilities();
  caps.set("tauri:options", { application: app });
  caps.setBrowserName("wry");
  const driver = await new Builder().withCapabilities(caps).usingServer(`http://127.0.0.1:${process.env.E2E_PORT || 4444}/`).build();
  await driver.manage().window().setRect({ width: 1366, height: 768 });
  return driver;
}

export function helpers(driver) {
  /// Does `step` again when the screen redrew under it (WebKitWebDriver reports an element it
  /// was just handing back as stale), as a person would look again.
  async function again(step, attempts = 5) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await step();
      } catch (err) {
        if (err.name !== "StaleElementReferenceError" || attempt >= attempts) throw err;
      }
    }
  }
  /// The first element matching `css`, waiting for it; a redraw while looking is looked past.
  const find = (css, timeout = 15000) =>
    driver.wait(
      async () => {
        try {
          const found = await driver.findElements(By.css(css));
          return found[0] || null;
        } catch (err) {
          if (err.name === "StaleElementReferenceError") return null;
          throw err;
        }
      },
      timeout,
      `waiting for ${css}`,
    );
  /// The element's text; a screen that redraws between finding it and reading it (a change
  /// event from the core) is read again, as a person would look again.
  async function textOf(css) {
    return again(async () => (await find(css)).getText());
  }
  /// Clears the field and types into it (again from the start if the screen redrew meanwhile).
  async function type(css, text) {
    return again(async () => {
      const input = await find(css);
      await input.clear();
      // Typing nothing leaves the field empty (WebDriver refuses to send no keys).
      if (text !== "") await input.sendKeys(text);
      return input;
    });
  }
  /// The element's text as the page has it now ('' when it is not there), read in the page,
  /// so a redraw cannot make it stale.
  function textNow(css) {
    return driver.executeScript("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", css);
  }
  /// Waits until the element's text matches `pattern` (`what` names it when it never does).
  function see(css, pattern, what, timeout = 15000) {
    return driver.wait(async () => pattern.test(await textNow(css)), timeout, what);
  }
  /// How many elements match `css` now (read in the page, so a redraw cannot make it stale).
  function count(css) {
    return driver.executeScript("return document.querySelectorAll(arguments[0]).length", css);
  }
  /// Clicks the element (found again if the screen redrew before the click landed).
  async function click(css) {
    await again(async () => (await find(css)).click());
  }
  async function screenshot(name) {
    writeFileSync(join(shots, `${name}.png`), await driver.takeScreenshot(), "base64");
  }
  /// axe-core in the page: no serious or critical accessibility violations.
  async function checkAccessibility(screen) {
    const violations = await driver.executeAsyncScript(`
      const done = arguments[arguments.length - 1];
      const fail = (why) => done([{ id: "axe-failed", impact: "critical", help: why, nodes: [] }]);
      const go = () => window.axe.run(document, { resultTypes: ["violations"] })
        .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) }))))
        .catch((e) => fail(String(e)));
      if (window.axe) return go();
      const script = document.createElement("script");
      script.src = "e2e-only/axe.min.js";
      script.onload = () => (window.axe ? go() : fail("axe-core did not load"));
      script.onerror = () => done([{ id: "axe-missing", impact: "critical", help: "ui/e2e-only/axe.min.js was not served", nodes: [] }]);
      document.head.append(script);
    `);
    const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(bad, [], `${screen}: accessibility violations ${JSON.stringify(bad, null, 2)}`);
  }
  async function checkNoEmptyValues(screen) {
    const found = await driver.executeScript(`
      const bad = /\\b(null|undefined|NaN)\\b/;
      const hits = [];
      const text = document.body.innerText;
      const m = text.match(bad);
      if (m) hits.push("text: …" + text.slice(Math.max(0, m.index - 40), m.index + 40).replace(/\\s+/g, " ") + "…");
      for (const node of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
        for (const attr of ["aria-label", "title", "placeholder", "alt"]) {
          const v = node.getAttribute(attr);
          if (v && bad.test(v)) hits.push(attr + ": " + v);
        }
      }
      return hits;
    `);
    assert.deepEqual(found, [], `${screen} shows an empty value`);
  }
  let zoomNow = 100;
  /// Page zoom through the app's own keys (Ctrl+0, then Ctrl+= to 200%), the way a person
  /// zooms: the page reflows in a window half as wide and high, and scrolling is the
  /// webview's own (CSS zoom on the root made WebKit scroll to the wrong place).
  async function zoom(percent) {
    const ctrl = (key) => driver.actions().keyDown(Key.CONTROL).sendKeys(key).keyUp(Key.CONTROL).perform();
    await ctrl("0");
    for (let i = 0; i < { 100: 0, 200: 5 }[percent]; i++) await ctrl("=");
    await driver.wait(async () => {
      const w = await driver.executeScript("return window.innerWidth");
      return percent === 100 ? w > 1000 : w < 700;
    }, 5000, `page zoom ${percent}%`);
    zoomNow = percent;
  }
  /// Screenshots at 100% and at 200% zoom, then the checks, at the zoom the test was at.
  /// With `at` (a selector), each screenshot shows that part of the page: zooming reflows it,
  /// and the 200% one showed whatever the reflow left in view.
  async function look(name, { at = null } = {}) {
    const was = zoomNow;
    const show = () => at && driver.executeScript("document.querySelector(arguments[0]).scrollIntoView()", at);
    await zoom(100);
    await show();
    await screenshot(name);
    await zoom(200);
    await show();
    await screenshot(`${name}-zoom200`);
    await zoom(was);
    await checkNoEmptyValues(name);
    await checkAccessibility(name);
  }
  /// One core command through the app's own bridge: for choosing test data and checking the
  /// outcome, never for what the test is about.
  async function core(command, args = {}) {
    const r = await driver.executeAsyncScript(`
      const done = arguments[arguments.length - 1];
      window.__TAURI__.core.invoke(arguments[0], arguments[1]).then((v) => done({ ok: v }), (e) => done({ err: e }));
    `, command, args);
    if (r.err) throw new Error(`${command}: ${JSON.stringify(r.err)}`);
    return r.ok;
  }
  /// Keys to whatever has focus, as a keyboard sends them: one burst, no delay between keys
  /// (a barcode scanner), and no WebDriver check of where the element is (CSS zoom confuses it).
  async function keys(...k) {
    await driver.actions().sendKeys(...k).perform();
  }
  async function alt(key) {
    await driver.actions().keyDown(Key.ALT).sendKeys(key).keyUp(Key.ALT).perform();
  }
  async function focusedId() {
    return driver.executeScript("return document.activeElement && document.activeElement.id");
  }
  /// A test that is not about first run starts here: the organisation is set up through the
  /// app's own bridge (manager Maya, PIN 246810), with more users if asked, then the lock screen.
  /// `users`: [{ name, roles: "navigator,staff", pin }].
  async function setUpOrganisation({ users = [] } = {}) {
    await find("#org");
    await core("set_up_organisation", {
      form: { org_name: "Riverside Youth Hubs", hub_name: "Riverside Hub", time_zone: "Europe/London", device_name: "Desk laptop", manager_name: "Maya", manager_secret: "246810" },
    });
    await core("unlock", { name: "Maya", pin: "246810" });
    for (const u of users) await core("add_user", { req: { name: u.name, roles: u.roles, secret: u.pin } });
    await core("lock");
    await driver.navigate().refresh();
    await find(".tiles .tile");
  }
  /// Unlocks as `name` the way a person does: their tile, their PIN, Enter.
  async function unlockAs(name, pin) {
    await find(".tiles .tile");
    await again(async () => {
      const tiles = await driver.findElements(By.css(".tiles .tile"));
      let tile = null;
      for (const t of tiles) if ((await t.getText()) === name) tile = t;
      assert.ok(tile, `a lock screen tile for ${name}`);
      await tile.click();
    });
    await type("#pin", pin);
    await (await find("#pin")).sendKeys(Key.ENTER);
    await driver.wait(async () => (await textOf("#who-user")).includes(`as ${name} `), 15000, `unlocked as ${name}`);
  }
  return { again, click, count, see, textNow, keys, alt, focusedId, find, textOf, type, screenshot, checkAccessibility, checkNoEmptyValues, look, zoom, core, setUpOrganisation, unlockAs };
}
