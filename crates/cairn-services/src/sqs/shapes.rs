//! The little of SQS's model (botocore 2012-11-05) its query protocol needs, for the
//! operations cairn serves: where the all-string form holds numbers and booleans, the order
//! of each answer's members, and SQS's query names — its lists and maps are flattened
//! (`AttributeName.1`, `Attribute.1.Name`/`.Value`, `<Message>` repeated in
//! `<ReceiveMessageResult>`) under the model's `locationName`s (`Entries` is
//! `SendMessageBatchRequestEntry.N`). Today's botocore model is the JSON one and has dropped
//! those names; they are the query model's, which older SDKs and tools were built from. An
//! operation with no output in the model is not in [`OUTPUTS`].

use crate::pipeline::codec::shape::Shape;

const S: Shape = Shape::Plain;
const INT: Shape = Shape::Integer;
const BOOL: Shape = Shape::Boolean;
const BLOB: Shape = Shape::Blob;

/// Flattened lists of strings (queue URLs, attribute names, tag keys).
static STRINGS: Shape = Shape::FlatList(&S);
/// Queue attributes and a message's system attributes: `Attribute.N.Name`/`.Value`.
static PAIRS: Shape = Shape::FlatMap {
    key: "Name",
    value: "Value",
    of: &S,
};
/// Tags: `Tag.N.Key`/`.Value`.
static TAGS: Shape = Shape::FlatMap {
    key: "Key",
    value: "Value",
    of: &S,
};
static ATTRIBUTE_VALUE: Shape = Shape::Structure(&[
    ("StringValue", &S),
    ("BinaryValue", &BLOB),
    (
        "StringListValues",
        &Shape::Named("StringListValue", &Shape::FlatList(&S)),
    ),
    (
        "BinaryListValues",
        &Shape::Named("BinaryListValue", &Shape::FlatList(&BLOB)),
    ),
    ("DataType", &S),
]);
/// Message (and message system) attributes: `MessageAttribute.N.Name`/`.Value.DataType`…
static MESSAGE_ATTRIBUTES: Shape = Shape::FlatMap {
    key: "Name",
    value: "Value",
    of: &ATTRIBUTE_VALUE,
};

static QUEUE_ATTRIBUTES: Shape = Shape::Named("Attribute", &PAIRS);
static MESSAGE_ATTRIBUTE: Shape = Shape::Named("MessageAttribute", &MESSAGE_ATTRIBUTES);
static MESSAGE_SYSTEM_ATTRIBUTE: Shape =
    Shape::Named("MessageSystemAttribute", &MESSAGE_ATTRIBUTES);
static QUEUE_URLS: Shape = Shape::Named("QueueUrl", &STRINGS);

// Inputs.
static CREATE_QUEUE: Shape = Shape::Structure(&[
    ("QueueName", &S),
    ("Attributes", &QUEUE_ATTRIBUTES),
    ("tags", &Shape::Named("Tag", &TAGS)),
]);
static PAGE: Shape = Shape::Structure(&[("NextToken", &S), ("MaxResults", &INT)]);
static GET_ATTRIBUTES: Shape = Shape::Structure(&[
    ("QueueUrl", &S),
    ("AttributeNames", &Shape::Named("AttributeName", &STRINGS)),
]);
static SET_ATTRIBUTES: Shape =
    Shape::Structure(&[("QueueUrl", &S), ("Attributes", &QUEUE_ATTRIBUTES)]);
static TAG_QUEUE: Shape =
    Shape::Structure(&[("QueueUrl", &S), ("Tags", &Shape::Named("Tag", &TAGS))]);
