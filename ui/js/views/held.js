// "What we hold": everything hubdesk holds about one member, part by part, each with who can
// see it and why it is kept (the core's what_we_hold; staff and managers, and the core refuses
// anyone else). Print prints this page alone; Save writes the core's page (HTML) or JSON where
// the shell's save dialog says. Every text goes in as text, never as HTML.

import { api } from "../api.js";
import { el, errorBox, showError, time, dateInWords, monthInWords } from "../dom.js";

export async function render(root, ctx) {
  const code = ctx.arg || "";
  const error = errorBox("held-error");
  const back = el("a", { href: `#/member/${encodeURIComponent(code)}`, class: "button secondary", id: "held-back" }, "Back to the member");
  let h;
  try {
    h = await api.whatWeHold(code);
  } catch (err) {
    if (err.kind === "locked") return ctx.refresh();
    root.append(el("h1", { text: "What we hold" }), error, back);
    return showError(error, err);
  }
  const status = el("p", { id: "held-status", class: "print-status", role: "status" });
  const printButton = el("button", { type: "button", id: "held-print" }, "Print");
  const saveHtml = el("button", { type: "button", class: "secondary", id: "held-save-html" }, "Save as a web page (HTML)");
  const saveJson = el("button", { type: "button", class: "secondary", id: "held-save-json" }, "Save as data (JSON)");
  function said(r) {
    if (r.outcome === "printed") return "Sent to the printer.";
    if (r.outcome === "saved") return `Saved as ${r.detail}.`;
    if (r.outcome === "cancelled") return "Printing was cancelled: nothing was printed.";
    return `Printing did not work (${r.detail}). Save it as a web page instead.`;
  }
  async function act(button, work) {
    button.disabled = true;
    try {
      status.textContent = await work();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      status.textContent = err.message || String(err);
    } finally {
      button.disabled = false;
    }
  }
  printButton.addEventListener("click", () => act(printButton, async () => {
    status.textContent = "Opening the print dialog…";
    return said(await api.printWhatWeHold(h.code));
  }));
  for (const [button, format] of [[saveHtml, "html"], [saveJson, "json"]]) {
    button.addEventListener("click", () => act(button, async () => {
      const r = await api.saveWhatWeHold(h.code, format);
      return r.saved ? `Saved as ${r.saved}. It holds everything about them: give it to them and delete your copy.` : "Nothing was saved.";
    }));
  }
  root.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !document.querySelector("dialog[open]")) ctx.go(`#/member/${encodeURIComponent(code)}`);
  });

  const title = el("h1", { id: "held-title", tabindex: "-1", text: `What we hold about ${h.preferred_name}` });
  root.classList.add("held-page");
  root.append(
    el("div", { class: "actions held-actions" }, printButton, saveHtml, saveJson, back),
    status,
    error,
    title,
    el("p", { class: "hint", text: `${h.code} · ${h.organisation} · made ${dateInWords(h.made_at)} by ${h.made_by}` }),
    el("div", { class: "held-intro" },
      el("p", { text: "This is everything the hub keeps about you in hubdesk, the program the front desk uses. Each part says what we keep, who at the hub can see it, and why we keep it." }),
      el("p", { text: "If something is wrong, tell a member of staff and we will put it right. You can also ask us to delete your record." })),
    el("nav", { "aria-labelledby": "held-parts-title" },
      el("h2", { id: "held-parts-title", text: "The parts" }),
      el("ol", {}, h.parts.map((p) => el("li", {}, el("a", { href: `#/held/${encodeURIComponent(code)}`, "data-part": p.part, text: p.title }))))),
    ...h.parts.map((p) => part(h, p)),
  );
  // The list's links move focus to their part (the hash is the app's route, not an anchor).
  root.querySelectorAll("nav a[data-part]").forEach((a) => a.addEventListener("click", (e) => {
    e.preventDefault();
    const heading = root.querySelector(`#held-${a.dataset.part}`);
    heading.focus();
    heading.scrollIntoView({ block: "start" });
  }));
  title.focus();
}

function part(h, p) {
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  return el("section", { class: "card wide held-part", "aria-labelledby": `held-${p.part}` },
    el("h2", { id: `held-${p.part}`, tabindex: "-1", text: p.title }),
    el("dl", { class: "facts held-meta" },
      el("dt", { text: "Who can see it" }), el("dd", { text: cap(p.who_can_see_words) }),
      el("dt", { text: "Why we keep it" }), el("dd", { text: p.why })),
    ...body(h, p.part));
}

