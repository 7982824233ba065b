//! Wide rows rebuilt from the record: a scan that keeps a few rows of many columns (`SELECT *`
//! of the console sign-ins without MFA) reads only each kept row's `eventjson` and rebuilds its
//! columns from it, with the converter that filled them when the event was stored.
//!
//! Why: a row's columns are spread over some ninety column chunks, most of them nested leaves
//! holding a few bytes a row; fetching one row from each means decoding a page of every leaf
//! and skipping to the row by its repetition levels. Its record is one value in one column
//! whose pages are small (see [`crate::files`]), and turning a few thousand records back into
//! columns costs milliseconds. Every stored column is, by construction, what
//! [`crate::convert::BatchBuilder`] makes of the row's `eventjson`, so the rebuilt rows are
//! the stored rows.

use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{ArrayRef, AsArray, StructArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Fields};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DataFusionError, Result};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::{
    ColumnarValue, Expr, Filter, LogicalPlan, Projection, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, TableScan, TableScanBuilder, Volatility,
};

use crate::convert::BatchBuilder;
use crate::schema;

/// Columns a filtered scan reads from which its rows are rebuilt from the record instead.
pub const WIDE_SCAN: usize = 12;

/// The name the rebuilt row goes by between the two projections.
pub(crate) const RECORD: &str = "__cairn_record";

/// Rewrites every filter over a scan of at least [`WIDE_SCAN`] columns to scan only
/// `eventjson` and the filter's own columns, filter on those as stored, and rebuild the other
/// columns of the kept rows from the record. The filter is below the rebuilding, so the plan's
/// filters reach the files' decoder unchanged; the plan above sees the same columns. Says
/// whether it rewrote anything.
pub fn from_records(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    plan.transform_up(|node| match node {
        LogicalPlan::Filter(filter) => match filter.input.as_ref() {
            LogicalPlan::TableScan(scan) if rebuildable(scan) => {
                let scan = scan.clone();
                Ok(Transformed::yes(rebuild(filter.predicate, scan)?))
            }
            _ => Ok(Transformed::no(LogicalPlan::Filter(filter))),
        },
        other => Ok(Transformed::no(other)),
    })
}

/// Whether a physical plan (as displayed) filters its files' rows by rebuilt values, which
/// would rebuild every row to filter it.
pub fn filters_rebuilt_rows(plan: &str) -> bool {
    plan.lines()
        .filter(|l| l.contains("DataSourceExec"))
        .any(|l| l.split("predicate=").skip(1).any(|p| p.contains(RECORD)))
}

fn rebuildable(scan: &TableScan) -> bool {
    let columns = scan.projected_schema.fields();
    !scan.filters.is_empty()
        && columns
            .iter()
            .filter(|f| f.name() != schema::EVENT_JSON)
            .count()
            >= WIDE_SCAN
        && scan.source.schema().index_of(schema::EVENT_JSON).is_ok()
}

fn rebuild(predicate: Expr, scan: TableScan) -> Result<LogicalPlan> {
    let source = scan.source.schema();
    let record = Column::new(Some(scan.table_name.clone()), schema::EVENT_JSON);
    // The record and whatever the filter reads, in the table's order.
    let mut read: Vec<usize> = vec![source.index_of(schema::EVENT_JSON)?];
    for c in predicate.column_refs() {
        read.push(source.index_of(&c.name)?);
    }
    read.sort_unstable();
    read.dedup();
    let narrow = TableScanBuilder::new(scan.table_name.clone(), scan.source.clone())
        .with_projection(Some(read))
        .with_filters(scan.filters.clone())
        .with_fetch(scan.fetch)
        .build()?;
    let kept = Filter::try_new(predicate, Arc::new(LogicalPlan::TableScan(narrow)))?;
    let rows = Projection::try_new(
        vec![
            rebuilt()
                .call(vec![Expr::Column(record.clone())])
                .alias(RECORD),
            Expr::Column(record.clone()),
        ],
        Arc::new(LogicalPlan::Filter(kept)),
    )?;
    let columns = scan
        .projected_schema
        .iter()
        .map(|(qualifier, f)| {
            let value = if f.name() == schema::EVENT_JSON {
                Expr::Column(record.clone())
            } else {
                get_field(Expr::Column(RECORD.into()), f.name().as_str())
            };
            value.alias_qualified(qualifier.cloned(), f.name())
        })
        .collect();
    Ok(LogicalPlan::Projection(Projection::try_new(
        columns,
        Arc::new(LogicalPlan::Projection(rows)),
    )?))
}

