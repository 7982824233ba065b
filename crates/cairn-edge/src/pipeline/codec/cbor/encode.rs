//! The JSON document model → CBOR, guided by the operation's [`Shape`]: timestamps go out as
//! tag 1 over epoch seconds, blobs (base64 in the document) as byte strings, doubles as
//! doubles, and everything else as its value says. Lengths are definite; integers take the smallest form, other
//! numbers are doubles.

use base64::Engine;
use minicbor::Encoder;
use minicbor::data::{IanaTag, Tag};
use serde_json::{Number, Value};

use crate::pipeline::codec::shape::{Shape, epoch_seconds};

type Out = Encoder<Vec<u8>>;
/// Writing to a `Vec` cannot fail; the type says it can, so the errors are carried.
type Written = Result<(), minicbor::encode::Error<std::convert::Infallible>>;

/// A document as CBOR.
pub fn document(v: &Value, shape: &Shape) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    // Infallible: the writer is a Vec.
    let _ = item(&mut e, v, shape);
    e.into_writer()
}

fn number(e: &mut Out, n: &Number) -> Written {
    if let Some(u) = n.as_u64() {
        e.u64(u)?;
    } else if let Some(i) = n.as_i64() {
        e.i64(i)?;
    } else {
        e.f64(n.as_f64().unwrap_or(f64::NAN))?;
    }
    Ok(())
}

fn item(e: &mut Out, v: &Value, shape: &Shape) -> Written {
    match (shape, v) {
        (_, Value::Null) => {
            e.null()?;
        }
        (Shape::Timestamp, v) => match epoch_seconds(v) {
            Some(n) => {
                e.tag(Tag::from(IanaTag::Timestamp))?;
                number(e, &n)?;
            }
            // Not a timestamp after all: write what it is rather than lose it.
            None => item(e, v, &Shape::Plain)?,
        },
        // A `double` stays one even when the handler's value is whole (`1.0`, not `1`).
        (Shape::Double, Value::Number(n)) => {
            e.f64(n.as_f64().unwrap_or(f64::NAN))?;
        }
        (Shape::Blob, Value::String(s)) => {
            // A handler's blob is base64; a string that is not is sent as its own bytes.
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .unwrap_or_else(|_| s.as_bytes().to_vec());
            e.bytes(&bytes)?;
        }
        (_, Value::Bool(b)) => {
            e.bool(*b)?;
        }
        (_, Value::Number(n)) => number(e, n)?,
        (_, Value::String(s)) => {
            e.str(s)?;
        }
        (_, Value::Array(items)) => {
            e.array(items.len() as u64)?;
            for i in items {
                item(e, i, shape.item())?;
            }
        }
        (_, Value::Object(members)) => {
            // botocore drops null members; leaving them out saves it the work.
            let present: Vec<_> = members.iter().filter(|(_, v)| !v.is_null()).collect();
            e.map(present.len() as u64)?;
            for (k, v) in present {
                e.str(k)?;
                item(e, v, shape.member(k))?;
            }
        }
    }
    Ok(())
}
