//! Botocore service models: how a service's operations are named on the wire and what their
//! inputs and outputs hold. The gateway reads them to route a call, name its IAM action and
//! shape its record. A few are embedded (written by `scripts/gateway-models`, documentation
//! stripped); any other comes from a botocore `data` directory (`[gateway] models`).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The models cairn carries, as (botocore's directory name, signing name, model).
const EMBEDDED: &[(&str, &str, &[u8])] = &[
    ("ec2", "ec2", include_bytes!("models/ec2.json.gz")),
    (
        "secretsmanager",
        "secretsmanager",
        include_bytes!("models/secretsmanager.json.gz"),
    ),
    ("ssm", "ssm", include_bytes!("models/ssm.json.gz")),
    (
        "dynamodb",
        "dynamodb",
        include_bytes!("models/dynamodb.json.gz"),
    ),
    ("config", "config", include_bytes!("models/config.json.gz")),
    ("rds", "rds", include_bytes!("models/rds.json.gz")),
    (
        "elbv2",
        "elasticloadbalancing",
        include_bytes!("models/elbv2.json.gz"),
    ),
    (
        "autoscaling",
        "autoscaling",
        include_bytes!("models/autoscaling.json.gz"),
    ),
    (
        "cloudformation",
        "cloudformation",
        include_bytes!("models/cloudformation.json.gz"),
    ),
    ("ecr", "ecr", include_bytes!("models/ecr.json.gz")),
    ("ecs", "ecs", include_bytes!("models/ecs.json.gz")),
    (
        "kinesis",
        "kinesis",
        include_bytes!("models/kinesis.json.gz"),
    ),
    ("acm", "acm", include_bytes!("models/acm.json.gz")),
    (
        "stepfunctions",
        "states",
        include_bytes!("models/stepfunctions.json.gz"),
    ),
    (
        "redshift",
        "redshift",
        include_bytes!("models/redshift.json.gz"),
    ),
    (
        "elasticache",
        "elasticache",
        include_bytes!("models/elasticache.json.gz"),
    ),
    (
        "cognito-idp",
        "cognito-idp",
        include_bytes!("models/cognito-idp.json.gz"),
    ),
    (
        "firehose",
        "firehose",
        include_bytes!("models/firehose.json.gz"),
    ),
    ("wafv2", "wafv2", include_bytes!("models/wafv2.json.gz")),
    (
        "apigateway",
        "apigateway",
        include_bytes!("models/apigateway.json.gz"),
    ),
    (
        "route53",
        "route53",
        include_bytes!("models/route53.json.gz"),
    ),
    (
        "guardduty",
        "guardduty",
        include_bytes!("models/guardduty.json.gz"),
    ),
    ("eks", "eks", include_bytes!("models/eks.json.gz")),
];

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "no service model for '{0}' (cairn carries {1}; set [gateway] models to a botocore data directory for others)"
    )]
    Unknown(String, String),
    #[error("reading the service model {0}: {1}")]
    Read(String, String),
}

/// How a service's requests are framed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireProtocol {
    /// JSON 1.0 or 1.1: `X-Amz-Target: {target_prefix}.{Operation}`.
    Json {
        version: String,
        target_prefix: String,
    },
    /// EC2's query protocol (flattened lists, its own XML answers).
    Ec2,
    /// The query protocol (`Action=…`, lists as `member.N`).
    Query,
    /// REST-JSON or REST-XML (the name): routed by method and path.
    Rest(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub protocol: String,
    pub endpoint_prefix: String,
    pub signing_name: Option<String>,
    pub target_prefix: Option<String>,
    pub json_version: Option<String>,
    pub service_full_name: Option<String>,
    pub xml_namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OperationDef {
    pub name: String,
    /// A REST service's binding: method and URI template.
    pub http: Option<HttpBinding>,
    pub input: Option<MemberRef>,
    pub output: Option<MemberRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpBinding {
    pub method: String,
    pub request_uri: String,
}

/// A reference to a shape, with the wire names a member is sent under.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberRef {
    pub shape: String,
    /// Where a REST request carries it: `uri`, `querystring`, `header`, `headers`,
    /// `statusCode`; none: the body.
    pub location: Option<String>,
    pub location_name: Option<String>,
    pub query_name: Option<String>,
    pub flattened: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: String,
    /// Members in the model's order (the order EC2's records list them in).
    #[serde(default, deserialize_with = "ordered_members")]
    pub members: Vec<(String, MemberRef)>,
    pub member: Option<MemberRef>,
    pub key: Option<MemberRef>,
    pub value: Option<MemberRef>,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub flattened: bool,
    /// A REST input or output whose body is one member.
    pub payload: Option<String>,
}

fn ordered_members<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, MemberRef)>, D::Error> {
    let m: Map<String, Value> = Map::deserialize(d)?;
    m.into_iter()
        .map(|(k, v)| {
            serde_json::from_value(v)
                .map(|r| (k, r))
                .map_err(serde::de::Error::custom)
        })
        .collect()
}