/// The function rebuilding rows: `eventjson` in, a struct of every other column (as queries
/// read them, [`schema::reading`]) out.
fn rebuilt() -> ScalarUDF {
    static UDF: OnceLock<ScalarUDF> = OnceLock::new();
    UDF.get_or_init(|| ScalarUDF::from(Rebuild::new())).clone()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Rebuild {
    signature: Signature,
    fields: Fields,
}

impl Rebuild {
    fn new() -> Rebuild {
        let fields: Fields = schema::reading()
            .fields()
            .iter()
            .filter(|f| f.name() != schema::EVENT_JSON)
            .cloned()
            .collect();
        Rebuild {
            // Volatile: never moved below the scan's filter or evaluated for rows it dropped.
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Volatile),
            fields,
        }
    }
}

impl ScalarUDFImpl for Rebuild {
    fn name(&self) -> &str {
        RECORD
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(self.fields.clone()))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let texts = arrays
            .first()
            .ok_or_else(|| DataFusionError::Internal("no record to rebuild".into()))?
            .as_string::<i32>();
        let mut builder = BatchBuilder::new();
        for text in texts.iter() {
            // Every stored row has its record; one that had none is rebuilt empty (nulls).
            if builder.push(text.unwrap_or("{}")).is_err() {
                builder
                    .push("{}")
                    .map_err(|e| DataFusionError::Internal(e.to_string()))?;
            }
        }
        let batch = builder.finish();
        let columns = self
            .fields
            .iter()
            .map(|f| {
                let stored = batch.column_by_name(f.name()).ok_or_else(|| {
                    DataFusionError::Internal(format!("no column {} to rebuild", f.name()))
                })?;
                Ok(cast(stored, f.data_type())?)
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let rows = StructArray::try_new(self.fields.clone(), columns, None)?;
        Ok(ColumnarValue::Array(Arc::new(rows) as ArrayRef))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use datafusion::arrow::datatypes::Field;

    /// The rebuilt columns are the stored columns, value for value.
    #[test]
    fn a_rebuilt_row_is_the_stored_row() {
        let records = [
            r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"2024-05-01T01:00:00Z"}}},"eventTime":"2024-05-01T01:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","additionalEventData":{"MFAUsed":"No","LoginTo":"https://console"},"responseElements":{"ConsoleLogin":"Success"},"requestParameters":null,"eventID":"e1","readOnly":false,"eventType":"AwsConsoleSignIn","recipientAccountId":"1"}"#,
            r#"{"eventName":"PutObject","eventTime":"2024-05-02T01:00:00Z","resources":[{"ARN":"arn:aws:s3:::b/k","type":"AWS::S3::Object"}],"requestParameters":{"bucketName":"b","key":"k","n":3}}"#,
        ];
        let mut b = BatchBuilder::new();
        for r in records {
            b.push(r).unwrap();
        }
        let stored = b.finish();
        let texts: ArrayRef = stored.column_by_name(schema::EVENT_JSON).unwrap().clone();
        let out = Rebuild::new()
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![ColumnarValue::Array(texts)],
                arg_fields: vec![Arc::new(Field::new("e", DataType::Utf8, true))],
                number_rows: records.len(),
                return_field: Arc::new(Field::new(
                    "r",
                    Rebuild::new().return_type(&[]).unwrap(),
                    true,
                )),
                config_options: Arc::new(Default::default()),
            })
            .unwrap();
        let ColumnarValue::Array(out) = out else {
            panic!("an array")
        };
        let out = out.as_struct();
        for f in Rebuild::new().fields.iter() {
            let want = cast(stored.column_by_name(f.name()).unwrap(), f.data_type()).unwrap();
            assert_eq!(
                out.column_by_name(f.name()).unwrap().as_ref(),
                want.as_ref(),
                "{}",
                f.name()
            );
        }
    }
}
