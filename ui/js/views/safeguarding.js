// Safeguarding concerns. Anyone raises one from a member's page (`raiseSection`); whoever
// raised it is told only that it was passed on. Staff and managers have the list of concerns
// (`#/concerns`, open ones first) and each concern's page (`#/concerns/<id>`: the young
// person's words, actions, decisions with their reasons, and closing with an outcome). The
// desk sees only the discreet "speak to staff" marker (`speakToStaff`). The core decides who
// may read what and audits every read; this module only mirrors it.

import { api } from "../api.js";
import { el, field, errorBox, showError, time, toast, dateInWords, fieldError, clearFieldErrors } from "../dom.js";

/// The discreet marker on a member with an open concern: words only, never what it is about.
export function speakToStaff(m) {
  return m && m.speak_to_staff ? el("span", { class: "speak-to-staff", text: "Speak to staff" }) : null;
}

/// A labelled text area of several lines, like `field` for one line.
function textArea(id, label, hint, attrs = {}) {
  const hintId = hint ? `${id}-hint` : null;
  return el("div", { class: "field" },
    el("label", { for: id, text: label }),
    hint ? el("p", { class: "hint", id: hintId, text: hint }) : null,
    el("textarea", { id, name: id, rows: "3", maxlength: "2000", "aria-describedby": hintId, ...attrs }));
}

/// The member page's "Raise a safeguarding concern": a button that opens the form, so the
/// form is not on every member page for everyone at the desk to read over a shoulder.
export function raiseSection(m, ctx) {
  const error = errorBox("concern-error");
  const open = el("button", { type: "button", class: "secondary", id: "concern-open", "aria-expanded": "false", "aria-controls": "concern-form", text: "Raise a safeguarding concern" });
  const form = el("form", { id: "concern-form", hidden: true, "aria-labelledby": "concern-form-title", novalidate: true },
    el("h3", { id: "concern-form-title", text: `A safeguarding concern about ${m.preferred_name}` }),
    el("p", { class: "hint", text: "It goes straight to staff. Only staff and managers can read it; you will see that it was passed on." }),
    textArea("concern-words", "What they said, in their own words", "Write their words as they said them, not your summary. Required.", { maxlength: "5000", rows: "5", required: true, "aria-required": "true" }),
    field("concern-when", "When it happened", { type: "datetime-local" }, "Leave empty if it was just now."),
    textArea("concern-present", "Who was present", null, { rows: "2" }),
    textArea("concern-action", "The immediate action you took", "For example: told them you would pass it on to staff today. Required.", { rows: "2", required: true, "aria-required": "true" }),
    error,
    el("div", { class: "actions" },
      el("button", { type: "submit", text: "Pass it on to staff" }),
      el("button", { type: "button", class: "secondary", id: "concern-cancel", text: "Cancel" })));
  const done = el("p", { id: "concern-passed-on", role: "status", tabindex: "-1", hidden: true });
  const toggle = (show) => {
    form.hidden = !show;
    open.setAttribute("aria-expanded", String(show));
    if (show) form.querySelector("#concern-words").focus();
    else open.focus();
  };
  open.addEventListener("click", () => toggle(form.hidden));
  form.querySelector("#concern-cancel").addEventListener("click", () => toggle(false));
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.preventDefault(); toggle(false); }
  });
  const inputOf = { words: "concern-words", when: "concern-when", present: "concern-present", action: "concern-action" };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    error.textContent = "";
    const value = (id) => form.querySelector(`#${id}`).value;
    const optional = (id) => value(id).trim() === "" ? null : value(id);
    const req = {
      words: value("concern-words"),
      action: value("concern-action"),
      present: optional("concern-present"),
      when: optional("concern-when"),
    };
    try {
      const raised = await api.raiseConcern(m.code, req);
      form.reset();
      form.hidden = true;
      open.setAttribute("aria-expanded", "false");
      done.hidden = false;
      done.textContent = `Saved for staff at ${time(raised.raised_at)}: they see it on this laptop now and on the others when it syncs. If it is urgent, tell a staff member in person now. Thank you for raising it.`;
      done.focus();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      if (!(err.field && inputOf[err.field] && fieldError(form, inputOf[err.field], err.message))) showError(error, err);
    }
  });
  return el("section", { class: "card wide", id: "safeguarding", "aria-labelledby": "safeguarding-title" },
    el("h2", { id: "safeguarding-title", text: "Safeguarding" }),
    ctx.status.user && ctx.status.user.can_read_concerns && m.speak_to_staff
      ? el("p", {}, el("a", { href: "#/concerns", text: "Open concerns (staff)" }))
      : null,
    open, done, form);
}

