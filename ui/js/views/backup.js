// Backups (managers): when this laptop last made a backup and where, a backup made now,
// and this laptop's schedule (a folder, usually a USB stick, and how often). A scheduled
// backup that could not be made (the stick was out) is said here, quietly, never in a
// dialog; the core makes it when it is due and the folder is there.

import { api } from "../api.js";
import { el, field, errorBox, showError, toast, fieldError, clearFieldErrors } from "../dom.js";

function when(iso) {
  if (!iso) return "never";
  const d = new Date(iso);
  return `${d.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", year: "numeric" })} at ${d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })}`;
}

export async function render(root, ctx) {
  const error = errorBox("backup-error");
  let s = null;
  try {
    s = await api.backupSchedule();
  } catch (err) {
    showError(error, err);
  }
  // Parts that are not there (the schedule could not be read) are left out, not drawn as "null".
  root.append(...[
    el("p", {}, el("a", { href: "#/day", text: "← Back to the day" })),
    el("h1", { text: "Backups", tabindex: "-1" }),
    error,
    s ? lastBackup(s) : null,
    s ? nowForm(s, ctx) : null,
    s ? scheduleForm(s, ctx) : null,
  ].filter(Boolean));
  root.querySelector("h1").focus();
}

function lastBackup(s) {
  return el("section", { class: "card wide", "aria-labelledby": "backup-last-title" },
    el("h2", { id: "backup-last-title", text: "The last backup" }),
    el("p", { id: "backup-last", text: s.last_made_at ? `Made ${when(s.last_made_at)}: ${s.last_file}.` : "No backup has been made on this laptop yet." }),
    s.last_outcome ? el("p", { id: "backup-last-outcome", class: "hint", text: `${when(s.last_tried_at)}: ${s.last_outcome}` }) : null,
    s.folder ? el("p", { id: "backup-scheduled", text: `Scheduled: ${s.every === "daily" ? "every day" : "every week"} to ${s.folder}, keeping the last ${s.keep}.` }) : el("p", { id: "backup-scheduled", text: "No backups are scheduled on this laptop." }),
    el("p", { class: "hint", text: "A backup holds every record, encrypted as the store is. Restoring it on another laptop needs a user's PIN or passphrase, or the recovery key." }));
}

function nowForm(s, ctx) {
  const error = errorBox("backup-now-error");
  const form = el("form", { class: "card", id: "backup-now-form", "aria-labelledby": "backup-now-title", novalidate: true },
    el("h2", { id: "backup-now-title", text: "Make a backup now" }),
    el("p", { class: "hint", text: s.folder ? `Into the scheduled folder (${s.folder}), or anywhere you choose.` : "You choose where it goes: a USB stick kept away from this laptop is best." }),
    error,
    el("div", { class: "actions" },
      el("button", { type: "submit", id: "backup-now", text: "Make a backup now…" }),
      s.folder ? el("button", { type: "button", id: "backup-now-folder", class: "secondary", text: "Back up to the scheduled folder" }) : null));
  const run = async (button, folder) => {
    error.textContent = "";
    const label = button.textContent;
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    button.textContent = "Making the backup…";
    try {
      const made = await api.backUpNow(folder);
      if (made.saved) {
        toast(`Backup made: ${made.saved}`);
        ctx.refresh();
        return;
      }
    } catch (err) {
      showError(error, err);
    }
    for (const b of form.querySelectorAll("button")) b.disabled = false;
    button.textContent = label;
    button.focus();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(form.querySelector("#backup-now"), null);
  });
  const toFolder = form.querySelector("#backup-now-folder");
  if (toFolder) toFolder.addEventListener("click", () => run(toFolder, s.folder));
  return form;
}

function scheduleForm(s, ctx) {
  const error = errorBox("backup-schedule-error");
  const form = el("form", { class: "card", id: "backup-schedule-form", "aria-labelledby": "backup-schedule-title", novalidate: true },
    el("h2", { id: "backup-schedule-title", text: "Backups on a schedule" }),
    el("p", { class: "hint", text: "This laptop's own setting: other laptops keep theirs. Leave the folder empty for no scheduled backups." }),
    field("backup-folder", "Folder", { value: s.folder || "", autocomplete: "off" }, "Where scheduled backups go (a USB stick's folder)"),
    el("div", { class: "field" },
      el("label", { for: "backup-every", text: "How often" }),
      el("select", { id: "backup-every" },
        el("option", { value: "daily", text: "Every day", selected: s.every === "daily" }),
        el("option", { value: "weekly", text: "Every week", selected: s.every !== "daily" }))),
    field("backup-keep", "Backups to keep in the folder", { type: "number", min: "1", max: "50", value: String(s.keep || 5) }, "Older ones are removed once a new one is made."),
    error,
    el("button", { type: "submit", text: "Save the schedule" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    error.textContent = "";
    const v = (id) => form.querySelector(`#${id}`).value;
    try {
      await api.setBackupSchedule(v("backup-folder").trim() || null, v("backup-every"), Number(v("backup-keep")));
      toast(v("backup-folder").trim() ? "Backups are scheduled." : "No backups are scheduled.");
      ctx.refresh();
    } catch (err) {
      const at = { every: "backup-every", keep: "backup-keep", folder: "backup-folder" }[err && err.field];
      if (at) fieldError(form, at, err.message);
      else showError(error, err);
    }
  });
  return form;
}
