//! The Lake schema: the columns of an event data store of CloudTrail events, as AWS documents
//! them ("Supported SQL schemas for event data stores"), written in the Hive type notation of
//! that page and turned into an Arrow schema here.
//!
//! Column names are the record's field names in lower case; nested struct members likewise.
//! Maps hold `string` values: a member whose JSON value is not a string keeps its JSON text.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// The columns, in AWS's order, with AWS's types. `useridentity`'s members follow the order
/// Lake's own results print them in (`invokedby`, `identityprovider`, `credentialid` and
/// `onbehalfof` last; `credentialid` is in Lake's results though not on the schema page), and
/// AWS's page spells one member of `inscopeof` `credentiaisissuedto` where records spell it
/// `credentialsIssuedTo`: a column takes the record's name.
const COLUMNS: &[(&str, &str)] = &[
    ("eventversion", "string"),
    (
        "useridentity",
        "struct<type:string,principalid:string,arn:string,accountid:string,accesskeyid:string,\
         username:string,sessioncontext:struct<attributes:struct<creationdate:timestamp,\
         mfaauthenticated:string>,sessionissuer:struct<type:string,principalid:string,arn:string,\
         accountid:string,username:string>,webidfederationdata:struct<federatedprovider:string,\
         attributes:map<string,string>>,sourceidentity:string,ec2roledelivery:string,\
         ec2issuedinvpc:string>,invokedby:string,identityprovider:string,credentialid:string,\
         onbehalfof:struct<userid:string,identitystorearn:string>,inscopeof:struct<sourcearn:string,\
         sourceaccount:string,issuertype:string,credentialsissuedto:string>>",
    ),
    ("eventtime", "timestamp"),
    ("eventsource", "string"),
    ("eventname", "string"),
    ("awsregion", "string"),
    ("sourceipaddress", "string"),
    ("useragent", "string"),
    ("errorcode", "string"),
    ("errormessage", "string"),
    ("requestparameters", "map<string,string>"),
    ("responseelements", "map<string,string>"),
    ("additionaleventdata", "map<string,string>"),
    ("requestid", "string"),
    ("eventid", "string"),
    ("readonly", "boolean"),
    (
        "resources",
        "array<struct<accountid:string,type:string,arn:string,arnprefix:string>>",
    ),
    ("eventtype", "string"),
    ("apiversion", "string"),
    ("managementevent", "boolean"),
    ("recipientaccountid", "string"),
    ("sharedeventid", "string"),
    ("annotation", "string"),
    ("vpcendpointid", "string"),
    ("vpcendpointaccountid", "string"),
    ("serviceeventdetails", "map<string,string>"),
    ("addendum", "map<string,string>"),
    ("edgedevicedetails", "map<string,string>"),
    ("insightdetails", "map<string,string>"),
    ("eventcategory", "string"),
    (
        "tlsdetails",
        "struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>",
    ),
    ("sessioncredentialfromconsole", "string"),
    ("eventjson", "string"),
    ("eventjsonchecksum", "string"),
    // Events from outside AWS (PutAuditEvents through a channel), as AWS's schema for non-AWS
    // events has them (its `errormssage` spelled as the records spell it). Last, so that files
    // written before these columns existed read them as NULL.
    ("metadata", "struct<ingestiontime:string,channelarn:string>"),
    (
        "eventdata",
        "struct<version:string,useridentity:struct<type:string,principalid:string,\
         details:map<string,string>>,useragent:string,eventsource:string,eventname:string,\
         eventtime:string,uid:string,requestparameters:map<string,string>,\
         responseelements:map<string,string>,errorcode:string,errormessage:string,\
         sourceipaddress:string,recipientaccountid:string,additionaleventdata:map<string,string>>",
    ),
];

/// The column holding each record's own JSON text, byte for byte.
pub const EVENT_JSON: &str = "eventjson";

/// The Arrow schema of an event data store's files.
pub fn events() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let fields: Vec<Field> = COLUMNS
                .iter()
                .map(|(name, ty)| Field::new(*name, hive_type(ty), true))
                .collect();
            Arc::new(Schema::new(fields))
        })
        .clone()
}

