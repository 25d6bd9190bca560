//! hubdesk: the core of an offline-first front desk for youth mental-health drop-in hubs.
//!
//! Everything a front desk can do lives here with no window around it. The shells (the
//! `hubdesk` CLI in main.rs and cli/, and the desktop app in src-tauri/) call only [`service`]. The
//! arrows point one way: service -> (domain, doc, store, sync, report) -> domain, and sync works
//! through the store. [`domain`] is pure: no SQLite, no Automerge, no clock.

pub mod doc;
pub mod domain;
pub mod logging;
pub mod report;
pub mod service;
pub mod store;
pub mod sync;
