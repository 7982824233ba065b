//! The query protocol ⇄ the JSON document model, driven by a service's declared [`Shape`]s:
//! a flat form (`MetricData.member.1.Value=2.5`) becomes the document its handlers take
//! (`{"MetricData": [{"Value": 2.5}]}`), and the document they give becomes the XML inside
//! `<{Op}Result>`. It knows the protocol's conventions (`.member.N` lists, `.entry.N.key`
//! maps, ISO 8601 timestamps); what each member is comes from the shapes, and so do the
//! exceptions some services make (SQS's flattened lists and maps, and its members' query names).

mod from_form;
mod to_xml;

pub use from_form::{FormError, document_of_form};
pub use to_xml::{iso8601_millis, xml_of_document};
