//! What a result means: the one answer to "does it count?", decided once per finding.
//!
//! A finding's [`Status`] is what the policy said (fail, undecided, error). Its
//! [`Disposition`] is what the run makes of it after triage (approvals, waivers) and the
//! baseline. The gate, every count, the compliance tables and every output format read the
//! disposition and nothing else, each with an exhaustive `match`, so a new state cannot be
//! shown one way in one format and another way in the next.

use serde::Serialize;

use super::{BaselineState, Status};

/// What a result means for the gate and for every output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// A failure nothing accepts: fails the gate at or above `--fail-on`. A finding whose
    /// waiver has expired is here (the waiver is still shown, as expired).
    Fail,
    /// The policy could not be evaluated on the resource: the run is incomplete (exit 2).
    /// Nothing accepts an error: not a waiver, an approval nor the baseline.
    Error,
    /// Undecided: the decision depends on a value known only after apply. Never fails the
    /// gate.
    Review,
    /// Recorded in the baseline (`scan --baseline`): reported, never failing.
    Known,
    /// Suppressed by an active waiver (reason, approver, ticket, expiry): reported, never
    /// failing.
    Waived,
    /// A change-control failure whose change is approved (a ticket): reported, never failing.
    Approved,
    /// The resource passes the policy (passes are kept apart from findings, as
    /// [`super::Pass`]).
    Pass,
}

impl Disposition {
    /// In order of how much attention they ask for (the derived order, too).
    pub const ALL: [Disposition; 7] = [
        Disposition::Fail,
        Disposition::Error,
        Disposition::Review,
        Disposition::Known,
        Disposition::Waived,
        Disposition::Approved,
        Disposition::Pass,
    ];

    /// Decides the disposition of a result from what the policy said and what accepts it.
    ///
    /// An error stays an error. Otherwise an approval outranks a waiver, which outranks the
    /// baseline: the most specific acceptance is the one reported. An expired waiver accepts
    /// nothing.
    pub(crate) fn decide(
        status: Status,
        approved: bool,
        waived: bool,
        baseline: Option<BaselineState>,
    ) -> Disposition {
        match status {
            Status::Error => Disposition::Error,
            _ if approved => Disposition::Approved,
            _ if waived => Disposition::Waived,
            _ if baseline == Some(BaselineState::Unchanged) => Disposition::Known,
            Status::Fail => Disposition::Fail,
            Status::Review => Disposition::Review,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Fail => "fail",
            Disposition::Review => "review",
            Disposition::Error => "error",
            Disposition::Approved => "approved",
            Disposition::Waived => "waived",
            Disposition::Known => "known",
            Disposition::Pass => "pass",
        }
    }

    /// Accepted for now (approved, waived or known): shown with the reason, never failing.
    pub fn is_accepted(self) -> bool {
        match self {
            Disposition::Approved | Disposition::Waived | Disposition::Known => true,
            Disposition::Fail | Disposition::Review | Disposition::Error | Disposition::Pass => {
                false
            }
        }
    }

    /// How the result counts for the controls it is mapped to (the compliance tables).
    ///
    /// A baselined finding still fails its control: a baseline records debt, it does not
    /// accept a risk. A waiver and an approval do (they name who accepted it, why and until
    /// when), so those results fail no control.
    pub fn control_effect(self) -> ControlEffect {
        match self {
            Disposition::Fail | Disposition::Known => ControlEffect::Fails,
            Disposition::Review => ControlEffect::Review,
            Disposition::Pass => ControlEffect::Passes,
            Disposition::Approved | Disposition::Waived | Disposition::Error => ControlEffect::None,
        }
    }
}

impl std::fmt::Display for Disposition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a result does to the state of a control it is mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlEffect {
    Fails,
    Review,
    Passes,
    /// Accepted (waived, approved) or not evaluated: the control's state does not depend on it.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_stay_errors_and_the_most_specific_acceptance_wins() {
        use Disposition as D;
        let unchanged = Some(BaselineState::Unchanged);
        assert_eq!(D::decide(Status::Error, true, true, unchanged), D::Error);
        assert_eq!(D::decide(Status::Fail, true, true, unchanged), D::Approved);
        assert_eq!(D::decide(Status::Fail, false, true, unchanged), D::Waived);
        assert_eq!(D::decide(Status::Review, false, false, unchanged), D::Known);
        assert_eq!(
            D::decide(Status::Fail, false, false, Some(BaselineState::New)),
            D::Fail
        );
        assert_eq!(D::decide(Status::Review, false, false, None), D::Review);
    }
}
