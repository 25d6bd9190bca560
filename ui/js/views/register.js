// Register a member: a short form with plain-word validation, likely duplicates offered while
// typing, and straight back to the day screen with the new member signed in if wanted.

import { api } from "../api.js";
import { el, field, errorBox, showError, toast, fieldError, clearFieldErrors } from "../dom.js";

export async function render(root, ctx) {
  const error = errorBox("register-error");
  const consentOptions = ctx.status.consent_options || [];
  const duplicates = el("div", { id: "duplicates", "aria-live": "polite" });
  let possible = [];

  const form = el(
    "form",
    { class: "card", "aria-labelledby": "register-title", novalidate: true },
    el("h1", { id: "register-title", text: "Register a member" }),
    field("name", "Preferred name", { required: true, autocomplete: "off", maxlength: "80" }, "What they like to be called."),
    field("born", "Born (year and month)", { required: true, inputmode: "numeric", autocomplete: "off", maxlength: "7" }, "Like 2010-04. Members are 11 to 25."),
    field("pronouns", "Pronouns (optional)", { autocomplete: "off", maxlength: "60" }),
    duplicates,
    el(
      "details",
      {},
      el("summary", { text: "More details (optional)" }),
      field("legal-name", "Legal name", { autocomplete: "off", maxlength: "80" }, "Only if different; only staff and managers can see it."),
      field("gender", "Gender, in their words", { autocomplete: "off", maxlength: "60" }),
      field("postcode", "Postcode district", { autocomplete: "off", maxlength: "4" }, "Only the first part, like M14."),
      field("heard", "How they heard about us", { autocomplete: "off" }),
      field("emergency-name", "Emergency contact's name", { autocomplete: "off" }),
      field("emergency-phone", "Emergency contact's phone", { autocomplete: "off", inputmode: "tel" }),
    ),
    el(
      "fieldset",
      {},
      el("legend", { text: `Agreement (version ${ctx.status.current_agreement || "1"})` }),
      el("div", { class: "check" }, el("input", { type: "checkbox", id: "agreed" }), el("label", { for: "agreed", text: "They have read and accepted the member agreement" })),
      consentOptions.map((c) =>
        el("div", { class: "check" }, el("input", { type: "checkbox", id: `consent-${c}`, "data-consent": c }), el("label", { for: `consent-${c}`, text: c.replaceAll("-", " ") })),
      ),
    ),
    el("div", { class: "check" }, el("input", { type: "checkbox", id: "sign-in-now", checked: true }), el("label", { for: "sign-in-now", text: "Sign them in now" })),
    error,
    el("div", { class: "actions" },
      el("button", { type: "submit", id: "register-submit", text: "Register" }),
      el("a", { href: "#/day", class: "button secondary", text: "Cancel" })),
  );
  const v = (id) => form.querySelector(`#${id}`).value;

  async function checkDuplicates() {
    try {
      possible = await api.likelyDuplicates(v("name"), v("legal-name") || null, v("born"));
    } catch {
      possible = [];
    }
    duplicates.replaceChildren(
      ...(possible.length
        ? [
            el("p", { class: "warning", text: "They might already be a member:" }),
            el("ul", { class: "duplicates" }, possible.map((m) =>
              el("li", {}, `Is this ${m.preferred_name}, born ${m.born}, code ${m.code}? `,
                el("button", {
                  type: "button",
                  class: "secondary",
                  text: `Sign in ${m.preferred_name}`,
                  onclick: async () => {
                    try {
                      await api.signIn(m.code, []);
                      toast(`${m.preferred_name} is signed in.`);
                      ctx.go("#/day");
                    } catch (err) {
                      showError(error, err);
                    }
                  },
                })))),
          ]
        : []),
    );
  }
  form.querySelector("#name").addEventListener("input", checkDuplicates);
  form.querySelector("#born").addEventListener("input", checkDuplicates);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    error.textContent = "";
    const agreed = form.querySelector("#agreed").checked;
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
      agreement_version: agreed ? ctx.status.current_agreement || "1" : null,
      consents: agreed ? [...form.querySelectorAll("[data-consent]:checked")].map((c) => c.dataset.consent) : [],
      // The duplicates were shown above; registering now is the desk's explicit choice.
      force: possible.length > 0,
    };
    try {
      const result = await api.register(req);
      if (result.outcome === "possible_duplicates") {
        possible = result.candidates;
        await checkDuplicates();
        showError(error, "They might already be a member (see above). Press Register again to register them as someone new.");
        return;
      }
      const m = result.member;
      if (form.querySelector("#sign-in-now").checked) {
        try {
          await api.signIn(m.code, []);
          toast(`${m.preferred_name} is registered (code ${m.code}) and signed in.`);
        } catch (err) {
          toast(`${m.preferred_name} is registered (code ${m.code}). ${err.message}`);
        }
      } else {
        toast(`${m.preferred_name} is registered (code ${m.code}).`);
      }
      ctx.go("#/day");
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      // The core says which field is wrong: the message goes right under it.
      const fieldId = {
        name: "name", born: "born", pronouns: "pronouns", gender: "gender", legal_name: "legal-name",
        postcode: "postcode", heard_about: "heard", emergency_name: "emergency-name",
        emergency_phone: "emergency-phone", emergency_relationship: "emergency-name", consent: "agreed", consents: "agreed",
      }[err.field];
      if (fieldId && ["legal-name", "postcode", "gender", "heard", "emergency-name", "emergency-phone"].includes(fieldId)) {
        form.querySelector("details").open = true;
      }
      if (!(fieldId && fieldError(form, fieldId, err.message))) showError(error, err);
    }
  });
  root.append(form);
  // From the day screen, Enter on a name nobody has brings that name here (#/register/<name>).
  if (ctx.arg) {
    form.querySelector("#name").value = ctx.arg;
    checkDuplicates();
  }
  form.querySelector("#name").focus();
}
