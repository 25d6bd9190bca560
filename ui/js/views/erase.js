// Forgetting members. On the member page (staff): the legal hold and the erasure request.
// The "Erasure and retention" screen (#/erase): the requests waiting for a manager to
// confirm, and the retention schedule with who is due now and within a month, and Run
// (managers). The core checks every permission again; these screens only leave out buttons
// a role cannot use.

import { api } from "../api.js";
import { el, field, errorBox, showError, toast, dateInWords, clearFieldErrors, fieldError } from "../dom.js";

/// What every reason field says: the reason syncs to every laptop and outlives the member.
const REASON_HINT = "Say why without naming anyone: the reason is kept on every laptop after the member is gone.";

function reasonField(id, label) {
  return field(id, label, { maxlength: "300", autocomplete: "off", required: true, "aria-required": "true" }, REASON_HINT);
}

/// The member page's card for staff: the legal hold (set or clear) and the erasure request.
export async function memberSection(m, ctx) {
  const user = ctx.status.user;
  if (!user || !user.can_see_sensitive) return null;
  const error = errorBox("forget-error");
  let hold = null;
  try {
    hold = await api.holdStatus(m.code);
  } catch (err) {
    showError(error, err);
  }
  const holdForm = el("form", { id: "hold-form", "aria-labelledby": "hold-title", novalidate: true },
    el("h3", { id: "hold-title", text: "Legal hold" }),
    hold
      ? el("p", { id: "hold-standing", text: `Under a legal hold since ${dateInWords(hold.set_at)}, set by ${hold.set_by}: “${hold.reason}”. The member cannot be erased or anonymised while it stands.` })
      : el("p", { class: "hint", text: "A hold stops erasure and the retention schedule, for example during an inquiry." }),
    reasonField("hold-reason", hold ? "Why the hold can be cleared" : "Why the records must be kept"),
    el("button", { type: "submit", id: "hold-submit", class: hold ? "secondary" : null, text: hold ? "Clear the legal hold" : "Set a legal hold" }));
  holdForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(holdForm);
    error.textContent = "";
    const reason = holdForm.querySelector("#hold-reason").value;
    try {
      if (hold) await api.clearHold(m.code, reason);
      else await api.setHold(m.code, reason);
      toast(hold ? "Legal hold cleared." : "Legal hold set.");
      ctx.refresh();
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      if (!(err.field === "reason" && fieldError(holdForm, "hold-reason", err.message))) showError(error, err);
    }
  });

  const eraseForm = el("form", { id: "erase-form", "aria-labelledby": "erase-title", novalidate: true },
    el("h3", { id: "erase-title", text: "Request erasure" }),
    el("p", { class: "hint", text: "Erasure deletes the member's records, conversations, plans, check-ins and safeguarding records from every laptop. Their visits stay only as anonymous counts. A manager confirms it." }),
    reasonField("erase-reason", "Why the member is to be erased"),
    hold ? el("p", { id: "erase-held", class: "warning", text: "The legal hold stops erasure: clear it first, if it no longer applies." }) : null,
    el("button", { type: "submit", id: "erase-submit", class: "danger", text: "Request erasure", disabled: Boolean(hold), "aria-describedby": hold ? "erase-held" : null }));
  eraseForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(eraseForm);
    error.textContent = "";
    try {
      await api.requestErasure(m.code, eraseForm.querySelector("#erase-reason").value);
      toast("Erasure requested: a manager confirms it on the Erasure and retention screen.");
      eraseForm.querySelector("#erase-reason").value = "";
    } catch (err) {
      if (err.kind === "locked") return ctx.refresh();
      if (!(err.field === "reason" && fieldError(eraseForm, "erase-reason", err.message))) showError(error, err);
    }
  });
  return el("section", { class: "card wide", id: "forget", "aria-labelledby": "forget-title" },
    el("h2", { id: "forget-title", text: "Legal hold and erasure" }),
    el("div", { class: "columns" }, holdForm, eraseForm),
    error);
}

/// The Erasure and retention screen.
export async function render(root, ctx) {
  const user = ctx.status.user;
  const manager = Boolean(user && user.can_administer);
  const error = errorBox("erase-screen-error");
  root.append(el("h1", { text: "Erasure and retention", tabindex: "-1" }), error);
  root.append(await requestsSection(ctx, manager, error));
  root.append(await retentionSection(ctx, manager, error));
  root.querySelector("h1").focus();
}

