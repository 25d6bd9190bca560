// Admin for managers: users (add, roles, reset PIN, deactivate), activities, hub settings.

import { api } from "../api.js";
import { el, field, errorBox, load, showError, runner } from "../dom.js";

const ROLES = ["desk", "navigator", "staff", "manager"];
const KINDS = ["group", "wellbeing-project", "collaboration", "one-to-one", "space"];

export async function render(root, ctx) {
  const error = errorBox("admin-error");
  const loaded = await load(root, ctx, "Admin", error, () =>
    Promise.all([api.listUsers(), api.listActivities(), api.showSettings(), api.listHubs(), api.listDevices(), api.syncStatus()]));
  if (!loaded) return;
  const [users, activities, settings, hubs, devices, sync] = loaded;
  const run = runner(ctx, error);

  const userRows = users.map((u) =>
    el("tr", {},
      el("th", { scope: "row", text: u.name }),
      el("td", { text: u.roles.join(", ") }),
      el("td", { text: u.active ? "active" : "deactivated" }),
      el("td", {},
        u.active ? el("button", { type: "button", class: "secondary", "aria-label": `Roles of ${u.name}`, text: "Roles",
          onclick: () => {
            const roles = window.prompt(`Roles for ${u.name}, separated by commas (desk, navigator, staff, manager):`, u.roles.join(","));
            if (roles) run(() => api.setRoles(u.name, roles), `${u.name}'s roles are changed.`);
          } }) : null,
        " ",
        u.active ? el("button", { type: "button", class: "secondary", "aria-label": `Reset PIN for ${u.name}`, text: "Reset PIN",
          onclick: () => {
            const pin = window.prompt(`New PIN for ${u.name} (4 to 8 digits):`);
            if (pin) run(() => api.resetPin(u.name, pin), `${u.name} has a new PIN.`);
          } }) : null,
        " ",
        u.active && u.name !== ctx.status.user.name ? el("button", { type: "button", class: "danger", "aria-label": `Deactivate ${u.name}`, text: "Deactivate",
          onclick: () => { if (window.confirm(`Deactivate ${u.name}? They will not be able to unlock hubdesk.`)) run(() => api.deactivateUser(u.name), `${u.name} is deactivated.`); } }) : null)));
  const addUser = el("form", { class: "inline-form", "aria-labelledby": "add-user-title" },
    el("h3", { id: "add-user-title", text: "Add a user" }),
    field("user-name", "Name", { required: true, autocomplete: "off" }),
    el("fieldset", {}, el("legend", { text: "Roles" }),
      ROLES.map((r) => el("div", { class: "check" }, el("input", { type: "checkbox", id: `role-${r}`, "data-role": r }), el("label", { for: `role-${r}`, text: r })))),
    field("user-pin", "PIN", { type: "password", inputmode: "numeric", autocomplete: "new-password", required: true }, "4 to 8 digits."),
    el("button", { type: "submit", text: "Add user" }));
  addUser.addEventListener("submit", (e) => {
    e.preventDefault();
    const roles = [...addUser.querySelectorAll("[data-role]:checked")].map((c) => c.dataset.role).join(",");
    run(() => api.addUser({ name: addUser.querySelector("#user-name").value, roles, secret: addUser.querySelector("#user-pin").value }), "User added.");
  });

  const activityRows = activities.map((a) =>
    el("tr", {},
      el("th", { scope: "row", text: a.name }),
      el("td", { text: a.kind }),
      el("td", { text: a.retired ? "retired" : "in use" }),
      el("td", {},
        el("button", { type: "button", class: "secondary", "aria-label": `Rename ${a.name}`, text: "Rename",
          onclick: () => { const n = window.prompt(`New name for ${a.name}:`, a.name); if (n) run(() => api.renameActivity(a.id, n), "Renamed."); } }),
        " ",
        a.retired ? null : el("button", { type: "button", class: "danger", "aria-label": `Retire ${a.name}`, text: "Retire",
          onclick: () => run(() => api.retireActivity(a.id), `${a.name} is retired.`) }))));
  const addActivity = el("form", { class: "inline-form", "aria-labelledby": "add-activity-title" },
    el("h3", { id: "add-activity-title", text: "Add an activity" }),
    field("activity-name", "Name", { required: true, autocomplete: "off" }),
    el("div", { class: "field" }, el("label", { for: "activity-kind", text: "Kind" }),
      el("select", { id: "activity-kind" }, KINDS.map((k) => el("option", { value: k, text: k })))),
    el("button", { type: "submit", text: "Add activity" }));
  addActivity.addEventListener("submit", (e) => {
    e.preventDefault();
    run(() => api.addActivity(addActivity.querySelector("#activity-name").value, addActivity.querySelector("#activity-kind").value), "Activity added.");
  });

  const hubRows = hubs.map((h) =>
    el("tr", {},
      el("th", { scope: "row", text: h.name }),
      el("td", { text: h.time_zone }),
      el("td", { text: h.this_laptop ? "this laptop's hub" : "" }),
      el("td", {},
        el("button", { type: "button", class: "secondary", "aria-label": `Rename ${h.name}`, text: "Rename",
          onclick: () => { const n = window.prompt(`New name for ${h.name}:`, h.name); if (n) run(() => api.updateHub(h.id, n, null), "Hub renamed."); } }),
        " ",
        el("button", { type: "button", class: "secondary", "aria-label": `Time zone of ${h.name}`, text: "Time zone",
          onclick: () => { const z = window.prompt(`Time zone for ${h.name} (like Europe/London):`, h.time_zone); if (z) run(() => api.updateHub(h.id, null, z), "Time zone changed."); } }),
        " ",
        h.this_laptop ? null : el("button", { type: "button", class: "secondary", "aria-label": `Use on this laptop: ${h.name}`, text: "Use on this laptop",
          onclick: () => run(() => api.useHub(h.id), `This laptop now works at ${h.name}.`) }))));
  const addHub = el("form", { class: "inline-form", "aria-labelledby": "add-hub-title" },
    el("h3", { id: "add-hub-title", text: "Add a hub" }),
    field("hub-name", "Name", { required: true, autocomplete: "off" }),
    field("hub-tz", "Time zone", { value: "Europe/London", autocomplete: "off" }),
    el("button", { type: "submit", text: "Add hub" }));
  addHub.addEventListener("submit", (e) => {
    e.preventDefault();
    run(() => api.addHub(addHub.querySelector("#hub-name").value, addHub.querySelector("#hub-tz").value), "Hub added.");
  });

  const settingsForm = el("form", { class: "inline-form", "aria-labelledby": "settings-title" },
    el("h2", { id: "settings-title", text: "Settings" }),
    field("set-idle", "Lock after this many idle minutes", { type: "number", min: "1", max: "120", value: String(settings.idle_lock_minutes) }),
    field("set-failures", "Wrong PINs before a lock-out", { type: "number", min: "3", max: "20", value: String(settings.lockout_failures) }),
    field("set-lockout", "Lock-out minutes", { type: "number", min: "1", max: "1440", value: String(settings.lockout_minutes) }),
    field("set-back-entry", "Days back staff can type in a paper register (0 for none)", { type: "number", min: "0", max: "366", value: String(settings.back_entry_days ?? 31) }),
    el("button", { type: "submit", text: "Save settings" }));
  settingsForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const n = (id) => Number(settingsForm.querySelector(`#${id}`).value);
    run(() => api.updateSettings({ idle_lock_minutes: n("set-idle"), lockout_failures: n("set-failures"), lockout_minutes: n("set-lockout"), back_entry_days: n("set-back-entry") }), "Settings saved.");
  });

  const peers = new Map(sync.peers.map((p) => [p.device_id, p]));
  const deviceRows = devices.map((d) => {
    const p = peers.get(d.id);
    const state = d.revoked_at ? "removed"
      : d.this_laptop ? "this laptop"
      : p && p.last_sync_at ? `synced ${new Date(p.last_sync_at).toLocaleString("en-GB")}${p.pending ? `, ${p.pending} waiting` : ""}`
      : "not synced yet";
    return el("tr", {},
      el("th", { scope: "row", text: d.name }),
      el("td", { text: new Date(d.added_at).toLocaleDateString("en-GB") }),
      el("td", { text: state + (p && p.last_error ? ` (last try: ${p.last_error})` : "") }),
      el("td", {}, d.this_laptop || d.revoked_at ? null : el("button", { type: "button", class: "danger", "aria-label": `Remove ${d.name}`, text: "Remove",
        onclick: () => { if (window.confirm(`Remove ${d.name} from the organisation? Do this for a lost or stolen laptop: other laptops will refuse it.`)) run(() => api.revokeDevice(d.name), `${d.name} is removed.`); } })));
  });
  const codeBox = el("div", { id: "pairing-box", role: "status", "aria-live": "polite", tabindex: "-1" });
  const showCode = el("button", { type: "button", id: "show-pairing-code", text: "Pair a new laptop" });
  showCode.addEventListener("click", async () => {
    try {
      const p = await api.pairCode();
      const w = sync.worker || {};
      const listening = w.lan_address || w.listening || "this laptop's address";
      codeBox.replaceChildren(
        el("p", { text: "On the new laptop choose “Join your organisation” and type:" }),
        el("p", { class: "pairing-code", text: p.code, "aria-label": `Pairing code ${p.code.split("").join(" ")}` }),
        el("p", { text: `This laptop's address: ${listening}. The code works once, until ${new Date(p.expires_at).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })}.` }));
      codeBox.scrollIntoView({ block: "center" });
      codeBox.focus();
    } catch (err) {
      showError(error, err);
    }
  });
  const syncForm = el("form", { class: "inline-form", "aria-labelledby": "sync-now-title" },
    el("h3", { id: "sync-now-title", text: "Sync with a laptop by its address" }),
    field("sync-addr", "Address", { autocomplete: "off" }, "Like 192.168.1.20. Leave it empty to sync with every laptop this one knows."),
    el("button", { type: "submit", text: "Sync now" }));
  syncForm.addEventListener("submit", (e) => {
    e.preventDefault();
    run(() => api.syncNow(syncForm.querySelector("#sync-addr").value || null), "Syncing in the background.");
  });

  const table = (caption, head, rows) => el("table", {}, el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, rows));
  root.append(
    el("h1", { text: "Admin" }),
    error,
    el("section", { class: "card wide", "aria-labelledby": "users-title" }, el("h2", { id: "users-title", text: "Users" }),
      table("People who can unlock hubdesk", ["Name", "Roles", "Status", ""], userRows), addUser),
    el("section", { class: "card wide", "aria-labelledby": "activities-title" }, el("h2", { id: "activities-title", text: "Activities" }),
      table("What members can come for", ["Name", "Kind", "Status", ""], activityRows), addActivity),
    el("section", { class: "card wide", "aria-labelledby": "hubs-title" }, el("h2", { id: "hubs-title", text: "Hubs" }),
      table("Where drop-in days happen", ["Name", "Time zone", "", ""], hubRows), addHub),
    el("section", { class: "card wide", "aria-labelledby": "laptops-title" }, el("h2", { id: "laptops-title", text: "Laptops" }),
      table("Laptops of this organisation", ["Name", "Paired", "Sync", ""], deviceRows), showCode, codeBox, syncForm),
    el("section", { class: "card wide" }, settingsForm),
  );
  root.querySelector("h1").setAttribute("tabindex", "-1");
  root.querySelector("h1").focus();
}
