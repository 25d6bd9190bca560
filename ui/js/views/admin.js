// Admin for managers, one section at a time: users (add, roles, reset PIN, deactivate),
// activities, hubs, laptops (pairing, sync) and settings. Each section has its own address
// (#/admin/users, ...) so the section links are plain links: the keyboard, the back button
// and a screen reader's list of links all work without a tab widget's own key rules.

import { api } from "../api.js";
import { el, field, errorBox, load, showError, runner, showSyncProgress, fieldError, clearFieldErrors, toast } from "../dom.js";
import { openDialog, confirmDialog, promptDialog, changeThrough } from "../dialog.js";

const ROLES = ["desk", "navigator", "staff", "manager"];
const KINDS = ["group", "wellbeing-project", "collaboration", "one-to-one", "space"];

export async function render(root, ctx) {
  const error = errorBox("admin-error");
  const loaded = await load(root, ctx, "Admin", error, () =>
    Promise.all([api.listUsers(), api.listActivities(), api.showSettings(), api.listHubs(), api.listDevices(), api.syncStatus(), api.listAgreements()]));
  if (!loaded) return;
  const [users, activities, settings, hubs, devices, sync, agreements] = loaded;
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

  const agreementParts = agreementSection(ctx, agreements);

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
    agreement: () => section("agreement", ...agreementParts),
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

const SECTIONS = { users: "Users", activities: "Activities", hubs: "Hubs", laptops: "Laptops", agreement: "Member agreement", settings: "Settings" };

/// The member agreement: the words in force, every version set, and a form for a new version.
/// A new version is asked of each member at their next sign-in (never holding it up), so the
/// form asks once more before setting it; a version's words never change afterwards.
function agreementSection(ctx, agreements) {
  const when = (at) => new Date(at).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
  const current = agreements.find((a) => a.in_force);
  const disputed = agreements.some((a) => a.disputed);
  const inForce = current
    ? el("div", { id: "agreement-current" },
      el("h3", { text: `In force: version ${current.version}, set ${when(current.set_at)} by ${current.set_by}` }),
      el("p", { class: "held-words", id: "agreement-current-words", text: current.text }))
    : el("p", { id: "agreement-current", text: "No agreement words are set yet. Members are registered under the version the registration form names; set the words here so the desk can show them." });
  const warning = disputed
    ? el("p", { class: "warning", id: "agreement-disputed", text: "Two laptops set different words for one version while apart; the words shown as in force are the ones every laptop uses. Set a new version to settle it." })
    : null;
  const versions = agreements.length
    ? el("table", { id: "agreement-versions" }, el("caption", { text: "Every version set, newest first" }),
      el("thead", {}, el("tr", {}, ["Version", "Set", "By", "State"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, agreements.map((a) => el("tr", {},
        el("th", { scope: "row", text: a.version }),
        el("td", { text: when(a.set_at) }),
        el("td", { text: a.set_by }),
        el("td", { text: a.in_force ? "in force" : a.disputed ? "set apart, not used" : "earlier" })))))
    : null;
  const error = errorBox("agreement-error");
  // No maxlength: a longer paste cut short silently could never be corrected (a version's
  // words never change); the core refuses it at the field instead.
  const words = el("textarea", { id: "agreement-text", name: "agreement-text", rows: "8", required: true, "aria-describedby": "agreement-text-hint" });
  const form = el("form", { class: "inline-form agreement-form", id: "agreement-form", novalidate: true, "aria-labelledby": "agreement-new-title" },
    el("h3", { id: "agreement-new-title", text: "Set a new version" }),
    field("agreement-version", "Version", { autocomplete: "off", required: true, inputmode: "decimal" }, current ? `Higher than ${current.version}: a number like ${nextVersion(current.version)}, or ${current.version}.1 for a small change.` : "A number like 1, or 1.1 for a small change."),
    el("div", { class: "field" },
      el("label", { for: "agreement-text", text: "The words, as members will read them" }),
      el("p", { class: "hint", id: "agreement-text-hint", text: "Plain text; a blank line starts a new paragraph." }),
      words),
    error,
    el("button", { type: "submit", id: "agreement-set", text: "Set this version" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    error.textContent = "";
    const version = form.querySelector("#agreement-version").value.trim();
    const text = words.value;
    // A refusal about the form's own fields closes the dialog and is shown at the field.
    const FIELDS = { version: "agreement-version", text: "agreement-text" };
    const atField = (err) => (FIELDS[err.field] ? fieldError(form, FIELDS[err.field], err.message) : showError(error, err));
    if (!version || !words.value.trim()) {
      // Nothing to ask about: the core says what is missing, at its field.
      return api.setAgreement(version, text).catch(atField);
    }
    let refused = null;
    const done = await openDialog({
      title: `Set version ${version} of the member agreement?`,
      message: "Each member is asked to accept it the next time they sign in (their sign-in is never held up). Its words can't be changed afterwards, only replaced by a higher version.",
      confirm: `Set version ${version}`,
      action: async () => {
        try {
          await api.setAgreement(version, text);
        } catch (err) {
          if (!FIELDS[err.field]) throw err;
          refused = err;
        }
      },
    });
    if (done === "locked") return ctx.refresh();
    if (refused) return atField(refused);
    if (done) {
      toast(`Version ${version} of the agreement is in force.`);
      ctx.refresh();
    }
  });
  return [inForce, warning, versions, form];
}

/// The next whole version after `v` ("2.1" gives "3").
function nextVersion(v) {
  const whole = Number.parseInt(v, 10);
  return Number.isFinite(whole) ? String(whole + 1) : "2";
}

/// The section links: a list of plain links, the one showing marked as the current page.
function sectionNav(chosen) {
  return el("nav", { class: "subnav", "aria-label": "Admin sections" },
    el("ul", {}, Object.entries(SECTIONS).map(([key, label]) =>
      el("li", {}, el("a", { href: `#/admin/${key}`, id: `admin-nav-${key}`, "aria-current": key === chosen ? "page" : null, text: label })))));
}
