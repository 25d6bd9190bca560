// The lock screen: choose who you are, type your PIN (keyboard or on-screen pad). After a
// start the names come from the keyring and the first PIN typed opens the store. Also the
// change-PIN screen shown after an unlock with a PIN shorter than the rules now ask for.

import { api } from "../api.js";
import { el, errorBox, showError } from "../dom.js";

// The recovery key of an organisation just set up here, from the core (which then forgets
// it) until the manager says it is kept: a redraw meanwhile (a change event) shows it again.
let recoveryKey = null;

export async function render(root, ctx) {
  if (!recoveryKey) {
    // Two redraws at once (the set-up's refresh and its change event): the one that gets
    // nothing looks again, since the other may have taken it meanwhile.
    const taken = await api.takeRecoveryKey().catch(() => null);
    if (taken) recoveryKey = taken;
  }
  if (recoveryKey) return showRecoveryKey(root, recoveryKey, ctx);
  let users = [];
  const error = errorBox("unlock-error");
  try {
    users = await api.lockScreenUsers();
  } catch (err) {
    showError(error, err);
  }
  const pin = el("input", { id: "pin", type: "password", inputmode: "numeric", autocomplete: "off", "aria-describedby": "unlock-error" });
  const pinForm = el("form", { class: "pin-form", hidden: true });
  const chosenName = el("h2", { id: "pin-title" });
  let chosen = null;

  const tiles = el(
    "ul",
    { class: "tiles", "aria-label": "Who are you?" },
    users.map((name) =>
      el(
        "li",
        {},
        el("button", {
          type: "button",
          class: "tile",
          text: name,
          onclick: () => choose(name),
        }),
      ),
    ),
  );

  function choose(name) {
    chosen = name;
    chosenName.textContent = `PIN for ${name}`;
    pinForm.hidden = false;
    pin.value = "";
    error.textContent = "";
    for (const b of tiles.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.textContent === name));
    pin.focus();
  }

  const pad = el(
    "div",
    { class: "pad", role: "group", "aria-label": "On-screen number pad" },
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "Clear", "0", "⌫"].map((key) =>
      el("button", {
        type: "button",
        text: key,
        "aria-label": key === "⌫" ? "Delete last digit" : null,
        onclick: () => {
          if (key === "⌫") pin.value = pin.value.slice(0, -1);
          else if (key === "Clear") pin.value = "";
          else pin.value += key;
          pin.focus();
        },
      }),
    ),
  );
  const unlockButton = el("button", { type: "submit", id: "unlock", text: "Unlock" });
  const busy = el("p", { id: "unlock-busy", class: "hint", role: "status" });
  // How far a rebuild is, updated quietly (the sentence above is said once).
  const rebuilt = el("progress", { id: "unlock-progress", "aria-labelledby": "unlock-busy", hidden: true });
  pinForm.append(chosenName, el("label", { for: "pin", text: "PIN" }), pin, error, pad, unlockButton, busy, rebuilt);
  let unlocking = false;
  pinForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (unlocking) return;
    unlocking = true;
    unlockButton.disabled = true;
    // Checking a PIN takes about a second; the first unlock after an update also rebuilds
    // the lists from the records, and the status says how far it is: shown here, under the
    // form, which stays on screen until the unlock answers.
    const slow = setTimeout(() => { busy.textContent = "Checking the PIN…"; }, 800);
    const watch = setInterval(async () => {
      const s = await api.status().catch(() => null);
      const o = s && s.opening;
      if (!(o && o.total)) return;
      const said = "Getting hubdesk ready after an update: it rebuilds its lists from the records, once.";
      if (busy.textContent !== said) busy.textContent = said;
      rebuilt.hidden = false;
      rebuilt.max = o.total;
      rebuilt.value = o.done;
    }, 1000);
    try {
      await api.unlock(chosen, pin.value);
      ctx.refresh();
    } catch (err) {
      pin.value = "";
      showError(error, err);
      pin.focus();
    } finally {
      clearTimeout(slow);
      clearInterval(watch);
      busy.textContent = "";
      rebuilt.hidden = true;
      unlockButton.disabled = false;
      unlocking = false;
    }
  });

  root.append(
    el("h1", { text: "Who is at the desk?" }),
    ...(users.length ? [] : [el("p", { text: "There are no active users on this laptop." }), error]),
    el("div", { class: "columns" }, tiles, pinForm),
  );
  const first = tiles.querySelector("button");
  if (users.length === 1) choose(users[0]);
  else if (first) first.focus();
}

// Asked straight after an unlock with a PIN shorter than the rules now ask for: nothing else
// is offered until a new one is chosen (the core keeps asking until then).
export const changePin = {
  async render(root, ctx) {
    const user = ctx.status.user;
    const error = errorBox("new-pin-error");
    const staff = user.can_see_sensitive;
    const hint = staff ? "6 to 12 digits, or a passphrase of 10 characters or more." : "6 to 12 digits.";
    const pin = el("input", { id: "new-pin", type: "password", autocomplete: "new-password", inputmode: staff ? "text" : "numeric", "aria-describedby": "new-pin-hint new-pin-error", required: true });
    const again = el("input", { id: "new-pin-again", type: "password", autocomplete: "new-password", inputmode: staff ? "text" : "numeric", required: true });
    const form = el(
      "form",
      { class: "card", "aria-labelledby": "new-pin-title", id: "change-pin-form" },
      el("h1", { id: "new-pin-title", text: `Choose a new PIN, ${user.name}` }),
      el("p", { text: "Your PIN is shorter than hubdesk now asks for. A longer one keeps the records on this laptop safe if it is lost or stolen." }),
      el("label", { for: "new-pin", text: "New PIN" }),
      pin,
      el("p", { id: "new-pin-hint", class: "hint", text: hint }),
      el("label", { for: "new-pin-again", text: "New PIN again" }),
      again,
      error,
      el("button", { type: "submit", id: "save-new-pin", text: "Save the new PIN" }),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (pin.value !== again.value) {
        showError(error, "The two PINs are different. Type the same PIN twice.");
        again.focus();
        return;
      }
      try {
        await api.changeOwnPin(pin.value);
        ctx.refresh();
      } catch (err) {
        showError(error, err);
        pin.focus();
      }
    });
    root.append(form);
    pin.focus();
  },
};

// The recovery key, shown once after set-up: printed or written down, it opens the records if
// every manager's PIN is lost. Nothing else is on the screen while it shows.
function showRecoveryKey(root, key, ctx) {
  const panel = el(
    "section",
    { class: "card recovery-key", "aria-labelledby": "recovery-title", id: "recovery-panel" },
    el("h1", { id: "recovery-title", tabindex: "-1", text: "Your recovery key" }),
    el("p", { text: "This is shown once. Print it or write it down, and keep it locked away from the laptop. If every manager forgets their PIN, it opens the records on any of your laptops (hubdesk recovery use)." }),
    el("p", { class: "recovery-code", id: "recovery-code", text: key }),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "secondary", id: "print-recovery", text: "Print", onclick: () => window.print() }),
      el("button", { type: "button", id: "recovery-kept", text: "I have kept it safe: continue", onclick: () => { recoveryKey = null; ctx.refresh(); } }),
    ),
  );
  root.append(panel);
  panel.querySelector("#recovery-title").focus();
}
