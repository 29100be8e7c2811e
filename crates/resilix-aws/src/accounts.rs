//! An organization audited account by account (`--accounts ID,… --assume-role NAME`): AWS
//! Config aggregators serve no configuration history, so an organization's changes are pulled
//! from each member account directly, through a role assumed there.
//!
//! - Each account's role, `arn:PARTITION:iam::ACCOUNT:role/NAME`, is assumed once up front with
//!   aws-config's [`AssumeRoleProvider`] (STS AssumeRole, under the same timeouts and retries as
//!   every call). A role that cannot be assumed is a [`Failure`] of the account — "nothing in
//!   account … was pulled" — never a silent gap; the other accounts go on.
//! - The credentials it got are the account's first; the SDK's identity cache keeps them, shared
//!   by every client of the account, and asks the provider again (AssumeRole) before they expire.
//! - Then every (account, region) is one scope of the pull, `ACCOUNT REGION`, exactly as a region
//!   of one account: probed, pulled per resource type concurrently, with its own retry budget.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex, PoisonError};

use aws_config::sts::AssumeRoleProvider;
use aws_config::{Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_sdk_config::error::SdkError;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::budget::RetryBudget;
use crate::errors::{Classified, FailureKind, chain};
use crate::fetch::explain;
use crate::{Failure, Options};

/// The session name of every assumed role: what the member accounts' CloudTrail shows for the
/// audit's own calls.
pub const SESSION_NAME: &str = "resilix-audit";

/// The role to assume in `account`: `role` is its name, with its path if it has one
/// (`audit/resilix`); the partition follows the region (`cn-…`, `us-gov-…`).
pub fn role_arn(account: &str, role: &str, region: Option<&str>) -> String {
    let partition = match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    };
    format!(
        "arn:{partition}:iam::{account}:role/{}",
        role.trim_matches('/')
    )
}

/// What assuming every account's role came to: the SDK configuration of each account whose
/// role was assumed, and a failure for each of the others.
pub(crate) struct Assumed {
    pub(crate) configs: BTreeMap<String, SdkConfig>,
    pub(crate) refused: Vec<(String, Failure)>,
}

/// Assumes `role` in every account (`options.accounts`), at most `settings.concurrency` at
/// once; STS is called in `region` (the configuration's, else the first audited).
pub(crate) async fn assume_all(
    shared: &SdkConfig,
    options: &Options,
    role: &str,
    region: Option<&str>,
) -> Assumed {
    let mut accounts = options.accounts.clone();
    accounts.sort();
    accounts.dedup();
    let limit = Arc::new(Semaphore::new(options.settings.concurrency.max(1)));
    let mut set = JoinSet::new();
    for account in accounts {
        let arn = role_arn(&account, role, region);
        let mut base = shared.to_builder();
        if shared.region().is_none()
            && let Some(region) = region
        {
            base.set_region(Some(Region::new(region.to_owned())));
        }
        let base = base.build();
        let limit = Arc::clone(&limit);
        let options = options.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let assumed = assume(&base, &account, &arn, &options).await;
            (account, assumed)
        });
    }
    let mut out = Assumed {
        configs: BTreeMap::new(),
        refused: Vec::new(),
    };
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((account, Ok(config))) => {
                out.configs.insert(account, config);
            }
            Ok((account, Err(failure))) => out.refused.push((account, failure)),
            Err(error) => out.refused.push((
                "internal".to_owned(),
                Failure {
                    scope: "internal".to_owned(),
                    kind: FailureKind::Service,
                    operation: "AssumeRole",
                    message: format!(
                        "an AssumeRole task ended abnormally (this is a bug): {error}"
                    ),
                },
            )),
        }
    }
    out.refused.sort();
    out
}

/// The account's configuration: `base` with the role's credentials, or why not.
async fn assume(
    base: &SdkConfig,
    account: &str,
    arn: &str,
    options: &Options,
) -> Result<SdkConfig, Failure> {
    let provider = AssumeRoleProvider::builder(arn)
        .session_name(SESSION_NAME)
        .configure(base)
        .build()
        .await;
    match provider.provide_credentials().await {
        Ok(credentials) => {
            let primed = Primed {
                first: Mutex::new(Some(credentials)),
                provider,
            };
            Ok(base
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(primed))
                .build())
        }
        Err(error) => {
            let classified = classify_assume(&error, options, account);
            Err(Failure {
                scope: format!("account {account}"),
                kind: classified.kind,
                operation: "AssumeRole",
                message: format!(
                    "could not assume {arn}: {}; nothing in account {account} was pulled",
                    classified.message
                ),
            })
        }
    }
}

/// Why a role could not be assumed: STS's own error when it answered (a refusal is
/// [`FailureKind::RoleNotAssumed`]), else how the call failed (timed out, unreachable, no
/// credentials to call STS with).
fn classify_assume(error: &CredentialsError, options: &Options, account: &str) -> Classified {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(inner) = source {
        if let Some(sdk) = inner.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            let budget = RetryBudget::new(options.settings.max_retry_time);
            let timeouts = options.timeouts();
            let mut classified =
                explain(sdk, Some(&timeouts), &budget, &format!("account {account}"));
            if classified.kind == FailureKind::AccessDenied {
                classified.kind = FailureKind::RoleNotAssumed;
            }
            return classified;
        }
        source = inner.source();
    }
    Classified {
        kind: match error {
            CredentialsError::ProviderTimedOut(_) => FailureKind::TimedOut,
            _ => FailureKind::Credentials,
        },
        message: chain(error),
    }
}

/// The role's provider, with the credentials the first AssumeRole got handed out first: the
/// check that the role can be assumed is the account's first AssumeRole, not an extra one. The
/// SDK's identity cache then keeps them and calls the provider again before they expire.
#[derive(Debug)]
struct Primed {
    first: Mutex<Option<Credentials>>,
    provider: AssumeRoleProvider,
}

impl ProvideCredentials for Primed {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self
            .first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match first {
            Some(credentials) => future::ProvideCredentials::ready(Ok(credentials)),
            None => self.provider.provide_credentials(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_is_named_in_the_account_and_partition() {
        assert_eq!(
            role_arn("111111111111", "resilix-audit", Some("eu-west-1")),
            "arn:aws:iam::111111111111:role/resilix-audit"
        );
        assert_eq!(
            role_arn("111111111111", "/audit/resilix/", None),
            "arn:aws:iam::111111111111:role/audit/resilix"
        );
        assert_eq!(
            role_arn("111111111111", "audit", Some("cn-north-1")),
            "arn:aws-cn:iam::111111111111:role/audit"
        );
        assert_eq!(
            role_arn("111111111111", "audit", Some("us-gov-west-1")),
            "arn:aws-us-gov:iam::111111111111:role/audit"
        );
    }
}
