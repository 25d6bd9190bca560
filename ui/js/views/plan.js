// Self-care plans: the member page's "Self-care plan" section (for navigators, staff and
// managers), and the plan's own page to print for the member (#/plan/<code>).
//
// A section is saved only when the person says so (its Save button, or Ctrl+Enter in it), with
// the version it was read at: the core writes only what changed since, so words that arrived
// from another laptop meanwhile are kept. Saving redraws only the plan's parts that changed
// hands (the "last changed" line, the steps), never another section someone is typing in.

import { api } from "../api.js";
import { el, errorBox, showError, time, toast, dateInWords, fieldError, clearFieldErrors } from "../dom.js";

const STATUSES = [
  ["not-started", "Not started"],
  ["doing", "Doing it"],
  ["done", "Done"],
  ["set-aside", "Set aside for now"],
];

function when(iso) {
  return `${dateInWords(iso)}, ${time(iso)}`;
}

function updatedLine(plan) {
  if (!plan.started) return "Not started yet: write it with them, in their words.";
  return `Last changed ${when(plan.updated_at)}${plan.updated_by ? ` by ${plan.updated_by}` : ""}.`;
}

function statusSelect(id, label, value) {
  return [
    el("label", { for: id, text: label }),
    el("select", { id }, STATUSES.map(([v, l]) => el("option", { value: v, selected: v === value, text: l }))),
  ];
}

