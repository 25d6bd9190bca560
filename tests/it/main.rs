//! Integration tests of the core, one binary. Each module reads as the behaviour it holds.

mod agreement;
mod audit;
mod back_entry;
mod checkins;
mod cli;
mod conversations;
mod day_story;
mod erasure;
mod fixtures;
mod held;
mod held_cli;
mod members;
mod permissions;
mod plans;
mod projections;
mod report_figures;
mod reports;
mod safeguarding;
mod support;
mod sync;
mod sync_fuzz;
mod sync_net;
mod sync_props;
mod sync_rounds;
mod team;
mod undo;
