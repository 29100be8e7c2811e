//! One pass over the top level of a JSON object, keeping the parts every format needs as raw,
//! borrowed JSON, so detection costs no second parse.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::{Detected, HELP_FORMATS, LoadError};
use crate::source::SourceFile;

/// The top-level keys of every supported input shape. Unknown keys are ignored, as Terraform's
/// format rules require.
#[derive(Deserialize, Default)]
pub(crate) struct Envelope<'a> {
    // Terraform / OpenTofu plan
    #[serde(borrow, default)]
    pub format_version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub terraform_version: Option<&'a RawValue>,
    #[serde(borrow, default)]
    pub resource_changes: Option<RawList<'a>>,
    #[serde(borrow, default)]
    pub resource_drift: Option<RawList<'a>>,
    /// A plan's `configuration`, or a single AWS Config item's `configuration`.
    #[serde(borrow, default)]
    pub configuration: Option<&'a RawValue>,
    #[serde(default)]
    pub planned_values: Option<IgnoredAny>,
    /// Terraform state has `values` at the top level.
    #[serde(default)]
    pub values: Option<IgnoredAny>,

    // AWS Config
    #[serde(borrow, default, rename = "configurationItems")]
    pub configuration_items: Option<RawList<'a>>,
    #[serde(borrow, default, rename = "baseConfigurationItems")]
    pub base_configuration_items: Option<RawList<'a>>,
    /// What `resilix audit --save` pulled and could not pull.
    #[serde(borrow, default, rename = "resilixAudit")]
    pub resilix_audit: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "unprocessedResourceKeys")]
    pub unprocessed_resource_keys: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "Results")]
    pub results: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "invokingEvent")]
    pub invoking_event: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "configurationItem")]
    pub configuration_item: Option<&'a RawValue>,
    #[serde(default, rename = "resourceType")]
    pub resource_type: Option<IgnoredAny>,
    /// Recorded API responses (Cloud Custodian's placebo files) wrap the body in `data`.
    #[serde(borrow, default)]
    pub data: Option<&'a RawValue>,
    #[serde(default)]
    pub status_code: Option<IgnoredAny>,
}

impl<'a> Envelope<'a> {
    pub(crate) fn parse(file: &'a Arc<SourceFile>) -> Result<Envelope<'a>, LoadError> {
        serde_json::from_str(file.text()).map_err(|error| LoadError::from_json(file, 0, &error))
    }

    pub(crate) fn is_plan(&self) -> bool {
        let plan_parts = self.resource_changes.is_some()
            || self.planned_values.is_some()
            || self.resource_drift.is_some();
        if plan_parts {
            return true;
        }
        // State (`terraform show -json` without a plan) has `values` instead.
        self.format_version.is_some()
            && self.values.is_none()
            && (self.terraform_version.is_some() || self.configuration.is_some())
    }

    pub(crate) fn is_aws_config(&self) -> bool {
        self.configuration_items.is_some()
            || self.base_configuration_items.is_some()
            || self.results.is_some()
            || self.invoking_event.is_some()
            || self.configuration_item.is_some()
            || self.resource_type.is_some()
            || (self.data.is_some() && self.status_code.is_some())
    }

    pub(crate) fn detect(&self, file: &SourceFile) -> Result<Detected, LoadError> {
        if self.is_plan() {
            return Ok(Detected::Plan);
        }
        if self.is_aws_config() {
            return Ok(Detected::AwsConfig);
        }
        if self.values.is_some() && self.format_version.is_some() {
            return Err(LoadError::Unrecognized {
                name: file.name().to_owned(),
                message: "this is Terraform state, not a plan".to_owned(),
                help: Some(
                    "save a plan and convert it: `terraform plan -out plan.out && terraform show -json plan.out > plan.json`"
                        .to_owned(),
                ),
            });
        }
        Err(LoadError::Unrecognized {
            name: file.name().to_owned(),
            message: "the JSON is neither a Terraform plan nor AWS Config data".to_owned(),
            help: Some(HELP_FORMATS.to_owned()),
        })
    }
}

/// A list whose elements are kept as raw JSON, split in the same pass as the rest of the
/// envelope, so a 400 MB plan's `resource_changes` is not scanned a second time to find where
/// each element ends.
pub(crate) enum RawList<'a> {
    List(Vec<&'a RawValue>),
    /// The value is not a list (its place is looked up again only to report that).
    NotAList,
}

impl<'de: 'a, 'a> Deserialize<'de> for RawList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<'a>(PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for ListVisitor<'a> {
            type Value = RawList<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawList<'a>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<&'de RawValue>()? {
                    items.push(item);
                }
                Ok(RawList::List(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawList<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(RawList::NotAList)
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<RawList<'a>, E> {
                Ok(RawList::NotAList)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<RawList<'a>, E> {
                Ok(RawList::NotAList)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<RawList<'a>, E> {
                Ok(RawList::NotAList)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<RawList<'a>, E> {
                Ok(RawList::NotAList)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<RawList<'a>, E> {
                Ok(RawList::NotAList)
            }

            fn visit_unit<E: de::Error>(self) -> Result<RawList<'a>, E> {
                Ok(RawList::NotAList)
            }
        }

        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// Byte offset of the member `name` of the object `object` (the file's text, or a part of it);
/// the object's own offset when not found. Only to report where a member of the wrong shape is.
pub(crate) fn member_offset(file: &SourceFile, object: &str, name: &str) -> usize {
    serde_json::from_str::<std::collections::BTreeMap<std::borrow::Cow<'_, str>, &RawValue>>(object)
        .ok()
        .and_then(|members| members.get(name).map(|raw| offset_in(file, raw.get())))
        .unwrap_or_else(|| offset_in(file, object))
}

/// Byte offset of a borrowed raw value within its file's text.
pub(crate) fn offset_in(file: &SourceFile, raw: &str) -> usize {
    (raw.as_ptr() as usize)
        .saturating_sub(file.text().as_ptr() as usize)
        .min(file.text().len())
}
