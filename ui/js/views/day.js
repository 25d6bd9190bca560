// The day screen, home of the front desk: find as you type and sign in with Enter, who is in
// now, counts, headcount, parents and visitors, open and close the day, and the way to the
// roll call. Everything a busy door needs has a key shown on screen (Alt+H, Alt+P, Alt+R,
// Alt+F, Alt+U, Alt+1..9), and what was just done can be undone from the toast.
//
// Enter always acts on what was typed: it waits for the search of the latest keystroke (a
// barcode scanner types a code and Enter faster than any search answers), and a code is
// resolved by the core even when no search answered.

import { api } from "../api.js";
import { speakToStaff } from "./safeguarding.js";
import { el, errorBox, showError, time, toast, toastWithAction, runToastAction, dayInWords, monthInWords, fieldError, clearFieldErrors } from "../dom.js";
import { openDialog } from "../dialog.js";

let current = null; // what `changed` refreshes

/// Timings for `scripts/measure-ui`, as performance entries (times from performance.now()).
/// Only the latest few thousand are kept, so a long day at the desk does not grow them.
let measured = 0;
function measure(name, start, end = performance.now()) {
  if (++measured > 5000) {
    performance.clearMeasures();
    measured = 0;
  }
  performance.measure(name, { start, end });
}

/// Calls `then` once the page's next paint is done (a message posted from a frame's callback
/// arrives after that frame).
function afterPaint(then) {
  const channel = new MessageChannel();
  channel.port1.onmessage = then;
  channel.port2.postMessage(null);
}

/// The core returns at most this many results (store::FIND_LIMIT); a full list means more exist.
const FIND_LIMIT = 20;

