//! `forward!`: implements a store trait for a backend whose methods are written as inherent
//! methods of the same names, spread over the files of its module (one per concern).
//!
//! A trait impl must be one block, but a store's SQL reads best split by concern; so each
//! backend keeps its methods where they are and its trait impl is a list of signatures, each
//! forwarded to the inherent method (`Self::name` finds the inherent method first). The list
//! doubles as a map of what the backend implements.

macro_rules! forward {
    // A backend on PostgreSQL: each method runs where its blocking client may (`pg::blocking`).
    (blocking: $(fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) $(-> $ret:ty)?;)*) => {
        $(
            #[inline]
            fn $name(&self $(, $arg: $ty)*) $(-> $ret)? {
                $crate::pg::blocking(|| Self::$name(self $(, $arg)*))
            }
        )*
    };
    ($(fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) $(-> $ret:ty)?;)*) => {
        $(
            #[inline]
            fn $name(&self $(, $arg: $ty)*) $(-> $ret)? {
                Self::$name(self $(, $arg)*)
            }
        )*
    };
}
