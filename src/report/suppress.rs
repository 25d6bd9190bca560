//! Small-number suppression: which figures of a report are held back.
//!
//! The report's figures are first written into a [`Ledger`]: every number once, with what it
//! is (a count of people, a figure about no one, or a mean or total resting on other cells),
//! and the sums that tie cells together (the visits of each weekday add up to the visits).
//! [`Ledger::settle`] then decides what is shown:
//!
//! 1. Primary: a count of people from 1 to threshold - 1 is held back. Zero is shown: it tells
//!    nothing about anybody.
//! 2. Secondary: wherever parts add up to a total, a lone held-back cell could be worked out
//!    by subtraction, so one more cell of that sum is held back (the smallest other non-zero
//!    part, else the total, else a zero part), again and again until no sum has exactly one
//!    held-back cell. A cell shared by several sums (the members reached, split by age, by
//!    gender, by area ...) is held back in all of them.
//! 3. Derived figures (means, hours) are shown only when the people they rest on reach the
//!    threshold. Any figure tied to others is held back with them: a mean of visits per member
//!    beside the visits would give away the member count, and 40 visits beside "suppressed"
//!    members would say that a few people came very often.
//!
//! Each period's column is its own set of cells: no figure of the report combines the two
//! periods, so the previous column cannot give a current figure away (and vice versa).
//!
//! Deterministic, and the same in every report: which of two equal parts is held back is
//! decided by what they are (their labels), never by where they sit, so two reports that show
//! the same period (as this period in one and the previous period in the next) hold back the
//! same cells of it.

use super::Cell;

/// A cell of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellId(usize);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// A number of people, or of things people did (visits, conversations): held back when
    /// small.
    People,
    /// A number about no one (hub days held): always shown.
    Free,
    /// A mean, or hours, resting on `base` people.
    Derived { base: u64 },
}

#[derive(Debug, Clone)]
struct Entry {
    value: Option<f64>,
    rule: Rule,
    /// Held back whenever one of these is: a figure that would say what they hold (a mean
    /// beside its count, visits beside the few people who made them).
    with: Vec<CellId>,
    /// Breaks ties between equal parts of a sum by what the cell is (its row's label), never
    /// by where it sits: the same period's figures hold back the same cells in every report.
    name: String,
    suppressed: bool,
}

/// Parts that add up to a total.
#[derive(Debug, Clone)]
struct Sum {
    total: CellId,
    parts: Vec<CellId>,
}

