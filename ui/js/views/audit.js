// The audit log (managers): who did what, when, on which laptop, and why, from every laptop
// once they have synced. Filters by member (code or id), user, action and dates; a table a
// screen reader reads row by row, newest first, a page at a time; and Export, a CSV file
// chosen in the shell's save dialog, kept in the log itself with its reason.
//
// The log holds ids, actions and reasons, never a member's name or a note: a member shows
// by their code. Nothing here (or anywhere) changes or removes an entry. The core checks the
// permission and every filter, and says what is wrong beside the field concerned.

import { api } from "../api.js";
import { el, errorBox, showError, fieldError, clearFieldErrors } from "../dom.js";

const PAGE = 50;
// Which input an error of the core's is about (its `field`).
const FIELDS = { member: "audit-member", user: "audit-user", action: "audit-action", since: "audit-since", until: "audit-until", reason: "audit-reason" };
// Actions offered as you type in the action filter (any text containing one's words works).
const ACTIONS = [
  "member.viewed", "conversation.viewed", "plan.viewed", "concern.viewed", "member.register",
  "member.edit", "member.merge", "export", "audit.exported", "user.add", "device.revoke",
  "settings.change", "sync.import", "sync.export",
];

// The filter of the last visit to this screen, kept while the app runs.
let remembered = { member: "", user: "", action: "", since: "", until: "" };