export async function render(root, ctx) {
  const error = errorBox("day-error");
  let day;
  try {
    day = await api.showDay();
  } catch (err) {
    return fail(root, ctx, error, err);
  }
  const hub = ctx.status.hub || "the hub";
  if (!day || !day.open) {
    const open = el("button", { type: "button", id: "open-day", text: "Open today's day" });
    open.addEventListener("click", async () => {
      try {
        await api.openDay();
        ctx.refresh();
      } catch (err) {
        fail(root, ctx, error, err);
      }
    });
    root.append(
      el("h1", { text: `Today at ${hub}` }),
      el("p", {
        id: "closed-day",
        text: day
          ? `The day of ${dayInWords(day.date)} is closed.${day.back_entry ? " It was typed in later from a paper register." : ""}`
          : "No day is open yet.",
      }),
      error,
      open,
    );
    open.focus();
    current = null;
    return;
  }

  // Said once to a screen reader, for changes nothing else announces (a chip toggled by key).
  const announcer = el("p", { id: "day-announce", class: "visually-hidden", "aria-live": "polite" });
  const announce = (text) => {
    announcer.textContent = "";
    // A fresh text node each time, so the same words twice are read twice.
    requestAnimationFrame(() => (announcer.textContent = text));
  };

  let activities = [];
  try {
    activities = (await api.listActivities()).filter((a) => !a.retired);
  } catch (err) {
    showError(error, err);
  }
  const chosen = new Set();
  const chips = el(
    "div",
    { class: "chips", role: "group", "aria-labelledby": "for-label", hidden: activities.length === 0 },
    el("span", { id: "for-label", class: "chips-label", text: "Came for (optional, for the next sign-in):" }),
    activities.slice(0, 9).map((a, i) =>
      el("button", {
        type: "button",
        class: "chip",
        "aria-pressed": "false",
        "aria-keyshortcuts": `Alt+${i + 1}`,
        "data-name": a.name,
        onclick: (e) => toggleChip(e.currentTarget),
      }, a.name, " ", el("kbd", { text: `Alt+${i + 1}` })),
    ),
  );
  function toggleChip(button) {
    const name = button.dataset.name;
    if (chosen.has(name)) chosen.delete(name);
    else chosen.add(name);
    button.setAttribute("aria-pressed", String(chosen.has(name)));
    return chosen.has(name);
  }
  function resetChips() {
    chosen.clear();
    for (const c of chips.querySelectorAll("[aria-pressed]")) c.setAttribute("aria-pressed", "false");
  }

  const search = el("input", {
    id: "search",
    type: "search",
    role: "combobox",
    "aria-controls": "results",
    "aria-expanded": "false",
    "aria-autocomplete": "list",
    "aria-describedby": "search-hint search-status search-error",
    autocomplete: "off",
    spellcheck: "false",
  });
  const searchLabel = el("label", { for: "search", id: "search-label", text: "Name or member code" });
  const searchError = el("p", { id: "search-error", class: "error field-error", role: "alert" });
  const results = el("ul", { id: "results", role: "listbox", "aria-label": "Matching members" });
  const status = el("p", { id: "search-status", class: "hint search-status", "aria-live": "polite" });
  let found = [];
  let foundFor = null; // the text `found` answers
  let active = -1;
  let seq = 0;
  let pending = Promise.resolve();
  // Who is in now, by member id: a result says "in since 14:07" and Enter offers sign-out.
  let hereById = new Map();

  // `scroll`: false when the list is only redrawn for news (someone signed in elsewhere), which
  // must not move the page under the desk's eyes.
  function renderResults({ scroll = true } = {}) {
    results.replaceChildren(
      ...found.map((m, i) => {
        const here = hereById.get(m.id);
        return el(
          "li",
          {
            role: "option",
            id: `result-${i}`,
            class: here ? "result is-in" : "result",
            "aria-selected": String(i === active),
            onclick: () => {
              active = i;
              choose(m);
            },
          },
          el("span", { class: "name" }, m.preferred_name, speakToStaff(m)),
          el("span", { class: "code", text: m.code }),
          el("span", { class: "meta", text: describe(m, hub) }),
          here ? el("span", { class: "badge", text: `in since ${here.since_local}` }) : el("span"),
        );
      }),
    );
    // Which text the list answers (the end-to-end tests wait on it, as a person waits to see).
    results.dataset.for = foundFor === null ? "" : foundFor;
    search.setAttribute("aria-expanded", String(found.length > 0));
    if (active >= 0 && found.length) search.setAttribute("aria-activedescendant", `result-${active}`);
    else search.removeAttribute("aria-activedescendant");
    if (scroll) keepInView();
  }

  // The highlighted row is never off screen: what Enter will do is always in sight. While
  // typing, the box and the first results come into view together (at 200% zoom the first
  // result was below the fold).
  function keepInView() {
    const row = active >= 0 ? document.getElementById(`result-${active}`) : null;
    if (!row) return;
    if (active === 0 && (row.getBoundingClientRect().bottom > window.innerHeight || search.getBoundingClientRect().top < 0)) {
      searchLabel.scrollIntoView({ block: "start" });
    }
    row.scrollIntoView({ block: "nearest" });
  }

  // After a sign-in the list is gone; the box for the next person must be in sight again.
  function searchIntoView() {
    const r = search.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) searchLabel.scrollIntoView({ block: "start" });
  }

  function setStatus(list, text) {
    if (!text.trim()) status.textContent = "";
    else if (list.length >= FIND_LIMIT) status.textContent = `${FIND_LIMIT}+ shown, keep typing to narrow it down.`;
    else if (list.length) status.textContent = `${list.length} found.`;
    else if (looksLikeCode(text)) status.textContent = "Nobody found by that name; Enter looks the code up.";
    else status.textContent = `Nobody found. Enter registers “${text.trim()}” as a new member.`;
  }

  function clearSearch() {
    search.value = "";
    found = [];
    foundFor = null;
    active = -1;
    seq++; // any search still on its way answers nothing now
    pending = Promise.resolve();
    status.textContent = "";
    searchError.textContent = "";
    search.removeAttribute("aria-invalid");
    renderResults();
    searchIntoView();
  }

  function showSearchError(err) {
    if (err && err.kind === "locked") return ctx.refresh();
    showError(searchError, err);
    search.setAttribute("aria-invalid", "true");
  }

  async function runSearch(text, mine) {
    const typedAt = performance.now();
    if (!text.trim()) {
      found = [];
      foundFor = text;
      active = -1;
      setStatus([], "");
      renderResults();
      return;
    }
    try {
      const list = await api.findMembers(text);
      if (mine !== seq) return; // a later keystroke already asked
      const answeredAt = performance.now();
      found = list;
      foundFor = text;
      active = list.length ? 0 : -1;
      setStatus(list, text);
      renderResults();
      const drawnAt = performance.now();
      // Measured in the next frame, the one that paints the results, not when the page's
      // elements are ready; in parts (the core's answer, the page's elements, the wait for
      // the frame); and once that frame is painted.
      requestAnimationFrame(() => {
        measure("keystroke-to-results", typedAt);
        measure("keystroke-to-answer", typedAt, answeredAt);
        measure("answer-to-elements", answeredAt, drawnAt);
        measure("elements-to-frame", drawnAt);
        afterPaint(() => measure("keystroke-to-painted", typedAt));
      });
    } catch (err) {
      if (mine === seq) showSearchError(err);
    }
  }

  search.addEventListener("input", () => {
    searchError.textContent = "";
    search.removeAttribute("aria-invalid");
    pending = runSearch(search.value, ++seq);
  });

  /// Enter: act on what was typed, never on an older list and never on nothing. A second
  /// Enter while the first is still signing someone in is ignored: it would find them in
  /// already and offer to sign them out.
  let acting = false;
  let enterAt = 0; // when the latest Enter was pressed (for timings)
  async function enter() {
    if (acting) return;
    acting = true;
    try {
      await enterNow();
    } finally {
      acting = false;
    }
  }

  async function enterNow() {
    const text = search.value;
    if (!text.trim()) return;
    enterAt = performance.now();
    if (foundFor !== text) await pending;
    if (search.value !== text) return; // typed on meanwhile; the next Enter acts on that
    const code = looksLikeCode(text) ? compact(text) : null;
    const exact = code ? found.find((m) => compact(m.code) === code) : null;
    if (exact) return choose(exact);
    if (code) return signInByCode(text.trim());
    if (foundFor === text && found.length && active >= 0) return choose(found[active]);
    if (foundFor === text && !found.length) return goRegister(text.trim());
  }

  function choose(m) {
    const here = hereById.get(m.id);
    if (here) return offerSignOut(here);
    return signIn(m.code);
  }

  async function signInByCode(code) {
    try {
      await signIn(code, { quiet: true });
    } catch (err) {
      showSearchError(err);
    }
  }

  async function signIn(code, { quiet = false } = {}) {
    const activities = [...chosen];
    let here;
    try {
      here = await api.signIn(code, activities);
    } catch (err) {
      if (err && err.kind === "conflict") {
        // In already (perhaps signed in on another laptop): offer the sign-out instead.
        await refreshLists();
        const entry = [...hereById.values()].find((h) => sameCode(h.code, code));
        if (entry) return offerSignOut(entry);
      }
      if (quiet) throw err;
      return showSearchError(err);
    }
    clearSearch();
    resetChips();
    const forWhat = here.activities.length ? ` for ${here.activities.join(", ")}` : "";
    const due = here.agreement_due ? ` A new agreement (version ${here.agreement_due}) is waiting for them.` : "";
    toastWithAction(`${here.preferred_name} (${here.code}) is signed in${forWhat}.${due}`, "Undo", () => undoSignIn(here));
    // Never in the way: the sign-in is done, the next person can be signed in, and the words
    // wait beside the search until someone has a moment.
    if (here.agreement_due) offerAgreement(here);
    await refreshLists();
    const pressedAt = enterAt;
    enterAt = 0;
    if (pressedAt) requestAnimationFrame(() => measure("sign-in-to-shown", pressedAt));
    search.focus();
  }

  // A member with a newer agreement to accept: its words and Accepted, under the search.
  async function offerAgreement(here) {
    let due;
    try {
      due = await api.agreementDue(here.code);
    } catch {
      return;
    }
    if (!due) return;
    const panel = el("section", { id: "agreement-due", class: "agreement-due", "aria-labelledby": "agreement-due-title" },
      el("h3", { id: "agreement-due-title", text: `New agreement for ${here.preferred_name} (${here.code}): version ${due.version}` }),
      el("p", { class: "hint", text: "They are signed in. When there is a moment, show them the new words and ask whether they agree." }),
      el("details", {}, el("summary", { id: "agreement-show", text: "Show the words" }),
        el("div", { class: "agreement-words", id: "agreement-words", tabindex: "0", role: "document", "aria-label": `Member agreement, version ${due.version}`, text: due.text })));
    const error = el("p", { class: "error", id: "agreement-error", role: "alert" });
    const accepted = el("button", { type: "button", id: "agreement-accepted", text: `Accepted (version ${due.version})` });
    const later = el("button", { type: "button", class: "secondary", id: "agreement-later", text: "Not now" });
    const close = () => {
      panel.remove();
      search.focus({ preventScroll: true });
    };
    accepted.addEventListener("click", async () => {
      try {
        const done = await api.acceptAgreement(here.code, due.version);
        close();
        toast(`Recorded: ${done.preferred_name} accepted version ${done.version} of the agreement.`);
      } catch (err) {
        if (err && err.kind === "locked") return ctx.refresh();
        showError(error, err);
      }
    });
    later.addEventListener("click", close);
    panel.append(error, el("div", { class: "actions" }, accepted, later));
    const old = document.getElementById("agreement-due");
    if (old) old.replaceWith(panel);
    else results.after(panel);
  }

  // The wrong person was signed in: Undo withdraws that visit (the core keeps it in the
  // record's history, and it counts nowhere: not today's visits, not their last visit).
  async function undoSignIn(here) {
    try {
      const done = await api.withdrawSignIn(here.code, here.visit || null);
      toast(`Undone: ${done.preferred_name}'s sign-in is withdrawn; it counts nowhere.`);
      await refreshLists();
    } catch (err) {
      showSearchError(err);
    }
    search.focus({ preventScroll: true });
  }

  async function offerSignOut(entry) {
    let out = null; // what the sign-out answered: the visit its Undo reopens
    const done = await openDialog({
      title: `${entry.preferred_name} is already in`,
      message: `${entry.preferred_name} (${entry.code}) has been in since ${entry.since_local}. Sign them out?`,
      confirm: "Sign out",
      cancel: "Keep them in",
      action: async () => {
        out = await api.signOut(entry.code);
      },
    });
    if (done === "locked") return ctx.refresh();
    if (done === true) {
      clearSearch();
      resetChips();
      signedOut(entry, out);
      await refreshLists();
    }
    search.focus();
  }

  // Undo reopens the visit the sign-out ended: one afternoon stays one visit.
  function signedOut(entry, out) {
    const visit = (out && out.visit) || null;
    toastWithAction(`${entry.preferred_name} (${entry.code}) is signed out.`, "Undo", async () => {
      try {
        const back = await api.reopenSignOut(entry.code, visit);
        toast(`Undone: ${back.preferred_name} is back in, on the same visit since ${back.since_local}.`);
        await refreshLists();
      } catch (err) {
        showError(whoError, err);
      }
      search.focus({ preventScroll: true });
    });
  }

  function goRegister(name) {
    ctx.go(name ? `#/register/${encodeURIComponent(name)}` : "#/register");
  }

  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && found.length) {
      e.preventDefault();
      active = (active + 1) % found.length;
      renderResults();
    } else if (e.key === "ArrowUp" && found.length) {
      e.preventDefault();
      active = (active - 1 + found.length) % found.length;
      renderResults();
    } else if (e.key === "Enter") {
      e.preventDefault();
      enter();
    } else if (e.key === "Escape") {
      e.preventDefault();
      clearSearch();
      resetChips();
    }
  });

  const counts = el("dl", { class: "counts", id: "counts" });
  const whoError = el("p", { id: "who-error", class: "error", role: "alert" });
  const hereBody = el("tbody");
  const hereTable = el(
    "table",
    { class: "here", id: "who-is-in", tabindex: "-1" },
    el("caption", { text: "Who is in now" }),
    el("thead", {}, el("tr", {}, ["Name", "Code", "Since", "For", "Sign out"].map((h) => el("th", { scope: "col", text: h })))),
    hereBody,
  );
  const contactsError = el("p", { id: "contacts-error", class: "error", role: "alert" });
  const contactsList = el("ul", { class: "contacts-in", id: "contacts-in", "aria-label": "Parents, visitors and professionals in now" });

  async function refreshLists() {
    // A redraw keeps the keyboard where it was: the same Sign out button, if it is still there.
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    try {
      const [d, here, contacts] = await Promise.all([api.showDay(), api.whoIsIn(), api.contactsIn()]);
      // Nor does a redraw move the page: replacing a list while the button that had the
      // keyboard goes with it let WebKit scroll the page (seen in CI, 719 px to 330).
      const y = window.scrollY;
      const stay = () => {
        if (window.scrollY !== y) window.scrollTo(0, y);
      };
      requestAnimationFrame(stay);
      notes.replaceChildren(...dayNotes(d));
      hereById = new Map(here.map((h) => [h.member_id, h]));
      renderResults({ scroll: false });
      const when = d.back_entry ? "that day" : "today";
      counts.replaceChildren(
        ...[
          ["In now", d.signed_in],
          [`Visits ${when}`, d.visits],
          [`New ${when}`, d.new_members],
          ["Headcount", d.headcount],
          ["Parents and visitors", d.contacts],
          ["Parents told about the parent network", d.parent_signposts],
        ].map(([k, v]) => el("div", { class: "count" }, el("dt", { text: k }), el("dd", { text: String(v) }))),
      );
      hereBody.replaceChildren(
        ...(here.length
          ? here.map((h) =>
              el(
                "tr",
                {},
                el("td", {}, el("a", { href: `#/member/${encodeURIComponent(h.code)}`, text: h.preferred_name }), speakToStaff(h)),
                el("td", { class: "code", text: h.code }),
                el("td", { text: h.since_local }),
                el("td", { text: h.activities.join(", ") }),
                el("td", {}, el("button", {
                  type: "button",
                  class: "secondary",
                  text: "Sign out",
                  "data-key": `member-${h.code}`,
                  // Two Jamie Kellys in at once are two different buttons to a screen reader.
                  "aria-label": `Sign out ${h.preferred_name}, ${h.code}`,
                  onclick: (e) => signOutFromTable(h, e.currentTarget),
                })),
              ),
            )
          : [el("tr", {}, el("td", { colspan: "5", text: "Nobody is signed in yet." }))]),
      );
      contactsList.replaceChildren(
        ...contacts.map((c) =>
          el(
            "li",
            {},
            `${c.name} (${c.kind}) since ${time(c.since)}${c.signposted ? ", told about the parent network" : ""} `,
            c.kind === "parent" && !c.signposted
              ? el("button", {
                  type: "button",
                  class: "secondary",
                  text: "Told about the parent network",
                  "data-key": `signpost-${c.contact_id}`,
                  "aria-label": `${c.name} was told about the parent network`,
                  onclick: async (e) => {
                    contactsError.textContent = "";
                    const next = neighbour(e.currentTarget, contactsList);
                    try {
                      await api.signpostContact(c.contact_id);
                      toast(`${c.name} was told about the parent network.`);
                      await refreshLists();
                      refocus(next, contactsList);
                    } catch (err) {
                      if (err && err.kind === "locked") return ctx.refresh();
                      showError(contactsError, err);
                    }
                  },
                })
              : "",
            el("button", {
              type: "button",
              class: "secondary",
              text: "Sign out",
              "data-key": `contact-${c.contact_id}`,
              "aria-label": `Sign out ${c.name} (${c.kind}, in since ${time(c.since)})`,
              onclick: async (e) => {
                contactsError.textContent = "";
                const next = neighbour(e.currentTarget, contactsList);
                try {
                  await api.signOutContact(c.contact_id);
                  toast(`${c.name} (${c.kind}) is signed out.`);
                  await refreshLists();
                  refocus(next, contactsList);
                } catch (err) {
                  if (err && err.kind === "locked") return ctx.refresh();
                  showError(contactsError, err);
                }
              },
            }),
          ),
        ),
      );
      if (focused && (!document.activeElement || document.activeElement === document.body)) {
        const again = root.querySelector(`[data-key="${CSS.escape(focused)}"]`);
        if (again) again.focus({ preventScroll: true });
      }
      stay();
    } catch (err) {
      fail(root, ctx, error, err);
    }
  }

  // Signing out from the table keeps the page where it is and the keyboard on the next
  // Sign out button (it used to jump back up to the search box).
  async function signOutFromTable(h, button) {
    whoError.textContent = "";
    const next = neighbour(button, hereBody);
    try {
      const out = await api.signOut(h.code);
      signedOut(h, out);
      await refreshLists();
      refocus(next, hereTable);
    } catch (err) {
      if (err && err.kind === "locked") return ctx.refresh();
      showError(whoError, err);
    }
  }

  const headcountError = el("p", { id: "headcount-error", class: "error", role: "alert" });
  const plusOne = el("button", { type: "button", id: "headcount-plus", class: "secondary", "aria-keyshortcuts": "Alt+H" },
    "+1 headcount", el("kbd", { text: "Alt+H" }));
  async function addHeadcount() {
    headcountError.textContent = "";
    try {
      const d = await api.addHeadcount(1);
      toastWithAction(`Headcount is now ${d.headcount}.`, "Undo", async () => {
        try {
          const back = await api.addHeadcount(-1);
          toast(`Undone: the headcount is back to ${back.headcount}.`);
          await refreshLists();
        } catch (err) {
          if (err && err.kind === "locked") return ctx.refresh();
          showError(headcountError, err);
        }
      });
      await refreshLists();
    } catch (err) {
      if (err && err.kind === "locked") return ctx.refresh();
      showError(headcountError, err);
    }
  }
  plusOne.addEventListener("click", addHeadcount);

  const contactForm = el(
    "form",
    { class: "inline-form", id: "contact-form", "aria-labelledby": "contact-title", novalidate: true },
    el("h2", { id: "contact-title" }, "Parent, visitor or professional ", el("kbd", { text: "Alt+P" })),
    el("div", { class: "field" }, el("label", { for: "contact-name", text: "Name" }),
      el("input", { id: "contact-name", required: true, autocomplete: "off", "aria-keyshortcuts": "Alt+P" })),
    el("div", { class: "field" }, el("label", { for: "contact-kind", text: "Who" }),
      el("select", { id: "contact-kind" }, ["parent", "visitor", "professional"].map((k) => el("option", { value: k, text: k })))),
    el("div", { class: "check" }, el("input", { id: "contact-signposted", type: "checkbox" }),
      el("label", { for: "contact-signposted", text: "Told about the parent network" })),
    contactsError,
    el("button", { type: "submit", class: "secondary", id: "contact-submit", text: "Sign in" }),
  );
  contactForm.addEventListener("input", () => {
    clearFieldErrors(contactForm);
    contactsError.textContent = "";
  });
  contactForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(contactForm);
    contactsError.textContent = "";
    try {
      const kind = contactForm.querySelector("#contact-kind").value;
      const c = await api.signInContact({
        kind,
        name: contactForm.querySelector("#contact-name").value,
        signposted: kind === "parent" && contactForm.querySelector("#contact-signposted").checked,
      });
      contactForm.reset();
      toastWithAction(`${c.name} (${c.kind}) is signed in.`, "Undo", async () => {
        try {
          await api.signOutContact(c.contact_id);
          toast(`Undone: ${c.name} is signed out again.`);
          await refreshLists();
        } catch (err) {
          if (err && err.kind === "locked") return ctx.refresh();
          showError(contactsError, err);
        }
      });
      await refreshLists();
      search.focus();
    } catch (err) {
      if (err && err.kind === "locked") return ctx.refresh();
      if (!(err.field === "name" && fieldError(contactForm, "contact-name", err.message))) showError(contactsError, err);
    }
  });

  const rollCallLink = el("a", { href: "#/roll-call", class: "button secondary", id: "roll-call-link", "aria-keyshortcuts": "Alt+F" },
    "Roll call (fire register)", el("kbd", { text: "Alt+F" }));
  const closeButton = el("button", { type: "button", class: "danger", id: "close-day", text: "Close the day" });
  closeButton.addEventListener("click", async () => {
    const closed = await openDialog({
      title: "Close the day?",
      message: "Anyone still in will be signed out.",
      confirm: "Close the day",
      danger: true,
      action: () => api.closeDay(),
    });
    if (closed) ctx.refresh();
  });

  // The keys of a busy door. Alt with a letter, so typing a name never triggers one.
  root.addEventListener("keydown", (e) => {
    if (!e.altKey || e.ctrlKey || e.metaKey || document.querySelector("dialog[open]")) return;
    const key = e.key.toLowerCase();
    if (/^[1-9]$/.test(key)) {
      const chip = chips.querySelectorAll(".chip")[Number(key) - 1];
      if (!chip) return;
      e.preventDefault();
      const on = toggleChip(chip);
      announce(`${chip.dataset.name}: ${on ? "chosen" : "not chosen"} for the next sign-in.`);
    } else if (key === "h") {
      e.preventDefault();
      addHeadcount();
    } else if (key === "p") {
      e.preventDefault();
      const name = contactForm.querySelector("#contact-name");
      name.focus({ preventScroll: true });
      name.scrollIntoView({ block: "nearest" });
    } else if (key === "r") {
      e.preventDefault();
      goRegister(search.value.trim());
    } else if (key === "f") {
      e.preventDefault();
      ctx.go("#/roll-call");
    } else if (key === "u") {
      e.preventDefault();
      runToastAction();
    }
  });

  const shortcuts = el(
    "p",
    { class: "shortcuts", id: "shortcuts" },
    "Keys: ",
    ...[
      ["Enter", "sign in (or out, if in)"],
      ["Esc", "clear"],
      ["Alt+H", "+1 headcount"],
      ["Alt+P", "parent or visitor"],
      ["Alt+R", "register"],
      ["Alt+F", "roll call"],
      ["Alt+U", "undo"],
    ].flatMap(([k, what], i) => [i ? " · " : "", el("kbd", { text: k }), ` ${what}`]),
  );

  // A back-entry day says so wherever the desk looks: the title, a note, the counts.
  const notes = el("div", { class: "day-notes" }, ...dayNotes(day));
  const followUps = ctx.status.user && ctx.status.user.can_support ? await followUpsCard() : null;
  root.append(
    el("h1", { text: dayTitle(day, hub, ctx.status.today) }),
    notes,
    error,
    announcer,
    el(
      "div",
      { class: "day-grid" },
      el(
        "section",
        { class: "card find", "aria-labelledby": "find-title" },
        el("h2", { id: "find-title", text: "Find and sign in" }),
        searchLabel,
        el("p", { id: "search-hint", class: "hint", text: "Part of a name or a code. ↑ ↓ to choose, Enter to sign in." }),
        search,
        searchError,
        status,
        results,
        chips,
        shortcuts,
        el("p", {}, el("a", { href: "#/register", id: "register-link", "aria-keyshortcuts": "Alt+R" }, "Register someone new", el("kbd", { text: "Alt+R" }))),
      ),
      el(
        "section",
        { class: "card", "aria-labelledby": "counts-title" },
        el("h2", { id: "counts-title", text: day.back_entry ? `${dayInWords(day.date)} so far` : "Today so far" }),
        counts,
        plusOne,
        headcountError,
      ),
      el("section", { class: "card wide" }, hereTable, whoError),
      el("section", { class: "card" }, contactForm, contactsList),
      el("section", { class: "card", "aria-label": "The day" }, rollCallLink, " ", closeButton),
      followUps,
    ),
  );
  current = refreshLists;
  await refreshLists();
  search.focus();
}

