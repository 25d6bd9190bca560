// Small helpers for building DOM safely: text is always set as text, never as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/// A labelled input: <label for>…</label><input id>, with an optional hint.
export function field(id, label, attrs = {}, hint = null) {
  const hintId = hint ? `${id}-hint` : null;
  return el(
    "div",
    { class: "field" },
    el("label", { for: id, text: label }),
    hint ? el("p", { class: "hint", id: hintId, text: hint }) : null,
    el("input", { id, name: id, "aria-describedby": hintId, ...attrs }),
  );
}

/// An error area that screen readers announce.
export function errorBox(id = "form-error") {
  return el("p", { id, class: "error", role: "alert" });
}

export function showError(box, err) {
  box.textContent = err && err.message ? err.message : String(err);
}

export function time(iso) {
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

export function toast(message) {
  const t = document.getElementById("toast");
  t.textContent = message;
  toast.action = null;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.textContent = ""), 4000);
}

/// A toast with one action, such as Undo: a real button in the toast (Tab reaches it) and a
/// key (`runToastAction`, bound by the screen). The action runs at most once, and the toast
/// stays longer than a plain one so there is time to use it.
export function toastWithAction(message, label, action, key = "Alt+U") {
  const t = document.getElementById("toast");
  let used = false;
  const button = el("button", { type: "button", class: "secondary toast-action", id: "toast-action", "aria-keyshortcuts": key },
    label, el("kbd", { text: key }));
  const run = async () => {
    if (used) return;
    used = true;
    clearTimeout(toast.timer);
    toast.action = null;
    t.textContent = "";
    await action();
  };
  button.addEventListener("click", run);
  t.replaceChildren(el("span", { text: `${message} ` }), button);
  toast.action = run;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    t.textContent = "";
    toast.action = null;
  }, 12000);
}

/// Runs the action of the toast showing, if it has one. True if there was one.
export function runToastAction() {
  if (!toast.action) return false;
  toast.action();
  return true;
}

/// A hub day's date in words: "Tuesday 24 November", with the year when it is not this one.
export function dayInWords(iso) {
  const d = new Date(`${iso}T12:00:00`);
  if (Number.isNaN(d.getTime())) return iso;
  const sameYear = d.getFullYear() === new Date().getFullYear();
  // Built from parts: the en-GB format puts a comma after the weekday ("Tuesday, 24 November").
  const part = (o) => d.toLocaleDateString("en-GB", o);
  return [part({ weekday: "long" }), part({ day: "numeric" }), part({ month: "long" }), sameYear ? null : part({ year: "numeric" })]
    .filter(Boolean).join(" ");
}

/// A birth month as words, "March 2010" ("Mar 2010" with `short`), from "2010-03"; what it was
/// given if that is not a month.
export function monthInWords(month, { short = false } = {}) {
  const d = new Date(`${month}-15T12:00:00`);
  if (!/^\d{4}-\d{2}$/.test(month || "") || Number.isNaN(d.getTime())) return month;
  return d.toLocaleDateString("en-GB", { month: short ? "short" : "long", year: "numeric" });
}

/// A day as "26 November 2026", from a date ("2026-11-26") or a time ("2026-11-26T14:07:00Z").
export function dateInWords(when) {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(when) ? `${when}T12:00:00` : when);
  return Number.isNaN(d.getTime()) ? String(when) : d.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
}

/// Puts `message` under the input with id `inputId`, marks it invalid and moves focus to it.
export function fieldError(form, inputId, message) {
  const input = form.querySelector(`#${inputId}`);
  if (!input) return false;
  const errorId = `${inputId}-error`;
  let box = form.querySelector(`#${errorId}`);
  if (!box) {
    box = el("p", { id: errorId, class: "error field-error" });
    input.insertAdjacentElement("afterend", box);
  }
  box.textContent = message;
  input.setAttribute("aria-invalid", "true");
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(errorId)) input.setAttribute("aria-describedby", [...described, errorId].join(" "));
  input.focus();
  return true;
}

export function clearFieldErrors(form) {
  for (const box of form.querySelectorAll(".field-error")) box.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/// Runs `action`; on success says `message` and redraws the screen, on failure shows why in
/// `box` (or shows the lock screen, if the app locked meanwhile).
export function runner(ctx, box) {
  return async (action, message) => {
    try {
      await action();
      toast(message);
      ctx.refresh();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      showError(box, err);
    }
  };
}

/// Loads what a screen shows; on failure shows why under `title` and returns null.
export async function load(root, ctx, title, box, fetch) {
  try {
    return await fetch();
  } catch (err) {
    if (err.kind === "locked") {
      ctx.refresh();
      return null;
    }
    root.append(el("h1", { text: title }), box);
    showError(box, err);
    return null;
  }
}

/// A sync's progress as a labelled bar: "Receiving records: 12,000 of 50,000". `box` is a
/// polite live region; its text is only replaced when the words change, so a screen reader
/// hears each step once and never the whole list again.
export function showSyncProgress(box, lines) {
  const n = (x) => Number(x || 0).toLocaleString("en-GB");
  const text = lines.map((l) => `${l.what}: ${n(l.done)} of ${n(l.total)}`).join(". ");
  if (box.dataset.text === text) return;
  box.dataset.text = text;
  box.replaceChildren(...lines.map((l, i) => {
    const id = `${box.id}-${i}`;
    return el("div", { class: "sync-progress" },
      el("span", { id, text: `${l.what}: ${n(l.done)} of ${n(l.total)}` }),
      el("progress", { max: String(Math.max(1, l.total)), value: String(Math.min(l.done, l.total)), "aria-labelledby": id }));
  }));
}