static UNTAG_QUEUE: Shape = Shape::Structure(&[
    ("QueueUrl", &S),
    ("TagKeys", &Shape::Named("TagKey", &STRINGS)),
]);
static SEND: Shape = Shape::Structure(&[
    ("QueueUrl", &S),
    ("MessageBody", &S),
    ("DelaySeconds", &INT),
    ("MessageAttributes", &MESSAGE_ATTRIBUTE),
    ("MessageSystemAttributes", &MESSAGE_SYSTEM_ATTRIBUTE),
]);
static SEND_ENTRY: Shape = Shape::Structure(&[
    ("Id", &S),
    ("MessageBody", &S),
    ("DelaySeconds", &INT),
    ("MessageAttributes", &MESSAGE_ATTRIBUTE),
    ("MessageSystemAttributes", &MESSAGE_SYSTEM_ATTRIBUTE),
]);
static SEND_BATCH: Shape = Shape::Structure(&[
    ("QueueUrl", &S),
    (
        "Entries",
        &Shape::Named(
            "SendMessageBatchRequestEntry",
            &Shape::FlatList(&SEND_ENTRY),
        ),
    ),
]);
static RECEIVE: Shape = Shape::Structure(&[
    ("QueueUrl", &S),
    ("AttributeNames", &Shape::Named("AttributeName", &STRINGS)),
    (
        "MessageSystemAttributeNames",
        &Shape::Named("MessageSystemAttributeName", &STRINGS),
    ),
    (
        "MessageAttributeNames",
        &Shape::Named("MessageAttributeName", &STRINGS),
    ),
    ("MaxNumberOfMessages", &INT),
    ("VisibilityTimeout", &INT),
    ("WaitTimeSeconds", &INT),
]);
static DELETE_ENTRY: Shape = Shape::Structure(&[("Id", &S), ("ReceiptHandle", &S)]);
static DELETE_BATCH: Shape = Shape::Structure(&[
    ("QueueUrl", &S),
    (
        "Entries",
        &Shape::Named(
            "DeleteMessageBatchRequestEntry",
            &Shape::FlatList(&DELETE_ENTRY),
        ),
    ),
]);
static CHANGE_VISIBILITY: Shape = Shape::Structure(&[
    ("QueueUrl", &S),
    ("ReceiptHandle", &S),
    ("VisibilityTimeout", &INT),
]);
static CHANGE_ENTRY: Shape = Shape::Structure(&[
    ("Id", &S),
    ("ReceiptHandle", &S),
    ("VisibilityTimeout", &INT),
]);
static CHANGE_BATCH: Shape = Shape::Structure(&[
    ("QueueUrl", &S),
    (
        "Entries",
        &Shape::Named(
            "ChangeMessageVisibilityBatchRequestEntry",
            &Shape::FlatList(&CHANGE_ENTRY),
        ),
    ),
]);

/// Each served operation's input, where its form holds more than strings.
pub(super) static INPUTS: [(&str, &Shape); 13] = [
    ("CreateQueue", &CREATE_QUEUE),
    ("ListQueues", &PAGE),
    ("ListDeadLetterSourceQueues", &PAGE),
    ("GetQueueAttributes", &GET_ATTRIBUTES),
    ("SetQueueAttributes", &SET_ATTRIBUTES),
    ("TagQueue", &TAG_QUEUE),
    ("UntagQueue", &UNTAG_QUEUE),
    ("SendMessage", &SEND),
    ("SendMessageBatch", &SEND_BATCH),
    ("ReceiveMessage", &RECEIVE),
    ("DeleteMessageBatch", &DELETE_BATCH),
    ("ChangeMessageVisibility", &CHANGE_VISIBILITY),
    ("ChangeMessageVisibilityBatch", &CHANGE_BATCH),
];

// Outputs.
static QUEUE_URL: Shape = Shape::Structure(&[("QueueUrl", &S)]);
static LIST_QUEUES: Shape = Shape::Structure(&[("QueueUrls", &QUEUE_URLS), ("NextToken", &S)]);
static DEAD_LETTER_SOURCES: Shape =
    Shape::Structure(&[("queueUrls", &QUEUE_URLS), ("NextToken", &S)]);
static ATTRIBUTES: Shape = Shape::Structure(&[("Attributes", &QUEUE_ATTRIBUTES)]);
static QUEUE_TAGS: Shape = Shape::Structure(&[("Tags", &Shape::Named("Tag", &TAGS))]);
static SENT: Shape = Shape::Structure(&[
    ("MD5OfMessageBody", &S),
    ("MD5OfMessageAttributes", &S),
    ("MD5OfMessageSystemAttributes", &S),
    ("MessageId", &S),
    ("SequenceNumber", &S),
]);
static SENT_ENTRY: Shape = Shape::Structure(&[
    ("Id", &S),
    ("MessageId", &S),
    ("MD5OfMessageBody", &S),
    ("MD5OfMessageAttributes", &S),
    ("MD5OfMessageSystemAttributes", &S),
    ("SequenceNumber", &S),
]);
static FAILED_ENTRY: Shape = Shape::Structure(&[
    ("Id", &S),
    ("SenderFault", &BOOL),
    ("Code", &S),
    ("Message", &S),
]);
static FAILED: Shape = Shape::Named("BatchResultErrorEntry", &Shape::FlatList(&FAILED_ENTRY));
static SENT_BATCH: Shape = Shape::Structure(&[
    (
        "Successful",
        &Shape::Named("SendMessageBatchResultEntry", &Shape::FlatList(&SENT_ENTRY)),
    ),
    ("Failed", &FAILED),
]);
static ID: Shape = Shape::Structure(&[("Id", &S)]);
static DELETED_BATCH: Shape = Shape::Structure(&[
    (
        "Successful",
        &Shape::Named("DeleteMessageBatchResultEntry", &Shape::FlatList(&ID)),
    ),
    ("Failed", &FAILED),
]);
static CHANGED_BATCH: Shape = Shape::Structure(&[
    (
        "Successful",
        &Shape::Named(
            "ChangeMessageVisibilityBatchResultEntry",
            &Shape::FlatList(&ID),
        ),
    ),
    ("Failed", &FAILED),
]);
static MESSAGE: Shape = Shape::Structure(&[
    ("MessageId", &S),
    ("ReceiptHandle", &S),
    ("MD5OfBody", &S),
    ("Body", &S),
    ("Attributes", &QUEUE_ATTRIBUTES),
    ("MD5OfMessageAttributes", &S),
    ("MessageAttributes", &MESSAGE_ATTRIBUTE),
]);
static RECEIVED: Shape = Shape::Structure(&[(
    "Messages",
    &Shape::Named("Message", &Shape::FlatList(&MESSAGE)),
)]);

