// Review after sync (staff and managers): people registered twice, and fields two laptops
// changed while apart. Nothing is merged or chosen without a person deciding.

import { api } from "../api.js";
import { el, errorBox, load, runner } from "../dom.js";
import { openDialog, changeThrough } from "../dialog.js";

const FIELD_NAMES = {
  preferred_name: "Preferred name", legal_name: "Legal name", born: "Born", pronouns: "Pronouns",
  gender: "Gender", postcode_district: "Postcode district", heard_about: "Heard about the hub from",
};

function shown(value) {
  return value === null || value === "" ? "(empty)" : String(value);
}

// The organisation's fields come as "hub:ID:name" or "setting:idle_lock_minutes".
export function fieldName(field) {
  if (FIELD_NAMES[field]) return FIELD_NAMES[field];
  const last = field.split(":").pop().replaceAll("_", " ");
  return last.charAt(0).toUpperCase() + last.slice(1);
}

/// One conflicted field with a button per value kept.
export function conflictBox(c, onChosen) {
  return el("div", { class: "conflict", role: "group", "aria-label": `${fieldName(c.field)} of ${c.subject}: two laptops disagree` },
    el("p", {}, el("strong", { text: fieldName(c.field) }),
      ` was changed on two laptops while they were apart. Now showing “${shown(c.values[0])}”. Which is right?`),
    el("div", { class: "choices" }, c.values.map((v) =>
      el("button", { type: "button", class: "secondary", text: `Keep “${shown(v)}”`,
        onclick: () => onChosen(c, v) }))));
}

export async function render(root, ctx) {
  const error = errorBox("review-error");
  const loaded = await load(root, ctx, "Review", error, () => Promise.all([api.listDuplicates(), api.listConflicts()]));
  if (!loaded) return;
  const [pairs, conflicts] = loaded;
  const run = runner(ctx, error);
  const who = (m) => `${m.preferred_name} (${m.code}, born ${m.born})`;
  const pairRows = pairs.map((p) => el("li", { class: "card" },
    el("p", { text: `${who(p.first)} and ${who(p.second)} look like the same person (likeness ${p.likeness.toFixed(2)}).` }),
    el("div", { class: "choices" },
      el("button", { type: "button", text: `Same person: merge ${p.first.code} and ${p.second.code}`,
        "aria-label": `Same person: merge ${who(p.first)} and ${who(p.second)}`,
        onclick: () => changeThrough(ctx, openDialog({
          title: `Merge ${p.first.code} and ${p.second.code} into one person?`,
          message: `${who(p.first)} and ${who(p.second)} become one person. ${p.first.code}, registered first, leads; both codes find them, their visits count together, and where the two records differ you choose here. Every laptop follows. This can't be undone.`,
          confirm: "Merge",
          danger: true,
          action: () => api.mergeMembers(p.first.code, p.second.code),
        }), "Merged: one person now.") }),
      " ",
      el("button", { type: "button", class: "secondary", text: "Two different people",
        "aria-label": `${who(p.first)} and ${who(p.second)} are two different people`,
        onclick: () => run(() => api.markNotDuplicates(p.first.code, p.second.code), "Noted: they won't be offered as duplicates again.") }))));
  const conflictItems = conflicts.map((c) => el("li", {},
    el("h3", {}, c.member
      ? el("a", { href: `#/member/${encodeURIComponent(c.member.code)}`, text: who(c.member) })
      : `The organisation: ${c.subject}`),
    conflictBox(c, (conflict, value) => run(() => api.resolveConflict(conflict.member ? conflict.member.code : "org", conflict.field, value), "Saved; the choice goes to the other laptops."))));
  root.append(
    el("h1", { text: "Review" }),
    error,
    el("section", { class: "card wide", "aria-labelledby": "dup-title" },
      el("h2", { id: "dup-title", text: "Possibly registered twice" }),
      pairs.length ? el("ul", { class: "plain" }, pairRows) : el("p", { text: "No likely duplicates." })),
    el("section", { class: "card wide", "aria-labelledby": "conflicts-title" },
      el("h2", { id: "conflicts-title", text: "Changed on two laptops at once" }),
      conflicts.length ? el("ul", { class: "plain" }, conflictItems) : el("p", { text: "No conflicts." })),
  );
  root.querySelector("h1").setAttribute("tabindex", "-1");
  root.querySelector("h1").focus();
}
