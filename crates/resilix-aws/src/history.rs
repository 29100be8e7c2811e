//! The configuration history of a window (`resilix audit --changes-since`): per region and
//! resource type, the resources that changed since the window's start and every item of theirs
//! from the last one before the window to the newest.
//!
//! - ListDiscoveredResources (paginated, deleted resources included): a resource deleted in the
//!   window has changed; one deleted before it has not.
//! - BatchGetResourceConfig by ≤ 100 keys (unprocessed keys retried, as for an audit): the
//!   current item's capture time says whether the resource changed in the window.
//! - GetResourceConfigHistory for each resource that did, newest first, paginated and bounded
//!   like every listing, until the first item captured before the window: that item is what the
//!   first change in the window changed from. A resource whose history starts in the window was
//!   created in it.
//!
//! Every call goes through the region's [`crate::fetch::Api`]: the same timeouts, retries and
//! retry budget as every other pull.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::SystemTime;

use aws_sdk_config::Client;
use aws_sdk_config::types::{ChronologicalOrder, ResourceKey, ResourceType};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::Value;

use crate::errors::{Classified, FailureKind};
use crate::fetch::{
    Api, UnitFuture, UnitResult, fetch_batch, key, list_discovered, pull_regions_with,
};
use crate::paging::Pager;
use crate::{Method, Progress, Pull, Settings, items};

/// GetResourceConfigHistory returns at most 100 items per page.
const HISTORY_PAGE: i32 = 100;

/// Pulls the history of every resource of `resource_types` that changed since `since`, from
/// every region. The items of each resource are in capture order, after its account, region,
/// type and id ([`items::sort_key`]).
pub async fn pull_history_regions(
    clients: Vec<(String, Client)>,
    resource_types: &[String],
    since: SystemTime,
    all_regions: bool,
    settings: &Settings,
    progress: Arc<dyn Progress>,
) -> Pull {
    let window_start = since;
    let since = DateTime::from(since);
    let unit = move |api: Api,
                     region: String,
                     resource_type: String,
                     settings: Settings,
                     progress: Arc<dyn Progress>|
          -> UnitFuture {
        Box::pin(async move {
            history_unit(&api, &region, &resource_type, since, &settings, &*progress).await
        })
    };
    let mut pull = Pull {
        method: Method::Batch,
        changes_since: Some(window_start),
        ..Pull::default()
    };
    pull_regions_with(
        &mut pull,
        clients,
        resource_types,
        all_regions,
        settings,
        progress,
        unit,
    )
    .await;
    pull
}

/// The history of one resource type in one region.
async fn history_unit(
    api: &Api,
    region: &str,
    resource_type: &str,
    since: DateTime,
    settings: &Settings,
    progress: &dyn Progress,
) -> UnitResult {
    let mut unit = UnitResult::new(region, resource_type);
    let Some((live, mut changed)) = list(api, &mut unit, resource_type, since, settings).await
    else {
        return unit;
    };
    // The current items, for their capture times.
    let mut current = UnitResult::new(region, resource_type);
    for chunk in live.chunks(settings.batch_size.clamp(1, 100)) {
        let fetched = fetch_batch(
            &mut current,
            "BatchGetResourceConfig",
            chunk,
            settings,
            &crate::NoProgress,
            |pending| async move {
                let out = api
                    .call(
                        api.client
                            .batch_get_resource_config()
                            .set_resource_keys(Some(pending))
                            .send(),
                    )
                    .await?;
                Ok((
                    out.base_configuration_items.unwrap_or_default(),
                    out.unprocessed_resource_keys.unwrap_or_default(),
                ))
            },
        )
        .await;
        if !fetched {
            break;
        }
    }
    unit.failures.append(&mut current.failures);
    for item in &current.items {
        let captured = item
            .get("configurationItemCaptureTime")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::from_str(t, Format::DateTime).ok());
        // No capture time: nothing says it did not change.
        if captured.is_none_or(|t| t >= since)
            && let Some(id) = item.get("resourceId").and_then(Value::as_str)
        {
            changed.insert(id.to_owned());
        }
    }
    if !unit.failures.is_empty() {
        return unit;
    }
    progress.listed(region, resource_type, changed.len());
    for id in &changed {
        match resource_history(api, resource_type, id, since, settings).await {
            Ok(items) => {
                progress.pulled(items.len());
                unit.items.extend(items);
            }
            Err(classified) => {
                let gave_up = classified.kind == FailureKind::GaveUp;
                unit.fail(
                    "GetResourceConfigHistory",
                    Classified {
                        kind: classified.kind,
                        message: format!("{id}: {}", classified.message),
                    },
                );
                if gave_up {
                    break;
                }
            }
        }
    }
    unit
}

/// ListDiscoveredResources, deleted resources included: the keys of the resources that exist,
/// and the ids of those deleted in the window. `None` when the listing failed.
async fn list(
    api: &Api,
    unit: &mut UnitResult,
    resource_type: &str,
    since: DateTime,
    settings: &Settings,
) -> Option<(Vec<ResourceKey>, BTreeSet<String>)> {
    let listed = match list_discovered(api, resource_type, true, settings).await {
        Ok(listed) => listed,
        Err(classified) => {
            unit.fail("ListDiscoveredResources", classified);
            return None;
        }
    };
    let mut live = Vec::new();
    let mut deleted = BTreeSet::new();
    for identifier in &listed {
        let Some(id) = identifier.resource_id() else {
            continue;
        };
        match identifier.resource_deletion_time() {
            Some(when) => {
                if *when >= since {
                    deleted.insert(id.to_owned());
                }
            }
            None => live.extend(key(resource_type, id)),
        }
    }
    Some((live, deleted))
}

/// One resource's items from the last one captured before `since` (if any) to the newest, in
/// capture order.
async fn resource_history(
    api: &Api,
    resource_type: &str,
    id: &str,
    since: DateTime,
    settings: &Settings,
) -> Result<Vec<Value>, Classified> {
    let mut pager = Pager::new(settings);
    let mut out_items = Vec::new();
    loop {
        let out = api
            .call(
                api.client
                    .get_resource_config_history()
                    .resource_type(ResourceType::from(resource_type))
                    .resource_id(id)
                    .chronological_order(ChronologicalOrder::Reverse)
                    .limit(settings.page_size.clamp(1, HISTORY_PAGE))
                    .set_next_token(pager.token())
                    .send(),
            )
            .await?;
        let page = out.configuration_items();
        let mut reached = false;
        for item in page {
            out_items.push(items::from_history_item(item));
            if item
                .configuration_item_capture_time()
                .is_some_and(|t| *t < since)
            {
                reached = true;
                break;
            }
        }
        if reached || !pager.turn(out.next_token(), page.len())? {
            break;
        }
    }
    out_items.reverse();
    Ok(out_items)
}
