//! A group as every operation of the management API writes it (a group,
//! a user's group, a product's group).

use serde::Serialize;

use super::envelope::{Resource, Service};
use crate::store::groups::GroupRow;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupProperties<'a> {
    display_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    built_in: bool,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a str>,
}

pub fn group_properties(g: &GroupRow) -> GroupProperties<'_> {
    GroupProperties {
        display_name: &g.name,
        description: g.description.as_deref(),
        built_in: g.kind.is_system(),
        kind: g.kind.as_str(),
        external_id: g.external_id.as_deref(),
    }
}

pub fn group_resource<'a>(
    svc: &'a Service,
    g: &'a GroupRow,
    kind: &'a str,
) -> Resource<'a, GroupProperties<'a>> {
    svc.resource(
        format!("/groups/{}", g.id),
        kind,
        &g.id,
        group_properties(g),
    )
}
