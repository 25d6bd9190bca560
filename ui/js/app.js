// Routing, the lock, idle locking and change events. Views render into <main> and re-query
// when the core says something changed.

import { api, onChanged } from "./api.js";
import { closeAllDialogs } from "./dialog.js";
import { el } from "./dom.js";
import * as setup from "./views/setup.js";
import * as lock from "./views/lock.js";
import * as day from "./views/day.js";
import * as register from "./views/register.js";
import * as member from "./views/member.js";
import * as admin from "./views/admin.js";
import * as review from "./views/review.js";
import * as rollCall from "./views/rollcall.js";
import * as team from "./views/team.js";
import * as plan from "./views/plan.js";
import * as safeguarding from "./views/safeguarding.js";
import * as instruments from "./views/instruments.js";
import * as handover from "./views/handover.js";
import * as reports from "./views/reports.js";
import * as held from "./views/held.js";
import * as audit from "./views/audit.js";
import * as erase from "./views/erase.js";

const main = document.getElementById("main");
// handover: the self-filled check-in in progress (views/handover.js), or null.
const state = { status: null, view: null, idleTimer: null, handover: null };

const routes = { day, register, member, admin, review, "roll-call": rollCall, team, plan, concerns: safeguarding, instruments, reports, held, audit, erase };

function routeName() {
  const [, name, arg] = location.hash.split("/");
  return { name: routes[name] ? name : "day", arg: arg ? decodeURIComponent(arg) : null };
}

function renderTopbar() {
  const s = state.status;
  const bar = document.getElementById("topbar");
  // The hand-over screen shows nothing but its questions: the top bar keeps only where and
  // when (app.css hides who is signed in, the screens and the lock button).
  const handingOver = Boolean(state.handover && s && s.user);
  document.body.classList.toggle("handing-over", handingOver);
  bar.hidden = !s || !s.set_up;
  if (!s || !s.set_up) return;
  document.getElementById("demo-badge").hidden = !s.demo;
  document.body.classList.toggle("demo", !!s.demo);
  document.getElementById("where-org").textContent = s.org || "";
  document.getElementById("where-hub").textContent = s.hub || "";
  document.getElementById("where-day").textContent = s.today ? formatDate(s.today) : "";
  const unlocked = !!s.user;
  document.getElementById("nav").hidden = !unlocked;
  document.getElementById("nav-admin").hidden = !(unlocked && s.user.can_administer);
  document.getElementById("nav-review").hidden = !(unlocked && s.user.can_review);
  document.getElementById("nav-concerns").hidden = !(unlocked && s.user.can_read_concerns);
  document.getElementById("nav-instruments").hidden = !(unlocked && s.user.can_manage_instruments);
  document.getElementById("nav-reports").hidden = !(unlocked && s.user.can_report);
  document.getElementById("nav-audit").hidden = !(unlocked && s.user.can_see_audit);
  document.getElementById("nav-erase").hidden = !(unlocked && s.user.can_see_sensitive);
  document.getElementById("who-user").textContent = unlocked ? `Signed in as ${s.user.name} (${s.user.roles.join(", ")})` : "Locked";
  document.getElementById("lock-button").hidden = !unlocked;
  for (const a of document.querySelectorAll("#nav a")) {
    a.toggleAttribute("aria-current", a.getAttribute("href") === `#/${routeName().name}`);
    if (a.hasAttribute("aria-current")) a.setAttribute("aria-current", "page");
  }
}

/// The sync line in the top bar: when this laptop last synced, with whom, what is waiting.
async function renderSyncState() {
  const box = document.getElementById("sync-state");
  const s = state.status;
  if (!s || !s.set_up) return;
  if (s.demo) {
    box.textContent = "Sync is off for the demo";
    return;
  }
  try {
    box.textContent = describeSync(await api.syncStatus());
  } catch {
    box.textContent = "";
  }
}

function describeSync(sync) {
  if (sync.revoked) return "This laptop was removed from the organisation";
  const peers = sync.peers.filter((p) => !p.revoked);
  if (!peers.length) return "No other laptops paired";
  const synced = peers.filter((p) => p.last_sync_at).sort((a, b) => b.last_sync_at.localeCompare(a.last_sync_at));
  const waiting = Math.max(0, ...peers.map((p) => p.pending));
  const busy = sync.worker && sync.worker.syncing ? "Syncing… " : "";
  if (!synced.length) return `${busy}Not synced yet · ${waiting} change(s) waiting`;
  const last = synced[0];
  return `${busy}Synced with ${last.name} ${ago(last.last_sync_at)} · ${waiting ? `${waiting} change(s) waiting` : "nothing waiting"}`;
}

