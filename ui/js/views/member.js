// A member's page: profile (legal name hidden unless the role may see it and the user asks),
// visit history, edit the profile.

import { api } from "../api.js";
import { el, field, errorBox, showError, time, toast, monthInWords, dateInWords } from "../dom.js";
import { conflictBox } from "./review.js";

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
      ? m.recent_visits.map((v) => el("tr", {}, el("td", { text: v.date || "" }), el("td", { text: v.hub || "" }),
          el("td", { text: time(v.signed_in_at) }),
          el("td", { text: v.signed_out_at ? `${time(v.signed_out_at)}${v.signed_out_at_close ? " (at close)" : ""}` : "still in" })))
      : [el("tr", {}, el("td", { colspan: "4", text: "No visits yet." }))]));
  // Sign-ins the desk undid (the wrong person was signed in): listed apart, under their own
  // heading, so nobody reads them as visits; they count nowhere.
  const withdrawn = (m.withdrawn_visits || []).length
    ? el("table", { class: "visits withdrawn", id: "withdrawn-visits" },
      el("caption", { text: "Sign-ins undone at the desk (withdrawn: not visits, counted nowhere)" }),
      el("thead", {}, el("tr", {}, ["Date", "Hub", "Signed in", "Withdrawn"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, m.withdrawn_visits.map((v) => el("tr", {}, el("td", { text: v.date || "" }), el("td", { text: v.hub || "" }),
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

  // Element.append writes a null as the text "null": leave the conflicts out instead.
  root.append(...[
    el("p", {}, el("a", { href: "#/day", text: "← Back to the day" })),
    el("h1", { text: m.preferred_name }),
    conflictBoxes.length ? el("section", { class: "card wide", "aria-label": "Conflicting changes" }, conflictBoxes) : null,
    el("div", { class: "columns" }, el("section", { class: "card" }, facts, sensitive), edit),
    el("section", { class: "card wide" }, visits, withdrawn),
  ].filter(Boolean));
  root.querySelector("h1").setAttribute("tabindex", "-1");
  root.querySelector("h1").focus();
}
