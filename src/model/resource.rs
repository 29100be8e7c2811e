use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use jiff::civil::Date;

use crate::pattern::Pattern;
use crate::source::{LineCol, SourceFile};

/// The kind of input a resource came from. Policies have one target per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// A Terraform or OpenTofu plan (`terraform show -json`).
    Terraform,
    /// AWS Config configuration items (files, API results or a live pull).
    AwsConfig,
}

impl SourceKind {
    pub const ALL: [SourceKind; 2] = [SourceKind::Terraform, SourceKind::AwsConfig];

    /// The name used in policy files and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Terraform => "terraform",
            SourceKind::AwsConfig => "aws-config",
        }
    }

    pub fn parse(text: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Terraform resource mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Managed,
    Data,
}

/// One planned action, as Terraform names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    Delete,
    Forget,
}

impl Action {
    pub fn parse(text: &str) -> Option<Action> {
        Some(match text {
            "no-op" => Action::NoOp,
            "create" => Action::Create,
            "read" => Action::Read,
            "update" => Action::Update,
            "delete" => Action::Delete,
            "forget" => Action::Forget,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Forget => "forget",
        }
    }
}

/// The list of actions of one planned change, in Terraform's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Actions(pub Vec<Action>);

impl Actions {
    pub fn contains(&self, action: Action) -> bool {
        self.0.contains(&action)
    }

    /// Delete-then-create or create-then-delete: both count as a replacement.
    pub fn is_replace(&self) -> bool {
        self.contains(Action::Delete) && self.contains(Action::Create)
    }

    /// A change that removes the object: a pure delete or a replacement. Following HashiCorp's
    /// advice, any list that holds `delete` counts, so new combinations are still seen.
    pub fn destroys(&self) -> bool {
        self.contains(Action::Delete)
    }

    /// The object exists after apply (created, updated, kept or replaced).
    pub fn has_after(&self) -> bool {
        self.0.is_empty()
            || self
                .0
                .iter()
                .any(|a| matches!(a, Action::Create | Action::Update | Action::NoOp))
    }

    /// Names the change the way people say it: `create`, `replace`, `delete`, …
    pub fn describe(&self) -> &'static str {
        if self.is_replace() {
            "replace"
        } else if let [only] = self.0.as_slice() {
            only.as_str()
        } else if self.contains(Action::Forget) {
            "forget"
        } else if self.destroys() {
            "delete"
        } else if self.contains(Action::Create) {
            "create"
        } else {
            "change"
        }
    }

    /// What the change does to the object, as one kind (the `action:` condition of policies).
    /// Delete-then-create and create-then-delete are both a replacement; any other list holding
    /// `delete` is a deletion, so new combinations are still seen.
    pub fn kind(&self) -> ChangeKind {
        if self.is_replace() {
            ChangeKind::Replace
        } else if self.destroys() {
            ChangeKind::Delete
        } else if self.contains(Action::Forget) {
            ChangeKind::Forget
        } else if self.contains(Action::Create) {
            ChangeKind::Create
        } else if self.contains(Action::Update) {
            ChangeKind::Update
        } else if self.contains(Action::Read) {
            ChangeKind::Read
        } else {
            ChangeKind::NoOp
        }
    }
}

/// What a change does to an object, the way change control talks about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Create,
    Update,
    /// Delete-then-create or create-then-delete.
    Replace,
    Delete,
    /// Removed from management without being destroyed (`removed { lifecycle { destroy = false } }`).
    Forget,
    Read,
    NoOp,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 7] = [
        ChangeKind::Create,
        ChangeKind::Update,
        ChangeKind::Replace,
        ChangeKind::Delete,
        ChangeKind::Forget,
        ChangeKind::Read,
        ChangeKind::NoOp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Create => "create",
            ChangeKind::Update => "update",
            ChangeKind::Replace => "replace",
            ChangeKind::Delete => "delete",
            ChangeKind::Forget => "forget",
            ChangeKind::Read => "read",
            ChangeKind::NoOp => "no-op",
        }
    }

    pub fn parse(text: &str) -> Option<ChangeKind> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change of a resource: a Terraform planned change or drift, or the difference between two
/// AWS Config snapshots (`resilix diff`).
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub actions: Actions,
    /// Terraform's `action_reason`, kept verbatim (unknown values are unspecified reasons).
    pub action_reason: Option<String>,
    /// The change came from `resource_drift`: detected outside Terraform.
    pub drift: bool,
    /// `previous_address` of a moved resource.
    pub previous_address: Option<String>,
    /// Deposed object key, for objects kept from an interrupted replacement.
    pub deposed: Option<String>,
    /// One change of an AWS Config history (`audit --changes-since`): when it was recorded
    /// (the capture time of the item it made), which tells it from the resource's other changes.
    pub recorded_at: Option<String>,
    /// A later change of the same resource follows in the same history: hardening policies
    /// see only the newest state, so they skip this one.
    pub superseded: bool,
    /// A change of a history: who made it (its CloudTrail events), or why that is not known.
    /// `None` for planned changes and snapshot diffs, which have no principal.
    pub attribution: Option<Arc<super::Attribution>>,
}