/// Whom a concern is about, for its row: their name and code, or that their record was
/// erased (the safeguarding record is kept for its years; the core says None).
const whom = (member) => (member ? `${member.preferred_name} (${member.code})` : "Member's record erased");
/// The same, inside a sentence ("Concern about …").
const about = (member) => (member ? whom(member) : "a member whose record was erased");

/// `#/concerns` (the list) or `#/concerns/<id>` (one concern).
export async function render(root, ctx) {
  if (ctx.arg) return concernPage(root, ctx, ctx.arg);
  const error = errorBox("concerns-error");
  let list = [];
  try {
    list = await api.listConcerns(false);
  } catch (err) {
    if (err.kind === "locked") return ctx.refresh();
    root.append(el("h1", { text: "Safeguarding concerns" }), error);
    return showError(error, err);
  }
  const reads = Boolean(ctx.status.user && ctx.status.user.can_read_concerns);
  const open = list.filter((c) => c.open === true);
  const rest = list.filter((c) => c.open !== true);
  const row = (c) => el("tr", {},
    el("td", {}, el("a", { href: `#/concerns/${encodeURIComponent(c.id)}`, "aria-label": `Concern about ${about(c.member)} raised ${dateInWords(c.raised_at)}`, text: whom(c.member) })),
    el("td", { text: `${dateInWords(c.raised_at)}, ${time(c.raised_at)}` }),
    el("td", { text: c.raised_by }),
    el("td", { text: c.open === true ? "Open" : c.open === false ? "Closed" : "Passed on to staff" }));
  const table = (caption, rows, id) => el("table", { class: "visits concerns-list", id },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, ["Member", "Raised", "By", "State"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.map(row)));
  root.append(...[
    el("p", {}, el("a", { href: "#/day", text: "← Back to the day" })),
    el("h1", { tabindex: "-1", text: reads ? "Safeguarding concerns" : "Concerns you raised" }),
    error,
    reads
      ? el("section", { class: "card wide", "aria-labelledby": "open-concerns-title" },
        el("h2", { id: "open-concerns-title", text: `Open (${open.length})` }),
        open.length ? table("Open concerns, newest first", open, "open-concerns") : el("p", { text: "No open concerns." }))
      : null,
    el("section", { class: "card wide", "aria-labelledby": "other-concerns-title" },
      el("h2", { id: "other-concerns-title", text: reads ? `Closed (${rest.length})` : `Passed on (${rest.length})` }),
      rest.length ? table(reads ? "Closed concerns, newest first" : "Concerns you raised, newest first", rest, "other-concerns") : el("p", { text: "None." })),
  ].filter(Boolean));
  root.querySelector("h1").focus();
}