/// The schema queries read the files with: [`events`], its top-level strings as views
/// (`Utf8View`), but for the record's own text. The files hold plain strings; decoding them as
/// views points into the pages (and, for dictionary-encoded columns, into the dictionary)
/// instead of copying every value, and grouping by them hashes the view. `eventjson` stays a
/// plain string: a view's memory is not fully counted against a query's limit (it points into
/// buffers shared with other values), and records are large enough for that to matter.
pub fn reading() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let fields: Vec<Field> = events()
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    DataType::Utf8 if f.name() != EVENT_JSON => {
                        f.as_ref().clone().with_data_type(DataType::Utf8View)
                    }
                    _ => f.as_ref().clone(),
                })
                .collect();
            Arc::new(Schema::new(fields))
        })
        .clone()
}

/// An Arrow type from Hive notation. The table above is fixed and tested, so a malformed entry
/// is a programming error caught by the tests; it maps to `string` rather than panicking.
fn hive_type(text: &str) -> DataType {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut p = Parser {
        s: compact.as_bytes(),
        at: 0,
    };
    match p.ty() {
        Some(t) if p.at == p.s.len() => t,
        _ => DataType::Utf8,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn eat(&mut self, token: &str) -> bool {
        if self.s[self.at..].starts_with(token.as_bytes()) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Option<String> {
        let start = self.at;
        while self.at < self.s.len()
            && (self.s[self.at].is_ascii_alphanumeric() || self.s[self.at] == b'_')
        {
            self.at += 1;
        }
        (self.at > start).then(|| String::from_utf8_lossy(&self.s[start..self.at]).into_owned())
    }

    fn ty(&mut self) -> Option<DataType> {
        if self.eat("struct<") {
            let mut fields = Vec::new();
            loop {
                let name = self.name()?;
                if !self.eat(":") {
                    return None;
                }
                fields.push(Field::new(name, self.ty()?, true));
                if self.eat(">") {
                    return Some(DataType::Struct(Fields::from(fields)));
                }
                if !self.eat(",") {
                    return None;
                }
            }
        }
        if self.eat("map<") {
            let key = self.ty()?;
            if !self.eat(",") {
                return None;
            }
            let value = self.ty()?;
            if !self.eat(">") {
                return None;
            }
            return Some(map_of(key, value));
        }
        if self.eat("array<") {
            let item = self.ty()?;
            if !self.eat(">") {
                return None;
            }
            return Some(DataType::List(Arc::new(Field::new("item", item, true))));
        }
        for (name, ty) in [
            ("string", DataType::Utf8),
            (
                "timestamp",
                DataType::Timestamp(TimeUnit::Millisecond, None),
            ),
            ("boolean", DataType::Boolean),
            ("bigint", DataType::Int64),
            ("double", DataType::Float64),
        ] {
            if self.eat(name) {
                return Some(ty);
            }
        }
        None
    }
}

/// Arrow's map layout: a list of `entries` structs with a non-null key (the Parquet MAP logical
/// type that DuckDB, Trino and Spark read as a map).
pub(crate) fn map_of(key: DataType, value: DataType) -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", key, false),
            Field::new("value", value, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_the_documented_type() {
        let schema = events();
        assert_eq!(schema.fields().len(), COLUMNS.len());
        for (name, ty) in COLUMNS {
            let field = schema.field_with_name(name).unwrap();
            if *ty != "string" {
                assert_ne!(
                    field.data_type(),
                    &DataType::Utf8,
                    "{name} parsed as string"
                );
            }
        }
        let DataType::Struct(identity) =
            schema.field_with_name("useridentity").unwrap().data_type()
        else {
            panic!("useridentity is a struct");
        };
        let names: Vec<&str> = identity.iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            names,
            [
                "type",
                "principalid",
                "arn",
                "accountid",
                "accesskeyid",
                "username",
                "sessioncontext",
                "invokedby",
                "identityprovider",
                "credentialid",
                "onbehalfof",
                "inscopeof"
            ]
        );
        assert!(matches!(
            schema.field_with_name("resources").unwrap().data_type(),
            DataType::List(_)
        ));
        assert!(matches!(
            schema
                .field_with_name("requestparameters")
                .unwrap()
                .data_type(),
            DataType::Map(_, false)
        ));
    }

    #[test]
    fn malformed_notation_falls_back_to_string() {
        assert_eq!(hive_type("struct<a:string"), DataType::Utf8);
        assert_eq!(hive_type("map<string>"), DataType::Utf8);
        assert_eq!(hive_type("nope"), DataType::Utf8);
    }
}