#[derive(Debug, Clone, Default)]
pub struct Ledger {
    entries: Vec<Entry>,
    sums: Vec<Sum>,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, value: Option<f64>, rule: Rule, with: &[CellId]) -> CellId {
        self.entries.push(Entry {
            value,
            rule,
            with: with.to_vec(),
            name: String::new(),
            suppressed: false,
        });
        CellId(self.entries.len() - 1)
    }

    /// A count of people or of what they did.
    pub fn people(&mut self, n: u64) -> CellId {
        self.push(Some(n as f64), Rule::People, &[])
    }

    /// A count of what the people counted in `with` did (their visits, their goals): held
    /// back when small, and whenever one of `with` is.
    pub fn done_by(&mut self, n: u64, with: &[CellId]) -> CellId {
        self.push(Some(n as f64), Rule::People, with)
    }

    /// A number about no one, always shown.
    pub fn free(&mut self, n: u64) -> CellId {
        self.push(Some(n as f64), Rule::Free, &[])
    }

    /// A figure resting on `base` people, worked out from the cells `from`; `None` when there
    /// is nothing to work it out from.
    pub fn derived(&mut self, value: Option<f64>, base: u64, from: &[CellId]) -> CellId {
        self.push(value, Rule::Derived { base }, from)
    }

    /// Nothing to show (a figure that does not apply to its row or column).
    pub fn empty(&mut self) -> CellId {
        self.push(None, Rule::Free, &[])
    }

    /// Also holds `cell` back whenever one of `with` is.
    pub fn hold_with(&mut self, cell: CellId, with: &[CellId]) {
        self.entries[cell.0].with.extend_from_slice(with);
    }

    /// Names the cell for breaking ties (its row's label).
    pub fn name(&mut self, cell: CellId, name: &str) {
        self.entries[cell.0].name = name.to_string();
    }

    /// Says that `parts` add up to `total`.
    pub fn sum(&mut self, total: CellId, parts: Vec<CellId>) {
        self.sums.push(Sum { total, parts });
    }

    fn value(&self, id: CellId) -> f64 {
        self.entries[id.0].value.unwrap_or(0.0)
    }

    fn is_suppressed(&self, id: CellId) -> bool {
        self.entries[id.0].suppressed
    }

    /// Decides what is held back at `threshold` (1 holds back nothing).
    pub fn settle(&mut self, threshold: u32) {
        let t = f64::from(threshold);
        for e in &mut self.entries {
            e.suppressed = match e.rule {
                Rule::People => e.value.is_some_and(|v| v > 0.0 && v < t),
                Rule::Free => false,
                Rule::Derived { base } => e.value.is_some() && base < u64::from(threshold),
            };
        }
        // Each round holds back at least one more cell or stops, so this ends.
        loop {
            let mut changed = false;
            for i in 0..self.entries.len() {
                let e = &self.entries[i];
                let shows_something = match e.rule {
                    Rule::People => e.value.is_some_and(|v| v != 0.0),
                    Rule::Free => false,
                    Rule::Derived { .. } => e.value.is_some(),
                };
                if !e.suppressed && shows_something && e.with.iter().any(|c| self.is_suppressed(*c))
                {
                    self.entries[i].suppressed = true;
                    changed = true;
                }
            }
            for i in 0..self.sums.len() {
                if let Some(extra) = self.second_cell(&self.sums[i]) {
                    self.entries[extra.0].suppressed = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The cell to hold back so that `sum` does not give away a lone held-back cell, if it
    /// has one.
    fn second_cell(&self, sum: &Sum) -> Option<CellId> {
        let all = || sum.parts.iter().copied().chain([sum.total]);
        if all().filter(|c| self.is_suppressed(*c)).count() != 1 {
            return None;
        }
        let shown_parts = || {
            sum.parts
                .iter()
                .copied()
                .filter(|c| !self.is_suppressed(*c))
        };
        let smallest = |cells: Vec<CellId>| {
            cells.into_iter().min_by(|a, b| {
                self.value(*a)
                    .total_cmp(&self.value(*b))
                    .then_with(|| self.entries[a.0].name.cmp(&self.entries[b.0].name))
                    .then(a.cmp(b))
            })
        };
        smallest(shown_parts().filter(|c| self.value(*c) > 0.0).collect())
            .or_else(|| (!self.is_suppressed(sum.total)).then_some(sum.total))
            .or_else(|| smallest(shown_parts().collect()))
    }

    /// The cell as the report shows it.
    pub fn cell(&self, id: CellId) -> Cell {
        let e = &self.entries[id.0];
        if e.suppressed {
            Cell::SUPPRESSED
        } else {
            Cell {
                value: e.value,
                suppressed: false,
            }
        }
    }
}

/// The rule in words, printed on the report.
pub fn rule_in_words(threshold: u32) -> String {
    if threshold <= 1 {
        return "Small-number suppression is OFF: every count is shown, however small. Small \
                counts can identify a young person: do not publish or share this report."
            .to_string();
    }
    let small = match threshold {
        2 => "Counts of 1 are".to_string(),
        t => format!("Counts from 1 to {} are", t - 1),
    };
    format!(
        "{small} suppressed (shown as \"suppressed\"), and so are as many other \
         figures as it takes that totals and other figures cannot give them away; each \
         period's column is protected on its own. Means and hours are shown only where they \
         rest on at least {threshold} people, and a figure tied to held-back ones (visits \
         beside the few members who made them) is held back with them. Zero is shown."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(l: &Ledger, id: CellId) -> Option<f64> {
        let c = l.cell(id);
        assert!(
            c.value.is_none() || !c.suppressed,
            "a held-back cell never carries its number"
        );
        c.value
    }

    #[test]
    fn a_small_count_is_held_back_and_zero_and_large_counts_are_shown() {
        let mut l = Ledger::new();
        let (zero, three, twelve) = (l.people(0), l.people(3), l.people(12));
        l.settle(10);
        assert_eq!(shown(&l, zero), Some(0.0));
        assert_eq!(l.cell(three), Cell::SUPPRESSED);
        assert_eq!(shown(&l, twelve), Some(12.0));
    }

    #[test]
    fn a_lone_small_part_takes_the_next_smallest_part_with_it() {
        // 40 = 3 + 25 + 12: with 3 held back, 40 - 25 - 12 would give it away.
        let mut l = Ledger::new();
        let total = l.people(40);
        let parts = vec![l.people(3), l.people(25), l.people(12)];
        l.sum(total, parts.clone());
        l.settle(10);
        assert!(l.cell(parts[0]).suppressed);
        assert!(l.cell(parts[2]).suppressed, "12 is the smallest other part");
        assert_eq!(shown(&l, parts[1]), Some(25.0));
        assert_eq!(shown(&l, total), Some(40.0));
    }

    #[test]
    fn when_the_other_parts_are_zero_the_total_is_held_back() {
        let mut l = Ledger::new();
        let total = l.people(4);
        let parts = vec![l.people(0), l.people(4), l.people(0)];
        l.sum(total, parts.clone());
        l.settle(10);
        assert!(l.cell(parts[1]).suppressed);
        assert!(l.cell(total).suppressed);
        assert_eq!(shown(&l, parts[0]), Some(0.0));
    }

    #[test]
    fn a_small_total_takes_a_part_with_it() {
        // A held-back total of 9 = 5 + 4 would be given away by the parts: both parts are
        // small anyway; with 9 = 0 + 9 the one part is held back and with it the sum settles.
        let mut l = Ledger::new();
        let total = l.people(9);
        let parts = vec![l.people(0), l.people(9)];
        l.sum(total, parts.clone());
        l.settle(10);
        assert!(l.cell(total).suppressed && l.cell(parts[1]).suppressed);
    }

    #[test]
    fn a_cell_held_back_in_one_sum_is_protected_in_every_sum_it_is_in() {
        // Members 50 split by age (5 + 45) and by gender (20 + 30). Age holds back 5 and 45;
        // gender has nothing small, and no lone held-back cell, so it is left alone.
        let mut l = Ledger::new();
        let members = l.people(50);
        let age = vec![l.people(5), l.people(45)];
        let gender = vec![l.people(20), l.people(30)];
        l.sum(members, age.clone());
        l.sum(members, gender.clone());
        l.settle(10);
        assert!(l.cell(age[0]).suppressed && l.cell(age[1]).suppressed);
        assert_eq!(shown(&l, members), Some(50.0));
        assert_eq!(shown(&l, gender[0]), Some(20.0));

        // Now the total is small: it is held back, and each split must hide one more part.
        let mut l = Ledger::new();
        let members = l.people(8);
        let age = vec![l.people(0), l.people(8)];
        let gender = vec![l.people(0), l.people(0), l.people(8)];
        l.sum(members, age.clone());
        l.sum(members, gender.clone());
        l.settle(10);
        assert!(l.cell(members).suppressed);
        assert!(l.cell(age[1]).suppressed && l.cell(gender[2]).suppressed);
    }

    #[test]
    fn a_mean_is_shown_only_on_enough_people_and_shown_inputs() {
        let mut l = Ledger::new();
        let visits = l.people(90);
        let members = l.people(30);
        let mean = l.derived(Some(3.0), 30, &[visits, members]);
        let few = l.people(6);
        let mean_of_few = l.derived(Some(2.5), 6, &[few]);
        let none = l.derived(None, 0, &[]);
        l.settle(10);
        assert_eq!(shown(&l, mean), Some(3.0));
        assert!(l.cell(mean_of_few).suppressed);
        assert_eq!(
            l.cell(none),
            Cell::EMPTY,
            "nothing to work out is not suppression"
        );

        // The member count held back by the sums it is in: the mean beside the visits would
        // give it away, so the mean goes too. 35 = 30 + 5 holds back 5 and then 30; 30 = 30 + 0
        // then has a lone held-back part and only a zero beside it, so its total goes.
        let mut l = Ledger::new();
        let visits = l.people(90);
        let members = l.people(30);
        let (a, b) = (l.people(30), l.people(0));
        l.sum(members, vec![a, b]);
        let (other_total, e) = (l.people(35), l.people(5));
        l.sum(other_total, vec![a, e]);
        let mean = l.derived(Some(3.0), 30, &[visits, members]);
        l.settle(10);
        assert!(l.cell(e).suppressed && l.cell(a).suppressed);
        assert!(l.cell(members).suppressed);
        assert!(l.cell(mean).suppressed);
        assert_eq!(shown(&l, visits), Some(90.0));
    }

    #[test]
    fn a_threshold_of_one_shows_everything_and_free_figures_are_always_shown() {
        let mut l = Ledger::new();
        let total = l.people(3);
        let parts = vec![l.people(1), l.people(2)];
        l.sum(total, parts.clone());
        let days = l.free(2);
        let mean = l.derived(Some(1.5), 2, &[total]);
        l.settle(1);
        assert_eq!(shown(&l, parts[0]), Some(1.0));
        assert_eq!(shown(&l, mean), Some(1.5));
        l.settle(10);
        assert_eq!(shown(&l, days), Some(2.0));
        assert!(l.cell(parts[0]).suppressed && l.cell(mean).suppressed);
    }

    #[test]
    fn no_sum_is_ever_left_with_exactly_one_held_back_cell() {
        use proptest::prelude::*;
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(
                &(
                    proptest::collection::vec(0u64..40, 1..8),
                    proptest::collection::vec(0u64..40, 1..8),
                    2u32..15,
                ),
                |(a, b, threshold)| {
                    // Two splits of the same total, as age and gender split the members.
                    let total_a: u64 = a.iter().sum();
                    let mut b = b;
                    let total_b: u64 = b.iter().sum();
                    // Make b add up to the same total.
                    if total_b < total_a {
                        b.push(total_a - total_b);
                    } else if let Some(x) = b.iter_mut().find(|x| **x >= total_b - total_a) {
                        *x -= total_b - total_a;
                    } else {
                        return Ok(());
                    }
                    let mut l = Ledger::new();
                    let total = l.people(total_a);
                    let pa: Vec<_> = a.iter().map(|v| l.people(*v)).collect();
                    let pb: Vec<_> = b.iter().map(|v| l.people(*v)).collect();
                    l.sum(total, pa.clone());
                    l.sum(total, pb.clone());
                    l.settle(threshold);
                    for parts in [&pa, &pb] {
                        let held = parts
                            .iter()
                            .chain([&total])
                            .filter(|c| l.cell(**c).suppressed)
                            .count();
                        prop_assert_ne!(held, 1);
                        for c in parts.iter().chain([&total]) {
                            let v = l.entries[c.0].value.unwrap();
                            if v > 0.0 && v < f64::from(threshold) {
                                prop_assert!(l.cell(*c).suppressed);
                            }
                        }
                    }
                    Ok(())
                },
            )
            .unwrap();
    }
}