/// The plan section of the member page `m`, or null for roles that may not read plans.
export async function planSection(m, ctx) {
  const user = ctx.status.user;
  if (!user || !user.can_support) return null;
  const error = errorBox("plan-error");
  let plan;
  try {
    plan = await api.showPlan(m.code);
  } catch (err) {
    if (err.kind === "locked") {
      ctx.refresh();
      return null;
    }
    showError(error, err);
    return el("section", { class: "card wide", id: "plan", "aria-labelledby": "plan-title" },
      el("h2", { id: "plan-title", text: "Self-care plan" }), error);
  }
  const updated = el("p", { class: "hint", id: "plan-updated", text: updatedLine(plan) });

  // Each section's form keeps the version its text was read at.
  const forms = plan.sections.map((s) => {
    const id = `plan-${s.section}`;
    const box = el("textarea", { id, name: id, rows: "4", maxlength: "4000", "aria-describedby": `${id}-hint` });
    box.value = s.text;
    const form = el("form", { class: "plan-part", id: `${id}-form`, novalidate: true },
      el("label", { for: id, text: s.heading }),
      el("p", { class: "hint", id: `${id}-hint`, text: "In their words. Ctrl+Enter saves." }),
      box,
      el("button", { type: "submit", class: "secondary", id: `${id}-save`, "aria-label": `Save “${s.heading}”`, text: "Save" }));
    let version = plan.version;
    async function save() {
      clearFieldErrors(form);
      try {
        const saved = await api.editPlanSection(m.code, { section: s.section, text: box.value, version });
        version = saved.version;
        const now = saved.sections.find((x) => x.section === s.section);
        // Words from another laptop merged in: show the whole section as it now stands.
        if (now && now.text !== box.value) box.value = now.text;
        updated.textContent = updatedLine(saved);
        toast(`Saved “${s.heading}”.`);
      } catch (err) {
        if (err.kind === "locked") return ctx.refresh();
        if (!fieldError(form, id, err.message)) showError(error, err);
      }
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      save();
    });
    box.addEventListener("keydown", (e) => {
      if (e.ctrlKey && e.key === "Enter") {
        e.preventDefault();
        save();
      }
    });
    return form;
  });

  const steps = el("ul", { class: "plan-steps", id: "plan-steps" });
  function drawSteps(list) {
    steps.replaceChildren(...(list.length ? list.map((st, i) => {
      const id = `plan-step-${i + 1}`;
      const [label, select] = statusSelect(id, `Status of “${st.text}”`, st.status);
      label.classList.add("visually-hidden");
      select.addEventListener("change", async () => {
        try {
          const saved = await api.setPlanStep(m.code, { step: st.id, status: select.value, text: null });
          updated.textContent = updatedLine(saved);
          toast(`“${st.text}”: ${select.selectedOptions[0].textContent}.`);
        } catch (err) {
          if (err.kind === "locked") return ctx.refresh();
          showError(error, err);
        }
      });
      return el("li", {}, el("span", { class: "step-text", text: st.text }), label, select);
    }) : [el("li", { class: "hint", text: "No steps yet." })]));
  }
  drawSteps(plan.steps);

  const newStep = el("input", { id: "plan-new-step", maxlength: "200" });
  const [newStatusLabel, newStatus] = statusSelect("plan-new-step-status", "Status", "not-started");
  const stepForm = el("form", { class: "plan-step-form", id: "plan-step-form", novalidate: true, "aria-labelledby": "plan-step-form-title" },
    el("h4", { id: "plan-step-form-title", text: "Add a step" }),
    el("div", { class: "field" }, el("label", { for: "plan-new-step", text: "A step they are taking" }), newStep),
    el("div", { class: "field" }, newStatusLabel, newStatus),
    el("button", { type: "submit", class: "secondary", id: "plan-add-step", text: "Add step" }));
  stepForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(stepForm);
    try {
      const saved = await api.addPlanStep(m.code, { text: newStep.value, status: newStatus.value });
      drawSteps(saved.steps);
      updated.textContent = updatedLine(saved);
      toast("Step added.");
      newStep.value = "";
      newStep.focus();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      if (!fieldError(stepForm, "plan-new-step", err.message)) showError(error, err);
    }
  });

  // Earlier versions: a list of saved changes; one opens read-only below it.
  const versionsButton = el("button", { type: "button", class: "secondary", id: "plan-versions-toggle", "aria-expanded": "false", "aria-controls": "plan-versions" }, "Earlier versions");
  const versions = el("div", { id: "plan-versions", hidden: true });
  const versionView = el("section", { id: "plan-version-view", hidden: true, "aria-labelledby": "plan-version-title" });
  async function showVersion(v) {
    try {
      const then = await api.showPlanVersion(m.code, v.version);
      const title = el("h4", { id: "plan-version-title", tabindex: "-1", text: `As it was on ${when(v.at)} (${v.what}, by ${v.by}). Read only.` });
      const close = el("button", { type: "button", class: "secondary", id: "plan-version-close", text: "Close this version" });
      close.addEventListener("click", () => {
        versionView.hidden = true;
        versionView.replaceChildren();
        const back = versions.querySelector(`[data-version="${v.version}"]`);
        if (back) back.focus();
      });
      versionView.replaceChildren(title, planBody(then, "plan-then"), close);
      versionView.hidden = false;
      title.focus();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      showError(error, err);
    }
  }
  versionsButton.addEventListener("click", async () => {
    const open = versions.hidden;
    versionsButton.setAttribute("aria-expanded", String(open));
    versions.hidden = !open;
    if (!open) {
      versionView.hidden = true;
      return;
    }
    try {
      const list = await api.planHistory(m.code);
      versions.replaceChildren(list.length
        ? el("ol", { class: "plan-versions" }, list.map((v) => {
          const b = el("button", { type: "button", class: "link", "data-version": v.version, text: `${when(v.at)}: ${v.what}, by ${v.by}` });
          b.addEventListener("click", () => showVersion(v));
          return el("li", {}, b);
        }))
        : el("p", { text: "No changes saved yet." }));
      const first = versions.querySelector("button");
      if (first) first.focus();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      showError(error, err);
    }
  });

  const print = el("a", { href: `#/plan/${encodeURIComponent(m.code)}`, class: "button secondary", id: "plan-print-link" }, "Print for them");

  return el("section", { class: "card wide", id: "plan", "aria-labelledby": "plan-title" },
    el("h2", { id: "plan-title", text: "Self-care plan" }),
    updated,
    error,
    el("div", { class: "plan-parts" }, forms),
    el("h3", { text: "Steps I'm taking" }),
    steps,
    stepForm,
    el("div", { class: "actions" }, versionsButton, print),
    versions,
    versionView,
    (plan.merged || []).map((other, i) => el("div", { class: "plan-merged", id: `plan-merged-${i}` },
      el("h3", { text: "Also written with them before, on a record since joined to this one (read only)" }),
      other.sections.filter((x) => x.text).map((x) => el("div", {},
        el("h4", { text: x.heading }), el("p", { class: "plan-words", text: x.text }))),
      other.steps.length ? el("ul", {}, other.steps.map((st) => el("li", { text: `${st.status_label}: ${st.text}` }))) : null)));
}