function when(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleString("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function changed() {
  // Entries from other laptops show when the manager asks again: a page being read is not
  // redrawn under them.
}

export async function render(root, ctx) {
  const title = el("h1", { id: "audit-title", tabindex: "-1", text: "Audit log" });
  if (!(ctx.status.user && ctx.status.user.can_see_audit)) {
    root.append(title, el("p", { text: "The audit log is for managers." }));
    title.focus();
    return;
  }
  const error = errorBox("audit-error");
  const input = (id, attrs = {}) => el("input", { id, name: id, autocomplete: "off", ...attrs });
  const member = input("audit-member", { value: remembered.member, "aria-describedby": "audit-member-hint" });
  const user = input("audit-user", { value: remembered.user });
  const action = input("audit-action", { value: remembered.action, list: "audit-actions" });
  const since = input("audit-since", { type: "date", value: remembered.since });
  const until = input("audit-until", { type: "date", value: remembered.until });
  const showButton = el("button", { type: "submit", id: "audit-show", text: "Show" });
  const clearButton = el("button", { type: "button", class: "secondary", id: "audit-clear", text: "Clear the filters" });
  const field = (id, label, control, hint) => el("div", { class: "field" },
    el("label", { for: id, text: label }),
    hint ? el("p", { class: "hint", id: `${id}-hint`, text: hint }) : null,
    control);
  const form = el("form", { class: "card", id: "audit-form", "aria-labelledby": "audit-form-title", novalidate: true },
    el("h2", { id: "audit-form-title", text: "Which entries" }),
    el("div", { class: "audit-filters" },
      field("audit-member", "Member", member, "Their member code (or record id)."),
      field("audit-user", "Done by (user's name)", user),
      field("audit-action", "Action", action),
      field("audit-since", "From (day)", since),
      field("audit-until", "To (day, included)", until)),
    el("datalist", { id: "audit-actions" }, ACTIONS.map((a) => el("option", { value: a }))),
    el("div", { class: "actions" }, showButton, clearButton));

  const status = el("p", { id: "audit-status", role: "status", "aria-live": "polite" });
  const caption = el("caption", { id: "audit-caption" });
  const tbody = el("tbody", { id: "audit-rows" });
  const table = el("table", { id: "audit-table", class: "audit-table" }, caption,
    el("thead", {}, el("tr", {},
      ["When", "Who", "Laptop", "Action", "Member", "Detail"].map((h) => el("th", { scope: "col", text: h })))),
    tbody);
  const newer = el("button", { type: "button", class: "secondary", id: "audit-newer", text: "Newer entries" });
  const older = el("button", { type: "button", class: "secondary", id: "audit-older", text: "Older entries" });
  const results = el("section", { class: "card wide", id: "audit-results", "aria-labelledby": "audit-results-title" },
    el("h2", { id: "audit-results-title", tabindex: "-1", text: "Entries, newest first" }),
    status,
    el("div", { class: "report-table-scroll", tabindex: "0", role: "region", "aria-labelledby": "audit-caption" }, table),
    el("div", { class: "actions", role: "group", "aria-label": "Pages of the audit log" }, newer, older));

  const reason = input("audit-reason", { maxlength: "300", required: true, "aria-describedby": "audit-reason-hint" });
  const exportButton = el("button", { type: "submit", id: "audit-export", text: "Export as CSV…" });
  const exportStatus = el("p", { id: "audit-export-status", class: "print-status", role: "status", "aria-live": "polite" });
  const exportForm = el("form", { class: "card", id: "audit-export-form", "aria-labelledby": "audit-export-title", novalidate: true },
    el("h2", { id: "audit-export-title", text: "Export these entries" }),
    el("p", { text: "Every entry the filters above pick (not only this page), as a CSV file. You choose where it goes." }),
    field("audit-reason", "Why it is being exported (required)", reason,
      "For example: a member's subject access request. The export is itself kept in the audit log with your name and reason."),
    el("div", { class: "actions" }, exportButton),
    exportStatus);

  root.append(
    el("p", {}, el("a", { href: "#/day", text: "← Back to the day" })),
    title,
    el("p", { class: "hint", text: "Who looked at or changed what, on every laptop that has synced with this one. Ids and reasons only: never a member's name or what a note says. Nothing here can be changed or removed." }),
    error,
    form,
    results,
    exportForm,
  );

  let offset = 0;
  const filter = () => ({ member: member.value, user: user.value, action: action.value, since: since.value, until: until.value });

  function refused(err) {
    if (err.kind === "locked") {
      ctx.refresh();
      return;
    }
    // A member the filter names who is not here is about that field.
    const at = FIELDS[err.field] || (err.kind === "not_found" && member.value.trim() ? "audit-member" : null);
    if (!(at && fieldError(root, at, err.message))) showError(error, err);
  }

  function row(r) {
    const detail = r.detail || "";
    return el("tr", {},
      el("td", {}, el("time", { datetime: r.at, text: when(r.at) })),
      el("td", { text: r.user || "The laptop itself" }),
      el("td", { text: r.device || "A laptop no longer listed" }),
      el("td", { text: r.action }),
      el("td", { text: r.member_code || "–" }),
      el("td", { text: detail || "–" }));
  }

  async function load(focusResults = false) {
    clearFieldErrors(root);
    error.textContent = "";
    showButton.disabled = true;
    try {
      const page = await api.auditLog(filter(), offset, PAGE);
      tbody.replaceChildren(...page.rows.map(row));
      if (!page.rows.length) {
        tbody.append(el("tr", {}, el("td", { colspan: "6", text: offset ? "No older entries." : "No entries match these filters." })));
      }
      const first = offset + 1;
      const last = offset + page.rows.length;
      caption.textContent = page.rows.length ? `Audit log entries ${first} to ${last}, newest first` : "Audit log entries: none";
      status.textContent = page.rows.length
        ? `Showing entries ${first} to ${last}${page.more ? "; there are older ones" : ""}.`
        : "No entries match these filters.";
      newer.disabled = offset === 0;
      older.disabled = !page.more;
      remembered = filter();
      if (focusResults) document.getElementById("audit-results-title").focus();
    } catch (err) {
      refused(err);
    } finally {
      showButton.disabled = false;
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    offset = 0;
    load(true);
  });
  clearButton.addEventListener("click", () => {
    for (const i of [member, user, action, since, until]) i.value = "";
    offset = 0;
    load();
    member.focus();
  });
  newer.addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE);
    load(true);
  });
  older.addEventListener("click", () => {
    offset += PAGE;
    load(true);
  });
  exportForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(root);
    error.textContent = "";
    exportButton.disabled = true;
    exportStatus.textContent = "Making the file…";
    try {
      const r = await api.auditExport(filter(), reason.value);
      exportStatus.textContent = r.saved ? `Saved as ${r.saved}.` : "Not saved: the save dialog was cancelled.";
    } catch (err) {
      exportStatus.textContent = "";
      refused(err);
    } finally {
      exportButton.disabled = false;
    }
  });

  await load();
  title.focus();
}