/// Status of an AWS Config configuration item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    /// Recorded and present (`OK`, `ResourceDiscovered`).
    Active,
    /// `ResourceDeleted` / `ResourceDeletedNotRecorded`: gone; not evaluated for hardening.
    Deleted,
    /// `ResourceNotRecorded`: the recorder does not record it; not evaluated for hardening.
    NotRecorded,
}

/// Account and region of an AWS Config item.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CloudContext {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A reference from one attribute of a Terraform resource to other resources, from the plan's
/// `configuration` (resolved through module variables and outputs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Attribute path, dotted, without indexes (`bucket`, `logging.target_bucket`).
    pub attribute: String,
    /// Configuration-level addresses of the referenced resources (`module.net.aws_vpc.main`).
    pub targets: Vec<String>,
}

/// An AWS Config relationship, normalized across the item shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub name: String,
}

/// Where a resource came from.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The file, or `None` for data pulled live.
    pub file: Option<Arc<SourceFile>>,
    /// Byte offset of the resource's JSON object in the file.
    pub offset: Option<usize>,
    /// Terraform: the block in the `.tf` sources that declares the resource, when the sources
    /// were at hand. Findings point there rather than at the plan.
    pub declaration: Option<Declaration>,
}

/// A place in a configuration source file: the `resource "TYPE" "NAME"` block that declares a
/// resource (every `count`/`for_each` instance points at its block), or, for a resource inside
/// a module whose sources are not local, the `module` block that calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The file, as a path relative to the working directory (or absolute, as found).
    pub file: Arc<str>,
    /// 1-based line and column (column counted in characters).
    pub line: usize,
    pub column: usize,
    /// The `resilix:ignore` comments on or above the block (shared by every instance of the
    /// block and every call of its module); `None` when there are none (the usual case).
    pub ignores: Option<Arc<[InlineIgnore]>>,
}

/// A `# resilix:ignore ID[,ID…] reason="…" expires=YYYY-MM-DD` comment on or above the block
/// that declares a resource: a waiver written in the source, next to what it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineIgnore {
    /// The `.tf` file and the 1-based line of the comment.
    pub file: Arc<str>,
    pub line: usize,
    /// Policy IDs or globs (`aws.s3.*`, `*`).
    pub policies: Vec<Pattern>,
    pub reason: String,
    pub expires: Option<Date>,
    /// Why the comment suppresses nothing as written (no reason, no expiry date, a date that is
    /// not one…); `None` when it is well formed.
    pub problem: Option<String>,
}

impl InlineIgnore {
    /// Whether the comment is well formed and names `policy` (it may still have expired).
    pub fn names(&self, policy: &str) -> bool {
        self.problem.is_none() && self.policies.iter().any(|p| p.matches(policy))
    }
}

impl Origin {
    pub fn file_name(&self) -> Option<&str> {
        self.file.as_deref().map(SourceFile::name)
    }

    pub fn line_col(&self) -> Option<LineCol> {
        match (&self.file, self.offset) {
            (Some(file), Some(offset)) => Some(file.line_col(offset)),
            _ => None,
        }
    }
}

/// The documents a policy queries: the resource as it will be (or is), and as it was.
#[derive(Debug, Clone)]
pub struct Documents {
    /// Planned values after apply (Terraform) or the normalized configuration item (AWS Config).
    /// `Null` when the object does not exist after the change (deletes).
    pub after: Arc<Value>,
    /// Values before the change (Terraform updates, deletes and replacements).
    pub before: Option<Arc<Value>>,
}

/// Failure to materialize a lazily-parsed document.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct DocError {
    pub message: String,
    /// Byte offset in the resource's file, where known.
    pub offset: Option<usize>,
}

/// A document that is parsed only when a policy needs it.
///
/// Large plans are kept as text; each resource's values are parsed on demand, in parallel, and
/// dropped after evaluation, so memory stays near the size of the file.
pub trait LazyDocument: Send + Sync + fmt::Debug {
    /// Parses the parts of the documents that `projection` keeps.
    fn materialize(&self, projection: &Projection) -> Result<Documents, DocError>;
}

