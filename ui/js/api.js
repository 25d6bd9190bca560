// The only module that knows about Tauri. Every other module calls these functions.
// Commands reject with {kind, message}; kind is one of validation, not_found, permission,
// conflict, locked, storage, sync (the other laptop refused, could not be trusted or could
// not be reached; the message says which), removed (a manager removed this laptop from the
// organisation and it erased its records; the app's status says so too).

const tauri = window.__TAURI__;

function call(command, args = {}) {
  return tauri.core.invoke(command, args);
}

export const api = {
  status: () => call("app_status"),
  setUp: (form) => call("set_up_organisation", { form }),
  openDemo: () => call("open_demo"),
  lockScreenUsers: () => call("lock_screen_users"),
  unlock: (name, pin) => call("unlock", { name, pin }),
  lock: () => call("lock"),
  stillHere: () => call("still_here"),
  openDay: () => call("open_day", { req: {} }),
  closeDay: () => call("close_day"),
  showDay: () => call("show_day"),
  findMembers: (text) => call("find_members", { text }),
  likelyDuplicates: (preferredName, legalName, born) =>
    call("find_likely_duplicates", { preferredName, legalName, born }),
  readBirthMonth: (text) => call("read_birth_month", { text }),
  signIn: (idOrCode, activities = []) => call("sign_in_member", { idOrCode, activities }),
  signOut: (idOrCode) => call("sign_out_member", { idOrCode }),
  // The toasts' Undo. `visit` is the `visit` a sign-in or sign-out answered with.
  withdrawSignIn: (idOrCode, visit = null) => call("withdraw_sign_in", { idOrCode, visit }),
  reopenSignOut: (idOrCode, visit = null) => call("reopen_sign_out", { idOrCode, visit }),
  whoIsIn: () => call("who_is_in"),
  contactsIn: () => call("contacts_in"),
  register: (req) => call("register_member", { req }),
  showMember: (idOrCode) => call("show_member", { idOrCode }),
  updateMember: (idOrCode, edit) => call("update_member", { idOrCode, edit }),
  // req: {what_matters, strengths, resources, choices, next_steps, follow_up, private, reason}
  addConversation: (idOrCode, req) => call("add_conversation", { idOrCode, req }),
  listConversations: (idOrCode) => call("list_conversations", { idOrCode }),
  // Self-care plans.
  showPlan: (idOrCode) => call("show_plan", { idOrCode }),
  editPlanSection: (idOrCode, edit) => call("edit_plan_section", { idOrCode, edit }),
  addPlanStep: (idOrCode, step) => call("add_plan_step", { idOrCode, step }),
  setPlanStep: (idOrCode, change) => call("set_plan_step", { idOrCode, change }),
  planHistory: (idOrCode) => call("plan_history", { idOrCode }),
  showPlanVersion: (idOrCode, version) => call("show_plan_version", { idOrCode, version }),
  printPlan: (idOrCode) => call("print_plan", { idOrCode }),
  savePlanPdf: (idOrCode) => call("save_plan_pdf", { idOrCode }),
  savePlanPage: (idOrCode) => call("save_plan_page", { idOrCode }),
  followUpsDue: () => call("follow_ups_due"),
  // Safeguarding. req: {words, action, present, when}; action req: {text, decision, reason}
  raiseConcern: (idOrCode, req) => call("raise_concern", { idOrCode, req }),
  listConcerns: (openOnly) => call("list_concerns", { openOnly }),
  showConcern: (id) => call("show_concern", { id }),
  concernAudit: (id) => call("concern_audit", { id }),
  actOnConcern: (id, req) => call("act_on_concern", { id, req }),
  closeConcern: (id, outcome) => call("close_concern", { id, outcome }),
  // Outcome instruments and check-ins. req: {name, min, max, outcome, meaningful_change};
  // json: the text of a definition file; checkIn: {instrument, answers, goals, self_filled}.
  listInstruments: () => call("list_instruments"),
  addScale: (req) => call("add_scale", { req }),
  importInstrument: (json) => call("import_instrument", { json }),
  recordCheckIn: (idOrCode, req) => call("record_check_in", { idOrCode, req }),
  listCheckIns: (idOrCode, instrument = null) => call("list_check_ins", { idOrCode, instrument }),
  addHeadcount: (n) => call("add_headcount", { n }),
  signInContact: (req) => call("sign_in_contact", { req }),
  signOutContact: (contactId) => call("sign_out_contact", { contactId }),
  signpostContact: (contactId) => call("signpost_contact", { contactId }),
  myShift: () => call("my_shift"),
  startShift: () => call("start_shift"),
  endShift: () => call("end_shift"),
  listShifts: (user = null, from = null, to = null) => call("list_shifts", { user, from, to }),
  listTraining: (user = null) => call("list_training", { user }),
  addTraining: (user, course, date) => call("add_training", { user, course, date }),
  listRoleHistory: (user = null) => call("list_role_history", { user }),
  addRoleSpell: (user, role, from, to = null) => call("add_role_spell", { user, role, from, to }),
  // {outcome: "printed" | "saved" | "cancelled" | "failed", detail?}: what became of the print
  // (detail: the PDF's path, or why it failed).
  printRollCall: () => call("print_roll_call"),
  saveRollCallPdf: () => call("save_roll_call_pdf"),
  // The path of the page saved, for a laptop without a printer.
  saveRollCall: () => call("save_roll_call"),
  setZoom: (scale) => call("set_zoom", { scale }),
  listUsers: () => call("list_users"),
  addUser: (req) => call("add_user", { req }),
  deactivateUser: (name) => call("deactivate_user", { name }),
  resetPin: (name, pin) => call("reset_user_secret", { name, pin }),
  setRoles: (name, roles) => call("set_user_roles", { name, roles }),
  listActivities: () => call("list_activities"),
  addActivity: (name, kind) => call("add_activity", { name, kind }),
  renameActivity: (name, newName) => call("rename_activity", { name, newName }),
  retireActivity: (name) => call("retire_activity", { name }),
  listHubs: () => call("list_hubs"),
  addHub: (name, timeZone) => call("add_hub", { name, timeZone }),
  updateHub: (hub, name, timeZone) => call("update_hub", { hub, name, timeZone }),
  useHub: (hub) => call("use_hub_on_this_laptop", { hub }),
  showSettings: () => call("show_settings"),
  updateSettings: (edit) => call("update_settings", { edit }),
  joinOrganisation: (addr, code, device) => call("join_organisation", { addr, code, device }),
  findLaptops: () => call("find_laptops"),
  syncStatus: () => call("sync_status"),
  syncNow: (addr = null) => call("sync_now", { addr }),
  pairCode: () => call("pair_code"),
  listDevices: () => call("list_devices"),
  revokeDevice: (name) => call("revoke_device", { name }),
  listDuplicates: (query) => call("list_duplicates", { query }),
  mergeMembers: (a, b) => call("merge_members", { a, b }),
  markNotDuplicates: (a, b) => call("mark_not_duplicates", { a, b }),
  listConflicts: () => call("list_conflicts"),
  resolveConflict: (member, field, value) => call("resolve_conflict", { member, field, value }),
  // Outcome reports (managers). choice: {from, to, hub, threshold} (dates "2026-01-31"; hub
  // null for all hubs; threshold null for the default). The exports open the shell's save
  // dialog and answer {saved: path} or {saved: null} when the person cancelled.
  reportHubs: () => call("report_hubs"),
  reportPreview: (choice) => call("report_preview", choice),
  reportExport: (choice, format, reason) => call("report_export", { ...choice, format, reason }),
  reportExportMembers: (from, to, format, reason) => call("report_export_members", { from, to, format, reason }),
  // Prints the report the screen shows: {outcome: "printed" | "saved" | "cancelled" | "failed", detail?}.
  reportPrint: (choice, reason) => call("report_print", { ...choice, reason }),
  // What we hold about a member (staff, managers). saveWhatWeHold: format "html" | "json",
  // opens the save dialog and answers {saved: path | null}; printWhatWeHold answers as
  // printRollCall does.
  whatWeHold: (idOrCode) => call("what_we_hold", { idOrCode }),
  saveWhatWeHold: (idOrCode, format) => call("save_what_we_hold", { idOrCode, format }),
  printWhatWeHold: (idOrCode) => call("print_what_we_hold", { idOrCode }),
  // The member agreement after a sign-in: {version, fingerprint, text} or null; Accepted.
  agreementDue: (idOrCode) => call("agreement_due", { idOrCode }),
  acceptAgreement: (idOrCode, version) => call("accept_agreement", { idOrCode, version }),
  // Managers: the words of a new version ({version, text, in_force, ...}), and every version.
  setAgreement: (version, text) => call("set_agreement", { version, text }),
  listAgreements: () => call("list_agreements"),
  // The audit log (managers). filter: {member, user, action, since, until} (text; empty is
  // no filter). A page: {rows, more}. The export opens the save dialog: {saved: path|null}.
  auditLog: (filter, offset, limit) => call("audit_log", { filter, offset, limit }),
  auditExport: (filter, reason) => call("audit_export", { filter, reason }),
  // Erasure, legal holds and retention (views/erase.js). schedule: {unseen_months, until_age, safeguarding_years}
  requestErasure: (idOrCode, reason) => call("request_erasure", { idOrCode, reason }),
  listErasureRequests: () => call("list_erasure_requests"),
  confirmErasure: (request) => call("confirm_erasure", { request }),
  setHold: (idOrCode, reason) => call("set_hold", { idOrCode, reason }),
  clearHold: (idOrCode, reason) => call("clear_hold", { idOrCode, reason }),
  holdStatus: (idOrCode) => call("hold_status", { idOrCode }),
  retentionDue: () => call("retention_due"),
  setRetention: (schedule) => call("set_retention", { schedule }),
  runRetention: () => call("run_retention"),
};

/// Calls `handler({what})` whenever the core reports a change.
export function onChanged(handler) {
  return tauri.event.listen("changed", (event) => handler(event.payload || {}));
}

/// Calls `handler(progress)` as this laptop's join receives records: {received, to_receive,
/// sent, to_send, ended}.
export function onJoinProgress(handler) {
  return tauri.event.listen("join-progress", (event) => handler(event.payload || {}));
}
