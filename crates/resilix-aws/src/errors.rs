//! What went wrong talking to AWS Config, in terms a user can act on.

use std::error::Error as StdError;
use std::fmt;

use aws_sdk_config::error::{ProvideErrorMetadata, SdkError};

/// The kinds of failure users need to tell apart: each has its own fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureKind {
    /// AWS Config has no configuration recorder in this region: nothing is recorded there.
    NoRecorder,
    /// The credentials lack a permission (`AccessDeniedException`).
    AccessDenied,
    /// No usable credentials, or AWS rejected them (unknown key, expired token, bad signature).
    Credentials,
    /// The region is not enabled for the account (an opt-in region), so it was skipped.
    RegionNotEnabled,
    /// The member account's role could not be assumed (`--accounts`, `--assume-role`): STS
    /// refused it.
    RoleNotAssumed,
    /// The named configuration aggregator does not exist in this account and region.
    UnknownAggregator,
    /// Still throttled after the SDK's adaptive retries.
    Throttled,
    /// The endpoint could not be reached (network, DNS, TLS, a dropped connection).
    Unreachable,
    /// No answer in time: connecting, or the answer, took longer than the timeout.
    TimedOut,
    /// AWS Config kept some keys unprocessed after every retry.
    Unprocessed,
    /// Paging did not come to an end: a page token handed out twice, too many pages, or page
    /// after page empty with a token for more.
    Paging,
    /// Not asked: every call to the region had failed for longer than the retry time allowed,
    /// so resilix stopped calling it.
    GaveUp,
    /// Any other error from the service (its code and message are kept).
    Service,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::NoRecorder => "no configuration recorder",
            FailureKind::AccessDenied => "access denied",
            FailureKind::Credentials => "credentials rejected",
            FailureKind::RegionNotEnabled => "region not enabled",
            FailureKind::RoleNotAssumed => "role not assumed",
            FailureKind::UnknownAggregator => "unknown aggregator",
            FailureKind::Throttled => "throttled",
            FailureKind::Unreachable => "endpoint unreachable",
            FailureKind::TimedOut => "timed out",
            FailureKind::Unprocessed => "items left unprocessed",
            FailureKind::Paging => "paging did not end",
            FailureKind::GaveUp => "not attempted",
            FailureKind::Service => "service error",
        }
    }

    /// What the user can do about it.
    pub fn help(self) -> &'static str {
        match self {
            FailureKind::NoRecorder => {
                "turn on AWS Config recording there, or leave those regions out (--region)"
            }
            FailureKind::AccessDenied => {
                "grant config:Describe*, config:List*, config:BatchGet* and config:Select*, and for --changes-since config:GetResourceConfigHistory and cloudtrail:LookupEvents (the AWS managed policy SecurityAudit has them all)"
            }
            FailureKind::Credentials => {
                "check the credentials in use (--profile, AWS_PROFILE, AWS_ACCESS_KEY_ID …) and that they have not expired"
            }
            FailureKind::RegionNotEnabled => {
                "enable the region for the account, or leave it out with --region"
            }
            FailureKind::RoleNotAssumed => {
                "allow the credentials in use sts:AssumeRole on the role, and have the role's trust policy trust them (README: permissions); check the account ID and --assume-role"
            }
            FailureKind::UnknownAggregator => {
                "list the aggregators with `aws configservice describe-configuration-aggregators` in the aggregator's home region (--region)"
            }
            FailureKind::Throttled => {
                "run again later, lower --concurrency, or allow longer with --max-retry-time"
            }
            FailureKind::Unreachable => {
                "check the network, the proxy settings and any --endpoint-url / AWS_ENDPOINT_URL"
            }
            FailureKind::TimedOut => {
                "check the network, the proxy settings and any --endpoint-url / AWS_ENDPOINT_URL; an endpoint that is slow but working needs a longer --timeout"
            }
            FailureKind::Unprocessed => "run again later; AWS Config was under load",
            FailureKind::Paging => {
                "run again; if it persists, the endpoint is misbehaving (check --endpoint-url and any proxy), or narrow the audit with --resource-type"
            }
            FailureKind::GaveUp => {
                "run again later, or allow longer with --max-retry-time; the failures above say why the region kept failing"
            }
            FailureKind::Service => "run again; if it persists, the message above says why",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classified SDK error: its kind and a one-line message (code and AWS's own words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub kind: FailureKind,
    pub message: String,
}

/// Sorts an SDK error into a [`FailureKind`] by its AWS error code, or by how it failed to get a
/// response at all.
pub fn classify<E, R>(error: &SdkError<E, R>) -> Classified
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: fmt::Debug + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let err = service.err();
            // Errors parsed from a response always have a code; a modeled error built by hand
            // (or by a mock) may not, but its text starts with its name.
            let text = err.to_string();
            let code = err.code().or_else(|| {
                text.split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .filter(|name| name.ends_with("Exception"))
            });
            classify_code(code, err.message())
        }
        SdkError::DispatchFailure(failure) => {
            let detail = chain(error);
            let kind = if failure.is_timeout() {
                FailureKind::TimedOut
            } else if failure.is_io() {
                FailureKind::Unreachable
            } else if detail.contains("credentials") || detail.contains("Credentials") {
                FailureKind::Credentials
            } else {
                FailureKind::Unreachable
            };
            Classified {
                kind,
                message: detail,
            }
        }
        SdkError::TimeoutError(_) => Classified {
            kind: FailureKind::TimedOut,
            message: chain(error),
        },
        _ => {
            let detail = chain(error);
            let kind = if detail.contains("credentials") || detail.contains("Credentials") {
                FailureKind::Credentials
            } else {
                FailureKind::Service
            };
            Classified {
                kind,
                message: detail,
            }
        }
    }
}