/// Each served operation's output (those with one in the model).
pub(super) static OUTPUTS: [(&str, &Shape); 11] = [
    ("CreateQueue", &QUEUE_URL),
    ("GetQueueUrl", &QUEUE_URL),
    ("ListQueues", &LIST_QUEUES),
    ("ListDeadLetterSourceQueues", &DEAD_LETTER_SOURCES),
    ("GetQueueAttributes", &ATTRIBUTES),
    ("ListQueueTags", &QUEUE_TAGS),
    ("SendMessage", &SENT),
    ("SendMessageBatch", &SENT_BATCH),
    ("ReceiveMessage", &RECEIVED),
    ("DeleteMessageBatch", &DELETED_BATCH),
    ("ChangeMessageVisibilityBatch", &CHANGED_BATCH),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::pipeline::codec::query::parse_form;
    use crate::pipeline::codec::query_document::{document_of_form, xml_of_document};
    use crate::pipeline::codec::shape::output_of;

    fn document(form: &str) -> serde_json::Value {
        let form = parse_form(form);
        document_of_form(&form, output_of(&INPUTS, &form["Action"])).unwrap()
    }

    #[test]
    fn query_forms_become_the_documents_json_sends() {
        // As the query model has older SDKs send them (flattened, under its names).
        assert_eq!(
            document(
                "Action=SendMessageBatch&Version=2012-11-05&QueueUrl=u\
                 &SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=hi\
                 &SendMessageBatchRequestEntry.1.DelaySeconds=5\
                 &SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=b\
                 &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Binary\
                 &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.BinaryValue=AAE%3D"
            ),
            json!({"QueueUrl": "u", "Entries": [{
                "Id": "a", "MessageBody": "hi", "DelaySeconds": 5,
                "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "AAE="}},
            }]})
        );
        assert_eq!(
            document(
                "Action=CreateQueue&QueueName=q&Attribute.1.Name=DelaySeconds&Attribute.1.Value=0\
                 &Tag.1.Key=team&Tag.1.Value=a"
            ),
            json!({"QueueName": "q", "Attributes": {"DelaySeconds": "0"}, "tags": {"team": "a"}})
        );
        assert_eq!(
            document(
                "Action=ReceiveMessage&QueueUrl=u&AttributeName.1=All&MessageAttributeName.1=x\
                 &MaxNumberOfMessages=10&WaitTimeSeconds=0"
            ),
            json!({"QueueUrl": "u", "AttributeNames": ["All"], "MessageAttributeNames": ["x"],
                   "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0})
        );
        assert_eq!(
            document(
                "Action=ChangeMessageVisibilityBatch&QueueUrl=u\
                 &ChangeMessageVisibilityBatchRequestEntry.1.Id=c\
                 &ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=r\
                 &ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=0"
            ),
            json!({"QueueUrl": "u", "Entries": [{"Id": "c", "ReceiptHandle": "r", "VisibilityTimeout": 0}]})
        );
    }

    #[test]
    fn answers_repeat_flattened_members_under_their_query_names() {
        let out = json!({"Successful": [{"Id": "a"}],
                         "Failed": [{"Id": "b", "SenderFault": true, "Code": "C", "Message": "m"}]});
        let xml = xml_of_document(&out, output_of(&OUTPUTS, "DeleteMessageBatch"));
        assert_eq!(
            xml,
            "    <DeleteMessageBatchResultEntry>
      <Id>a</Id>
    </DeleteMessageBatchResultEntry>
    <BatchResultErrorEntry>
      <Id>b</Id>
      <SenderFault>true</SenderFault>
      <Code>C</Code>
      <Message>m</Message>
    </BatchResultErrorEntry>
"
        );
        let xml = xml_of_document(
            &json!({"QueueUrls": ["u1", "u2"]}),
            output_of(&OUTPUTS, "ListQueues"),
        );
        assert_eq!(
            xml,
            "    <QueueUrl>u1</QueueUrl>\n    <QueueUrl>u2</QueueUrl>\n"
        );
    }

    #[test]
    fn every_served_operation_with_members_beyond_strings_has_an_input_shape() {
        // These take strings only; every other served operation has a list, map or number
        // that the form cannot say by itself.
        const STRINGS_ONLY: [&str; 5] = [
            "GetQueueUrl",
            "DeleteQueue",
            "ListQueueTags",
            "DeleteMessage",
            "PurgeQueue",
        ];
        for op in super::super::operations::SERVED {
            let listed = INPUTS.iter().any(|(n, _)| *n == op);
            assert_eq!(listed, !STRINGS_ONLY.contains(&op), "{op}");
        }
    }
}
