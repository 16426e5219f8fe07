//! CARE's `limit`/`offset` paging as a person walks it: which page they are on, whether
//! there is one before or after, where Previous and Next go.

/// One page of a list: its first row, the page size and the list's total as last answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    pub offset: u32,
    pub size: u32,
    pub total: u64,
}

impl PageWindow {
    pub fn new(offset: u32, size: u32, total: u64) -> Self {
        Self {
            offset,
            // A zero page size would never move; CARE's smallest useful page is one row.
            size: size.max(1),
            total,
        }
    }

    /// The first row of the last page (0 for an empty list).
    pub fn last_offset(&self) -> u32 {
        let size = u64::from(self.size);
        let last = self.total.saturating_sub(1) / size * size;
        u32::try_from(last).unwrap_or(u32::MAX / self.size * self.size)
    }

    pub fn has_previous(&self) -> bool {
        self.offset > 0
    }

    pub fn has_next(&self) -> bool {
        u64::from(self.offset) + u64::from(self.size) < self.total
    }

    /// Where Previous goes. A page past the end (the list shrank while it was open) goes
    /// back to the last page that has rows.
    pub fn previous(&self) -> u32 {
        self.offset
            .saturating_sub(self.size)
            .min(self.last_offset())
    }

    /// Where Next goes (stays put on the last page).
    pub fn next(&self) -> u32 {
        if self.has_next() {
            self.offset.saturating_add(self.size)
        } else {
            self.offset
        }
    }

    /// 1-based page number.
    pub fn number(&self) -> u64 {
        u64::from(self.offset / self.size) + 1
    }

    /// How many pages the list has (at least one, so an empty list reads "Page 1 of 1").
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.size)).max(1)
    }

    /// "Page 2 of 15 · 15–28 of 200" as the pager shows it.
    pub fn describe(&self) -> String {
        let first = u64::from(self.offset) + 1;
        let last = (u64::from(self.offset) + u64::from(self.size)).min(self.total);
        if first > last {
            return format!("Page {} of {}", self.number(), self.pages());
        }
        format!(
            "Page {} of {} · {first}–{last} of {}",
            self.number(),
            self.pages(),
            self.total
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn two_hundred_patients_in_pages_of_fourteen() {
        let first = PageWindow::new(0, 14, 200);
        assert!(!first.has_previous());
        assert!(first.has_next());
        assert_eq!(first.next(), 14);
        assert_eq!(first.describe(), "Page 1 of 15 · 1–14 of 200");

        let last = PageWindow::new(196, 14, 200);
        assert!(last.has_previous());
        assert!(!last.has_next());
        assert_eq!(last.next(), 196);
        assert_eq!(last.previous(), 182);
        assert_eq!(last.describe(), "Page 15 of 15 · 197–200 of 200");
    }

    #[test]
    fn exactly_full_pages_have_no_empty_page_after_them() {
        let w = PageWindow::new(14, 14, 28);
        assert!(!w.has_next());
        assert_eq!(w.pages(), 2);
    }

    #[test]
    fn an_empty_list_is_one_page_without_neighbours() {
        let w = PageWindow::new(0, 20, 0);
        assert!(!w.has_previous() && !w.has_next());
        assert_eq!(w.describe(), "Page 1 of 1");
    }

    #[test]
    fn a_page_past_a_shrunken_list_goes_back_to_its_last_page() {
        // On page 4 (offset 42) when the list shrank to 30 rows.
        let w = PageWindow::new(42, 14, 30);
        assert!(!w.has_next());
        assert_eq!(w.previous(), 28);
        assert_eq!(w.describe(), "Page 4 of 3");
    }

    #[test]
    fn a_zero_page_size_still_moves() {
        let w = PageWindow::new(0, 0, 3);
        assert_eq!(w.next(), 1);
    }

    proptest! {
        /// Walking Next from the start visits every row once and stops on the last page;
        /// walking Previous from there comes back to the start.
        #[test]
        fn next_then_previous_walks_every_page(size in 1u32..50, total in 0u64..2_000) {
            let mut offset = 0u32;
            let mut seen = 0u64;
            let mut pages = 1u64;
            loop {
                let w = PageWindow::new(offset, size, total);
                prop_assert_eq!(w.number(), pages);
                seen += (u64::from(offset) + u64::from(size)).min(total) - u64::from(offset).min(total);
                if !w.has_next() { break; }
                offset = w.next();
                pages += 1;
            }
            prop_assert_eq!(seen, total);
            prop_assert_eq!(pages, PageWindow::new(0, size, total).pages());
            prop_assert_eq!(offset, PageWindow::new(0, size, total).last_offset());
            while PageWindow::new(offset, size, total).has_previous() {
                offset = PageWindow::new(offset, size, total).previous();
                pages -= 1;
            }
            prop_assert_eq!((offset, pages), (0, 1));
        }
    }
}
