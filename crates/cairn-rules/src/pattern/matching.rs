//! Evaluating compiled branches against an event: each field path is resolved once into the
//! event's values there (flattened as event-ruler does: arrays add no path step, a dotted
//! pattern key matches nested keys and vice versa), remembering which array element each value
//! came from, so that fields matched inside one array must come from the same element.

use serde_json::Value;

use super::model::Field;

/// Objects up to this size are searched by scanning their keys rather than hashing.
const SCAN_KEYS: usize = 24;

/// Deepest event nesting (objects and arrays) resolving descends into; values deeper are not
/// seen. Events parsed by serde_json are at most 128 levels deep, so this only bounds the
/// recursion for values built otherwise. [I] event-ruler's own flattening has no such bound.
const MAX_EVENT_DEPTH: usize = 2048;

/// An array the value sits in (its address within this event) and the element index.
type Membership = Vec<(usize, u32)>;

/// A scalar event value at a resolved path.
#[derive(Debug)]
pub(crate) struct Leaf<'e> {
    pub value: &'e Value,
    arrays: Membership,
}

/// Appends to `out` every scalar value at `path` (dot-joined) below `v`.
pub(crate) fn resolve<'e>(v: &'e Value, path: &str, out: &mut Vec<Leaf<'e>>) {
    let mut membership = Vec::new();
    walk(v, path, &mut membership, out, 0);
}

fn walk<'e>(
    v: &'e Value,
    rest: &str,
    membership: &mut Membership,
    out: &mut Vec<Leaf<'e>>,
    depth: usize,
) {
    if depth > MAX_EVENT_DEPTH {
        return;
    }
    let depth = depth + 1;
    match v {
        Value::Array(items) => {
            let id = items.as_ptr() as usize;
            for (i, item) in items.iter().enumerate() {
                membership.push((id, i as u32));
                walk(item, rest, membership, out, depth);
                membership.pop();
            }
        }
        Value::Object(map) => {
            if rest.is_empty() {
                return;
            }
            // "a.b.c" may be a key "a" then "b.c", a key "a.b" then "c", or the key "a.b.c".
            if map.len() <= SCAN_KEYS {
                // Comparing a few short keys is cheaper than hashing every split.
                for (key, child) in map {
                    if let Some(tail) = rest.strip_prefix(key.as_str()) {
                        if tail.is_empty() {
                            walk(child, "", membership, out, depth);
                        } else if let Some(tail) = tail.strip_prefix('.') {
                            walk(child, tail, membership, out, depth);
                        }
                    }
                }
                return;
            }
            let mut from = 0;
            loop {
                let cut = rest[from..].find('.').map(|k| from + k);
                let key = match cut {
                    Some(k) => &rest[..k],
                    None => rest,
                };
                if let Some(child) = map.get(key) {
                    let tail = cut.map_or("", |k| &rest[k + 1..]);
                    walk(child, tail, membership, out, depth);
                }
                match cut {
                    Some(k) => from = k + 1,
                    None => break,
                }
            }
        }
        _ => {
            if rest.is_empty() {
                out.push(Leaf {
                    value: v,
                    arrays: membership.clone(),
                });
            }
        }
    }
}

/// Whether `leaf` came from the same elements as everything chosen so far.
fn consistent(chosen: &Membership, leaf: &Membership) -> bool {
    leaf.iter()
        .all(|(array, index)| chosen.iter().all(|(a, i)| a != array || i == index))
}

/// Marks a path not yet resolved.
const UNRESOLVED: (u32, u32) = (u32::MAX, u32::MAX);

/// An event's values at a list of paths, each resolved the first time a pattern asks for it
/// and then shared by every later pattern; and, for a [`super::PatternSet`], each distinct
/// field's verdict once computed.
pub(crate) struct Resolved<'e, 'p> {
    event: &'e Value,
    paths: &'p [String],
    leaves: Vec<Leaf<'e>>,
    /// Per path: the range of `leaves` it owns, or [`UNRESOLVED`].
    spans: Vec<(u32, u32)>,
    /// Per path: whether none of its values sits in an array (so a field's verdict there
    /// does not depend on the elements other fields chose).
    free: Vec<bool>,
    /// Per distinct field: 0 not yet judged, 1 satisfied, 2 not.
    verdicts: Vec<u8>,
}

impl<'e, 'p> Resolved<'e, 'p> {
    /// A table for `paths`, remembering verdicts for `fields` distinct fields.
    pub(crate) fn new(event: &'e Value, paths: &'p [String], fields: usize) -> Resolved<'e, 'p> {
        Resolved {
            event,
            paths,
            leaves: Vec::new(),
            spans: vec![UNRESOLVED; paths.len()],
            free: vec![true; paths.len()],
            verdicts: vec![0; fields],
        }
    }

    /// The range of `leaves` holding path `id`'s values.
    fn span(&mut self, id: usize) -> (usize, usize) {
        let Some(&span) = self.spans.get(id) else {
            return (0, 0);
        };
        let (a, b) = if span == UNRESOLVED {
            let start = self.leaves.len();
            if let Some(path) = self.paths.get(id) {
                resolve(self.event, path, &mut self.leaves);
            }
            self.free[id] = self.leaves[start..].iter().all(|l| l.arrays.is_empty());
            let span = (start as u32, self.leaves.len() as u32);
            self.spans[id] = span;
            span
        } else {
            span
        };
        (a as usize, b as usize)
    }
}

