// "My shift": start and end your shift at the hub, this month's shifts and hours, your
// training and your roles. Staff and managers also see the team's hours this month and record
// training and roles (the core refuses anyone else, whatever this screen shows).

import { api } from "../api.js";
import { el, field, errorBox, load, runner, dateInWords, fieldError, clearFieldErrors, showError, toast } from "../dom.js";

const HUB_ROLES = ["member", "peer navigator", "volunteer"];

function hours(minutes) {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (!h) return `${m} min`;
  return m ? `${h} h ${m} min` : `${h} h`;
}

function shiftRows(shifts, withName) {
  if (!shifts.length) return [el("tr", {}, el("td", { colspan: withName ? "5" : "4", text: "No shifts yet this month." }))];
  return shifts.map((s) =>
    el("tr", {},
      el("th", { scope: "row", text: dateInWords(s.date) }),
      withName ? el("td", { text: s.user }) : null,
      el("td", { text: s.hub }),
      el("td", { text: `${s.start_time} to ${s.end_time || "now"}${s.ended_at_close ? " (ended when the day closed)" : ""}` }),
      el("td", { text: hours(s.minutes) })));
}

function table(id, caption, headings, rows) {
  return el("table", { id },
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows));
}

function trainingRows(list, withName) {
  if (!list.length) return [el("tr", {}, el("td", { colspan: withName ? "3" : "2", text: "No training recorded." }))];
  return list.map((t) => el("tr", {}, el("th", { scope: "row", text: dateInWords(t.date) }), withName ? el("td", { text: t.user }) : null, el("td", { text: t.course })));
}

function roleRows(list, withName) {
  if (!list.length) return [el("tr", {}, el("td", { colspan: withName ? "3" : "2", text: "No roles recorded." }))];
  return list.map((r) => el("tr", {},
    el("th", { scope: "row", text: `${dateInWords(r.from)} to ${r.to ? dateInWords(r.to) : "now"}` }),
    withName ? el("td", { text: r.user }) : null,
    el("td", { text: r.role })));
}

