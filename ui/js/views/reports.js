// Outcome reports (managers): choose a period, a hub and the small-number threshold, preview
// the figures and charts beside the previous period's, then export them to a file chosen in
// the shell's own save dialog (the page never names a path), or print the preview. Member
// rows that name people are a separate export, with its own reason and a warning.
//
// The core checks everything (the manager role, the reason, a period that ends before it
// starts) and says what is wrong; this screen puts its words beside the field concerned.

import { api } from "../api.js";
import { el, errorBox, showError, fieldError, clearFieldErrors } from "../dom.js";

const FORMATS = [
  ["xlsx", "Spreadsheet (XLSX), one sheet per section, with charts"],
  ["csv", "CSV files in a zip, one per table"],
  ["html", "Web page (HTML), printable, with charts"],
  ["json", "JSON, for another program"],
];

// Which input an error of the core's is about (its `field`).
const FIELDS = { from: "report-from", to: "report-to", period: "report-to", hub: "report-hub", threshold: "report-threshold", format: "report-format", reason: "report-reason" };
const MEMBER_FIELDS = { from: "report-from", to: "report-to", period: "report-to", format: "members-format", reason: "members-reason" };

// The choices of the last visit to this screen, kept while the app runs (a redraw keeps them).
let remembered = null;

const pad = (n) => String(n).padStart(2, "0");
const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/// The quick choices of period, as [label, from, to] in the laptop's own dates.
export function quickPeriods(today = new Date()) {
  const y = today.getFullYear();
  const m = today.getMonth();
  const q = Math.floor(m / 3);
  const fy = m >= 3 ? y : y - 1;
  return [
    ["last-month", "Last month", new Date(y, m - 1, 1), new Date(y, m, 0)],
    ["last-quarter", "Last quarter", new Date(y, q * 3 - 3, 1), new Date(y, q * 3, 0)],
    ["last-12-months", "Last 12 months", new Date(y, m - 12, 1), new Date(y, m, 0)],
    ["financial-year", "This financial year (April to March)", new Date(fy, 3, 1), new Date(fy + 1, 2, 31)],
  ].map(([id, label, from, to]) => ({ id, label, from: iso(from), to: iso(to) }));
}

function dayInWords(isoDate) {
  const d = new Date(`${isoDate}T12:00:00`);
  return Number.isNaN(d.getTime()) ? isoDate : d.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
}

