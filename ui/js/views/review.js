// Review after sync (staff and managers): people registered twice, and fields two laptops
// changed while apart. Nothing is merged or chosen without a person deciding.

import { api } from "../api.js";
import { el, errorBox, load, runner, monthInWords, dateInWords } from "../dom.js";
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

// Where the desk is in the list of pairs, kept across redraws (a merge, news from another
// laptop) so the page and the filter stay put.
const pairsView = { offset: 0, filter: "", focus: null };
const PAGE = 20;

const who = (m) => `${m.preferred_name} (${m.code}, born ${monthInWords(m.born)})`;

function sentence(text) {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

function visitLine(v) {
  const when = dateInWords(v.date || v.signed_in_at);
  return v.hub ? `${when} at ${v.hub}` : when;
}

/// One record of a pair, as the comparison shows it.
function recordColumn(m, label) {
  const facts = [
    ["Name", m.preferred_name], ["Code", m.code], ["Born", `${monthInWords(m.born)} (age ${m.age})`],
    ["Pronouns", m.pronouns || "not given"], ["Gender", m.gender || "not given"],
    ["Registered", dateInWords(m.registered_at)],
    ["Visits", String(m.visit_count)],
  ];
  if (m.sensitive) {
    facts.push(["Legal name", m.sensitive.legal_name || "not given"], ["Postcode district", m.sensitive.postcode_district || "not given"]);
  }
  return el("section", { "aria-label": `${label}: ${m.preferred_name} (${m.code})` },
    el("h4", { text: `${label}: ${m.preferred_name}` }),
    el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
    el("p", { class: "hint", text: m.recent_visits.length ? "Latest visits:" : "No visits yet." }),
    m.recent_visits.length ? el("ul", {}, m.recent_visits.slice(0, 6).map((v) => el("li", { text: visitLine(v) }))) : null);
}

function pairCard(ctx, p, run, index) {
  const compareId = `compare-${index}`;
  const compareBox = el("div", { id: compareId, hidden: true });
  const compareButton = el("button", { type: "button", class: "secondary", "aria-expanded": "false", "aria-controls": compareId,
    text: "Compare side by side", "aria-label": `Compare side by side: ${who(p.first)} and ${who(p.second)}` });
  compareButton.addEventListener("click", async () => {
    const open = compareButton.getAttribute("aria-expanded") === "true";
    if (open) {
      compareBox.hidden = true;
      compareButton.setAttribute("aria-expanded", "false");
      return;
    }
    compareButton.disabled = true;
    try {
      const [a, b] = await Promise.all([api.showMember(p.first.code), api.showMember(p.second.code)]);
      const merge = el("button", { type: "button", class: "danger", text: `Same person: merge ${p.first.code} and ${p.second.code}…`,
        onclick: () => changeThrough(ctx, openDialog({
          title: `Merge ${p.first.code} and ${p.second.code} into one person?`,
          message: `${who(p.first)} and ${who(p.second)} become one person. ${p.first.code}, registered first, leads; both codes find them, their visits count together, and where the two records differ you choose here. Every laptop follows. This can't be undone.`,
          confirm: `Merge ${p.first.code} and ${p.second.code}`,
          danger: true,
          action: () => api.mergeMembers(p.first.code, p.second.code),
        }), "Merged: one person now.") });
      compareBox.replaceChildren(
        el("div", { class: "compare" }, recordColumn(a, "Registered first"), recordColumn(b, "Registered second")),
        el("div", { class: "merge-careful" },
          el("p", { text: "Merge only if you are sure these are the same young person: check with them if you can." }),
          merge));
      compareBox.hidden = false;
      compareButton.setAttribute("aria-expanded", "true");
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      compareBox.replaceChildren(el("p", { class: "error", text: err.message || String(err) }));
      compareBox.hidden = false;
    } finally {
      compareButton.disabled = false;
    }
  });
  return el("li", { class: "card" },
    el("h3", {}, `${p.first.preferred_name} and ${p.second.preferred_name}`,
      p.at_this_hub ? el("span", { class: "badge", text: "came to this hub" }) : null),
    el("p", { class: "pair-why", text: sentence(p.why) }),
    el("p", { class: "hint", text: `${who(p.first)}, registered first; ${who(p.second)}.` }),
    el("div", { class: "choices" },
      compareButton,
      el("button", { type: "button", class: "secondary", text: "Two different people",
        "aria-label": `${who(p.first)} and ${who(p.second)} are two different people`,
        onclick: () => run(() => api.markNotDuplicates(p.first.code, p.second.code), "Noted: they won't be offered as duplicates again.") })),
    compareBox);
}

function pairsSection(ctx, page, run) {
  const filter = el("input", { id: "dup-filter", type: "search", autocomplete: "off", value: pairsView.filter });
  const showPage = (offset, focus) => {
    pairsView.offset = Math.max(0, offset);
    pairsView.focus = focus;
    ctx.refresh();
  };
  const filterForm = el("form", { class: "review-filter", role: "search", "aria-label": "Filter the pairs" },
    el("div", { class: "field" }, el("label", { for: "dup-filter", text: "Only pairs with this name or code" }), filter),
    el("button", { type: "submit", class: "secondary", text: "Filter" }),
    pairsView.filter ? el("button", { type: "button", class: "secondary", text: "Show all pairs",
      onclick: () => { pairsView.filter = ""; showPage(0, "dup-filter"); } }) : null);
  filterForm.addEventListener("submit", (e) => {
    e.preventDefault();
    pairsView.filter = filter.value.trim();
    showPage(0, "dup-count");
  });
  const first = page.total ? page.offset + 1 : 0;
  const last = page.offset + page.pairs.length;
  const count = page.total
    ? `Pairs ${first.toLocaleString("en-GB")}–${last.toLocaleString("en-GB")} of ${page.total.toLocaleString("en-GB")}${pairsView.filter ? ` with “${pairsView.filter}”` : ""}: those who came to this hub first, then the newest.`
    : pairsView.filter ? `No likely duplicates with “${pairsView.filter}”.` : "No likely duplicates.";
  const prev = el("button", { type: "button", class: "secondary", id: "dup-prev", text: "Previous pairs", disabled: page.offset === 0,
    onclick: () => showPage(page.offset - PAGE, "dup-count") });
  const next = el("button", { type: "button", class: "secondary", id: "dup-next", text: "Next pairs", disabled: last >= page.total,
    onclick: () => showPage(page.offset + PAGE, "dup-count") });
  return el("section", { class: "card wide", "aria-labelledby": "dup-title" },
    el("h2", { id: "dup-title", text: "Possibly registered twice" }),
    filterForm,
    el("p", { id: "dup-count", tabindex: "-1", text: count }),
    page.pairs.length ? el("ul", { class: "plain", id: "dup-pairs" }, page.pairs.map((p, i) => pairCard(ctx, p, run, i))) : null,
    page.total > PAGE ? el("div", { class: "pager" }, prev, next) : null);
}

export async function render(root, ctx) {
  const error = errorBox("review-error");
  const query = () => ({ offset: pairsView.offset, limit: PAGE, filter: pairsView.filter || null });
  const loaded = await load(root, ctx, "Review", error, async () => {
    let [page, conflicts] = await Promise.all([api.listDuplicates(query()), api.listConflicts()]);
    // The last pair of the last page merged: show the page before.
    if (!page.pairs.length && page.total && pairsView.offset > 0) {
      pairsView.offset = Math.max(0, Math.floor((page.total - 1) / PAGE) * PAGE);
      page = await api.listDuplicates(query());
    }
    return [page, conflicts];
  });
  if (!loaded) return;
  const [page, conflicts] = loaded;
  const run = runner(ctx, error);
  const conflictItems = conflicts.map((c) => el("li", {},
    el("h3", {}, c.member
      ? el("a", { href: `#/member/${encodeURIComponent(c.member.code)}`, text: who(c.member) })
      : `The organisation: ${c.subject}`),
    conflictBox(c, (conflict, value) => run(() => api.resolveConflict(conflict.member ? conflict.member.code : "org", conflict.field, value), "Saved; the choice goes to the other laptops."))));
  root.append(
    el("h1", { text: "Review" }),
    error,
    pairsSection(ctx, page, run),
    el("section", { class: "card wide", "aria-labelledby": "conflicts-title" },
      el("h2", { id: "conflicts-title", text: "Changed on two laptops at once" }),
      conflicts.length ? el("ul", { class: "plain" }, conflictItems) : el("p", { text: "No conflicts." })),
  );
  root.querySelector("h1").setAttribute("tabindex", "-1");
  const focus = pairsView.focus && root.querySelector(`#${pairsView.focus}`);
  pairsView.focus = null;
  (focus || root.querySelector("h1")).focus();
}
