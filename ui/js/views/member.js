// A member's page: profile (legal name hidden unless the role may see it and the user asks),
// visit history, edit the profile, and (for navigators, staff and managers) the strength-based
// conversations held with them.

import { api } from "../api.js";
import { el, field, errorBox, showError, time, toast, monthInWords, dateInWords, fieldError, clearFieldErrors } from "../dom.js";
import { conflictBox } from "./review.js";
import { raiseSection, speakToStaff } from "./safeguarding.js";
import { planSection } from "./plan.js";
import * as checkIns from "./checkins.js";
import { memberSection as forgetSection } from "./erase.js";

export async function render(root, ctx) {
  const error = errorBox("member-error");
  let m;
  try {
    m = await api.showMember(ctx.arg || "");
  } catch (err) {
    if (err.kind === "locked") return ctx.refresh();
    root.append(el("h1", { text: "Member" }), error, el("a", { href: "#/day", text: "Back to the day" }));
    return showError(error, err);
  }
  // Fields two laptops changed while apart are marked, for those who may settle them.
  let conflicts = [];
  if (ctx.status.user && ctx.status.user.can_review) {
    try {
      conflicts = (await api.listConflicts()).filter((c) => c.member && c.member.id === m.id);
    } catch {
      conflicts = [];
    }
  }
  const conflictBoxes = conflicts.map((c) => conflictBox(c, async (conflict, value) => {
    try {
      await api.resolveConflict(m.code, conflict.field, value);
      toast("Saved; the choice goes to the other laptops.");
      ctx.refresh();
    } catch (err) {
      showError(error, err);
    }
  }));
  const s = m.sensitive;
  const facts = el("dl", { class: "facts" },
    [["Code", m.code], ["Age", String(m.age)], ["Born", monthInWords(m.born)], ["Pronouns", m.pronouns || "—"], ["Gender", m.gender || "—"],
      ["Visits", String(m.visit_count)], ["Member since", dateInWords(m.registered_at)]]
      .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  const sensitive = el("div", { id: "sensitive" });
  if (s) {
    const reveal = el("button", { type: "button", class: "secondary", id: "show-legal", "aria-expanded": "false", text: "Show legal name and contact details" });
    const box = el("dl", { class: "facts", hidden: true, id: "sensitive-details" },
      [["Legal name", s.legal_name || "—"], ["Postcode district", s.postcode_district || "—"],
        ["Emergency contact", s.emergency_contact ? `${s.emergency_contact.name} ${s.emergency_contact.phone || ""}` : "—"],
        ["Agreement", s.agreement ? `version ${s.agreement.version}; ${s.agreement.consents.join(", ") || "no consents"}` : "—"]]
        .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
    reveal.addEventListener("click", () => {
      box.hidden = !box.hidden;
      const editable = document.getElementById("sensitive-edit");
      if (editable) editable.hidden = box.hidden;
      reveal.setAttribute("aria-expanded", String(!box.hidden));
      reveal.textContent = box.hidden ? "Show legal name and contact details" : "Hide legal name and contact details";
    });
    sensitive.append(reveal, box);
  }
  const visits = el("table", { class: "visits" },
    el("caption", { text: "Recent visits" }),
    el("thead", {}, el("tr", {}, ["Date", "Hub", "In", "Out"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, m.recent_visits.length
      ? m.recent_visits.map((v) => el("tr", {}, el("td", { text: v.date ? dateInWords(v.date) : "" }), el("td", { text: v.hub || "" }),
          el("td", { text: time(v.signed_in_at) }),
          el("td", { text: v.signed_out_at ? `${time(v.signed_out_at)}${v.signed_out_at_close ? " (at close)" : ""}` : "still in" })))
      : [el("tr", {}, el("td", { colspan: "4", text: "No visits yet." }))]));
  // Sign-ins the desk undid (the wrong person was signed in): listed apart, under their own
  // heading, so nobody reads them as visits; they count nowhere.
  const withdrawn = (m.withdrawn_visits || []).length
    ? el("table", { class: "visits withdrawn", id: "withdrawn-visits" },
      el("caption", { text: "Sign-ins undone at the desk (withdrawn: not visits, counted nowhere)" }),
      el("thead", {}, el("tr", {}, ["Date", "Hub", "Signed in", "Withdrawn"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, m.withdrawn_visits.map((v) => el("tr", {}, el("td", { text: v.date ? dateInWords(v.date) : "" }), el("td", { text: v.hub || "" }),
        el("td", { text: time(v.signed_in_at) }),
        el("td", { text: `${time(v.withdrawn_at)}${v.withdrawn_by ? ` by ${v.withdrawn_by}` : ""}` })))))
    : null;

  const edit = el("form", { class: "card", "aria-labelledby": "edit-title" },
    el("h2", { id: "edit-title", text: "Edit profile" }),
    field("edit-name", "Preferred name", { value: m.preferred_name, maxlength: "80" }),
    field("edit-pronouns", "Pronouns", { value: m.pronouns || "", maxlength: "60" }),
    field("edit-gender", "Gender", { value: m.gender || "", maxlength: "60" }),
    // Shown only with the details above, so a legal name is never on screen unasked.
    s ? el("div", { id: "sensitive-edit", hidden: true },
      field("edit-legal", "Legal name", { value: s.legal_name || "", maxlength: "80" }),
      field("edit-postcode", "Postcode district", { value: s.postcode_district || "", maxlength: "4" })) : null,
    error,
    el("button", { type: "submit", text: "Save changes" }));
  edit.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = (id) => edit.querySelector(`#${id}`);
    // Only fields that changed are sent, so an edit on another laptop to another field survives.
    const changes = {};
    const put = (key, input, old) => { if (input && input.value !== (old || "")) changes[key] = input.value; };
    put("preferred_name", v("edit-name"), m.preferred_name);
    put("pronouns", v("edit-pronouns"), m.pronouns);
    put("gender", v("edit-gender"), m.gender);
    if (s) {
      put("legal_name", v("edit-legal"), s.legal_name);
      put("postcode_district", v("edit-postcode"), s.postcode_district);
    }
    try {
      await api.updateMember(m.code, changes);
      toast("Saved.");
      ctx.refresh();
    } catch (err) {
      showError(error, err);
    }
  });

  // Only for roles that may read them (the core refuses the others anyway).
  const user = ctx.status.user;
  const conversations = user && user.can_support ? await conversationsSection(m, ctx) : null;
  const plan = await planSection(m, ctx);
  const checkInsSection = await checkIns.section(m, ctx);
  const forget = await forgetSection(m, ctx);

  // Element.append writes a null as the text "null": leave the conflicts out instead.
  root.append(...[
    el("p", {}, el("a", { href: "#/day", text: "← Back to the day" })),
    el("h1", { text: m.preferred_name }),
    speakToStaff(m),
    // Staff and managers: everything held about them, with who can see each part (the core
    // refuses anyone else).
    user && user.can_subject_access
      ? el("p", {}, el("a", { href: `#/held/${encodeURIComponent(m.code)}`, class: "button secondary", id: "held-link" }, "What we hold about them"))
      : null,
    conflictBoxes.length ? el("section", { class: "card wide", "aria-label": "Conflicting changes" }, conflictBoxes) : null,
    el("div", { class: "columns" }, el("section", { class: "card" }, facts, sensitive), edit),
    plan,
    conversations,
    checkInsSection,
    el("section", { class: "card wide" }, visits, withdrawn),
    raiseSection(m, ctx),
    forget,
  ].filter(Boolean));
  root.querySelector("h1").setAttribute("tabindex", "-1");
  root.querySelector("h1").focus();
}

// The parts of a conversation, in the order they are talked through: [key, label, hint].
const PARTS = [
  ["what_matters", "What matters to them", "In their words. Required."],
  ["strengths", "Their strengths", null],
  ["resources", "People and resources they can draw on", null],
  ["choices", "Choices they are weighing", null],
  ["next_steps", "Next steps they chose", null],
];

/// A labelled text area of several lines, like `field` for one line.
function textArea(id, label, hint, attrs = {}) {
  const hintId = hint ? `${id}-hint` : null;
  return el("div", { class: "field" },
    el("label", { for: id, text: label }),
    hint ? el("p", { class: "hint", id: hintId, text: hint }) : null,
    el("textarea", { id, name: id, rows: "3", maxlength: "2000", "aria-describedby": hintId, ...attrs }));
}

/// The member's conversations, newest first, and the form to record one.
async function conversationsSection(m, ctx) {
  const error = errorBox("conversation-error");
  let list = [];
  try {
    list = await api.listConversations(m.code);
  } catch (err) {
    showError(error, err);
  }
  const mayKeepPrivate = Boolean(ctx.status.user && ctx.status.user.can_keep_private);
  const today = ctx.status.today || "";
  const reason = el("div", { id: "conv-reason-box", hidden: true },
    textArea("conv-reason", "Why it is private to staff", "The member can see conversations written with them unless they are private.", { maxlength: "300", rows: "2" }));
  const privateBox = mayKeepPrivate
    ? el("div", { class: "check" },
      el("input", { type: "checkbox", id: "conv-private", "aria-controls": "conv-reason-box" }),
      el("label", { for: "conv-private", text: "Private to staff" }))
    : null;
  const form = el("form", { id: "conversation-form", "aria-labelledby": "conversation-form-title", novalidate: true },
    el("h3", { id: "conversation-form-title", text: "Record a conversation" }),
    PARTS.map(([key, label, hint]) => textArea(`conv-${key.replace("_", "-")}`, label, hint, key === "what_matters" ? { required: true, "aria-required": "true" } : {})),
    field("conv-follow-up", "Follow up on (optional)", { type: "date", min: today }, "From today to a year on. It shows on the day screen when it is due."),
    privateBox,
    mayKeepPrivate ? reason : null,
    error,
    el("button", { type: "submit", text: "Save conversation" }));
  if (privateBox) {
    form.querySelector("#conv-private").addEventListener("change", (e) => {
      reason.hidden = !e.target.checked;
      if (e.target.checked) form.querySelector("#conv-reason").focus();
    });
  }
  // Where the core's field names sit in the form, to put its message beside the right input.
  const inputOf = { what_matters: "conv-what-matters", strengths: "conv-strengths", resources: "conv-resources",
    choices: "conv-choices", next_steps: "conv-next-steps", follow_up: "conv-follow-up", reason: "conv-reason" };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    error.textContent = "";
    const value = (id) => { const input = form.querySelector(`#${id}`); return input ? input.value : ""; };
    const optional = (id) => value(id).trim() === "" ? null : value(id);
    const isPrivate = Boolean(form.querySelector("#conv-private") && form.querySelector("#conv-private").checked);
    const req = {
      what_matters: value("conv-what-matters"),
      strengths: optional("conv-strengths"),
      resources: optional("conv-resources"),
      choices: optional("conv-choices"),
      next_steps: optional("conv-next-steps"),
      follow_up: optional("conv-follow-up"),
      private: isPrivate,
      reason: isPrivate ? optional("conv-reason") : null,
    };
    try {
      await api.addConversation(m.code, req);
      toast("Conversation saved.");
      ctx.refresh();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      if (!(err.field && inputOf[err.field] && fieldError(form, inputOf[err.field], err.message))) showError(error, err);
    }
  });

  const items = list.map((c) => {
    const heading = `${dateInWords(c.at)}, ${time(c.at)}, with ${c.recorded_by}${c.hub ? ` at ${c.hub}` : ""}`;
    const w = c.words;
    const body = w
      ? el("dl", { class: "facts" },
        [...PARTS.map(([key, label]) => [label, w[key]]), ["Follow up on", w.follow_up ? dateInWords(w.follow_up) : null],
          ["Private to staff because", w.private_reason]]
          .filter(([, v]) => v)
          .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { class: "conversation-text", text: v })]))
      : el("p", { class: "hint", text: "Private to staff: speak to a staff member before following up." });
    return el("li", { class: "conversation" },
      el("article", { "aria-label": heading },
        el("h3", {}, heading, c.private ? el("span", { class: "tag", text: " Private to staff" }) : null),
        body));
  });
  return el("section", { class: "card wide", id: "conversations", "aria-labelledby": "conversations-title" },
    el("h2", { id: "conversations-title", text: "Conversations" }),
    el("div", { class: "columns" },
      form,
      el("div", {},
        el("h3", { text: list.length ? `Earlier conversations (${list.length}), newest first` : "Earlier conversations" }),
        list.length ? el("ol", { class: "conversations" }, items) : el("p", { text: "No conversations yet." }))));
}
