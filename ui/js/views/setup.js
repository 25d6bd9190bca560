// First run: set up an organisation, or open the demo to try things out.

import { api, onJoinProgress } from "../api.js";
import { el, field, errorBox, showError, showSyncProgress } from "../dom.js";

export async function render(root, ctx) {
  const error = errorBox();
  const form = el(
    "form",
    { class: "card", "aria-labelledby": "setup-title" },
    el("h2", { id: "setup-title", text: "Set up your organisation" }),
    field("org", "Organisation name", { required: true, autocomplete: "organization" }),
    field("hub", "First hub's name", { required: true }),
    field("tz", "Time zone", { value: "Europe/London", required: true }, "A name like Europe/London."),
    field("device", "This laptop's name", { required: true, value: "Front desk" }, "So you can tell laptops apart later."),
    field("manager", "First manager's name", { required: true, autocomplete: "name" }),
    field("pin", "Manager's PIN", { type: "password", required: true, inputmode: "numeric", autocomplete: "new-password" }, "6 to 12 digits, or a passphrase of 10 characters or more."),
    field("pin2", "PIN again", { type: "password", required: true, inputmode: "numeric", autocomplete: "new-password" }),
    error,
    el("button", { type: "submit", text: "Set up" }),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (id) => form.querySelector(`#${id}`).value;
    if (v("pin") !== v("pin2")) {
      showError(error, "The two PINs are different. Type the same PIN twice.");
      form.querySelector("#pin2").focus();
      return;
    }
    try {
      await api.setUp({
        org_name: v("org"),
        hub_name: v("hub"),
        time_zone: v("tz"),
        device_name: v("device"),
        manager_name: v("manager"),
        manager_secret: v("pin"),
      });
      // The lock screen shows the recovery key first (lock.js), once.
      ctx.refresh();
    } catch (err) {
      showError(error, err);
    }
  });

  const demoError = errorBox("demo-error");
  const demoButton = el("button", { type: "button", class: "secondary", id: "open-demo", text: "Open the demo organisation" });
  demoButton.addEventListener("click", async () => {
    demoButton.disabled = true;
    demoButton.textContent = "Building the demo…";
    try {
      await api.openDemo();
      ctx.refresh();
    } catch (err) {
      showError(demoError, err);
      demoButton.disabled = false;
      demoButton.textContent = "Open the demo organisation";
    }
  });
  const demo = el(
    "section",
    { class: "card", "aria-labelledby": "demo-title" },
    el("h2", { id: "demo-title", text: "Just looking?" }),
    el("p", { text: "Open a demo organisation with fictional members and past hub days. It is kept apart from real data and marked DEMO on every screen." }),
    el("p", { text: "Demo users: Demo Desk (PIN 135791), Demo Navigator (864202), Demo Staff (975310), Demo Manager (246810)." }),
    demoError,
    demoButton,
  );
  const joinError = errorBox("join-error");
  const joinProgress = el("div", { id: "join-progress", role: "status", "aria-live": "polite" });
  const join = el(
    "form",
    { class: "card", "aria-labelledby": "join-title", id: "join-form" },
    el("h2", { id: "join-title", text: "Join your organisation" }),
    el("p", { text: "Already using hubdesk on another laptop? A manager there shows a pairing code (Admin, Laptops)." }),
    field("join-addr", "The other laptop's address", { required: true, autocomplete: "off" }, "Like 192.168.1.20: shown under Admin, Laptops on the other laptop."),
    el("button", { type: "button", class: "secondary", id: "find-laptops", text: "Look for laptops on this network" }),
    el("div", { id: "found-laptops", role: "status", "aria-live": "polite" }),
    field("join-code", "Pairing code", { required: true, inputmode: "numeric", autocomplete: "one-time-code", maxlength: "9" }, "6 digits; it works once, for 10 minutes."),
    field("join-device", "This laptop's name", { required: true, value: "Back office" }),
    joinError,
    joinProgress,
    el("button", { type: "submit", text: "Join" }),
  );
  join.querySelector("#find-laptops").addEventListener("click", async (e) => {
    const button = e.currentTarget;
    const found = join.querySelector("#found-laptops");
    button.disabled = true;
    found.textContent = "Looking…";
    try {
      const laptops = await api.findLaptops();
      found.replaceChildren(laptops.length
        ? el("ul", { class: "plain" }, laptops.map((l) => el("li", {},
            el("button", { type: "button", class: "secondary", text: `Use ${l.address}`,
              onclick: () => { join.querySelector("#join-addr").value = l.address; join.querySelector("#join-code").focus(); } }))))
        : el("p", { text: "No hubdesk laptop answered. Type its address instead (Admin, Laptops on that laptop shows it)." }));
    } catch (err) {
      showError(joinError, err);
      found.textContent = "";
    }
    button.disabled = false;
  });
  join.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = join.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Joining…";
    const v = (id) => join.querySelector(`#${id}`).value;
    // How many records have come in, while they come (a big organisation takes a while).
    const unlisten = await onJoinProgress((p) => {
      if (p.to_receive > 0) {
        showSyncProgress(joinProgress, [{ what: "Receiving records", done: p.received, total: p.to_receive }]);
      }
    });
    try {
      await api.joinOrganisation(v("join-addr"), v("join-code"), v("join-device"));
      unlisten();
      ctx.refresh();
    } catch (err) {
      unlisten();
      showError(joinError, err);
      button.disabled = false;
      button.textContent = "Join";
    }
  });
  root.append(el("h1", { text: "Welcome to hubdesk" }), el("div", { class: "columns" }, form, join, demo));
  form.querySelector("#org").focus();
}

