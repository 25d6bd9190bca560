// Register a member: a short form with plain-word validation, likely duplicates offered while
// typing, and a lasting confirmation of the new code before the desk moves on.
//
// Registering someone who looks like an existing member takes an explicit "None of these,
// register someone new": with matches listed, Enter moves to the list instead of registering
// (the core refuses too, without `force`). The birth month is read by the core, which keeps
// only the month of a full date and says so. The agreement is a yes/no question with no
// answer chosen, and the other consents can only be ticked once it is yes.

import { api } from "../api.js";
import { el, field, errorBox, showError, toast, fieldError, clearFieldErrors, monthInWords } from "../dom.js";

// The organisation's consents are kept as short names; the form asks them as sentences, in
// the member's own voice. A consent the organisation added itself reads as its name.
const CONSENT_SENTENCES = {
  "store-my-details": "Keep my details so the hub knows me when I come back",
  "contact-me-by-text": "Contact me by text message",
  "contact-me-by-email": "Contact me by email",
  "photos": "Take photos of me at the hub and use them",
  "share-anonymous-stories": "Share my story without my name on it",
};

export function consentSentence(option) {
  if (CONSENT_SENTENCES[option]) return CONSENT_SENTENCES[option];
  const words = option.replaceAll(/[-_]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const BORN_HINT = "Month and year, like 03/2010, March 2010 or 2010-03. Members are 11 to 25.";

export async function render(root, ctx) {
  const error = errorBox("register-error");
  const consentOptions = ctx.status.consent_options || [];
  const version = ctx.status.current_agreement || "1";
  // The list itself is not a live region (it would be read again on every keystroke); this
  // line says only how many matches there are, and only when that number changes.
  const matchesStatus = el("p", { id: "duplicates-status", class: "visually-hidden", role: "status" });
  const duplicates = el("div", { id: "duplicates" });
  const bornHint = el("p", { class: "hint", id: "born-hint", text: BORN_HINT });
  let possible = [];
  let checks = 0; // answers to older duplicate checks are dropped

  const bornField = el("div", { class: "field" },
    el("label", { for: "born", text: "Born (month and year)" }),
    bornHint,
    // No maxlength: a cut date ("14/03/2") reads as something nobody typed.
    el("input", { id: "born", name: "born", required: true, autocomplete: "off", "aria-describedby": "born-hint" }));

  const agreementYes = el("input", { type: "radio", name: "agreement", id: "agreement-yes", value: "yes", required: true });
  const agreementNo = el("input", { type: "radio", name: "agreement", id: "agreement-no", value: "no" });
  const consentsHint = el("p", { class: "hint", id: "consents-hint" });
  const consentBoxes = consentOptions.map((c, i) =>
    el("div", { class: "check" },
      el("input", { type: "checkbox", id: `consent-${i}`, "data-consent": c, disabled: true, "aria-describedby": "consents-hint" }),
      el("label", { for: `consent-${i}`, text: consentSentence(c) })));

  const form = el(
    "form",
    { class: "card", id: "register-form", "aria-labelledby": "register-title", novalidate: true },
    el("h1", { id: "register-title", text: "Register a member" }),
    field("name", "Preferred name", { required: true, autocomplete: "off", value: ctx.arg || "" }, "What they like to be called."),
    bornField,
    field("pronouns", "Pronouns (optional)", { autocomplete: "off" }),
    matchesStatus,
    duplicates,
    el(
      "details",
      {},
      el("summary", { text: "More details (optional)" }),
      field("legal-name", "Legal name", { autocomplete: "off" }, "Only if different; only staff and managers can see it."),
      field("gender", "Gender, in their words", { autocomplete: "off" }),
      field("postcode", "Postcode district", { autocomplete: "off" }, "Only the first part, like M14."),
      field("heard", "How they heard about us", { autocomplete: "off" }),
      field("emergency-name", "Emergency contact's name", { autocomplete: "off" }),
      field("emergency-phone", "Emergency contact's phone", { autocomplete: "off", inputmode: "tel" }),
    ),
    el(
      "fieldset",
      { id: "agreement", "aria-describedby": "agreement-error" },
      el("legend", { text: `Have they read and accepted the member agreement (version ${version})?` }),
      el("div", { class: "check" }, agreementYes, el("label", { for: "agreement-yes", text: "Yes, they have accepted it" })),
      el("div", { class: "check" }, agreementNo, el("label", { for: "agreement-no", text: "No, not yet" })),
      el("p", { id: "agreement-error", class: "error field-error" }),
    ),
    consentOptions.length
      ? el("fieldset", { id: "consents" },
          el("legend", { text: "What they agree to" }),
          consentsHint,
          consentBoxes)
      : null,
    el("div", { class: "check" }, el("input", { type: "checkbox", id: "sign-in-now", checked: true }), el("label", { for: "sign-in-now", text: "Sign them in now" })),
    error,
    el("div", { class: "actions" },
      el("button", { type: "submit", id: "register-submit", text: "Register" }),
      el("a", { href: "#/day", class: "button secondary", text: "Cancel" })),
  );
  const v = (id) => form.querySelector(`#${id}`).value;

  // The consents hang on the agreement: disabled (and said so) until it is yes; a "no"
  // unticks them in plain sight rather than dropping them when the form is sent.
  function showConsents() {
    const agreed = agreementYes.checked;
    for (const box of form.querySelectorAll("[data-consent]")) {
      box.disabled = !agreed;
      if (!agreed) box.checked = false;
    }
    consentsHint.textContent = agreed
      ? "Tick what they agree to."
      : "These need the member agreement: answer Yes above first.";
  }
  showConsents();
  for (const r of [agreementYes, agreementNo]) {
    r.addEventListener("change", () => {
      form.querySelector("#agreement-error").textContent = "";
      showConsents();
    });
  }

  // What the core makes of the birth month, said under the field while they type.
  let bornReads = 0;
  async function readBorn() {
    const text = v("born");
    const mine = ++bornReads;
    let hint = BORN_HINT;
    if (text.trim()) {
      try {
        const read = await api.readBirthMonth(text);
        hint = read.note ? `${read.note}.` : `${read.in_words}.`;
      } catch {
        hint = BORN_HINT;
      }
    }
    if (mine === bornReads) bornHint.textContent = hint;
  }

  async function checkDuplicates() {
    const mine = ++checks;
    let found;
    try {
      found = await api.likelyDuplicates(v("name"), v("legal-name") || null, v("born"));
    } catch {
      found = [];
    }
    if (mine !== checks) return possible;
    showPossible(found);
    return possible;
  }

  let shown = "";
  function showPossible(found) {
    possible = found;
    // Drawn again only when the matches change, so focus on one of them stays put.
    const now = possible.map((m) => `${m.code} ${m.why}`).join("|");
    if (now === shown) return;
    shown = now;
    const n = possible.length;
    matchesStatus.textContent = n ? `${n} possible ${n === 1 ? "match" : "matches"} below.` : "";
    duplicates.replaceChildren(
      ...(n
        ? [el("div", { class: "warning duplicates", role: "group", "aria-labelledby": "duplicates-title" },
            el("p", { id: "duplicates-title", text: n === 1 ? "They might already be a member:" : `They might already be a member (${n} look alike):` }),
            el("ul", { class: "plain" }, possible.map((m) =>
              el("li", {},
                el("button", {
                  type: "button",
                  class: "secondary candidate",
                  "data-code": m.code,
                  onclick: () => signInExisting(m),
                }, `Sign in ${m.preferred_name} `, el("span", { class: "code", text: `(${m.code})` })),
                el("span", { class: "meta", text: ` born ${monthInWords(m.born)}${m.pronouns ? `, ${m.pronouns}` : ""}: ${m.why}` })))),
            el("button", { type: "button", id: "register-anyway", class: "secondary", text: "None of these: register someone new", onclick: () => submit(true) }))]
        : []),
    );
  }

  async function signInExisting(m) {
    try {
      await api.signIn(m.code, []);
      toast(`${m.preferred_name} is signed in.`);
      ctx.go("#/day");
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      showError(error, err);
    }
  }

  form.querySelector("#name").addEventListener("input", checkDuplicates);
  form.querySelector("#born").addEventListener("input", () => {
    readBorn();
    checkDuplicates();
  });
  form.querySelector("#legal-name").addEventListener("input", checkDuplicates);

  async function submit(noneOfThese) {
    clearFieldErrors(form);
    error.textContent = "";
    if (!noneOfThese) {
      // Enter right after typing: ask again, so a match still on its way is not missed.
      await checkDuplicates();
      if (possible.length) {
        duplicates.querySelector("button").focus();
        showError(error, "They might already be a member: sign one of them in, or choose “None of these: register someone new”.");
        return;
      }
    }
    if (!agreementYes.checked && !agreementNo.checked) {
      form.querySelector("#agreement-error").textContent = "Say whether they have accepted the member agreement.";
      agreementYes.focus();
      return;
    }
    const agreed = agreementYes.checked;
    const req = {
      profile: {
        preferred_name: v("name"),
        born: v("born"),
        pronouns: v("pronouns") || null,
        legal_name: v("legal-name") || null,
        gender: v("gender") || null,
        postcode_district: v("postcode") || null,
        heard_about: v("heard") || null,
        emergency_name: v("emergency-name") || null,
        emergency_phone: v("emergency-phone") || null,
      },
      agreement_version: agreed ? version : null,
      // Sent as ticked: the core refuses a consent without the agreement rather than drop it.
      consents: [...form.querySelectorAll("[data-consent]:checked")].map((c) => c.dataset.consent),
      force: noneOfThese,
    };
    try {
      const result = await api.register(req);
      if (result.outcome === "possible_duplicates") {
        showPossible(result.candidates);
        duplicates.querySelector("button").focus();
        showError(error, "They might already be a member: sign one of them in, or choose “None of these: register someone new”.");
        return;
      }
      let signedIn = null;
      if (form.querySelector("#sign-in-now").checked) {
        try {
          await api.signIn(result.member.code, []);
          signedIn = true;
        } catch (err) {
          signedIn = err.message;
        }
      }
      confirmation(root, ctx, result, signedIn);
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      // The core says which field is wrong: the message goes right under it.
      const fieldId = {
        name: "name", born: "born", pronouns: "pronouns", gender: "gender", legal_name: "legal-name",
        postcode: "postcode", heard_about: "heard", emergency_name: "emergency-name",
        emergency_phone: "emergency-phone", emergency_relationship: "emergency-name",
      }[err.field];
      if (err.field === "consent" || err.field === "consents") {
        form.querySelector("#agreement-error").textContent = err.message;
        agreementYes.focus();
        return;
      }
      if (fieldId && ["legal-name", "postcode", "gender", "heard", "emergency-name", "emergency-phone"].includes(fieldId)) {
        form.querySelector("details").open = true;
      }
      if (!(fieldId && fieldError(form, fieldId, err.message))) showError(error, err);
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit(false);
  });
  root.append(form);
  const name = form.querySelector("#name");
  name.focus();
  if (name.value) {
    // Came with the name typed on the day screen: the cursor goes after it.
    name.setSelectionRange(name.value.length, name.value.length);
    checkDuplicates();
  }
}

/// What stays on screen after registering, until the desk moves on: who, their new code
/// (to write on a card), whether they are signed in, and what became of the birth date.
function confirmation(root, ctx, result, signedIn) {
  const m = result.member;
  // Focus goes to "Back to the day", described by the code, so a screen reader says both
  // and Enter moves on.
  const back = el("a", { href: "#/day", class: "button", id: "registered-done", "aria-describedby": "registered-title registered-code-line", text: "Back to the day" });
  const panel = el("section", { class: "card registered", "aria-labelledby": "registered-title" },
    el("h1", { id: "registered-title", tabindex: "-1", text: `${m.preferred_name} is registered` }),
    el("p", { class: "new-code", id: "registered-code-line" }, "Their member code is ", el("strong", { class: "code", id: "registered-code", text: m.code }), "."),
    el("p", { text: signedIn === true ? "They are signed in now." : signedIn ? `They are not signed in: ${signedIn}` : "They are not signed in." }),
    result.born_note ? el("p", { text: `${result.born_note}.` }) : null,
    el("div", { class: "actions" },
      back,
      el("a", { href: "#/register", class: "button secondary", id: "register-another", text: "Register someone else",
        onclick: (e) => {
          e.preventDefault();
          // The same address: redraw the empty form.
          if (location.hash === "#/register") ctx.refresh();
          else ctx.go("#/register");
        } })));
  root.replaceChildren(panel);
  back.focus();
}