/// Sorts an AWS error code (`AccessDeniedException`, …) into a kind.
pub fn classify_code(code: Option<&str>, message: Option<&str>) -> Classified {
    let kind = match code.unwrap_or_default() {
        "NoAvailableConfigurationRecorderException" | "NoSuchConfigurationRecorderException" => {
            FailureKind::NoRecorder
        }
        "AccessDeniedException"
        | "AccessDenied"
        | "UnauthorizedOperation"
        | "NotAuthorizedException" => FailureKind::AccessDenied,
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "ExpiredTokenException"
        | "ExpiredToken"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationToken" => FailureKind::Credentials,
        "NoSuchConfigurationAggregatorException" => FailureKind::UnknownAggregator,
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => FailureKind::Throttled,
        _ => FailureKind::Service,
    };
    let message = match (code, message) {
        (Some(code), Some(message)) if !message.is_empty() => format!("{code}: {message}"),
        (Some(code), _) => code.to_owned(),
        (None, Some(message)) => message.to_owned(),
        (None, None) => "the service returned an error without a code".to_owned(),
    };
    Classified { kind, message }
}

/// An error and its sources on one line (the SDK's top-level text alone says little:
/// "dispatch failure").
pub(crate) fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds() {
        let kind = |code| classify_code(Some(code), Some("m")).kind;
        assert_eq!(
            kind("NoAvailableConfigurationRecorderException"),
            FailureKind::NoRecorder
        );
        assert_eq!(kind("AccessDeniedException"), FailureKind::AccessDenied);
        assert_eq!(
            kind("UnrecognizedClientException"),
            FailureKind::Credentials
        );
        assert_eq!(kind("ExpiredTokenException"), FailureKind::Credentials);
        assert_eq!(
            kind("NoSuchConfigurationAggregatorException"),
            FailureKind::UnknownAggregator
        );
        assert_eq!(kind("ThrottlingException"), FailureKind::Throttled);
        assert_eq!(kind("InternalFailure"), FailureKind::Service);
        assert_eq!(
            classify_code(Some("AccessDeniedException"), Some("not allowed")).message,
            "AccessDeniedException: not allowed"
        );
    }
}