/// The printable fragment from the core, as nodes of this page: no script survives, and each
/// table's scrolling box (wider than the screen at 200%) is a named region the keyboard can
/// reach and scroll.
function reportNodes(html) {
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${html}</body>`, "text/html");
  for (const s of doc.querySelectorAll("script, iframe, object, embed, style, link")) s.remove();
  for (const table of doc.querySelectorAll("table")) {
    let box = table.parentElement;
    if (!box || !box.classList.contains("report-table-scroll")) {
      box = doc.createElement("div");
      box.className = "report-table-scroll";
      table.replaceWith(box);
      box.append(table);
    }
    const caption = table.querySelector("caption");
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table of figures");
  }
  return [...doc.body.childNodes].map((n) => document.importNode(n, true));
}

export function changed() {
  // News from another laptop changes figures only when the manager previews again: a preview
  // being read is not redrawn under them.
}

export async function render(root, ctx) {
  root.classList.add("reports-page");
  const error = errorBox("report-error");
  const title = el("h1", { id: "reports-title", tabindex: "-1", text: "Reports" });
  if (!(ctx.status.user && ctx.status.user.can_report)) {
    root.append(title, el("p", { text: "Reports are for managers." }));
    title.focus();
    return;
  }
  let hubs = [];
  try {
    hubs = await api.reportHubs();
  } catch (err) {
    if (err.kind === "locked") return ctx.refresh();
    showError(error, err);
  }
  const quick = quickPeriods();
  const start = remembered || { from: quick[0].from, to: quick[0].to, hub: "", threshold: "10", format: "xlsx", membersFormat: "csv" };

  // --- What the report is about.
  const from = el("input", { id: "report-from", type: "date", required: true, value: start.from });
  const to = el("input", { id: "report-to", type: "date", required: true, value: start.to });
  const hub = el("select", { id: "report-hub" },
    el("option", { value: "", text: "All hubs" }),
    hubs.map((h) => el("option", { value: h, text: h, selected: h === start.hub })));
  const threshold = el("input", { id: "report-threshold", type: "number", min: "1", step: "1", inputmode: "numeric", value: start.threshold, "aria-describedby": "report-threshold-hint report-threshold-warning" });
  const warning = el("p", { id: "report-threshold-warning", class: "warning danger-warning", hidden: true },
    el("strong", { text: "Every count is shown, however small. " }),
    "With a threshold of 1 this report can identify young people: keep it inside the organisation and never publish it.");
  const status = el("p", { id: "report-status", class: "print-status", role: "status", "aria-live": "polite" });
  const previewButton = el("button", { type: "submit", id: "report-preview-button", text: "Preview" });

  const form = el("form", { class: "card", id: "report-form", "aria-labelledby": "report-form-title", novalidate: true },
    el("h2", { id: "report-form-title", text: "What the report covers" }),
    el("fieldset", { class: "reports-period" },
      el("legend", { text: "Period" }),
      el("p", { class: "hint", text: "Each figure is shown beside the same figure for the same length of time just before." }),
      el("div", { class: "choices", role: "group", "aria-label": "Quick choices of period" },
        quick.map((p) => el("button", { type: "button", class: "secondary", id: `report-quick-${p.id}`, "data-from": p.from, "data-to": p.to, text: p.label }))),
      el("div", { class: "reports-dates" },
        el("div", { class: "field" }, el("label", { for: "report-from", text: "From" }), from),
        el("div", { class: "field" }, el("label", { for: "report-to", text: "To (included)" }), to))),
    el("div", { class: "field" }, el("label", { for: "report-hub", text: "Hub" }), hub),
    el("div", { class: "field" },
      el("label", { for: "report-threshold", text: "Hide counts smaller than" }),
      el("p", { class: "hint", id: "report-threshold-hint", text: "Small numbers could point to a young person, so they are held back, and so is any figure that would give them away. 10 unless you have a reason; 1 shows every count." }),
      threshold),
    warning,
    el("div", { class: "actions" }, previewButton));

  // --- The preview.
  const previewTitle = el("h2", { id: "report-preview-title", class: "screen-only", tabindex: "-1" });
  const staleNote = el("p", { id: "report-stale", class: "warning screen-only", hidden: true, text: "The choices above have changed since this preview: Preview again to see their figures. Print prints this preview." });
  const body = el("div", { class: "reports-body", id: "report-body" });
  const preview = el("section", { id: "report-preview", class: "card wide reports-preview", "aria-labelledby": "report-preview-title", hidden: true },
    previewTitle, staleNote, body);

  // --- Export and print.
  const format = el("select", { id: "report-format" }, FORMATS.map(([v, l]) => el("option", { value: v, text: l, selected: v === start.format })));
  const reason = el("input", { id: "report-reason", maxlength: "300", autocomplete: "off", "aria-describedby": "report-reason-hint", required: true });
  const exportButton = el("button", { type: "submit", id: "report-export-button", text: "Export…" });
  const printButton = el("button", { type: "button", class: "secondary", id: "report-print-button", text: "Print or save as PDF…" });
  const exportForm = el("form", { class: "card", id: "report-export-form", "aria-labelledby": "report-export-title", novalidate: true },
    el("h2", { id: "report-export-title", text: "Export the report" }),
    el("p", { text: "Figures only: no names, codes or dates of birth. You choose where the file goes." }),
    el("div", { class: "field" }, el("label", { for: "report-format", text: "Format" }), format),
    el("div", { class: "field" },
      el("label", { for: "report-reason", text: "Why it is being exported (required)" }),
      el("p", { class: "hint", id: "report-reason-hint", text: "For example: quarterly report to the funder. It is kept in the audit log with your name and the time." }),
      reason),
    el("div", { class: "actions" }, exportButton, printButton));

  // --- Member rows: people named.
  const membersFormat = el("select", { id: "members-format" },
    [["csv", "CSV file"], ["xlsx", "Spreadsheet (XLSX)"]].map(([v, l]) => el("option", { value: v, text: l, selected: v === start.membersFormat })));
  const membersReason = el("input", { id: "members-reason", maxlength: "300", autocomplete: "off", "aria-describedby": "members-warning members-reason-hint", required: true });
  const membersStatus = el("p", { id: "members-status", class: "print-status", role: "status", "aria-live": "polite" });
  const membersForm = el("form", { class: "card members-export", id: "members-export-form", "aria-labelledby": "members-export-title", novalidate: true },
    el("h2", { id: "members-export-title", text: "Member rows (names young people)" }),
    el("p", { id: "members-warning", class: "warning danger-warning" },
      el("strong", { text: "This file names young people. " }),
      "One row per member seen in the period above, with their details. Export it only when you need it for the organisation's own work, keep it somewhere safe, and delete it when done. It is recorded in the audit log with your name and reason."),
    el("div", { class: "field" }, el("label", { for: "members-format", text: "Format" }), membersFormat),
    el("div", { class: "field" },
      el("label", { for: "members-reason", text: "Why these rows are needed (required)" }),
      el("p", { class: "hint", id: "members-reason-hint", text: "For example: checking attendance records with the hub lead." }),
      membersReason),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "danger", id: "members-export-button", text: "Export member rows…" })),
    membersStatus);

  root.append(
    el("p", {}, el("a", { href: "#/day", text: "← Back to the day" })),
    title,
    error,
    el("div", { class: "columns reports-controls" }, form, el("div", {}, exportForm, status)),
    preview,
    membersForm,
  );

  // --- Behaviour.
  let previewed = null; // the choice the preview shows
  const remember = () => {
    remembered = { from: from.value, to: to.value, hub: hub.value, threshold: threshold.value, format: format.value, membersFormat: membersFormat.value };
  };
  const showWarning = () => {
    warning.hidden = String(threshold.value).trim() !== "1";
  };
  showWarning();

  /// The choice in the form, or null (with the field marked) if the threshold is not a number.
  function choice() {
    const t = String(threshold.value).trim();
    if (t !== "" && !/^\d+$/.test(t)) {
      fieldError(root, "report-threshold", "Write a whole number, 1 or more (10 if unsure).");
      return null;
    }
    return { from: from.value, to: to.value, hub: hub.value || null, threshold: t === "" ? null : Number(t) };
  }
  const same = (a, b) => a && b && a.from === b.from && a.to === b.to && a.hub === b.hub && a.threshold === b.threshold;

  function onChoiceChanged() {
    remember();
    showWarning();
    if (previewed) {
      const now = { from: from.value, to: to.value, hub: hub.value || null, threshold: String(threshold.value).trim() === "" ? null : Number(threshold.value) };
      staleNote.hidden = same(now, previewed);
    }
  }
  for (const input of [from, to, hub, threshold]) {
    input.addEventListener("input", onChoiceChanged);
    input.addEventListener("change", onChoiceChanged);
  }
  format.addEventListener("change", remember);
  membersFormat.addEventListener("change", remember);
  for (const b of form.querySelectorAll("[data-from]")) {
    b.addEventListener("click", () => {
      from.value = b.dataset.from;
      to.value = b.dataset.to;
      onChoiceChanged();
      status.textContent = `Period: ${dayInWords(from.value)} to ${dayInWords(to.value)}.`;
    });
  }

  /// Shows a refusal of the core's at its field (focus goes there), or in the error box.
  function refused(err, fields) {
    if (err.kind === "locked") {
      ctx.refresh();
      return;
    }
    const at = fields[err.field];
    if (!(at && fieldError(root, at, err.message))) showError(error, err);
  }

  function clearErrors() {
    clearFieldErrors(root);
    error.textContent = "";
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    const c = choice();
    if (!c) return;
    previewButton.disabled = true;
    status.textContent = "Working out the figures…";
    try {
      const r = await api.reportPreview(c);
      previewed = c;
      const p = r.report;
      previewTitle.textContent = `Preview: ${p.hub}, ${dayInWords(p.period.from)} to ${dayInWords(p.period.to)}`;
      body.replaceChildren(...reportNodes(r.html));
      staleNote.hidden = true;
      preview.hidden = false;
      status.textContent = "";
      previewTitle.focus();
    } catch (err) {
      status.textContent = "";
      refused(err, FIELDS);
    } finally {
      previewButton.disabled = false;
    }
  });

  exportForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    const c = choice();
    if (!c) return;
    exportButton.disabled = true;
    status.textContent = "Making the file…";
    try {
      const r = await api.reportExport(c, format.value, reason.value);
      status.textContent = r.saved ? `Saved as ${r.saved}.` : "Not saved: the save dialog was cancelled.";
    } catch (err) {
      status.textContent = "";
      refused(err, FIELDS);
    } finally {
      exportButton.disabled = false;
    }
  });

  printButton.addEventListener("click", async () => {
    clearErrors();
    if (!previewed || preview.hidden) {
      status.textContent = "Preview the report first: what prints is the preview.";
      previewButton.focus();
      return;
    }
    printButton.disabled = true;
    status.textContent = "Opening the print dialog…";
    try {
      const r = await api.reportPrint(previewed, reason.value);
      status.textContent = {
        printed: "Sent to the printer (or to the file chosen in the print dialog).",
        saved: `Saved as ${r.detail}.`,
        cancelled: "Printing was cancelled: nothing was printed.",
      }[r.outcome] || `Printing did not work (${r.detail}). Export it as a web page instead.`;
    } catch (err) {
      status.textContent = "";
      refused(err, FIELDS);
    } finally {
      printButton.disabled = false;
    }
  });

  membersForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors();
    membersStatus.textContent = "Making the file…";
    try {
      const r = await api.reportExportMembers(from.value, to.value, membersFormat.value, membersReason.value);
      membersStatus.textContent = r.saved ? `Saved as ${r.saved}. It names young people: keep it safe.` : "Not saved: the save dialog was cancelled.";
    } catch (err) {
      membersStatus.textContent = "";
      refused(err, MEMBER_FIELDS);
    }
  });

  title.focus();
}