const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const none = (text) => el("p", { class: "held-empty", text });
const facts = (pairs) => el("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v || "not given" })]));
const words = (label, text) => (text && text.trim() ? [el("h4", { text: label }), el("p", { class: "held-words", text })] : []);

function table(caption, heads, rows) {
  return el("table", { class: "visits held-table" },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, heads.map((x) => el("th", { scope: "col", text: x })))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", { text: c }))))));
}

function body(h, key) {
  switch (key) {
    case "profile": {
      const p = h.profile;
      return [facts([["Name they use", p.preferred_name], ["Member code", p.code], ["Born", `${monthInWords(p.born)} (only the month; age ${p.age})`],
        ["Pronouns", p.pronouns], ["Gender", p.gender], ["How they heard about the hub", p.heard_about],
        ["Joined", `${dateInWords(p.registered_at)} (signed up by ${p.registered_by})`]])];
    }
    case "sensitive": {
      const s = h.sensitive;
      const c = s.emergency_contact;
      return [facts([["Full (legal) name", s.legal_name], ["Postcode area", s.postcode_district],
        ["Who to call in an emergency", c ? [c.name, c.relationship ? `(${c.relationship})` : "", c.phone || ""].filter(Boolean).join(" ") : null]])];
    }
    case "agreement": {
      const a = h.agreement;
      const out = [];
      out.push(el("p", { text: a.at_registration
        ? `When they joined on ${dateInWords(a.at_registration.at)}, they said yes to version ${a.at_registration.version} of the member agreement.`
        : "When they joined, nobody recorded that they said yes to the member agreement." }));
      for (const x of a.accepted) out.push(el("p", { text: `On ${dateInWords(x.at)} they said yes to version ${x.version} (recorded by ${x.recorded_by || "someone"}).` }));
      out.push(a.consents.length
        ? el("p", { text: `They said we may: ${a.consents.map((c) => c.replaceAll("-", " ")).join("; ")}.` })
        : none("Nothing extra (like photos or texts)."));
      if (a.due && a.in_force) out.push(el("p", { class: "held-due", text: `Version ${a.in_force} is in use now and they have not accepted it yet: the desk asks at their next sign-in.` }));
      return out;
    }
    case "visits":
      return h.visits.length
        ? [table(`${count(h.visits.length, "visit", "visits")}, newest first`, ["Day", "Hub", "In", "Out", "Came for"], h.visits.map((v) => [
          `${v.date ? dateInWords(v.date) : dateInWords(v.signed_in_at)}${v.withdrawn ? " (undone at the desk: it doesn't count)" : ""}`,
          v.hub || "", time(v.signed_in_at),
          v.signed_out_at_close ? "when the day closed" : v.signed_out_at ? time(v.signed_out_at) : "still in",
          v.activities.join(", ")]))]
        : [none("No visits yet.")];
    case "conversations":
    case "private_conversations": {
      const priv = key === "private_conversations";
      const list = h.conversations.filter((c) => c.private === priv);
      if (!list.length) return [none(priv ? "None." : "No conversations yet.")];
      return list.map((c) => el("article", { class: `held-item${priv ? " held-private" : ""}` },
        el("h3", { text: `${dateInWords(c.at)} with ${c.recorded_by}${c.hub ? ` at ${c.hub}` : ""}` }),
        ...(c.words ? [
          ...words("Why it is kept between staff", c.words.private_reason),
          ...words("What matters to them", c.words.what_matters),
          ...words("Their strengths", c.words.strengths),
          ...words("People and things that help", c.words.resources),
          ...words("Choices they were thinking about", c.words.choices),
          ...words("Next steps they chose", c.words.next_steps),
          ...words("Follow up on", c.words.follow_up ? dateInWords(c.words.follow_up) : null),
        ] : [])));
    }
    case "plan": {
      const p = h.plan;
      if (!p.started && !p.merged.length) return [none("No self-care plan yet.")];
      const steps = (list) => (list.length ? el("ul", {}, list.map((s) => el("li", { text: `${s.status_label}: ${s.text}` }))) : none("No steps yet."));
      return [
        ...p.sections.flatMap((s) => [el("h3", { text: s.heading }), s.text.trim() ? el("p", { class: "held-words", text: s.text }) : none("Nothing written yet.")]),
        el("h3", { text: "Steps" }), steps(p.steps),
        ...p.merged.flatMap((m) => [el("h3", { text: "Also written with them on a record joined to this one" }),
          ...m.sections.filter((s) => s.text.trim()).flatMap((s) => words(s.heading, s.text)), steps(m.steps)]),
      ];
    }
    case "check_ins":
      return h.check_ins.length
        ? [table(`${count(h.check_ins.length, "check-in", "check-ins")}, newest first`, ["When", "Questions", "Scores", "With"], h.check_ins.map((c) => [
          `${dateInWords(c.at)} ${time(c.at)}`, `${c.instrument_name}${c.self_filled ? " (filled in by them)" : ""}`, c.summary, c.recorded_by]))]
        : [none("No check-ins yet.")];
    case "safeguarding":
      return h.concerns.length
        ? h.concerns.map((c) => el("article", { class: "held-item" },
          el("h3", { text: `Written down ${dateInWords(c.raised_at)} by ${c.raised_by} (${c.open ? "still open" : "closed"})` }),
          facts([["When it happened", `${dateInWords(c.happened_at)} ${time(c.happened_at)}`], ["Who was there", c.present]]),
          ...words("What was said", c.words),
          ...words("What was done straight away", c.immediate_action),
          ...c.actions.flatMap((a) => words(`${dateInWords(a.at)} by ${a.by}`, [a.text, a.decision ? `Decided: ${a.decision}${a.reason ? `, because ${a.reason}` : ""}` : ""].filter(Boolean).join("\n"))),
          ...c.closes.map((x) => el("p", { text: `Closed ${dateInWords(x.at)} by ${x.by}: ${x.outcome}` }))))
        : [none("None.")];
    case "merges":
      return h.merges.length
        ? [el("ul", {}, h.merges.map((m) => el("li", { text: `The record with code ${m.code}${m.registered_at ? `, made ${dateInWords(m.registered_at)}` : ""}${m.merged_at ? `, joined ${dateInWords(m.merged_at)}${m.merged_by ? ` by ${m.merged_by}` : ""}` : ""}` })))]
        : [none("None: they have one record.")];
    case "access":
      return h.access.length
        ? [table(`${count(h.access.length, "time", "times")}, oldest first`, ["When", "Who", "What they did"], h.access.map((a) => [
          `${dateInWords(a.at)} ${time(a.at)}`, a.who || "hubdesk", `${a.what}${a.detail ? ` (${a.detail})` : ""}`]))]
        : [none("Nobody yet.")];
    default:
      return [];
  }
}
