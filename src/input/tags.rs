//! The tags of a resource, wherever its input keeps them.
//!
//! Terraform resources carry `tags` and `tags_all` (with the provider's `default_tags`); AWS
//! Config items are normalized at load to one `tags` map. Values known only after apply and
//! sensitive values are left out: they cannot name a ticket or a criticality.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value;

use crate::model::value::marker;
use crate::model::{ChangeKind, Documents, Projection, Resource, SourceKind};

/// The attributes that hold tags, in every input kind.
static TAG_ATTRIBUTES: LazyLock<Projection> = LazyLock::new(|| Projection {
    keys: Some(TAG_KEYS.map(str::to_owned).into_iter().collect()),
    before: true,
});

/// Reads the tags of a resource, parsing only the attributes that hold them (none when its
/// values cannot be parsed: evaluation reports that).
pub fn read_tags(resource: &Resource) -> ResourceTags {
    resource
        .documents_for(&TAG_ATTRIBUTES)
        .map(|docs| resource_tags(resource, &docs))
        .unwrap_or_default()
}

/// The attributes that hold tags (`tags`, and Terraform's `tags_all`).
pub const TAG_KEYS: [&str; 2] = ["tags", "tags_all"];

/// The tag attributes worth adding to every projection of a kind of input, so that the tags
/// of a resource with findings come with the documents evaluation parses anyway: an AWS Config
/// item's `tags` is small and sits beside a configuration that is parsed anyway; a plan's
/// `tags_all` is not small, so plans keep to what policies read.
pub fn cheap_tag_keys(kind: SourceKind) -> &'static [&'static str] {
    match kind {
        SourceKind::AwsConfig => &TAG_KEYS,
        SourceKind::Terraform => &[],
    }
}

/// Whether documents read with `projection` hold all of `resource`'s tags, so that
/// [`resource_tags`] on them equals [`read_tags`].
pub fn covers_tags(projection: &Projection, resource: &Resource) -> bool {
    let keys = projection
        .keys
        .as_ref()
        .is_none_or(|keys| TAG_KEYS.iter().all(|k| keys.contains(*k)));
    // Without the document before the change, only a change that has none (a create, or an
    // AWS Config item) is covered.
    let before = projection.before
        || resource
            .change
            .as_ref()
            .is_none_or(|c| c.actions.kind() == ChangeKind::Create);
    keys && before
}

/// Tag key → value.
pub type Tags = BTreeMap<String, String>;

/// The tags of a resource before and after its change (`before` is empty without a change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceTags {
    pub before: Tags,
    pub after: Tags,
}

/// Reads the tags of a resource from its documents.
pub fn resource_tags(resource: &Resource, docs: &Documents) -> ResourceTags {
    let read = |doc: &Value| -> Tags {
        let mut out = Tags::new();
        let keys: &[&str] = match resource.source {
            // `tags` last: what the configuration says wins over provider defaults.
            SourceKind::Terraform => &["tags_all", "tags"],
            SourceKind::AwsConfig => &["tags"],
        };
        for key in keys {
            if let Some(Value::Object(map)) = doc.get(*key) {
                for (k, v) in map {
                    if marker(v).is_some() {
                        continue;
                    }
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => continue,
                    };
                    out.insert(k.clone(), text);
                }
            }
        }
        out
    };
    ResourceTags {
        before: docs.before.as_deref().map(read).unwrap_or_default(),
        after: read(&docs.after),
    }
}