function ago(iso) {
  const minutes = Math.round((Date.now() - new Date(iso).getTime()) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `on ${new Date(iso).toLocaleDateString("en-GB")}`;
}

setInterval(renderSyncState, 15000);

function formatDate(iso) {
  const d = new Date(`${iso}T12:00:00`);
  return d.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}

/// While the store opens (after an update that changes its lists, they are rebuilt from the
/// records once: a minute on a very large store): what is happening, said once to a screen
/// reader, and how far, in a progress bar that updates quietly. Then the usual screen.
function showOpening({ done, total }) {
  let bar = document.getElementById("opening-progress");
  if (!bar) {
    bar = el("progress", { id: "opening-progress", "aria-labelledby": "opening-title" });
    main.replaceChildren(
      el("h1", { id: "opening-title", text: "Getting hubdesk ready" }),
      el("p", {
        role: "status",
        text: "After an update hubdesk rebuilds its lists from the records, once. On a large organisation this takes a minute.",
      }),
      bar,
      el("p", { id: "opening-count", class: "hint" }),
    );
    state.view = null;
  }
  if (total) {
    bar.max = total;
    bar.value = done;
    document.getElementById("opening-count").textContent = `${done.toLocaleString("en-GB")} of ${total.toLocaleString("en-GB")} records`;
  }
  setTimeout(show, 400);
}

/// A manager removed this laptop from the organisation and it has erased its records:
/// that is all there is to see, whatever screen was open (the lock screen too). Said once to
/// a screen reader; the focus goes to the heading.
function showRemoved(words) {
  closeAllDialogs();
  clearTimeout(state.idleTimer);
  state.handover = null;
  state.view = null;
  document.body.classList.remove("handing-over");
  const heading = el("h1", { id: "removed-title", tabindex: "-1", text: "This laptop was removed" });
  main.replaceChildren(
    heading,
    el("p", { id: "removed-message", role: "alert", text: words }),
    el("p", {
      class: "hint",
      text: "Nothing of the organisation is left on this laptop. To use it for hubdesk again, whoever looks after it deletes the file removed.json in hubdesk's data folder, then sets it up or joins again.",
    }),
  );
  heading.focus();
}

/// Shows the right screen for the state we are in.
export async function show() {
  try {
    state.status = await api.status();
  } catch (err) {
    main.textContent = err.message || String(err);
    return;
  }
  if (!state.status.user) state.handover = null;
  renderTopbar();
  if (state.status.opening) return showOpening(state.status.opening);
  if (state.status.removed) return showRemoved(state.status.removed);
  renderSyncState();
  const s = state.status;
  const ctx = { status: s, refresh: show, go, handOver, finishHandover, handover: state.handover };
  let view;
  if (!s.set_up) view = { module: setup, arg: null };
  else if (!s.user) view = { module: lock, arg: null };
  else if (state.handover) view = { module: handover, arg: null };
  else {
    const r = routeName();
    view = { module: routes[r.name], arg: r.arg };
  }
  // A question asked on a screen that is going away (or before the lock) is not answered;
  // the same screen redrawn (news from another laptop) keeps it open.
  if (!state.view || state.view.module !== view.module || state.view.arg !== view.arg) closeAllDialogs();
  state.view = view;
  // Each show draws into a fresh container: if another show starts meanwhile (a change
  // event racing a refresh), the older one finishes into a container nobody sees.
  const root = document.createElement("div");
  main.replaceChildren(root);
  await view.module.render(root, { ...ctx, arg: view.arg });
  // Timing for `scripts/measure-ui` (a performance entry, no effect otherwise).
  if (view.module === lock) performance.mark("lock-screen-shown");
  resetIdle();
}

export function go(hash) {
  if (location.hash === hash) show();
  else location.hash = hash;
}

/// Hands the laptop over for a self-filled check-in: { member, instrument }.
function handOver(h) {
  state.handover = { ...h };
  show();
}

/// The hand-over ended (saved, stopped or Escape): the app locks, whatever happened.
function finishHandover() {
  return lockNow();
}

async function lockNow() {
  state.handover = null;
  try {
    await api.lock();
  } finally {
    location.hash = "#/day";
    show();
  }
}

let lastTouch = 0;

function resetIdle() {
  clearTimeout(state.idleTimer);
  const s = state.status;
  if (!s || !s.user) return;
  // The core keeps its own idle clock; tell it, now and then, that someone is here.
  if (Date.now() - lastTouch > 5000) {
    lastTouch = Date.now();
    api.stillHere().catch((err) => {
      if (err && err.kind === "locked") show();
    });
  }
  const seconds = s.idle_lock_seconds || (s.idle_lock_minutes || 5) * 60;
  state.idleTimer = setTimeout(lockNow, seconds * 1000);
}

for (const type of ["keydown", "pointerdown", "wheel"]) {
  document.addEventListener(type, resetIdle, { passive: true });
}
// Page zoom, as browsers do it: Ctrl+plus, Ctrl+minus, Ctrl+0. The webview on Linux has no
// zoom keys of its own; the shell zooms the page, so the layout reflows as at 200% anywhere.
const zoomSteps = [0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3];
let zoomAt = zoomSteps.indexOf(1);
document.addEventListener("keydown", (e) => {
  if (!e.ctrlKey || e.altKey || e.metaKey) return;
  const step = e.key === "+" || e.key === "=" ? 1 : e.key === "-" || e.key === "_" ? -1 : e.key === "0" ? 0 : null;
  if (step === null) return;
  e.preventDefault();
  zoomAt = step === 0 ? zoomSteps.indexOf(1) : Math.min(zoomSteps.length - 1, Math.max(0, zoomAt + step));
  api.setZoom(zoomSteps[zoomAt]).catch(() => {});
});
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey && (e.key === "l" || e.key === "L")) {
    e.preventDefault();
    if (state.status && state.status.user) lockNow();
  }
});
document.getElementById("lock-button").addEventListener("click", lockNow);
window.addEventListener("hashchange", show);

onChanged(async (change) => {
  renderSyncState();
  // The view that is showing re-queries what it shows; a lock or set-up redraws all.
  if (state.view && state.view.module.changed && change.what !== "all") {
    state.view.module.changed(change);
  } else if (change.what === "all") {
    show();
  }
});

show();
