// The roll call: a live fire register of everyone in the building now (members, parents and
// visitors, and the anonymous headcount), with a tick box for each person at the assembly
// point. It redraws when anyone signs in or out on any laptop, and keeps the ticks. Printing
// goes through the shell, which says whether it worked; a laptop without a printer saves the
// register as a page instead and is told where.

import { api } from "../api.js";
import { el, errorBox, showError, time, dayInWords } from "../dom.js";

// Who has been ticked at the assembly point, kept while the page redraws. Module state on
// purpose: a sign-in on another laptop redraws the register and must not untick anyone.
const ticked = new Set();
let current = null;

export async function render(root, ctx) {
  const error = errorBox("roll-call-error");
  const title = el("h1", { id: "roll-call-title", tabindex: "-1", text: "Roll call: everyone in the building now" });
  const when = el("p", { id: "roll-call-when", class: "hint" });
  const summary = el("p", { id: "roll-call-summary", class: "roll-summary" });
  const printStatus = el("p", { id: "print-status", class: "print-status", role: "status" });
  const body = el("tbody", { id: "roll-call-body" });
  const table = el(
    "table",
    { class: "roll-call-table", id: "roll-call-table" },
    el("caption", { class: "visually-hidden", text: "Everyone in the building now, with a tick box for the assembly point" }),
    el("thead", {}, el("tr", {}, ["At the assembly point", "Name", "Code or who", "In since", "For"].map((h) => el("th", { scope: "col", text: h })))),
    body,
  );
  const headcountNote = el("p", { id: "roll-call-headcount", class: "warning" });

  const printButton = el("button", { type: "button", id: "print-roll-call", "aria-keyshortcuts": "Control+P" }, "Print", el("kbd", { text: "Ctrl+P" }));
  const pdfButton = el("button", { type: "button", class: "secondary", id: "save-roll-call-pdf" }, "Save as PDF (no printer)");
  const saveButton = el("button", { type: "button", class: "secondary", id: "save-roll-call" }, "Save as a web page");
  const back = el("a", { href: "#/day", class: "button secondary", id: "roll-call-back", "aria-keyshortcuts": "Escape" }, "Back to the day", el("kbd", { text: "Esc" }));

  // What became of a print, in words: a fire register is never assumed printed.
  function said(r) {
    if (r.outcome === "printed") return `Sent to the printer at ${time(new Date().toISOString())}.`;
    if (r.outcome === "saved") return `Saved as ${r.detail}. Open it on a laptop with a printer, or show it on screen.`;
    if (r.outcome === "cancelled") return "Printing was cancelled: nothing was printed.";
    return `Printing did not work (${r.detail}). Save it as a web page instead.`;
  }
  async function print(how, button) {
    printStatus.textContent = how === api.printRollCall ? "Opening the print dialog…" : "Saving…";
    button.disabled = true;
    try {
      printStatus.textContent = said(await how());
    } catch (err) {
      if (err && err.kind === "locked") return ctx.refresh();
      printStatus.textContent = `Printing did not work: ${err.message || err}. Save it as a web page instead.`;
    } finally {
      button.disabled = false;
    }
  }
  async function save() {
    printStatus.textContent = "";
    try {
      const path = await api.saveRollCall();
      printStatus.textContent = said({ outcome: "saved", detail: path });
    } catch (err) {
      if (err && err.kind === "locked") return ctx.refresh();
      printStatus.textContent = err.message || String(err);
    }
  }
  printButton.addEventListener("click", () => print(api.printRollCall, printButton));
  pdfButton.addEventListener("click", () => print(api.saveRollCallPdf, pdfButton));
  saveButton.addEventListener("click", save);

  function tickBox(key, label) {
    const id = `tick-${key}`;
    const box = el("input", { type: "checkbox", id, checked: ticked.has(key) });
    box.addEventListener("change", () => {
      if (box.checked) ticked.add(key);
      else ticked.delete(key);
      count();
    });
    return { box, label: el("label", { for: id, text: label }) };
  }

  let people = 0;
  let headcount = 0;
  function count() {
    const here = [...body.querySelectorAll("input[type=checkbox]")];
    const done = here.filter((b) => b.checked).length;
    summary.textContent = `${done} of ${people} accounted for.` + (headcount ? ` Plus ${headcount} counted without registering: check the space.` : "");
  }

  async function refresh() {
    try {
      const [day, members, contacts] = await Promise.all([api.showDay(), api.whoIsIn(), api.contactsIn()]);
      if (!day || !day.open) {
        when.textContent = "No day is open: nobody is signed in.";
        body.replaceChildren();
        people = 0;
        headcount = 0;
        headcountNote.hidden = true;
        count();
        return;
      }
      when.textContent = `${day.hub}, ${dayInWords(day.date)}. Live: it changes as people sign in and out on any laptop. Last changed ${time(new Date().toISOString())}.`;
      const rows = [
        ...members.map((m) => {
          const t = tickBox(`m-${m.member_id}`, m.preferred_name);
          return el("tr", {}, el("td", { class: "tick" }, t.box), el("td", {}, t.label), el("td", { class: "code", text: m.code }), el("td", { text: m.since_local }), el("td", { text: m.activities.join(", ") }));
        }),
        ...contacts.map((c) => {
          const t = tickBox(`c-${c.contact_id}`, c.name);
          return el("tr", {}, el("td", { class: "tick" }, t.box), el("td", {}, t.label), el("td", { text: c.kind }), el("td", { text: time(c.since) }), el("td", { text: "" }));
        }),
      ];
      // Someone who left is no longer anyone to look for.
      const present = new Set([...members.map((m) => `m-${m.member_id}`), ...contacts.map((c) => `c-${c.contact_id}`)]);
      for (const k of [...ticked]) if (!present.has(k)) ticked.delete(k);
      body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "5", text: "Nobody is signed in." }))]));
      people = rows.length;
      headcount = day.headcount;
      headcountNote.hidden = !headcount;
      headcountNote.textContent = `Also counted today without registering: ${headcount}. They are not signed in or out, so check the space for them.`;
      count();
    } catch (err) {
      if (err && err.kind === "locked") return ctx.refresh();
      showError(error, err);
    }
  }

  root.addEventListener("keydown", (e) => {
    if (document.querySelector("dialog[open]")) return;
    if (e.key === "Escape") {
      e.preventDefault();
      ctx.go("#/day");
    } else if (e.ctrlKey && (e.key === "p" || e.key === "P")) {
      e.preventDefault();
      print(api.printRollCall, printButton);
    }
  });

  root.classList.add("roll-call-page");
  root.append(
    title,
    when,
    el("div", { class: "actions roll-call-actions" }, printButton, pdfButton, saveButton, back),
    printStatus,
    error,
    summary,
    table,
    headcountNote,
  );
  current = refresh;
  await refresh();
  title.focus();
}

export function changed() {
  if (current) current();
}
