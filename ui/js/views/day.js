// The day screen, home of the front desk: find as you type and sign in with Enter, who is in
// now, counts, headcount, parents and visitors, roll call, open and close the day.

import { api } from "../api.js";
import { el, errorBox, showError, time, toast } from "../dom.js";
import { openDialog } from "../dialog.js";

let current = null; // what `changed` refreshes

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
        text: day
          ? `The day of ${day.date} is closed.${day.back_entry ? " It was typed in later from a paper register." : ""}`
          : "No day is open yet.",
      }),
      error,
      open,
    );
    open.focus();
    current = null;
    return;
  }

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
    el("span", { id: "for-label", class: "chips-label", text: "Came for (optional):" }),
    activities.slice(0, 9).map((a, i) =>
      el("button", {
        type: "button",
        class: "chip",
        "aria-pressed": "false",
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
  }

  const search = el("input", {
    id: "search",
    type: "search",
    role: "combobox",
    "aria-controls": "results",
    "aria-expanded": "false",
    "aria-autocomplete": "list",
    "aria-describedby": "search-hint",
    autocomplete: "off",
    spellcheck: "false",
  });
  const results = el("ul", { id: "results", role: "listbox", "aria-label": "Matching members" });
  const status = el("p", { id: "search-status", class: "hint", "aria-live": "polite" });
  let found = [];
  let active = -1;
  let seq = 0;

  function renderResults() {
    results.replaceChildren(
      ...found.map((m, i) =>
        el(
          "li",
          {
            role: "option",
            id: `result-${i}`,
            class: "result",
            "aria-selected": String(i === active),
            onclick: () => {
              active = i;
              signIn();
            },
          },
          el("span", { class: "name", text: m.preferred_name }),
          el("span", { class: "code", text: m.code }),
          el("span", { class: "meta", text: [`age ${m.age}`, m.pronouns].filter(Boolean).join(" · ") }),
        ),
      ),
    );
    search.setAttribute("aria-expanded", String(found.length > 0));
    if (active >= 0) search.setAttribute("aria-activedescendant", `result-${active}`);
    else search.removeAttribute("aria-activedescendant");
  }

  search.addEventListener("input", async () => {
    const text = search.value;
    const mine = ++seq;
    // Timings for `scripts/measure-ui` (performance entries, no effect otherwise).
    performance.mark(`search-${mine}`);
    if (!text.trim()) {
      found = [];
      active = -1;
      status.textContent = "";
      renderResults();
      return;
    }
    try {
      const list = await api.findMembers(text);
      if (mine !== seq) return; // a later keystroke already answered
      found = list;
      active = list.length ? 0 : -1;
      status.textContent = list.length ? `${list.length} found` : "Nobody found. Register them?";
      renderResults();
      performance.measure("keystroke-to-results", `search-${mine}`);
    } catch (err) {
      fail(root, ctx, error, err);
    }
  });

  async function signIn() {
    const m = found[active];
    if (!m) return;
    performance.mark("sign-in");
    try {
      const here = await api.signIn(m.code, [...chosen]);
      toast(`${here.preferred_name} is signed in${here.activities.length ? ` for ${here.activities.join(", ")}` : ""}.`);
      search.value = "";
      found = [];
      active = -1;
      status.textContent = "";
      chosen.clear();
      for (const c of chips.querySelectorAll("[aria-pressed]")) c.setAttribute("aria-pressed", "false");
      renderResults();
      error.textContent = "";
      await refreshLists();
      performance.measure("sign-in-to-shown", "sign-in");
    } catch (err) {
      fail(root, ctx, error, err);
    }
    search.focus();
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
      signIn();
    } else if (e.key === "Escape") {
      search.value = "";
      found = [];
      renderResults();
    }
  });
  root.addEventListener("keydown", (e) => {
    if (e.altKey && /^[1-9]$/.test(e.key)) {
      const chip = chips.querySelectorAll(".chip")[Number(e.key) - 1];
      if (chip) {
        e.preventDefault();
        toggleChip(chip);
      }
    }
  });

  const counts = el("dl", { class: "counts", id: "counts" });
  const hereBody = el("tbody");
  const hereTable = el(
    "table",
    { class: "here", id: "who-is-in" },
    el("caption", { text: "Who is in now" }),
    el("thead", {}, el("tr", {}, ["Name", "Code", "Since", "For", ""].map((h) => el("th", { scope: "col", text: h })))),
    hereBody,
  );
  const contactsList = el("ul", { class: "contacts-in", id: "contacts-in", "aria-label": "Parents, visitors and professionals in now" });

  async function refreshLists() {
    try {
      const [d, here, contacts] = await Promise.all([api.showDay(), api.whoIsIn(), api.contactsIn()]);
      notes.replaceChildren(...dayNotes(d));
      const when = d.back_entry ? "that day" : "today";
      counts.replaceChildren(
        ...[
          ["In now", d.signed_in],
          [`Visits ${when}`, d.visits],
          [`New ${when}`, d.new_members],
          ["Headcount", d.headcount],
          ["Parents and visitors", d.contacts],
        ].map(([k, v]) => el("div", { class: "count" }, el("dt", { text: k }), el("dd", { text: String(v) }))),
      );
      hereBody.replaceChildren(
        ...(here.length
          ? here.map((h) =>
              el(
                "tr",
                {},
                el("td", {}, el("a", { href: `#/member/${encodeURIComponent(h.code)}`, text: h.preferred_name })),
                el("td", { class: "code", text: h.code }),
                el("td", { text: h.since_local }),
                el("td", { text: h.activities.join(", ") }),
                el("td", {}, el("button", {
                  type: "button",
                  class: "secondary",
                  text: "Sign out",
                  "aria-label": `Sign out ${h.preferred_name}`,
                  onclick: async () => {
                    try {
                      await api.signOut(h.code);
                      toast(`${h.preferred_name} is signed out.`);
                      await refreshLists();
                      search.focus();
                    } catch (err) {
                      fail(root, ctx, error, err);
                    }
                  },
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
            `${c.name} (${c.kind}) since ${time(c.since)} `,
            el("button", {
              type: "button",
              class: "secondary",
              text: "Sign out",
              "aria-label": `Sign out ${c.name}`,
              onclick: async () => {
                try {
                  await api.signOutContact(c.contact_id);
                  await refreshLists();
                } catch (err) {
                  fail(root, ctx, error, err);
                }
              },
            }),
          ),
        ),
      );
    } catch (err) {
      fail(root, ctx, error, err);
    }
  }

  const plusOne = el("button", { type: "button", id: "headcount-plus", class: "secondary", text: "+1 headcount" });
  plusOne.addEventListener("click", async () => {
    try {
      await api.addHeadcount(1);
      await refreshLists();
    } catch (err) {
      fail(root, ctx, error, err);
    }
  });

  const contactForm = el(
    "form",
    { class: "inline-form", "aria-labelledby": "contact-title" },
    el("h2", { id: "contact-title", text: "Parent, visitor or professional" }),
    el("div", { class: "field" }, el("label", { for: "contact-kind", text: "Who" }),
      el("select", { id: "contact-kind" }, ["parent", "visitor", "professional"].map((k) => el("option", { value: k, text: k })))),
    el("div", { class: "field" }, el("label", { for: "contact-name", text: "Name" }), el("input", { id: "contact-name", required: true, autocomplete: "off" })),
    el("div", { class: "check" }, el("input", { id: "contact-signposted", type: "checkbox" }),
      el("label", { for: "contact-signposted", text: "Told about the parent network" })),
    el("button", { type: "submit", class: "secondary", text: "Sign in" }),
  );
  contactForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const kind = contactForm.querySelector("#contact-kind").value;
      await api.signInContact({
        kind,
        name: contactForm.querySelector("#contact-name").value,
        signposted: kind === "parent" && contactForm.querySelector("#contact-signposted").checked,
      });
      contactForm.reset();
      await refreshLists();
    } catch (err) {
      fail(root, ctx, error, err);
    }
  });

  const rollCall = el("pre", { id: "roll-call", class: "roll-call", hidden: true });
  const printButton = el("button", { type: "button", class: "secondary", id: "print-roll-call", text: "Print roll call" });
  printButton.addEventListener("click", async () => {
    try {
      rollCall.textContent = await api.rollCall();
      rollCall.hidden = false;
      window.print();
    } catch (err) {
      fail(root, ctx, error, err);
    }
  });
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

  // A back-entry day says so wherever the desk looks: the title, a note, the counts.
  const notes = el("div", { class: "day-notes" }, ...dayNotes(day));
  root.append(
    el("h1", { text: dayTitle(day, hub, ctx.status.today) }),
    notes,
    error,
    el(
      "div",
      { class: "day-grid" },
      el(
        "section",
        { class: "card find", "aria-labelledby": "find-title" },
        el("h2", { id: "find-title", text: "Find and sign in" }),
        el("label", { for: "search", text: "Name or member code" }),
        search,
        el("p", { id: "search-hint", class: "hint", text: "Type part of a name or a code. ↑ ↓ to choose, Enter to sign in." }),
        chips,
        status,
        results,
        el("p", {}, el("a", { href: "#/register", id: "register-link", text: "Register someone new" })),
      ),
      el(
        "section",
        { class: "card", "aria-labelledby": "counts-title" },
        el("h2", { id: "counts-title", text: day.back_entry ? `${day.date} so far` : "Today so far" }),
        counts,
        plusOne,
      ),
      el("section", { class: "card wide" }, hereTable),
      el("section", { class: "card" }, contactForm, contactsList),
      el("section", { class: "card", "aria-label": "The day" }, printButton, " ", closeButton),
    ),
    rollCall,
  );
  current = refreshLists;
  await refreshLists();
  search.focus();
}

// Never "Today" over a day that is not today's: a back-entry day, or one left open.
function dayTitle(day, hub, today) {
  if (day.back_entry) return `Back-entry: the day of ${day.date} at ${hub}`;
  if (today && day.date !== today) return `The day of ${day.date} at ${hub} (not today)`;
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
          `This is not today: a paper register for ${day.date} is being typed in (opened ${time(day.back_entry.at)}${by}). ` +
          "Everyone signed in here goes to that day. Close it when the register is in.",
      }),
    );
  }
  for (const other of day.also_open || []) {
    const what = other.back_entry ? " (a paper register being typed in)" : "";
    notes.push(
      el("p", {
        class: "warning",
        text: `The day of ${other.date}${what} is also open at this hub. Sign-ins go to ${day.date}; once it is closed, ${other.date} comes up here to be closed.`,
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
