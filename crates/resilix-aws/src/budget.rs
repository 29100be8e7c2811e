//! How long one region may go on failing before resilix stops retrying there.
//!
//! The SDK retries each call on its own (adaptive retry: backoff, a client-side rate limit,
//! `--max-attempts`); nothing stops a region that throttles every call from taking minutes per
//! resource type, one type after the other. A [`RetryBudget`] is shared by every call to one
//! region (or to the aggregator): its clock starts at the first failure worth retrying and is
//! reset by any answer that is not one. Once the region has failed without a break for the
//! budget's limit, the region is given up: a [`ClassifyRetry`] that runs after the SDK's own
//! classifiers forbids further retries, and calls not yet sent are not sent
//! ([`RetryBudget::given_up`]). The backoff itself stays the SDK's.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_config::config::interceptors::InterceptorContext;
use aws_sdk_config::config::retry::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;

/// The failure clock of one region.
#[derive(Debug)]
pub(crate) struct RetryBudget {
    limit: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Since when every call has failed (with an error worth retrying).
    failing_since: Option<Instant>,
    /// How long the region had been failing when it was given up. Stays set.
    given_up: Option<Duration>,
}

impl RetryBudget {
    pub(crate) fn new(limit: Duration) -> RetryBudget {
        RetryBudget {
            limit,
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn limit(&self) -> Duration {
        self.limit
    }

    /// How long the region had been failing when it was given up, once it has been.
    pub(crate) fn given_up(&self) -> Option<Duration> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .given_up
    }

    /// An attempt got an answer that is not worth retrying (success included): the region works.
    fn answered(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.failing_since = None;
    }

    /// An attempt failed with an error worth retrying: may it be retried?
    fn may_retry(&self) -> bool {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.given_up.is_some() {
            return false;
        }
        let failing = now.saturating_duration_since(*state.failing_since.get_or_insert(now));
        if failing >= self.limit {
            state.given_up = Some(failing);
            return false;
        }
        true
    }
}

/// The SDK's view of a [`RetryBudget`]: runs after its classifiers and forbids the retry of a
/// retryable error once the region is given up.
#[derive(Debug, Clone)]
pub(crate) struct BudgetClassifier(pub(crate) Arc<RetryBudget>);

impl ClassifyRetry for BudgetClassifier {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, _ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        if !previous.should_retry() {
            self.0.answered();
            RetryAction::NoActionIndicated
        } else if self.0.may_retry() {
            RetryAction::NoActionIndicated
        } else {
            RetryAction::RetryForbidden
        }
    }

    fn name(&self) -> &'static str {
        "resilix region retry budget"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // After every classifier of the SDK (the transient-error one runs last): `previous` is
        // then their verdict.
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

/// A duration as people read it: `200 ms`, `1.5 s`, `90 s`.
pub(crate) fn human(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else if duration < Duration::from_secs(10) && duration.subsec_millis() != 0 {
        format!("{:.1} s", duration.as_secs_f64())
    } else {
        format!("{} s", duration.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_given_up_after_failing_for_the_limit_without_a_break() {
        let budget = RetryBudget::new(Duration::from_millis(30));
        assert!(budget.may_retry(), "the first failure starts the clock");
        std::thread::sleep(Duration::from_millis(40));
        budget.answered();
        assert!(budget.may_retry(), "an answer in between restarts it");
        assert_eq!(budget.given_up(), None);
        std::thread::sleep(Duration::from_millis(40));
        assert!(!budget.may_retry());
        let given_up = budget.given_up().unwrap();
        assert!(given_up >= Duration::from_millis(30), "{given_up:?}");
        budget.answered();
        assert!(!budget.may_retry(), "a region given up stays given up");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::from_millis(200)), "200 ms");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human(Duration::from_secs(2)), "2 s");
        assert_eq!(human(Duration::from_millis(61_400)), "61 s");
    }
}