/// A service model.
#[derive(Debug, Default, Deserialize)]
pub struct Model {
    pub metadata: Metadata,
    pub operations: HashMap<String, OperationDef>,
    pub shapes: HashMap<String, Shape>,
}

impl Model {
    /// The model of `service` (botocore's directory name, or the signing name clients use):
    /// from `dir` (a botocore `data` directory) when it has one, else cairn's own copy.
    pub fn load(service: &str, dir: Option<&Path>) -> Result<Model, ModelError> {
        if let Some(dir) = dir
            && let Some(m) = from_dir(dir, service)?
        {
            return Ok(m);
        }
        let Some((_, _, bytes)) = EMBEDDED
            .iter()
            .find(|(n, signing, _)| *n == service || *signing == service)
        else {
            return Err(ModelError::Unknown(
                service.to_owned(),
                embedded().join(", "),
            ));
        };
        parse(service, bytes)
    }

    pub fn protocol(&self) -> WireProtocol {
        match self.metadata.protocol.as_str() {
            "json" => WireProtocol::Json {
                version: self
                    .metadata
                    .json_version
                    .clone()
                    .unwrap_or_else(|| "1.0".to_owned()),
                target_prefix: self.metadata.target_prefix.clone().unwrap_or_default(),
            },
            "ec2" => WireProtocol::Ec2,
            "query" => WireProtocol::Query,
            other => WireProtocol::Rest(other.to_owned()),
        }
    }

    /// The SigV4 signing name clients use for the service.
    pub fn signing_name(&self) -> &str {
        self.metadata
            .signing_name
            .as_deref()
            .unwrap_or(&self.metadata.endpoint_prefix)
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }
}

/// The services whose models cairn carries, by signing name.
pub fn embedded() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(_, signing, _)| *signing).collect()
}

fn parse(service: &str, gz: &[u8]) -> Result<Model, ModelError> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut text)
        .map_err(|e| ModelError::Read(service.to_owned(), e.to_string()))?;
    serde_json::from_slice(&text).map_err(|e| ModelError::Read(service.to_owned(), e.to_string()))
}

/// `<dir>/<service>/<newest version>/service-2.json[.gz]`, if there is one.
fn from_dir(dir: &Path, service: &str) -> Result<Option<Model>, ModelError> {
    let at = dir.join(service);
    let Ok(entries) = std::fs::read_dir(&at) else {
        return Ok(None);
    };
    let mut versions: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.path())
        .collect();
    versions.sort();
    let Some(newest) = versions.pop() else {
        return Ok(None);
    };
    let fail = |e: std::io::Error| ModelError::Read(newest.display().to_string(), e.to_string());
    let gz = newest.join("service-2.json.gz");
    if gz.is_file() {
        return parse(service, &std::fs::read(&gz).map_err(fail)?).map(Some);
    }
    let plain = newest.join("service-2.json");
    let text = std::fs::read(&plain).map_err(fail)?;
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| ModelError::Read(plain.display().to_string(), e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_embedded_model_loads_with_its_protocol() {
        for (name, protocol) in [
            ("ec2", WireProtocol::Ec2),
            (
                "secretsmanager",
                WireProtocol::Json {
                    version: "1.1".into(),
                    target_prefix: "secretsmanager".into(),
                },
            ),
            (
                "dynamodb",
                WireProtocol::Json {
                    version: "1.0".into(),
                    target_prefix: "DynamoDB_20120810".into(),
                },
            ),
        ] {
            let m = Model::load(name, None).unwrap();
            assert_eq!(m.protocol(), protocol, "{name}");
            assert_eq!(m.signing_name(), name);
        }
        // Every model cairn carries loads, under its signing name; REST ones with routes.
        for name in embedded() {
            let m = Model::load(name, None).unwrap();
            assert_eq!(m.signing_name(), name);
            if let WireProtocol::Rest(_) = m.protocol() {
                assert!(m.operations.values().all(|o| o.http.is_some()), "{name}");
            }
        }
        assert_eq!(
            Model::load("route53", None).unwrap().protocol(),
            WireProtocol::Rest("rest-xml".into())
        );
        assert_eq!(
            Model::load("apigateway", None).unwrap().protocol(),
            WireProtocol::Rest("rest-json".into())
        );
        assert_eq!(
            Model::load("stepfunctions", None).unwrap().signing_name(),
            "states"
        );
        let ec2 = Model::load("ec2", None).unwrap();
        let input = ec2.shape("AuthorizeSecurityGroupIngressRequest").unwrap();
        assert_eq!(input.members[0].0, "CidrIp");
        assert!(Model::load("nothing", None).is_err());
    }
}