/// Navigators' and staff's follow-ups due at this hub (from conversations): each member links to
/// their page. Names and codes only, as on the rest of the day screen.
async function followUpsCard() {
  const box = errorBox("follow-ups-error");
  let due = [];
  try {
    due = await api.followUpsDue();
  } catch (err) {
    showError(box, err);
  }
  return el("section", { class: "card", id: "follow-ups", "aria-labelledby": "follow-ups-title" },
    el("h2", { id: "follow-ups-title", text: "Follow-ups due" }),
    due.length
      ? el("ul", { class: "follow-ups" }, due.map((f) => el("li", {},
        el("a", { href: `#/member/${encodeURIComponent(f.member.code)}`, text: `${f.member.preferred_name} (${f.member.code})` }),
        ` ${f.overdue ? `was due ${dayInWords(f.due)}` : "due today"}${f.private ? ", private to staff" : ""}`)))
      : el("p", { text: "No follow-ups due today." }),
    box);
}

/// What tells two people with the same name apart, in words: age, pronouns, birth month, and
/// when they were last in.
/// What tells a result apart from others of the same name: age, pronouns, birth month, and
/// the last visit, with its hub when that was another hub than this one.
function describe(m, thisHub) {
  const where = m.last_hub && m.last_hub !== thisHub ? ` at ${m.last_hub}` : "";
  return [
    m.age ? `age ${m.age}` : null,
    m.pronouns,
    m.born ? `born ${monthInWords(m.born, { short: true })}` : null,
    m.last_seen ? `last in ${lastIn(m.last_seen)}${where}` : "never in yet",
  ].filter(Boolean).join(" · ");
}

