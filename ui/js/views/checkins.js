// The Check-ins section of a member's page (navigators, staff and managers): record a check-in
// with one instrument, or hand the laptop over for the member to fill it in themselves; the
// check-ins newest first; each measure over time as a chart the core drew.

import { api } from "../api.js";
import { el, errorBox, showError, time, toast, dateInWords, fieldError, clearFieldErrors } from "../dom.js";

/// The section, or null when the role may not see check-ins (the core refuses them anyway).
export async function section(m, ctx) {
  const user = ctx.status.user;
  if (!user || !user.can_support) return null;
  const error = errorBox("checkin-error");
  let instruments = [];
  let view = { check_ins: [], measures: [] };
  try {
    [instruments, view] = await Promise.all([api.listInstruments(), api.listCheckIns(m.code)]);
  } catch (err) {
    showError(error, err);
  }

  const choose = el("select", { id: "checkin-instrument", "aria-describedby": "checkin-instrument-hint" },
    el("option", { value: "", text: "Choose an instrument" }),
    instruments.map((i) => el("option", { value: i.id, text: i.name })));
  const answers = el("div", { id: "checkin-answers" });
  const handOver = el("button", { type: "button", class: "secondary", id: "checkin-hand-over", text: "Hand the laptop over", disabled: true });
  const save = el("button", { type: "submit", text: "Save check-in", disabled: true });
  const form = el("form", { id: "checkin-form", "aria-labelledby": "checkin-form-title", novalidate: true },
    el("h3", { id: "checkin-form-title", text: "Record a check-in" }),
    el("div", { class: "field" },
      el("label", { for: "checkin-instrument", text: "Instrument" }),
      el("p", { class: "hint", id: "checkin-instrument-hint", text: "Fill it in together here, or hand the laptop over so they answer on their own: it locks when they finish." }),
      choose),
    answers,
    error,
    el("div", { class: "actions" }, save, handOver));

  const current = () => instruments.find((i) => i.id === choose.value);
  choose.addEventListener("change", () => {
    const i = current();
    answers.replaceChildren(...(i ? answerFields(i) : []));
    save.disabled = !i;
    // The hand-over asks questions; goals are set together, in the member's words, here.
    handOver.disabled = !i || i.scoring === "per-goal";
    clearFieldErrors(form);
    error.textContent = "";
  });
  handOver.addEventListener("click", () => {
    const i = current();
    if (i) ctx.handOver({ member: m.code, instrument: i });
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const i = current();
    if (!i) return;
    clearFieldErrors(form);
    error.textContent = "";
    try {
      await api.recordCheckIn(m.code, readAnswers(form, i));
      toast("Check-in saved.");
      ctx.refresh();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      if (!(err.field === "answers" && fieldError(form, "checkin-instrument", err.message))) showError(error, err);
    }
  });

  const list = view.check_ins.map((c) => {
    const heading = `${dateInWords(c.at)}, ${time(c.at)}: ${c.instrument_name}`;
    return el("li", { class: "check-in" },
      el("article", { "aria-label": heading },
        el("h4", {}, heading),
        el("p", { class: "hint", text: `With ${c.recorded_by}${c.hub ? ` at ${c.hub}` : ""}${c.self_filled ? ". Filled in by the member." : "."}` }),
        el("p", { text: c.summary })));
  });
  const charts = view.measures.map((x) =>
    el("figure", { class: "measure" },
      svgFrom(x.svg),
      el("figcaption", {},
        el("strong", { text: x.title }),
        el("span", { text: `. ${x.description}` }),
        x.change ? el("span", { class: x.change.meaningful ? "meaningful" : "", text: x.change.meaningful ? " Meaningful change." : " Not yet a meaningful change." }) : null)));

  return el("section", { class: "card wide", id: "check-ins", "aria-labelledby": "check-ins-title" },
    el("h2", { id: "check-ins-title", text: "Check-ins" }),
    el("div", { class: "columns" },
      form,
      el("div", {},
        el("h3", { text: view.check_ins.length ? `Earlier check-ins (${view.check_ins.length}), newest first` : "Earlier check-ins" }),
        view.check_ins.length ? el("ol", { class: "check-ins" }, list) : el("p", { text: "No check-ins yet." }))),
    charts.length ? el("div", {},
      el("h3", { text: "Change over time" }),
      el("div", { class: "measures" }, charts)) : null);
}

/// The inputs for one instrument: a choice per question, or up to its most goals.
function answerFields(i) {
  const d = i.definition;
  const blankAllowed = d.missing.rule !== "require-all";
  const choices = (id, label, hint) => {
    const options = [];
    options.push(el("option", { value: "", text: blankAllowed ? "Not answered" : "Choose" }));
    for (let v = d.response.min; v <= d.response.max; v++) {
      const words = (d.response.options || []).find((o) => o.value === v);
      options.push(el("option", { value: String(v), text: words ? `${v}: ${words.label}` : String(v) }));
    }
    return el("div", { class: "field" },
      el("label", { for: id, text: label }),
      hint ? el("p", { class: "hint", id: `${id}-hint`, text: hint }) : null,
      el("select", { id, "aria-describedby": hint ? `${id}-hint` : null }, options));
  };
  if (i.scoring === "per-goal") {
    const most = d.scoring.most_goals || 3;
    const rows = [];
    for (let n = 1; n <= most; n++) {
      rows.push(el("fieldset", { class: "goal" },
        el("legend", { text: `Goal ${n}${n > 1 ? " (optional)" : ""}` }),
        el("div", { class: "field" },
          el("label", { for: `checkin-goal-${n}`, text: "The goal, in their own words" }),
          el("input", { id: `checkin-goal-${n}`, maxlength: "200" })),
        choices(`checkin-goal-score-${n}`, `How close to it, ${d.response.min} to ${d.response.max}`)));
    }
    return rows;
  }
  return d.items.map((item, n) => choices(`checkin-item-${n}`, `${n + 1}. ${item.label}`, item.text && item.text !== item.label ? item.text : null));
}

function readAnswers(form, i) {
  const value = (id) => {
    const input = form.querySelector(`#${id}`);
    return input && input.value !== "" ? Number(input.value) : null;
  };
  if (i.scoring === "per-goal") {
    const goals = [];
    for (let n = 1; n <= (i.definition.scoring.most_goals || 3); n++) {
      const words = form.querySelector(`#checkin-goal-${n}`).value;
      const score = value(`checkin-goal-score-${n}`);
      if (words.trim() === "" && score === null) continue;
      goals.push({ goal: words, score: score === null ? -1 : score });
    }
    return { instrument: i.id, goals };
  }
  return { instrument: i.id, answers: i.definition.items.map((_, n) => value(`checkin-item-${n}`)) };
}

// Elements a chart from the core may hold; anything else is dropped, so the page never shows
// more than a drawing even if a record were damaged.
const SVG_ELEMENTS = new Set(["svg", "title", "desc", "line", "polyline", "circle", "text"]);

/// The core's SVG as a node (parsed as XML, never as HTML).
export function svgFrom(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== "svg") return el("p", { class: "hint", text: "The chart could not be drawn." });
  for (const node of [...svg.querySelectorAll("*")]) {
    if (!SVG_ELEMENTS.has(node.nodeName)) node.remove();
    else for (const a of [...node.attributes]) if (a.name.startsWith("on") || a.name.includes("href")) node.removeAttribute(a.name);
  }
  return document.importNode(svg, true);
}