/// One branch: its fields, their path ids, and (in a set) their distinct-field ids.
pub(crate) struct BranchRef<'b> {
    pub fields: &'b [Field],
    pub ids: &'b [usize],
    pub fids: Option<&'b [usize]>,
}

/// Whether every field (its path's id in `ids`) finds a value, or for `exists: false` its
/// absence, with all values drawn from consistent array elements. Fields that accept absence
/// come last in a branch (see `compile`), so absence is judged against every element chosen.
///
/// A depth-first search over the fields with an explicit stack (one frame per field entered),
/// so a branch of many fields takes no call stack.
pub(crate) fn branch_matches(branch: &BranchRef<'_>, table: &mut Resolved<'_, '_>) -> bool {
    /// A field entered: its values still to try (`next..end`), the length of `chosen` on
    /// entry, and whether absence is still to try.
    struct Frame {
        next: usize,
        end: usize,
        start: usize,
        mark: usize,
        absence_left: bool,
    }
    let n = branch.fields.len().min(branch.ids.len());
    let mut chosen = Membership::new();
    let mut stack: Vec<Frame> = Vec::with_capacity(n);
    'enter: loop {
        let i = stack.len();
        if i == n {
            return true;
        }
        let (field, id) = (&branch.fields[i], branch.ids[i]);
        // Indexes, not a borrowed slice: later fields may resolve more paths into `leaves`.
        let (a, b) = table.span(id);
        let fid = branch.fids.and_then(|f| f.get(i)).copied();
        match fid {
            Some(fid) if table.free[id] => {
                // Values outside arrays add no element choices: the verdict is the same for
                // every rule that has this field, so it is computed once per event.
                let verdict = match table.verdicts[fid] {
                    1 => true,
                    2 => false,
                    _ => {
                        let v = (a..b).any(|k| field.accepts(table.leaves[k].value))
                            || (field.absent_ok && a == b);
                        table.verdicts[fid] = if v { 1 } else { 2 };
                        v
                    }
                };
                // Satisfied: no choices to revisit on backtracking.
                stack.push(Frame {
                    next: b,
                    end: b,
                    start: a,
                    mark: chosen.len(),
                    absence_left: false,
                });
                if verdict {
                    continue 'enter;
                }
            }
            _ => stack.push(Frame {
                next: a,
                end: b,
                start: a,
                mark: chosen.len(),
                absence_left: field.absent_ok,
            }),
        }
        // Advance the innermost field with choices left; fields without any are left.
        while let Some(fi) = stack.len().checked_sub(1) {
            let field = &branch.fields[fi];
            let top = &mut stack[fi];
            chosen.truncate(top.mark);
            while top.next < top.end {
                let leaf = &table.leaves[top.next];
                top.next += 1;
                if field.accepts(leaf.value) && consistent(&chosen, &leaf.arrays) {
                    chosen.extend(leaf.arrays.iter().copied());
                    continue 'enter;
                }
            }
            // `exists: false` holds when no value sits in the array elements chosen so far,
            // as event-ruler's array-consistent matching decides absence.
            if top.absence_left {
                top.absence_left = false;
                if !table.leaves[top.start..top.end]
                    .iter()
                    .any(|l| consistent(&chosen, &l.arrays))
                {
                    continue 'enter;
                }
            }
            stack.pop();
        }
        return false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(v: &Value, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        resolve(v, path, &mut out);
        out.into_iter().map(|l| l.value.clone()).collect()
    }

    #[test]
    fn arrays_add_no_path_step() {
        let e = json!({"a": [{"b": 1}, {"b": [2, 3]}, {"c": 4}]});
        assert_eq!(values(&e, "a.b"), vec![json!(1), json!(2), json!(3)]);
    }

    #[test]
    fn dotted_keys_join_both_ways() {
        let sorted = |mut v: Vec<Value>| {
            v.sort_by_key(|x| x.to_string());
            v
        };
        let e = json!({"d": {"state.status": "x", "state": {"status": "y"}}});
        assert_eq!(
            sorted(values(&e, "d.state.status")),
            vec![json!("x"), json!("y")]
        );
        // A large object is searched by hashing each split instead of scanning its keys.
        let mut big = serde_json::Map::new();
        for i in 0..(SCAN_KEYS + 5) {
            big.insert(format!("k{i}"), json!(i));
        }
        big.insert("state.status".into(), json!("x"));
        big.insert("state".into(), json!({"status": "y"}));
        let e = json!({ "d": big });
        assert_eq!(
            sorted(values(&e, "d.state.status")),
            vec![json!("x"), json!("y")]
        );
    }

    #[test]
    fn objects_and_empty_arrays_are_not_values() {
        let e = json!({"a": {"b": 1}, "r": []});
        assert!(values(&e, "a").is_empty());
        assert!(values(&e, "r").is_empty());
    }
}