/// One concern, for staff and managers: reading it is audited by the core.
async function concernPage(root, ctx, id) {
  const error = errorBox("concern-page-error");
  let c;
  try {
    c = await api.showConcern(id);
  } catch (err) {
    if (err.kind === "locked") return ctx.refresh();
    root.append(el("p", {}, el("a", { href: "#/concerns", text: "← All concerns" })),
      el("h1", { tabindex: "-1", text: "Safeguarding concern" }), error);
    showError(error, err);
    root.querySelector("h1").focus();
    return;
  }
  const when = (iso) => `${dateInWords(iso)}, ${time(iso)}`;
  const facts = el("dl", { class: "facts" },
    [["Raised", `${when(c.raised_at)} by ${c.raised_by}${c.hub ? ` at ${c.hub}` : ""}`],
      ["Happened", when(c.happened_at)],
      ["In their own words", c.words],
      ["Who was present", c.present || "—"],
      ["Immediate action", c.immediate_action]]
      .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { class: "conversation-text", text: v })]));
  const actions = c.actions.length
    ? el("ol", { class: "conversations", id: "concern-actions" }, c.actions.map((a) => el("li", { class: "conversation" },
      el("h3", { text: `${when(a.at)}, ${a.by}` }),
      el("p", { class: "conversation-text", text: a.text }),
      a.decision ? el("dl", { class: "facts" },
        el("dt", { text: "Decision" }), el("dd", { class: "conversation-text", text: a.decision }),
        el("dt", { text: "Because" }), el("dd", { class: "conversation-text", text: a.reason || "" })) : null)))
    : el("p", { text: "No actions recorded yet." });
  const closes = c.closes.map((x) => el("p", { class: "conversation-text" }, el("strong", { text: `Closed ${when(x.at)} by ${x.by}: ` }), x.outcome));
  const forms = c.open ? [actForm(c, ctx), closeForm(c, ctx)] : [];
  if (ctx.status.user && ctx.status.user.can_see_audit) forms.push(await auditSection(c));
  root.append(
    el("p", {}, el("a", { href: "#/concerns", text: "← All concerns" })),
    el("h1", { tabindex: "-1", text: `Concern about ${about(c.member)}` }),
    el("p", { class: c.open ? "tag" : "hint", id: "concern-state", text: c.open ? "Open" : "Closed" }),
    c.reopened ? el("p", { class: "warning", id: "concern-reopened", text: "Open again: an action was recorded after it was closed, on a laptop that had not heard of the close. Look at it and close it again." }) : "",
    error,
    el("div", { class: "columns" },
      el("section", { class: "card", "aria-labelledby": "concern-raised-title" },
        el("h2", { id: "concern-raised-title", text: "What was raised" }), facts),
      el("section", { class: "card", "aria-labelledby": "concern-actions-title" },
        el("h2", { id: "concern-actions-title", text: "Actions and decisions" }), actions, ...closes)),
    ...forms,
  );
  root.querySelector("h1").focus();
}

/// For managers: who raised, read, acted on and closed it on this laptop (the audit log).
async function auditSection(c) {
  const error = errorBox("concern-audit-error");
  let trail = [];
  try {
    trail = await api.concernAudit(c.id);
  } catch (err) {
    showError(error, err);
  }
  return el("section", { class: "card wide", id: "concern-audit", "aria-labelledby": "concern-audit-title" },
    el("h2", { id: "concern-audit-title", text: "Who has seen it on this laptop" }),
    error,
    trail.length
      ? el("ol", { class: "concern-audit" }, trail.map((a) => el("li", { text: `${dateInWords(a.at)}, ${time(a.at)}: ${a.what} by ${a.by}` })))
      : el("p", { text: "Nothing recorded on this laptop." }));
}

function actForm(c, ctx) {
  const error = errorBox("act-error");
  const form = el("form", { class: "card wide", id: "act-form", "aria-labelledby": "act-title", novalidate: true },
    el("h2", { id: "act-title", text: "Record an action" }),
    textArea("act-text", "What was done", "Required.", { required: true, "aria-required": "true" }),
    textArea("act-decision", "A decision made (optional)", "A decision needs its reason.", { rows: "2" }),
    textArea("act-reason", "The reason for the decision", null, { rows: "2" }),
    error,
    el("button", { type: "submit", text: "Save action" }));
  const inputOf = { text: "act-text", decision: "act-decision", reason: "act-reason" };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    error.textContent = "";
    const value = (id) => form.querySelector(`#${id}`).value;
    const optional = (id) => value(id).trim() === "" ? null : value(id);
    try {
      await api.actOnConcern(c.id, { text: value("act-text"), decision: optional("act-decision"), reason: optional("act-reason") });
      toast("Action saved.");
      ctx.refresh();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      if (!(err.field && inputOf[err.field] && fieldError(form, inputOf[err.field], err.message))) showError(error, err);
    }
  });
  return form;
}

function closeForm(c, ctx) {
  const error = errorBox("close-error");
  const form = el("form", { class: "card wide", id: "close-form", "aria-labelledby": "close-title", novalidate: true },
    el("h2", { id: "close-title", text: "Close the concern" }),
    textArea("close-outcome", "Outcome", "What the concern came to. Closing cannot be undone.", { required: true, "aria-required": "true" }),
    error,
    el("button", { type: "submit", class: "danger", text: "Close with this outcome" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    error.textContent = "";
    try {
      await api.closeConcern(c.id, form.querySelector("#close-outcome").value);
      toast("Concern closed.");
      ctx.refresh();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      if (!(err.field === "outcome" && fieldError(form, "close-outcome", err.message))) showError(error, err);
    }
  });
  return form;
}
