//! Three-valued verdicts (plus error). The evidence behind them is [`crate::findings::Evidence`]:
//! it is part of a finding.

/// The result of a condition: pass, fail, undecided (a value known only after apply), or an
/// error (an operator met a value of the wrong type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Undecided,
    Error,
}

impl From<bool> for Verdict {
    fn from(b: bool) -> Self {
        if b { Verdict::Pass } else { Verdict::Fail }
    }
}

impl Verdict {
    pub fn negate(self) -> Verdict {
        match self {
            Verdict::Pass => Verdict::Fail,
            Verdict::Fail => Verdict::Pass,
            other => other,
        }
    }

    /// Kleene conjunction; errors outrank undecided, a failure decides.
    pub fn and(self, other: Verdict) -> Verdict {
        use Verdict::*;
        match (self, other) {
            (Fail, _) | (_, Fail) => Fail,
            (Error, _) | (_, Error) => Error,
            (Undecided, _) | (_, Undecided) => Undecided,
            (Pass, Pass) => Pass,
        }
    }

    /// Kleene disjunction; a pass decides.
    pub fn or(self, other: Verdict) -> Verdict {
        use Verdict::*;
        match (self, other) {
            (Pass, _) | (_, Pass) => Pass,
            (Error, _) | (_, Error) => Error,
            (Undecided, _) | (_, Undecided) => Undecided,
            (Fail, Fail) => Fail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict::*;

    #[test]
    fn kleene_tables() {
        assert_eq!(Pass.and(Undecided), Undecided);
        assert_eq!(Fail.and(Error), Fail);
        assert_eq!(Undecided.or(Pass), Pass);
        assert_eq!(Fail.or(Undecided), Undecided);
        assert_eq!(Error.or(Undecided), Error);
        assert_eq!(Undecided.negate(), Undecided);
    }
}
