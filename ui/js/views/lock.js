// The lock screen: choose who you are, type your PIN (keyboard or on-screen pad).

import { api } from "../api.js";
import { el, errorBox, showError } from "../dom.js";

export async function render(root, ctx) {
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
  pinForm.append(chosenName, el("label", { for: "pin", text: "PIN" }), pin, error, pad,
    el("button", { type: "submit", id: "unlock", text: "Unlock" }));
  pinForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api.unlock(chosen, pin.value);
      ctx.refresh();
    } catch (err) {
      pin.value = "";
      showError(error, err);
      pin.focus();
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
