//! Rule engines of cairn, pure logic with no I/O and time always injected by the caller: CloudWatch
//! alarm evaluation (`alarm`) and, beside it, other rule engines.

pub mod alarm;
