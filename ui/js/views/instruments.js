// The organisation's outcome instruments (staff and managers): the list, a single scale of
// their own, and a licensed questionnaire's definition imported from the organisation's JSON
// file (docs/instruments.md). The file is chosen with a file picker or its text pasted; either
// way the webview reads the text and the core checks it whole: a file with anything wrong
// imports nothing and says what.

import { api } from "../api.js";
import { el, field, errorBox, showError, toast, fieldError, clearFieldErrors } from "../dom.js";

const OUTCOMES = ["confidence", "self-esteem", "self-efficacy", "agency", "self-care", "wellbeing"];

export async function render(root, ctx) {
  const error = errorBox("instruments-error");
  let list = [];
  try {
    list = await api.listInstruments();
  } catch (err) {
    showError(error, err);
  }
  const mayAdd = Boolean(ctx.status.user && ctx.status.user.can_manage_instruments);
  const range = (i) => (i.scoring === "total" ? `Total ${i.min} to ${i.max}` : i.scoring === "per-goal" ? `Each goal ${i.min} to ${i.max}` : `Each question ${i.min} to ${i.max}`);
  const table = el("table", {},
    el("caption", { class: "hint", text: "Check-ins can use each of these. The organisation's own are kept with a version: a check-in keeps the version it was scored with." }),
    el("thead", {}, el("tr", {}, ["Instrument", "Outcome", "Scores", "Meaningful change", "Where from"].map((t) => el("th", { scope: "col", text: t })))),
    el("tbody", {}, list.map((i) => el("tr", {},
      el("th", { scope: "row", text: i.name }),
      el("td", { text: i.outcome }),
      el("td", { text: range(i) }),
      el("td", { text: String(i.meaningful_change) }),
      el("td", { text: i.built_in ? "Built in" : `The organisation's, version ${i.fingerprint}` })))));

  root.append(
    el("p", {}, el("a", { href: "#/day", text: "← Back to the day" })),
    el("h1", { text: "Instruments", tabindex: "-1" }),
    error,
    el("section", { class: "card wide", "aria-labelledby": "instruments-list-title" },
      el("h2", { id: "instruments-list-title", text: `Instruments (${list.length})` }),
      table),
    mayAdd ? el("div", { class: "columns" }, scaleForm(ctx), importForm(ctx)) : null);
  root.querySelector("h1").focus();
}

function scaleForm(ctx) {
  const error = errorBox("scale-error");
  const form = el("form", { class: "card", id: "scale-form", "aria-labelledby": "scale-title", novalidate: true },
    el("h2", { id: "scale-title", text: "Add a scale of your own" }),
    field("scale-name", "Name", { required: true, maxlength: "80" }, "For example: Confidence"),
    field("scale-min", "Lowest answer", { type: "number", value: "0", min: "0", max: "100" }),
    field("scale-max", "Highest answer", { type: "number", value: "10", min: "1", max: "100" }),
    el("div", { class: "field" },
      el("label", { for: "scale-outcome", text: "What it gives evidence of" }),
      el("select", { id: "scale-outcome" }, OUTCOMES.map((o) => el("option", { value: o, text: o })))),
    field("scale-change", "Meaningful change (optional)", { type: "number", min: "0", step: "0.5" }, "The smallest change that counts. Left empty: a fifth of the range."),
    error,
    el("button", { type: "submit", text: "Add scale" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    error.textContent = "";
    const v = (id) => form.querySelector(`#${id}`).value;
    const req = {
      name: v("scale-name"),
      min: Number(v("scale-min")),
      max: Number(v("scale-max")),
      outcome: v("scale-outcome"),
      meaningful_change: v("scale-change") === "" ? null : Number(v("scale-change")),
    };
    try {
      const added = await api.addScale(req);
      toast(added.already ? `${added.instrument.name} is already there.` : `Added ${added.instrument.name}.`);
      ctx.refresh();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      const at = { name: "scale-name", outcome: "scale-outcome" }[err.field];
      if (!(at && fieldError(form, at, err.message))) showError(error, err);
    }
  });
  return form;
}

function importForm(ctx) {
  const error = errorBox("import-error");
  const file = el("input", { type: "file", id: "import-file", accept: ".json,application/json", "aria-describedby": "import-file-hint" });
  const pasted = el("textarea", { id: "import-text", rows: "6", "aria-describedby": "import-text-hint", spellcheck: "false" });
  const form = el("form", { class: "card", id: "import-form", "aria-labelledby": "import-title", novalidate: true },
    el("h2", { id: "import-title", text: "Import a definition" }),
    el("p", { text: "For a licensed questionnaire your organisation holds: its definition file (JSON, see docs/instruments.md). Nothing is imported unless all of it is right." }),
    el("div", { class: "field" },
      el("label", { for: "import-file", text: "Definition file" }),
      el("p", { class: "hint", id: "import-file-hint", text: "Choose the file, or paste its text below." }),
      file),
    el("div", { class: "field" },
      el("label", { for: "import-text", text: "Or paste the definition" }),
      el("p", { class: "hint", id: "import-text-hint", text: "The whole file, from { to }." }),
      pasted),
    error,
    el("button", { type: "submit", text: "Import" }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    let text = pasted.value;
    if (file.files && file.files.length) {
      try {
        text = await file.files[0].text();
      } catch {
        error.textContent = "The file could not be read; choose it again, or paste its text.";
        return;
      }
    }
    if (text.trim() === "") {
      error.textContent = "Choose a definition file or paste its text first.";
      return;
    }
    try {
      const added = await api.importInstrument(text);
      toast(added.already ? `${added.instrument.name} is already there, exactly as given.`
        : added.restored ? `${added.instrument.name}: that earlier version is the current one again.`
        : `Imported ${added.instrument.name}.`);
      ctx.refresh();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      showError(error, err);
    }
  });
  return form;
}
