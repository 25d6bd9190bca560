import { Key, By, until } from "selenium-webdriver";
import { startDriver, helpers } from "./support.mjs";
const driver = await startDriver();
const h = helpers(driver);
try {
  await driver.wait(until.elementLocated(By.css(".tiles .tile")), 120000);
  for (const t of await driver.findElements(By.css(".tiles .tile"))) if ((await t.getText()) === "Demo Desk") await t.click();
  await h.type("#pin", "1357");
  await (await h.find("#pin")).sendKeys(Key.ENTER);
  const first = await driver.wait(until.elementLocated(By.css("#search, #open-day")), 60000);
  if ((await first.getAttribute("id")) === "open-day") await first.click();
  await h.find("#who-is-in");
  for (const pct of [100, 200]) {
    await h.zoom(pct);
    await h.keys(Key.ESCAPE, "j", "a", "m");
    await driver.wait(async () => (await (await h.find("#results")).getAttribute("data-for")) === "jam", 20000);
    for (let i = 0; i < 6; i++) await h.keys(Key.ARROW_DOWN);
    await h.screenshot(`50k-jam-down6-${pct}`);
    console.log(pct, await driver.executeScript(`const r = document.querySelector('#results [aria-selected="true"]').getBoundingClientRect(); return [r.top, r.bottom, innerHeight, document.getElementById('search-status').textContent]`));
  }
  await h.zoom(100);
  await h.keys(Key.ESCAPE);
  await h.alt("f");
  await h.find("#roll-call-table");
  await h.screenshot("50k-roll-call");
  await h.zoom(200);
  await h.screenshot("50k-roll-call-200");
  await h.zoom(100);
} finally {
  await driver.quit();
}