export async function render(root, ctx) {
  const error = errorBox("team-error");
  const user = ctx.status.user;
  const staff = !!user.can_see_team;
  const loaded = await load(root, ctx, "My shift", error, () =>
    Promise.all([
      api.myShift(),
      staff ? api.listShifts() : null,
      staff ? api.listTraining() : null,
      staff ? api.listRoleHistory() : null,
      staff ? api.lockScreenUsers() : null,
    ]));
  if (!loaded) return;
  const [mine, team, training, roles, users] = loaded;
  const run = runner(ctx, error);

  const on = mine.on_shift;
  const shiftButton = on
    ? el("button", { type: "button", id: "end-shift", text: "End my shift", onclick: () => run(api.endShift, "Your shift has ended.") })
    : el("button", { type: "button", id: "start-shift", text: "Start my shift", onclick: () => run(api.startShift, "You are on shift.") });
  const minutes = mine.month.hours.reduce((n, h) => n + h.minutes, 0);

  const sections = [
    el("h1", { id: "team-title", text: "My shift" }),
    error,
    el("section", { class: "card", "aria-labelledby": "shift-now-title" },
      el("h2", { id: "shift-now-title", text: "Now" }),
      el("p", { id: "shift-now", text: on ? `You have been on shift at ${on.hub} since ${on.start_time} (${hours(on.minutes)}).` : "You are not on shift." }),
      shiftButton),
    el("section", { class: "card", "aria-labelledby": "my-month-title" },
      el("h2", { id: "my-month-title", text: "This month" }),
      el("p", { id: "my-hours", text: `${hours(minutes)} on shift in ${mine.month.shifts.length} shift${mine.month.shifts.length === 1 ? "" : "s"}.` }),
      table("my-shifts", "Your shifts this month", ["Day", "Hub", "Time", "Length"], shiftRows(mine.month.shifts, false))),
    el("section", { class: "card", "aria-labelledby": "my-training-title" },
      el("h2", { id: "my-training-title", text: "My training and roles" }),
      table("my-training", "Training you completed", ["Date", "Course"], trainingRows(mine.training, false)),
      table("my-roles", "Your roles in the hub", ["When", "Role"], roleRows(mine.roles, false))),
  ];

  if (staff) {
    const names = users || [];
    const userSelect = (id) => el("div", { class: "field" },
      el("label", { for: id, text: "Who" }),
      el("select", { id, required: true }, names.map((n) => el("option", { value: n, text: n }))));
    // The hub's today, as the core sees it (a UTC date would be yesterday after midnight in summer).
    const today = ctx.status.today || "";

    const trainingForm = el("form", { class: "inline-form", id: "training-form", "aria-labelledby": "training-form-title", novalidate: true },
      el("h3", { id: "training-form-title", text: "Record training" }),
      userSelect("training-user"),
      field("training-course", "Course", { required: true, autocomplete: "off" }),
      field("training-date", "Completed on", { type: "date", required: true, value: today, max: today }),
      el("button", { type: "submit", text: "Record training" }));
    const trainingError = errorBox("training-error");
    trainingForm.append(trainingError);
    trainingForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearFieldErrors(trainingForm);
      trainingError.textContent = "";
      const v = (id) => trainingForm.querySelector(`#${id}`).value;
      try {
        const t = await api.addTraining(v("training-user"), v("training-course"), v("training-date"));
        toast(`Recorded: ${t.user} completed ${t.course}.`);
        ctx.refresh();
      } catch (err) {
        if (err.kind === "locked") return ctx.refresh();
        const at = { course: "training-course", date: "training-date" }[err.field];
        if (!(at && fieldError(trainingForm, at, err.message))) showError(trainingError, err);
      }
    });

    const roleForm = el("form", { class: "inline-form", id: "role-form", "aria-labelledby": "role-form-title", novalidate: true },
      el("h3", { id: "role-form-title", text: "Record a role" }),
      userSelect("role-user"),
      el("div", { class: "field" }, el("label", { for: "role-kind", text: "Role" }),
        el("select", { id: "role-kind" }, HUB_ROLES.map((r) => el("option", { value: r, text: r })))),
      field("role-from", "From", { type: "date", required: true, max: today }),
      field("role-to", "To (leave empty while it goes on)", { type: "date", max: today }),
      el("button", { type: "submit", text: "Record role" }));
    const roleError = errorBox("role-error");
    roleForm.append(roleError);
    roleForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      clearFieldErrors(roleForm);
      roleError.textContent = "";
      const v = (id) => roleForm.querySelector(`#${id}`).value;
      try {
        const r = await api.addRoleSpell(v("role-user"), v("role-kind"), v("role-from"), v("role-to") || null);
        toast(`Recorded: ${r.user} as ${r.role}.`);
        ctx.refresh();
      } catch (err) {
        if (err.kind === "locked") return ctx.refresh();
        const at = { from: "role-from", to: "role-to", role: "role-kind" }[err.field];
        if (!(at && fieldError(roleForm, at, err.message))) showError(roleError, err);
      }
    });

    sections.push(
      el("section", { class: "card", "aria-labelledby": "team-hours-title" },
        el("h2", { id: "team-hours-title", text: "The team this month" }),
        table("team-hours", "Hours on shift this month", ["Who", "Hours", "Shifts"],
          team.hours.length
            ? team.hours.map((h) => el("tr", {}, el("th", { scope: "row", text: h.user }), el("td", { text: hours(h.minutes) }), el("td", { text: String(h.shifts) })))
            : [el("tr", {}, el("td", { colspan: "3", text: "Nobody has been on shift this month." }))]),
        table("team-shifts", "Shifts this month", ["Day", "Who", "Hub", "Time", "Length"], shiftRows(team.shifts, true))),
      el("section", { class: "card", "aria-labelledby": "team-training-title" },
        el("h2", { id: "team-training-title", text: "Training and roles" }),
        names.length ? trainingForm : null,
        table("team-training", "Training recorded", ["Date", "Who", "Course"], trainingRows(training, true)),
        names.length ? roleForm : null,
        table("team-roles", "Roles in the hub", ["When", "Who", "Role"], roleRows(roles, true))),
    );
  }
  root.append(...sections);
}
