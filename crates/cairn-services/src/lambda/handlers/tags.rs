//! Tags on a function (its ARN as `Resource`): TagResource merges, UntagResource drops the
//! keys of `TagKeys`, ListTags answers them all. AWS's limit: 50 tags per function.

use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{function_of, internal, invalid};
use crate::app::App;
use crate::lambda::resolve::LambdaPlan;

const MAX_TAGS: usize = 50;

pub(super) fn tag(app: &App, input: &Value, plan: &LambdaPlan) -> Result<Value, AwsError> {
    let mut f = function_of(plan)?.clone();
    let Some(tags) = input.get("Tags").and_then(Value::as_object) else {
        return Err(invalid("Tags are required."));
    };
    for (k, v) in tags {
        let v = v
            .as_str()
            .ok_or_else(|| invalid(format!("The value of tag {k} must be a string.")))?;
        f.tags.insert(k.clone(), v.to_owned());
    }
    if f.tags.len() > MAX_TAGS {
        return Err(invalid(format!(
            "Resource {} can have at most {MAX_TAGS} tags.",
            f.arn
        )));
    }
    app.lambda.update_function(&f).map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn untag(app: &App, input: &Value, plan: &LambdaPlan) -> Result<Value, AwsError> {
    let mut f = function_of(plan)?.clone();
    for k in input
        .get("TagKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        f.tags.remove(k);
    }
    app.lambda.update_function(&f).map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn list(plan: &LambdaPlan) -> Result<Value, AwsError> {
    Ok(json!({"Tags": function_of(plan)?.tags}))
}