async function requestsSection(ctx, manager, error) {
  let requests = [];
  try {
    requests = await api.listErasureRequests();
  } catch (err) {
    if (err.kind === "locked") return ctx.refresh();
    showError(error, err);
  }
  const section = el("section", { class: "card wide", id: "erasure-requests", "aria-labelledby": "requests-title" },
    el("h2", { id: "requests-title", text: "Erasure requests waiting" }));
  if (!requests.length) {
    section.append(el("p", { text: "No erasure requests are waiting." }));
    return section;
  }
  const rows = requests.map((r) => {
    const who = `${r.preferred_name || ""} (${r.code || "?"})`;
    const cell = el("td", {});
    if (r.joined) cell.append(el("p", { text: r.joined }));
    if (r.not_carried_out) {
      cell.append(el("span", { text: r.not_carried_out }));
    } else if (r.held) {
      cell.append(el("span", { text: `Legal hold: “${r.held.reason}”, set by ${r.held.set_by}` }));
    } else if (manager) {
      const sure = el("div", { hidden: true, class: "confirm-erase" },
        el("p", { text: `This erases ${who} from every laptop, for ever. Their visits stay only as anonymous counts.` }),
        el("button", { type: "button", class: "danger", id: `erase-now-${r.id}`, text: `Erase ${r.code} now` }));
      const ask = el("button", { type: "button", class: "secondary", id: `confirm-${r.id}`, "aria-expanded": "false", text: `Confirm erasure of ${r.code}…` });
      ask.addEventListener("click", () => {
        sure.hidden = !sure.hidden;
        ask.setAttribute("aria-expanded", String(!sure.hidden));
        if (!sure.hidden) sure.querySelector("button").focus();
      });
      sure.querySelector("button").addEventListener("click", async () => {
        try {
          const done = await api.confirmErasure(r.id);
          toast(`Erased: ${done.documents} records deleted here; the other laptops delete them when they sync. ${done.visits_counted} visits kept as anonymous counts.`);
          ctx.refresh();
        } catch (err) {
          if (err.kind === "locked") return ctx.refresh();
          showError(error, err);
        }
      });
      cell.append(ask, sure);
    } else {
      cell.append(el("span", { text: "Waiting for a manager" }));
    }
    return el("tr", {},
      el("th", { scope: "row", text: who }),
      el("td", { text: dateInWords(r.requested_at) }),
      el("td", { text: r.requested_by }),
      el("td", { class: "reason", text: r.reason }),
      cell);
  });
  section.append(el("table", { class: "erasure-requests" },
    el("thead", {}, el("tr", {}, ["Member", "Asked", "By", "Why", ""].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows)));
  return section;
}

async function retentionSection(ctx, manager, error) {
  let due = null;
  try {
    due = await api.retentionDue();
  } catch (err) {
    if (err.kind === "locked") return ctx.refresh();
    showError(error, err);
  }
  const section = el("section", { class: "card wide", id: "retention", "aria-labelledby": "retention-title" },
    el("h2", { id: "retention-title", text: "Retention schedule" }));
  if (!due) return section;
  const s = due.schedule;
  const num = (v) => (v === null || v === undefined ? "" : String(v));
  if (manager) {
    const form = el("form", { id: "retention-form", "aria-labelledby": "retention-form-title", novalidate: true },
      el("h3", { id: "retention-form-title", text: "Set the schedule" }),
      field("ret-unseen", "Anonymise members not seen for (months)", { type: "number", min: "1", max: "1200", value: num(s.unseen_months), inputmode: "numeric" }),
      field("ret-age", "…or at their birthday (age), whichever is later", { type: "number", min: "18", max: "120", value: num(s.until_age), inputmode: "numeric" },
        "hubdesk keeps only the birth month, so the birthday counts from the first day of the next month."),
      field("ret-sg", "Keep closed safeguarding records (years)", { type: "number", min: "1", max: "100", value: num(s.safeguarding_years), inputmode: "numeric" }),
      el("p", { class: "hint", text: "Leave a box empty for no rule." }),
      el("button", { type: "submit", text: "Save the schedule" }));
    const inputOf = { unseen_months: "ret-unseen", until_age: "ret-age", safeguarding_years: "ret-sg" };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      error.textContent = "";
      const read = (id) => {
        const v = form.querySelector(`#${id}`).value.trim();
        return v === "" ? null : Number(v);
      };
      try {
        await api.setRetention({ unseen_months: read("ret-unseen"), until_age: read("ret-age"), safeguarding_years: read("ret-sg") });
        toast("Retention schedule saved.");
        ctx.refresh();
      } catch (err) {
        if (err.kind === "locked") return ctx.refresh();
        if (!(err.field && inputOf[err.field] && fieldError(form, inputOf[err.field], err.message))) showError(error, err);
      }
    });
    section.append(form);
  } else {
    section.append(el("p", { text: describe(s) }));
  }

  const now = due.members.filter((m) => m.due_now);
  const soon = due.members.filter((m) => !m.due_now);
  const sgNow = due.safeguarding.filter((x) => x.due_now);
  const summary = `${now.length} ${now.length === 1 ? "member is" : "members are"} due now; ${soon.length} within a month.`;
  section.append(el("h3", { text: "Who is due" }));
  if (soon.length) {
    section.append(el("p", { class: "warning", id: "retention-warning", text: `Within a month: ${soon.length} ${soon.length === 1 ? "member becomes" : "members become"} due (listed below with the day).` }));
  }
  section.append(el("p", { id: "retention-summary", text: summary }));
  if (due.members.length) {
    section.append(el("table", { class: "retention-due" },
      el("caption", { text: `Due on or before ${dateInWords(due.today)}, then within a month` }),
      el("thead", {}, el("tr", {}, ["Member", "Due", "Note"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, due.members.map((m) => el("tr", {},
        el("th", { scope: "row", text: `${m.preferred_name} (${m.code})` }),
        el("td", { text: m.due_now ? "Due now" : dateInWords(m.due_on) }),
        el("td", { text: m.held ? `Legal hold: “${m.held.reason}”` : "" }))))));
  }
  if (due.safeguarding.length) {
    section.append(el("p", { text: `${sgNow.length} closed safeguarding ${sgNow.length === 1 ? "record is" : "records are"} past their years and due for deletion; ${due.safeguarding.length - sgNow.length} within a month.` }));
  }
  if (manager) {
    const runnable = now.filter((m) => !m.held).length + sgNow.length;
    const run = el("button", { type: "button", id: "retention-run", class: "danger", disabled: runnable === 0,
      text: runnable ? `Run the schedule now (${runnable} due)…` : "Run the schedule now (nobody due)" });
    const members = now.filter((m) => !m.held).length;
    const sure = el("div", { hidden: true, class: "confirm-erase", id: "retention-sure" },
      el("p", { text: `This anonymises ${members} ${members === 1 ? "member" : "members"} and deletes ${sgNow.length} closed safeguarding ${sgNow.length === 1 ? "record" : "records"} on every laptop, for ever.` }),
      el("button", { type: "button", class: "danger", id: "retention-run-now", text: `Anonymise ${members} now` }));
    run.setAttribute("aria-expanded", "false");
    run.addEventListener("click", () => {
      sure.hidden = !sure.hidden;
      run.setAttribute("aria-expanded", String(!sure.hidden));
      if (!sure.hidden) sure.querySelector("button").focus();
    });
    // A run over many members takes minutes: it goes on apart from the window, which says
    // so, and the toast says what it did wherever the manager is by then.
    const running = el("p", { id: "retention-running", class: "hint", role: "status" });
    sure.querySelector("button").addEventListener("click", async (e) => {
      const go = e.currentTarget;
      go.disabled = true;
      run.disabled = true;
      running.textContent = `Anonymising ${members} ${members === 1 ? "member" : "members"}… On a large organisation this takes a few minutes; you can go back to the day meanwhile.`;
      try {
        const r = await api.runRetention();
        const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
        toast(`Anonymised ${count(r.anonymised.length, "member", "members")}; deleted ${count(r.safeguarding_deleted.length, "safeguarding record", "safeguarding records")}.${r.held.length ? ` ${r.held.length} held, left as they are.` : ""}${r.changed_meanwhile.length ? ` ${r.changed_meanwhile.length} signed in or held while it ran, left as they are.` : ""}`);
        if (section.isConnected) ctx.refresh();
      } catch (err) {
        if (err.kind === "locked") return ctx.refresh();
        if (!section.isConnected) return toast(`The retention run stopped: ${err.message || err}`);
        running.textContent = "";
        go.disabled = false;
        run.disabled = false;
        showError(error, err);
      }
    });
    section.append(run, sure, running);
  }
  return section;
}

function describe(s) {
  if (!s.unseen_months && !s.until_age) return "No retention schedule is set; a manager sets one.";
  const parts = [];
  if (s.unseen_months) parts.push(`not seen for ${s.unseen_months} months`);
  if (s.until_age) parts.push(`at their ${s.until_age}th birthday`);
  return `Members are anonymised ${parts.join(" or ")}${parts.length > 1 ? ", whichever is later" : ""}.${s.safeguarding_years ? ` Closed safeguarding records are kept ${s.safeguarding_years} years.` : ""}`;
}
