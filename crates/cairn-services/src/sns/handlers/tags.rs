//! TagResource, UntagResource, ListTagsForResource on topics (at most 50 tags, as AWS).

use cairn_wire::AwsError;

use super::{internal, invalid};
use crate::app::App;
use crate::pipeline::codec::form::{Form, tags as form_tags};
use crate::pipeline::codec::query::Reply;
use crate::sns::resolve::SnsPlan;
use crate::sns::wire::{members, tags_xml};

const MAX_TAGS: usize = 50;

pub(super) fn tag(app: &App, form: &Form, plan: &mut SnsPlan) -> Result<Reply, AwsError> {
    let Some(mut topic) = plan.topic.clone() else {
        return Err(invalid("ResourceArn"));
    };
    let new = form_tags(form);
    if new.is_empty() {
        return Err(invalid("Tags Reason: no value for required parameter"));
    }
    for (k, v) in &new {
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(invalid("Tags"));
        }
        topic.tags.insert(k.clone(), v.clone());
    }
    if topic.tags.len() > MAX_TAGS {
        return Err(AwsError::client(
            "TagLimitExceeded",
            "Could not complete request: tag quota of per resource exceeded",
        ));
    }
    app.sns.update_topic(&topic).map_err(internal)?;
    Ok(Reply::xml(String::new(), None))
}

pub(super) fn untag(app: &App, form: &Form, plan: &mut SnsPlan) -> Result<Reply, AwsError> {
    let Some(mut topic) = plan.topic.clone() else {
        return Err(invalid("ResourceArn"));
    };
    for k in members(form, "TagKeys") {
        topic.tags.remove(&k);
    }
    app.sns.update_topic(&topic).map_err(internal)?;
    Ok(Reply::xml(String::new(), None))
}

pub(super) fn list(plan: &mut SnsPlan) -> Result<Reply, AwsError> {
    let tags = plan
        .topic
        .as_ref()
        .map(|t| t.tags.clone())
        .unwrap_or_default();

    Ok(Reply::xml(tags_xml(&tags), None))
}
