// Admin for managers, one section at a time: users (add, roles, reset PIN, deactivate),
// activities, hubs, laptops (pairing, sync) and settings. Each section has its own address
// (#/admin/users, ...) so the section links are plain links: the keyboard, the back button
// and a screen reader's list of links all work without a tab widget's own key rules.

import { api } from "../api.js";
import { el, field, errorBox, load, showError, runner, showSyncProgress } from "../dom.js";
import { openDialog, confirmDialog, promptDialog, changeThrough } from "../dialog.js";

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
          onclick: () => changeThrough(ctx, openDialog({
            title: `Roles of ${u.name}`,
            content: el("fieldset", {}, el("legend", { text: "Roles" }),
              ROLES.map((r) => el("div", { class: "check" },
                el("input", { type: "checkbox", id: `edit-role-${r}`, "data-role": r, checked: u.roles.includes(r) }),
                el("label", { for: `edit-role-${r}`, text: r })))),
            confirm: "Save roles",
            action: (form) => api.setRoles(u.name, [...form.querySelectorAll("[data-role]:checked")].map((c) => c.dataset.role).join(",")),
          }), `${u.name}'s roles are changed.`) }) : null,
        " ",
        u.active ? el("button", { type: "button", class: "secondary", "aria-label": `Reset PIN for ${u.name}`, text: "Reset PIN",
          onclick: () => changeThrough(ctx, promptDialog({
            title: `Reset PIN for ${u.name}`,
            label: "New PIN",
            hint: "4 to 8 digits. Tell it to them in person.",
            input: { type: "password", inputmode: "numeric", autocomplete: "new-password" },
            confirm: "Set new PIN",
            action: (pin) => api.resetPin(u.name, pin),
          }), `${u.name} has a new PIN.`) }) : null,
        " ",
        u.active && u.name !== ctx.status.user.name ? el("button", { type: "button", class: "danger", "aria-label": `Deactivate ${u.name}`, text: "Deactivate",
          onclick: () => changeThrough(ctx, openDialog({
            title: `Deactivate ${u.name}?`,
            message: `${u.name} will not be able to unlock hubdesk any more.`,
            confirm: "Deactivate",
            danger: true,
            action: () => api.deactivateUser(u.name),
          }), `${u.name} is deactivated.`) }) : null)));
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
          onclick: () => changeThrough(ctx, promptDialog({
            title: `Rename ${a.name}`, label: "New name", value: a.name, confirm: "Rename",
            action: (n) => api.renameActivity(a.id, n),
          }), "Renamed.") }),
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
          onclick: () => changeThrough(ctx, promptDialog({
            title: `Rename ${h.name}`, label: "New name", value: h.name, confirm: "Rename",
            action: (n) => api.updateHub(h.id, n, null),
          }), "Hub renamed.") }),
        " ",
        el("button", { type: "button", class: "secondary", "aria-label": `Time zone of ${h.name}`, text: "Time zone",
          onclick: () => changeThrough(ctx, promptDialog({
            title: `Time zone of ${h.name}`, label: "Time zone", hint: "Like Europe/London.", value: h.time_zone, confirm: "Change time zone",
            action: (z) => api.updateHub(h.id, null, z),
          }), "Time zone changed.") }),
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
    field("set-idle", "Lock after this many idle minutes", { type: "number", min: "1", max: "120", value: String(settings.idle_lock_minutes) }),
    field("set-failures", "Wrong PINs before a lock-out", { type: "number", min: "3", max: "20", value: String(settings.lockout_failures) }),
    field("set-lockout", "Lock-out minutes", { type: "number", min: "1", max: "1440", value: String(settings.lockout_minutes) }),
    field("set-back-entry", "Days back staff can type in a paper register (0 for none)", { type: "number", min: "0", max: "366", value: String(settings.back_entry_days ?? 31) }),
    field("set-audit-retention", "Months the audit log shows (24 or more)", { type: "number", min: "24", max: "1200", value: String(settings.audit_retention_months ?? 72) }),
    el("button", { type: "submit", text: "Save settings" }));
  settingsForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const n = (id) => Number(settingsForm.querySelector(`#${id}`).value);
    run(() => api.updateSettings({ idle_lock_minutes: n("set-idle"), lockout_failures: n("set-failures"), lockout_minutes: n("set-lockout"), back_entry_days: n("set-back-entry"), audit_retention_months: n("set-audit-retention") }), "Settings saved.");
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
        onclick: () => changeThrough(ctx, openDialog({
          title: `Remove ${d.name} from the organisation?`,
          message: "Do this for a lost or stolen laptop: other laptops will refuse it from now on. It cannot be undone.",
          confirm: `Remove ${d.name}`,
          danger: true,
          action: () => api.revokeDevice(d.name),
        }), `${d.name} is removed.`) })));
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
  // Sessions under way (a laptop joining through this one: records sent of the total),
  // looked at every second while this section is on screen.
  const names = new Map(devices.map((d) => [d.id, d.name]));
  const sessionsBox = el("div", { id: "sync-sessions", role: "status", "aria-live": "polite" });
  const showSessions = (w) => showSyncProgress(sessionsBox, ((w && w.sessions) || [])
    .filter((p) => p.to_send > 0 || p.to_receive > 0)
    .map((p) => {
      const who = names.get(p.peer) || "a new laptop";
      return p.to_send > 0
        ? { what: `Sending records to ${who}`, done: p.sent, total: p.to_send }
        : { what: `Receiving records from ${who}`, done: p.received, total: p.to_receive };
    }));
  showSessions(sync.worker);
  const watch = setInterval(async () => {
    if (!sessionsBox.isConnected) { clearInterval(watch); return; }
    try { showSessions((await api.syncStatus()).worker); } catch { /* shown on the next look */ }
  }, 1000);
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
  const section = (key, ...children) => el("section", { class: "card wide admin-section", id: `admin-${key}`, "aria-labelledby": `${key}-title` },
    el("h2", { id: `${key}-title`, tabindex: "-1", text: SECTIONS[key] }), ...children);
  const sections = {
    users: () => section("users", table("People who can unlock hubdesk", ["Name", "Roles", "Status", ""], userRows), addUser),
    activities: () => section("activities", table("What members can come for", ["Name", "Kind", "Status", ""], activityRows), addActivity),
    hubs: () => section("hubs", table("Where drop-in days happen", ["Name", "Time zone", "", ""], hubRows), addHub),
    laptops: () => section("laptops", table("Laptops of this organisation", ["Name", "Paired", "Sync", ""], deviceRows), sessionsBox, showCode, codeBox, syncForm),
    settings: () => section("settings", settingsForm),
  };
  const chosen = SECTIONS[ctx.arg] ? ctx.arg : "users";
  root.append(
    el("h1", { tabindex: "-1", text: "Admin" }),
    sectionNav(chosen),
    error,
    sections[chosen](),
  );
  // Arriving from a section link, the reader is taken to that section's heading; arriving at
  // Admin itself, to the page's.
  root.querySelector(ctx.arg && SECTIONS[ctx.arg] ? `#${chosen}-title` : "h1").focus();
}

const SECTIONS = { users: "Users", activities: "Activities", hubs: "Hubs", laptops: "Laptops", settings: "Settings" };

/// The section links: a list of plain links, the one showing marked as the current page.
function sectionNav(chosen) {
  return el("nav", { class: "subnav", "aria-label": "Admin sections" },
    el("ul", {}, Object.entries(SECTIONS).map(([key, label]) =>
      el("li", {}, el("a", { href: `#/admin/${key}`, id: `admin-nav-${key}`, "aria-current": key === chosen ? "page" : null, text: label })))));
}
