// Front-desk speed in the real window on a big store: app start to lock screen, unlock to a
// usable day screen, keystroke to results on screen, Enter to the member shown as in.
// Run through ../scripts/measure-ui with HUBDESK_DATA_DIR pointing at a `hubdesk demo` store.
// Prints figures; asserts nothing.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { Builder, By, Capabilities, Key, until } from "selenium-webdriver";

/// When the app's process started, in ms since the epoch, from /proc (Linux).
function processStartEpochMs() {
  const pid = execFileSync("pgrep", ["-n", "-x", "hubdesk-desktop"]).toString().trim();
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const startTicks = Number(fields[19]); // field 22 of stat: start time in clock ticks after boot
  const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim());
  // Age from the uptime clock read now (btime in /proc/stat is only whole seconds).
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  const ageMs = (uptime - startTicks / ticksPerSecond) * 1000;
  return Date.now() - ageMs;
}

const app = process.env.HUBDESK_APP;
const caps = new Capabilities();
caps.set("tauri:options", { application: app });
caps.setBrowserName("wry");

const started = performance.now();
const driver = await new Builder().withCapabilities(caps).usingServer(`http://127.0.0.1:${process.env.E2E_PORT || 4444}/`).build();
try {
  await driver.wait(until.elementLocated(By.css(".tiles .tile")), 300000); // a first open after an update rebuilds the tables
  const toLock = performance.now() - started;
  // Inside the page: when the lock screen was drawn, as an epoch time; and when the process began.
  const shownAt = await driver.executeScript(
    "const m = performance.getEntriesByName('lock-screen-shown')[0]; return m ? performance.timeOrigin + m.startTime : null;",
  );
  const inPage = await driver.executeScript(
    "const m = performance.getEntriesByName('lock-screen-shown')[0]; return m ? m.startTime : null;",
  );
  const processToLock = shownAt ? shownAt - processStartEpochMs() : null;
  const tiles = await driver.findElements(By.css(".tiles .tile"));
  for (const t of tiles) if ((await t.getText()) === "Demo Desk") await t.click();
  const pin = await driver.findElement(By.css("#pin"));
  await pin.sendKeys("135791");
  const unlockStart = performance.now();
  await pin.sendKeys(Key.ENTER);
  // The day screen is usable when it shows either the search box or the "open the day" button.
  const first = await driver.wait(until.elementLocated(By.css("#search, #open-day")), 30000);
  const toDay = performance.now() - unlockStart;
  let openDay = null;
  if ((await first.getAttribute("id")) === "open-day") {
    const t = performance.now();
    await first.click();
    await driver.wait(until.elementLocated(By.css("#who-is-in")), 30000);
    openDay = performance.now() - t;
  }
  const search = await driver.wait(until.elementLocated(By.css("#search")), 30000);
  // Names from the store itself: whatever the first results of a few letters show, so the
  // keystrokes are the store's own names, not a few words that flatter a cache.
  const names = [];
  for (const seed of ["a", "e", "o", "m", "s", "j", "l", "c"]) {
    await search.sendKeys(seed);
    await driver.wait(until.elementLocated(By.css(`#results[data-for="${seed}"]`)), 5000);
    for (const row of await driver.findElements(By.css(".result .name"))) {
      const name = (await row.getText()).toLowerCase();
      if (!names.includes(name) && names.length < 12 && /^[a-z' -]+$/.test(name)) names.push(name);
    }
    await search.sendKeys(Key.ESCAPE);
  }
  await driver.executeScript("performance.clearMeasures()");
  for (const name of names) {
    for (const ch of name) await search.sendKeys(ch);
    await driver.wait(until.elementLocated(By.css("#result-0")), 5000);
    await search.sendKeys(Key.ENTER);
    await driver.sleep(300);
  }
  const entries = await driver.executeScript(
    "return performance.getEntriesByType('measure').map((m) => [m.name, m.duration]);",
  );
  const stats = (name) => {
    const xs = entries.filter(([n]) => n === name).map(([, d]) => d).sort((a, b) => a - b);
    const at = (p) => xs[Math.min(xs.length - 1, Math.round((xs.length - 1) * p))];
    return `n=${xs.length} median=${at(0.5)?.toFixed(1)} ms p95=${at(0.95)?.toFixed(1)} ms max=${xs.at(-1)?.toFixed(1)} ms`;
  };
  console.log(`app start to lock screen (incl. WebDriver session): ${toLock.toFixed(0)} ms`);
  console.log(`page load to lock screen drawn: ${inPage?.toFixed(0)} ms`);
  console.log(`app process start to lock screen drawn: ${processToLock?.toFixed(0)} ms`);
  console.log(`unlock to usable day screen: ${toDay.toFixed(0)} ms`);
  if (openDay !== null) console.log(`open the day (click to day screen with lists): ${openDay.toFixed(0)} ms`);
  console.log(`keystroke to results on screen: ${stats("keystroke-to-results")}`);
  console.log(`  of which the core's answer: ${stats("keystroke-to-answer")}`);
  console.log(`  then the page's elements: ${stats("answer-to-elements")}`);
  console.log(`  then the frame that paints them: ${stats("elements-to-frame")}`);
  console.log(`keystroke to results painted: ${stats("keystroke-to-painted")}`);
  console.log(`Enter to member shown as in: ${stats("sign-in-to-shown")}`);
} finally {
  await driver.quit();
}
