//! Paging through one listing, bounded: a service that never stops handing out page tokens must
//! not keep an audit paging forever, and a listing cut short is a failure, never a quiet end.

use std::collections::BTreeSet;

use crate::Settings;
use crate::errors::{Classified, FailureKind};

/// The page token of each next page of one listing, and the bounds it must stay within: no token
/// twice (the service would loop), at most `max_pages` pages, at most `max_empty_pages` empty
/// pages in a row that still promise more.
pub(crate) struct Pager {
    token: Option<String>,
    seen: BTreeSet<String>,
    pages: usize,
    empty_in_a_row: usize,
    page_size: i32,
    max_pages: usize,
    max_empty_pages: usize,
}

impl Pager {
    pub(crate) fn new(settings: &Settings) -> Pager {
        Pager {
            token: None,
            seen: BTreeSet::new(),
            pages: 0,
            empty_in_a_row: 0,
            page_size: settings.page_size,
            max_pages: settings.max_pages.max(1),
            max_empty_pages: settings.max_empty_pages.max(1),
        }
    }

    /// The token to ask for the next page with (none for the first).
    pub(crate) fn token(&self) -> Option<String> {
        self.token.clone()
    }

    /// A page with `items` entries came back with `next` as its token: `Ok(true)` to ask for the
    /// next page, `Ok(false)` at the end, `Err` when paging has to stop short of the end.
    pub(crate) fn turn(&mut self, next: Option<&str>, items: usize) -> Result<bool, Classified> {
        self.pages += 1;
        let Some(next) = next.filter(|t| !t.is_empty()) else {
            return Ok(false);
        };
        if !self.seen.insert(next.to_owned()) {
            return Err(stuck(format!(
                "page {} came with a page token the service had already handed out for an \
                 earlier page: following it would loop, so the listing stopped there and is incomplete",
                self.pages
            )));
        }
        self.empty_in_a_row = if items == 0 {
            self.empty_in_a_row + 1
        } else {
            0
        };
        if self.empty_in_a_row >= self.max_empty_pages {
            return Err(stuck(format!(
                "{} pages in a row came back empty, each with a token for more: the listing \
                 stopped there and is incomplete",
                self.empty_in_a_row
            )));
        }
        if self.pages >= self.max_pages {
            return Err(stuck(format!(
                "the listing went on past {} pages (of up to {} each), the most resilix reads \
                 for one resource type: it stopped there and is incomplete",
                self.max_pages, self.page_size
            )));
        }
        self.token = Some(next.to_owned());
        Ok(true)
    }
}

fn stuck(message: String) -> Classified {
    Classified {
        kind: FailureKind::Paging,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounded(max_pages: usize, max_empty_pages: usize) -> Pager {
        Pager::new(&Settings {
            max_pages,
            max_empty_pages,
            ..Settings::default()
        })
    }

    #[test]
    fn pages_are_followed_to_the_end() {
        let mut pager = bounded(10, 10);
        assert_eq!(pager.token(), None);
        assert_eq!(pager.turn(Some("a"), 100), Ok(true));
        assert_eq!(pager.token().as_deref(), Some("a"));
        assert_eq!(pager.turn(Some("b"), 0), Ok(true));
        assert_eq!(pager.turn(Some(""), 3), Ok(false), "an empty token ends it");
        assert_eq!(pager.turn(None, 3), Ok(false));
    }

    #[test]
    fn a_token_handed_out_twice_is_a_failure_not_the_end() {
        let mut pager = bounded(10, 10);
        assert_eq!(pager.turn(Some("A"), 1), Ok(true));
        assert_eq!(pager.turn(Some("B"), 1), Ok(true));
        let error = pager.turn(Some("A"), 1).unwrap_err();
        assert_eq!(error.kind, FailureKind::Paging);
        assert!(
            error.message.starts_with("page 3 came with a page token"),
            "{}",
            error.message
        );
    }

    #[test]
    fn empty_pages_in_a_row_and_too_many_pages_are_bounded() {
        let mut pager = bounded(100, 3);
        assert_eq!(pager.turn(Some("1"), 0), Ok(true));
        assert_eq!(
            pager.turn(Some("2"), 1),
            Ok(true),
            "an item resets the count"
        );
        assert_eq!(pager.turn(Some("3"), 0), Ok(true));
        assert_eq!(pager.turn(Some("4"), 0), Ok(true));
        let error = pager.turn(Some("5"), 0).unwrap_err();
        assert!(
            error
                .message
                .starts_with("3 pages in a row came back empty"),
            "{}",
            error.message
        );

        let mut pager = bounded(3, 100);
        assert_eq!(pager.turn(Some("1"), 1), Ok(true));
        assert_eq!(pager.turn(Some("2"), 1), Ok(true));
        let error = pager.turn(Some("3"), 1).unwrap_err();
        assert!(
            error
                .message
                .starts_with("the listing went on past 3 pages"),
            "{}",
            error.message
        );
        let mut pager = bounded(3, 100);
        assert_eq!(pager.turn(Some("1"), 1), Ok(true));
        assert_eq!(pager.turn(Some("2"), 1), Ok(true));
        assert_eq!(
            pager.turn(None, 1),
            Ok(false),
            "the last allowed page may end it"
        );
    }
}
