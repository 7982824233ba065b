//! The AWS protocols cairn speaks, and how to tell which one a request uses.

use http::HeaderMap;

pub const IAM_XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
pub const STS_XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
pub const SNS_XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-amz-json-1.1` with `X-Amz-Target` (CloudTrail, KMS, Logs, Events).
    Json11,
    /// `application/x-amz-json-1.0` (SNS over JSON, DynamoDB-style services).
    Json10,
    /// Form-encoded `Action=…` requests answered in XML (IAM, STS, SNS), in the service's
    /// XML namespace (errors included).
    Query { xmlns: &'static str },
    /// REST with XML bodies (S3).
    RestXml,
    /// EC2's own form of the query protocol: form-encoded `Action=…` requests, XML answers
    /// without a result wrapper, errors as `<Response><Errors><Error>…`.
    Ec2,
    /// REST with JSON bodies (Lambda, CloudTrail Data): errors name their type in
    /// `X-Amzn-ErrorType`.
    RestJson,
    /// Smithy RPC v2 CBOR (`smithy-protocol: rpc-v2-cbor`, CloudWatch): CBOR bodies, errors as
    /// CBOR maps with `__type`.
    RpcV2Cbor,
}

impl Protocol {
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Json11 => "application/x-amz-json-1.1",
            Protocol::Json10 => "application/x-amz-json-1.0",
            Protocol::Query { .. } | Protocol::Ec2 => "text/xml",
            Protocol::RestXml => "application/xml",
            Protocol::RestJson => "application/json",
            Protocol::RpcV2Cbor => "application/cbor",
        }
    }

    /// The protocol of a service by its SigV4 signing name.
    pub fn of_service(service: &str) -> Protocol {
        match service {
            "s3" => Protocol::RestXml,
            "iam" => Protocol::Query { xmlns: IAM_XMLNS },
            "sts" => Protocol::Query { xmlns: STS_XMLNS },
            "sns" => Protocol::Query { xmlns: SNS_XMLNS },
            "ec2" => Protocol::Ec2,
            _ => Protocol::Json11,
        }
    }

    /// The protocol a signed request for `service` is answered in: the service's own, unless
    /// the request says it speaks RPC v2 CBOR (a service may speak several protocols; the
    /// header is how a CBOR client tells them apart).
    pub fn of_request(service: &str, headers: &HeaderMap) -> Protocol {
        if speaks_rpc_v2_cbor(headers) {
            Protocol::RpcV2Cbor
        } else {
            Protocol::of_service(service)
        }
    }

    /// Guesses the protocol of a request that carries no usable signature, from its headers.
    pub fn sniff(headers: &HeaderMap, raw_query: Option<&str>) -> Protocol {
        let ct = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if speaks_rpc_v2_cbor(headers) {
            Protocol::RpcV2Cbor
        } else if headers.contains_key("x-amz-target") {
            if ct.contains("json-1.0") {
                Protocol::Json10
            } else {
                Protocol::Json11
            }
        } else if ct.starts_with("application/x-www-form-urlencoded")
            || raw_query.is_some_and(|q| q.split('&').any(|p| p.starts_with("Action=")))
        {
            Protocol::Query { xmlns: IAM_XMLNS }
        } else {
            Protocol::RestXml
        }
    }
}

/// Whether a request declares the Smithy RPC v2 CBOR protocol (`smithy-protocol: rpc-v2-cbor`).
pub fn speaks_rpc_v2_cbor(headers: &HeaderMap) -> bool {
    headers
        .get("smithy-protocol")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"rpc-v2-cbor"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_cbor_request_is_answered_in_cbor_whatever_the_service() {
        let cbor = headers(&[("smithy-protocol", "rpc-v2-cbor"), ("x-amz-target", "X.Y")]);
        assert_eq!(
            Protocol::of_request("monitoring", &cbor),
            Protocol::RpcV2Cbor
        );
        assert_eq!(Protocol::sniff(&cbor, None), Protocol::RpcV2Cbor);
        let json = headers(&[("x-amz-target", "X.Y")]);
        assert_eq!(Protocol::of_request("kms", &json), Protocol::Json11);
        assert_eq!(
            Protocol::of_request("iam", &HeaderMap::new()),
            Protocol::Query { xmlns: IAM_XMLNS }
        );
        // Another Smithy protocol is not this one.
        let other = headers(&[("smithy-protocol", "rpc-v2-json")]);
        assert_eq!(Protocol::of_request("s3", &other), Protocol::RestXml);
    }

    #[test]
    fn content_types() {
        assert_eq!(Protocol::RpcV2Cbor.content_type(), "application/cbor");
        assert_eq!(Protocol::RestJson.content_type(), "application/json");
    }
}
