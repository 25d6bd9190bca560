// The hand-over check-in: the navigator chose an instrument on the member's page and handed the
// laptop over. The young person answers one question at a time, large and calm, with the
// keyboard (number keys, arrow keys, Enter, Back) or by touch. Nothing else is on the screen:
// no name, no code, no top bar (app.js hides it), so nothing of the member's record shows to
// whoever holds the laptop.
//
// At the end it saves and LOCKS the app: the lock screen, never the member's record. Stop (or
// Escape) at any point saves nothing and locks too: a check-in half answered is not what the
// member chose to give, and the navigator unlocking again can start afresh with them. The
// answers so far live only in this object while it shows.

import { api } from "../api.js";
import { el } from "../dom.js";

let keyHandler = null;

export async function render(root, ctx) {
  const h = ctx.handover;
  const d = h.instrument.definition;
  if (h.step === undefined) {
    h.step = -1; // -1: the start; 0..n-1: the questions; n: the end.
    h.answers = d.items.map(() => null);
  }
  const n = d.items.length;
  const blankAllowed = d.missing.rule !== "require-all";
  const wrap = el("div", { class: "handover" });
  root.append(wrap);

  const stop = () => ctx.finishHandover();
  if (keyHandler) document.removeEventListener("keydown", keyHandler);
  keyHandler = (e) => {
    if (!wrap.isConnected) {
      document.removeEventListener("keydown", keyHandler);
      keyHandler = null;
      return;
    }
    if (e.key === "Escape") {
      e.preventDefault();
      stop();
    } else if (h.step >= 0 && h.step < n && /^[0-9]$/.test(e.key) && !e.ctrlKey && !e.altKey) {
      const v = Number(e.key);
      if (v >= d.response.min && v <= d.response.max) {
        e.preventDefault();
        choose(v);
      }
    }
  };
  document.addEventListener("keydown", keyHandler);

  function go(step) {
    h.step = step;
    draw();
  }

  function choose(v) {
    h.answers[h.step] = v;
    const input = wrap.querySelector(`input[value="${v}"]`);
    if (input) {
      input.checked = true;
      input.focus();
    }
    const next = wrap.querySelector("#handover-next");
    if (next) next.disabled = false;
  }

  const copyright = () => (d.copyright ? el("p", { class: "handover-copyright", text: d.copyright }) : null);
  const stopButton = () => el("button", { type: "button", class: "secondary", id: "handover-stop", text: "Stop", onclick: stop });

  function draw() {
    wrap.replaceChildren();
    // Each screen starts at the top (the member's page may have been scrolled far down).
    window.scrollTo(0, 0);
    if (h.step < 0) {
      wrap.append(
        el("h1", { id: "handover-title", tabindex: "-1", text: "A check-in, just for you" }),
        el("p", { class: "handover-lead", text: `${n} ${n === 1 ? "question" : "questions"}, one at a time. There are no right answers: choose what fits for you.` }),
        el("p", { text: "Use the big buttons, or the number keys and Enter. Back changes an answer." }),
        el("p", { text: "To stop at any time, choose Stop or press Escape: nothing is saved and the laptop locks." }),
        el("div", { class: "handover-actions" },
          stopButton(),
          el("button", { type: "button", id: "handover-start", text: "Start", onclick: () => go(0) })),
        copyright());
      wrap.querySelector("#handover-start").focus();
      return;
    }
    if (h.step >= n) {
      const error = el("p", { class: "error", role: "alert", id: "handover-error" });
      const answered = h.answers.filter((a) => a !== null).length;
      wrap.append(
        el("h1", { id: "handover-title", tabindex: "-1", text: "Thank you" }),
        el("p", { class: "handover-lead", text: `You answered ${answered} of ${n}. Choose Save and lock to keep your answers: the laptop then locks, ready to hand back.` }),
        error,
        el("div", { class: "handover-actions" },
          el("button", { type: "button", class: "secondary", id: "handover-back", text: "Back", onclick: () => go(n - 1) }),
          stopButton(),
          el("button", { type: "button", id: "handover-save", text: "Save and lock", onclick: save })),
        copyright());
      wrap.querySelector("#handover-save").focus();

      async function save() {
        try {
          await api.recordCheckIn(h.member, { instrument: h.instrument.id, answers: h.answers, self_filled: true });
          ctx.finishHandover();
        } catch (err) {
          error.textContent = `${err.message || err} Choose Back to change an answer, or Stop.`;
        }
      }
      return;
    }
    const item = d.items[h.step];
    const question = item.text || item.label;
    const options = [];
    for (let v = d.response.min; v <= d.response.max; v++) {
      const words = (d.response.options || []).find((o) => o.value === v);
      const id = `handover-answer-${v}`;
      options.push(el("div", { class: "handover-option" },
        el("input", { type: "radio", name: "handover-answer", id, value: String(v), checked: h.answers[h.step] === v }),
        el("label", { for: id }, el("span", { class: "handover-value", text: String(v) }), words ? el("span", { class: "handover-words", text: words.label }) : null)));
    }
    const group = el("fieldset", { class: "handover-scale" },
      el("legend", { id: "handover-title", tabindex: "-1" },
        el("span", { class: "handover-progress", text: `Question ${h.step + 1} of ${n}` }),
        el("span", { class: "handover-question", text: question })),
      options);
    group.addEventListener("change", (e) => {
      if (e.target.name === "handover-answer") choose(Number(e.target.value));
    });
    const form = el("form", { class: "handover-form", novalidate: true },
      group,
      el("div", { class: "handover-actions" },
        el("button", { type: "button", class: "secondary", id: "handover-back", text: "Back", onclick: () => go(h.step - 1) }),
        stopButton(),
        blankAllowed ? el("button", { type: "button", class: "secondary", id: "handover-skip", text: "Skip this one", onclick: () => { h.answers[h.step] = null; go(h.step + 1); } }) : null,
        el("button", { type: "submit", id: "handover-next", text: h.step + 1 === n ? "Finish" : "Next", disabled: h.answers[h.step] === null })));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (h.answers[h.step] !== null) go(h.step + 1);
    });
    wrap.append(form, copyright());
    const checked = wrap.querySelector("input:checked");
    (checked || wrap.querySelector("#handover-title")).focus();
  }

  draw();
}
