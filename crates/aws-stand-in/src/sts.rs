//! STS as `resilix audit --accounts … --assume-role NAME` calls it: AssumeRole of
//! `arn:aws:iam::ACCOUNT:role/NAME`, in the query protocol (a form-encoded request, an XML
//! answer), as the AWS SDK's `AssumeRoleProvider` sends it.
//!
//! The credentials handed out name the account (`ASIA` + the account + `STND`), so each request
//! signed with them says which account's role made it ([`crate::Request::account`]) and
//! [`crate::StandIn::account`] can answer it from that account's data. A refused role answers
//! as IAM refuses one: 403 `AccessDenied`, "… is not authorized to perform: sts:AssumeRole on
//! resource: ARN".

use std::collections::BTreeSet;

use crate::{Reply, Request, Routes};

/// The principal whose credentials the tests start from (the caller of AssumeRole).
pub const CALLER: &str = "arn:aws:iam::123456789012:user/auditor";

/// Which roles may be assumed: every role of every account, but those refused.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    refused: BTreeSet<String>,
}

/// The access key the stand-in hands out for a role of `account`.
pub fn access_key(account: &str) -> String {
    format!("ASIA{account}STND")
}

/// The account of an access key [`access_key`] made.
pub fn account_of(access_key: &str) -> Option<String> {
    let account = access_key.strip_prefix("ASIA")?.strip_suffix("STND")?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_owned())
}

impl Roles {
    pub fn new() -> Roles {
        Roles::default()
    }

    /// The roles of `account` cannot be assumed: its trust policy does not trust the caller.
    pub fn refuse(mut self, account: &str) -> Roles {
        self.refused.insert(account.to_owned());
        self
    }

    /// Routes AssumeRole to these roles.
    pub fn install(self, routes: &impl Routes) {
        routes.route(
            "AssumeRole",
            std::sync::Arc::new(move |r: &Request| self.assume_role(r)),
        );
    }

    /// AssumeRole: credentials for the role, valid until 2100, or `AccessDenied`.
    pub fn assume_role(&self, request: &Request) -> Reply {
        let arn = request.str("RoleArn").unwrap_or_default();
        let session = request.str("RoleSessionName").unwrap_or_default();
        // arn:PARTITION:iam::ACCOUNT:role/PATH/NAME
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let (Some(&"iam"), Some(account), Some(role)) = (
            parts.get(2),
            parts.get(4),
            parts.get(5).and_then(|r| r.strip_prefix("role/")),
        ) else {
            return error(
                400,
                "ValidationError",
                &format!("{arn} is not the ARN of a role"),
            );
        };
        if self.refused.contains(*account) {
            return error(
                403,
                "AccessDenied",
                &format!(
                    "User: {CALLER} is not authorized to perform: sts:AssumeRole on resource: {arn}"
                ),
            );
        }
        let name = role.rsplit('/').next().unwrap_or(role);
        Reply::Xml {
            status: 200,
            body: format!(
                "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <AssumeRoleResult>\
                 <AssumedRoleUser>\
                 <AssumedRoleId>AROASTANDIN{account}:{session}</AssumedRoleId>\
                 <Arn>arn:aws:sts::{account}:assumed-role/{name}/{session}</Arn>\
                 </AssumedRoleUser>\
                 <Credentials>\
                 <AccessKeyId>{key}</AccessKeyId>\
                 <SecretAccessKey>stand-in-secret-{account}</SecretAccessKey>\
                 <SessionToken>stand-in-session-{account}</SessionToken>\
                 <Expiration>2100-01-01T00:00:00Z</Expiration>\
                 </Credentials>\
                 </AssumeRoleResult>\
                 <ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata>\
                 </AssumeRoleResponse>",
                key = access_key(account),
            ),
        }
    }
}

/// An STS error, in the query protocol's XML.
pub fn error(status: u16, code: &str, message: &str) -> Reply {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Reply::Xml {
        status,
        body: format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <Error><Type>Sender</Type><Code>{code}</Code><Message>{escaped}</Message></Error>\
             <RequestId>stand-in</RequestId></ErrorResponse>"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_handed_out_name_their_account() {
        assert_eq!(
            account_of(&access_key("111111111111")).as_deref(),
            Some("111111111111")
        );
        assert_eq!(account_of("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(account_of("testing"), None);
    }
}