function lastIn(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return `today ${time(iso)}`;
  const sameYear = d.getFullYear() === today.getFullYear();
  return d.toLocaleDateString("en-GB", { day: "numeric", month: "short", ...(sameYear ? {} : { year: "numeric" }) });
}

/// A member code as typed or scanned: seven letters and digits, with or without the dash, at
/// least one a digit (a seven-letter name is not a code).
function looksLikeCode(text) {
  const c = compact(text);
  return /^[A-Z0-9]{7}$/.test(c) && /[0-9]/.test(c);
}

function compact(text) {
  return text.replace(/[-\s]/g, "").toUpperCase();
}

function sameCode(a, b) {
  return compact(a) === compact(b);
}

/// The button to move to once `button` is gone: the next one in `list`, else the one before.
function neighbour(button, list) {
  const all = [...list.querySelectorAll("button")];
  const i = all.indexOf(button);
  const next = all[i + 1] || all[i - 1];
  return next ? next.dataset.key : null;
}

function refocus(key, fallback) {
  const target = key ? document.querySelector(`[data-key="${CSS.escape(key)}"]`) : null;
  if (target) target.focus({ preventScroll: true });
  else {
    if (!fallback.hasAttribute("tabindex")) fallback.setAttribute("tabindex", "-1");
    fallback.focus({ preventScroll: true });
  }
}

