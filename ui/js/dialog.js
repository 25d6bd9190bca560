// In-page dialogs in place of window.confirm and window.prompt: those are unlabelled browser
// boxes that a screen reader announces poorly, that cannot show why an answer was refused,
// and that look like another program's. A <dialog> opened with showModal() makes the rest of
// the page inert, Escape cancels it, its title labels it, and focus goes back where it was.
//
// The action runs while the dialog is still open, so a refusal ("a PIN is 4 to 8 digits")
// is shown beside the field that caused it and the person can try again.

import { el, toast } from "./dom.js";

let counter = 0;

/// Opens a modal dialog. `content` is extra form content (inputs with labels). `action(form)`
/// runs on confirm; if it throws, its message shows in the dialog, which stays open.
/// Resolves true once the action succeeded (or was confirmed, without one), false when
/// cancelled, and "locked" if the app locked meanwhile.
export function openDialog({ title, message = null, content = [], confirm = "OK", cancel = "Cancel", danger = false, action = null }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const id = `dialog-${++counter}`;
    const error = el("p", { class: "error", role: "alert", id: `${id}-error` });
    const ok = el("button", { type: "submit", class: danger ? "danger" : null, text: confirm });
    const no = el("button", { type: "button", class: "secondary", text: cancel });
    const form = el("form", { novalidate: true },
      el("h2", { id: `${id}-title`, text: title }),
      message ? el("p", { id: `${id}-message`, text: message }) : null,
      content,
      error,
      el("div", { class: "actions" }, ok, no));
    const dialog = el("dialog", { class: "dialog", id, "aria-labelledby": `${id}-title`, "aria-describedby": message ? `${id}-message` : null }, form);
    let result = false;
    let pending = null; // the action in flight, if any

    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (ok.disabled) return;
      if (!action) {
        result = true;
        dialog.close();
        return;
      }
      ok.disabled = true;
      error.textContent = "";
      pending = (async () => {
        try {
          await action(form);
          result = true;
          dialog.close();
        } catch (err) {
          if (err && err.kind === "locked") {
            result = "locked";
            dialog.close();
            return;
          }
          error.textContent = err && err.message ? err.message : String(err);
          ok.disabled = false;
          const input = form.querySelector("input, select");
          (input || ok).focus();
        } finally {
          pending = null;
        }
      })();
    });
    no.addEventListener("click", () => dialog.close());
    // Escape fires "cancel" and then "close"; the cancel button and a finished action "close".
    // If the dialog is closed from outside while its action runs (the app locked, the screen
    // changed), the answer is what the action did, not "cancelled".
    dialog.addEventListener("close", async () => {
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
      if (pending) await pending;
      resolve(result);
    });

    document.body.append(dialog);
    dialog.showModal();
    // The first field if there is one; otherwise the safe choice for something that cannot
    // be undone, and the answer itself for anything else.
    const first = form.querySelector("input, select");
    (first || (danger ? no : ok)).focus();
    if (first && first.select) first.select();
  });
}

/// A yes/no question. Resolves true when confirmed.
export async function confirmDialog(options) {
  return (await openDialog(options)) === true;
}

/// A single labelled text field. `action(value)` runs on confirm.
export function promptDialog({ label, value = "", hint = null, input = {}, action, ...options }) {
  const id = `prompt-${counter + 1}`;
  const hintId = hint ? `${id}-hint` : null;
  const content = el("div", { class: "field" },
    el("label", { for: id, text: label }),
    hint ? el("p", { class: "hint", id: hintId, text: hint }) : null,
    el("input", { id, name: id, value, autocomplete: "off", "aria-describedby": hintId, ...input }));
  return openDialog({ ...options, content, action: (form) => action(form.querySelector(`#${id}`).value) });
}

/// Runs a dialog whose action changes something, then says so and redraws the screen.
export async function changeThrough(ctx, open, message) {
  const done = await open;
  if (done === "locked") return ctx.refresh();
  if (done) {
    toast(message);
    ctx.refresh();
  }
}

/// Closes every open dialog: the app locked or the screen changed under it.
export function closeAllDialogs() {
  for (const d of document.querySelectorAll("dialog[open]")) d.close();
}