/// A plan's words, read-only: the sections and the steps.
function planBody(plan, idPrefix) {
  return el("div", { class: "plan-body", id: `${idPrefix}-body` },
    plan.sections.flatMap((s) => [
      el("h3", { text: s.heading }),
      s.text ? el("p", { class: "plan-words", text: s.text }) : el("p", { class: "hint", text: "Nothing written yet." }),
    ]),
    el("h3", { text: "Steps I'm taking" }),
    plan.steps.length
      ? el("ul", { class: "plan-print-steps" }, plan.steps.map((st) => el("li", {}, el("strong", { text: `${st.status_label}: ` }), st.text)))
      : el("p", { class: "hint", text: "No steps yet." }));
}

/// The plan's page to print for the member: their name and words, nothing else on paper.
export async function render(root, ctx) {
  const error = errorBox("plan-page-error");
  const code = ctx.arg || "";
  const back = el("a", { href: `#/member/${encodeURIComponent(code)}`, class: "button secondary", id: "plan-page-back", "aria-keyshortcuts": "Escape" }, "Back to the member", el("kbd", { text: "Esc" }));
  let plan;
  try {
    plan = await api.showPlan(code);
  } catch (err) {
    if (err.kind === "locked") return ctx.refresh();
    root.append(el("h1", { text: "Self-care plan" }), error, back);
    return showError(error, err);
  }
  const status = el("p", { id: "plan-print-status", class: "print-status", role: "status" });
  const printButton = el("button", { type: "button", id: "plan-print" }, "Print");
  const pdfButton = el("button", { type: "button", class: "secondary", id: "plan-save-pdf" }, "Save as PDF (no printer)");
  const saveButton = el("button", { type: "button", class: "secondary", id: "plan-save-page" }, "Save as a web page");
  // What became of a print, in words: never assumed printed.
  function said(r) {
    if (r.outcome === "printed") return "Sent to the printer.";
    if (r.outcome === "saved") return `Saved as ${r.detail}. Open it on a laptop with a printer, or give it to them.`;
    if (r.outcome === "cancelled") return "Printing was cancelled: nothing was printed.";
    return `Printing did not work (${r.detail}). Save it as a web page instead.`;
  }
  async function print(how, button) {
    status.textContent = how === api.printPlan ? "Opening the print dialog…" : "Saving…";
    button.disabled = true;
    try {
      status.textContent = said(await how(code));
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      status.textContent = err.message || String(err);
    } finally {
      button.disabled = false;
    }
  }
  printButton.addEventListener("click", () => print(api.printPlan, printButton));
  pdfButton.addEventListener("click", () => print(api.savePlanPdf, pdfButton));
  saveButton.addEventListener("click", async () => {
    status.textContent = "";
    try {
      status.textContent = `Saved as ${await api.savePlanPage(code)}. Open it on a laptop with a printer.`;
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      status.textContent = err.message || String(err);
    }
  });
  root.addEventListener("keydown", (e) => {
    if (e.key === "Escape") ctx.go(`#/member/${encodeURIComponent(code)}`);
  });
  const title = el("h1", { id: "plan-page-title", tabindex: "-1", text: `${plan.preferred_name}'s self-care plan` });
  root.classList.add("plan-page");
  // Element.append writes a null as the text "null": leave it out instead.
  root.append(...[
    el("div", { class: "actions plan-print-actions" }, printButton, pdfButton, saveButton, back),
    status,
    error,
    title,
    plan.updated_at ? el("p", { class: "hint", text: `Last changed ${dateInWords(plan.updated_at)}` }) : null,
    planBody(plan, "plan-page"),
  ].filter(Boolean));
  title.focus();
}