// Never "Today" over a day that is not today's: a back-entry day, or one left open.
function dayTitle(day, hub, today) {
  if (day.back_entry) return `Back-entry: the day of ${dayInWords(day.date)} at ${hub}`;
  if (today && day.date !== today) return `The day of ${dayInWords(day.date)} at ${hub} (not today)`;
  return `Today at ${hub}`;
}

// What the desk must know about the open day before signing anyone in: that it is a paper
// register typed in later, and any other day still open at this hub.
function dayNotes(day) {
  const notes = [];
  if (day.back_entry) {
    const by = day.back_entry.by ? ` by ${day.back_entry.by}` : "";
    notes.push(
      el("p", {
        class: "warning",
        id: "back-entry-note",
        text:
          `This is not today: a paper register for ${dayInWords(day.date)} is being typed in (opened ${time(day.back_entry.at)}${by}). ` +
          "Everyone signed in here goes to that day. Close it when the register is in.",
      }),
    );
  }
  for (const other of day.also_open || []) {
    const what = other.back_entry ? " (a paper register being typed in)" : "";
    notes.push(
      el("p", {
        class: "warning",
        text: `The day of ${dayInWords(other.date)}${what} is also open at this hub. Sign-ins go to ${dayInWords(day.date)}; once it is closed, ${dayInWords(other.date)} comes up here to be closed.`,
      }),
    );
  }
  return notes;
}

export function changed() {
  if (current) current();
}

function fail(root, ctx, box, err) {
  if (err && err.kind === "locked") {
    ctx.refresh();
    return;
  }
  showError(box, err);
  if (!box.isConnected) root.append(box);
}