/// The parts of a resource's documents that a reader needs: the top-level attributes it can
/// reach, and whether it reads the document before the change. A lazy document parses only
/// these; everything else is skipped over without being built, so a plan's resources cost
/// little more than a scan of their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    /// The top-level attributes kept (`None`: all of them).
    pub keys: Option<BTreeSet<String>>,
    /// Whether the document before the change is needed at all.
    pub before: bool,
}

impl Projection {
    /// The whole documents.
    pub const ALL: Projection = Projection {
        keys: None,
        before: true,
    };

    /// Whether the top-level attribute `key` is kept.
    pub fn keeps(&self, key: &str) -> bool {
        self.keys.as_ref().is_none_or(|keys| keys.contains(key))
    }
}

/// How a resource holds its documents.
#[derive(Debug, Clone)]
pub enum Body {
    Ready(Documents),
    Lazy(Arc<dyn LazyDocument>),
}

/// One normalized resource: a Terraform resource instance or an AWS Config item.
#[derive(Debug, Clone)]
pub struct Resource {
    pub source: SourceKind,
    /// `aws_s3_bucket` or `AWS::S3::Bucket`.
    pub type_name: Arc<str>,
    /// Terraform address (`module.a.aws_s3_bucket.b["x"]`), else ARN, else resource id.
    pub address: String,
    pub mode: Mode,
    /// The change: planned (Terraform), drift, or between two Config snapshots (`resilix diff`).
    pub change: Option<Change>,
    /// AWS Config: the item status.
    pub status: ItemStatus,
    pub context: CloudContext,
    /// AWS Config: resource id and name; Terraform: none.
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub arn: Option<String>,
    /// Terraform: the configuration-level address (module instance keys and index removed),
    /// which references in `configuration` point at.
    pub config_address: Option<String>,
    pub references: Arc<[Reference]>,
    pub relationships: Vec<Relationship>,
    pub origin: Origin,
    pub body: Body,
}

impl Resource {
    /// The documents policies query, parsing them first if they are lazy.
    pub fn documents(&self) -> Result<Documents, DocError> {
        self.documents_for(&Projection::ALL)
    }

    /// The parts of the documents that `projection` keeps (documents already parsed are
    /// returned whole: they cost nothing more).
    pub fn documents_for(&self, projection: &Projection) -> Result<Documents, DocError> {
        match &self.body {
            Body::Ready(docs) => Ok(docs.clone()),
            Body::Lazy(lazy) => lazy.materialize(projection),
        }
    }

    /// Whether hardening policies apply: the object exists after the change and is recorded.
    pub fn is_evaluable(&self) -> bool {
        self.mode == Mode::Managed
            && self.status == ItemStatus::Active
            && self
                .change
                .as_ref()
                .is_none_or(|c| !c.drift && !c.superseded && c.actions.has_after())
    }

    /// Whether change-control targets see it: a managed resource with a change that does
    /// something (created, updated, replaced, deleted, forgotten, or drifted). Unlike
    /// [`Resource::is_evaluable`], objects that no longer exist after the change are included.
    pub fn is_change(&self) -> bool {
        self.mode == Mode::Managed
            && self
                .change
                .as_ref()
                .is_some_and(|c| !matches!(c.actions.kind(), ChangeKind::NoOp | ChangeKind::Read))
    }

    /// What the change does (`no-op` for a resource without a change).
    pub fn change_kind(&self) -> ChangeKind {
        self.change
            .as_ref()
            .map_or(ChangeKind::NoOp, |c| c.actions.kind())
    }

    /// A stable identity, independent of file and line: the Terraform address (with its deposed
    /// key) or the account, region, type and id of an AWS Config item.
    pub fn identity(&self) -> String {
        match self.source {
            SourceKind::Terraform => match self.change.as_ref().and_then(|c| c.deposed.as_ref()) {
                Some(deposed) => format!("{} (deposed {deposed})", self.address),
                None => self.address.clone(),
            },
            SourceKind::AwsConfig => {
                let identity = format!(
                    "{}/{}/{}/{}",
                    self.context.account.as_deref().unwrap_or("-"),
                    self.context.region.as_deref().unwrap_or("-"),
                    self.type_name,
                    self.resource_id.as_deref().unwrap_or(&self.address)
                );
                match self.change.as_ref().and_then(|c| c.recorded_at.as_ref()) {
                    Some(at) => format!("{identity} (changed {at})"),
                    None => identity,
                }
            }
        }
    }
}

/// All resources of one run, in load order.
#[derive(Debug, Default)]
pub struct ResourceSet {
    pub resources: Vec<Resource>,
}

impl ResourceSet {
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&Resource> {
        self.resources.get(index)
    }
}
