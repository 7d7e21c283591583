//! Folds the weight-unpacking part of a graph (nodes whose inputs are all constants: dequantization, 4-bit
//! unpacking) into plain initializers before tract sees it.
//!
//! tract would fold them too, but during shape inference, with generic n-dimensional loops, evaluating and
//! comparing each constant several times: 85 % of loading the v2 model (62 ms natively, ~115 ms in Chromium).
//! Here each value is computed once, with flat loops. Only exact cases are folded: element-wise Add, Sub, Mul, Div
//! with numpy broadcasting, Concat, and Casts that lose nothing (integer to a wider integer or to float, float to
//! float). Anything else (a float-to-integer Cast, an integer division by zero, an unknown type) stays in the graph
//! for tract. Floats are computed in f64 and rounded to their type after each operation, which gives the correctly
//! rounded f32 / f16 result of that one operation.
use std::collections::{HashMap, HashSet};

use tract_hir::internal::*;

use super::graph::{datum_type, load_tensor, tensor_of, Attrs};
use super::pb::{GraphProto, NodeProto, TensorProto};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    F16,
    F32,
    F64,
    I8,
    U8,
    I32,
    I64,
}

impl Kind {
    fn of(dt: DatumType) -> Option<Kind> {
        Some(match dt {
            DatumType::F16 => Kind::F16,
            DatumType::F32 => Kind::F32,
            DatumType::F64 => Kind::F64,
            DatumType::I8 => Kind::I8,
            DatumType::U8 => Kind::U8,
            DatumType::I32 => Kind::I32,
            DatumType::I64 => Kind::I64,
            _ => return None,
        })
    }
    fn is_float(self) -> bool {
        matches!(self, Kind::F16 | Kind::F32 | Kind::F64)
    }
}

/// The values of a constant, in the type that computes its kind exactly. f32 and i32, the bulk of a quantized
/// model's unpacking, compute in their own type: one IEEE operation on two f32 values rounds exactly as the same
/// operation in f64 rounded to f32 (53 >= 2 * 24 + 2 bits), and wrapping i32 arithmetic gives the bits of i64
/// arithmetic truncated to 32. Half the memory traffic of widening everything, and no rounding pass.
#[derive(Debug, Clone)]
enum Values {
    /// f16 and f64, computed in f64 and rounded to the kind after each operation.
    F64(Vec<f64>),
    F32(Vec<f32>),
    /// i8, u8 and i64, computed in i64 and wrapped to the kind's width after each operation.
    I64(Vec<i64>),
    I32(Vec<i32>),
}

/// An element type of [`Values`]: its arithmetic (IEEE for floats, wrapping for integers) and its variant.
trait Elem: Datum + Copy + PartialEq {
    const ZERO_DIVIDES: bool;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn zero() -> Self;
    fn slice(v: &Values) -> Option<&[Self]>;
    fn wrap(v: Vec<Self>) -> Values;
}

macro_rules! elem {
    ($t:ty, $variant:ident, float) => {
        impl Elem for $t {
            const ZERO_DIVIDES: bool = true;
            fn add(self, o: Self) -> Self { self + o }
            fn sub(self, o: Self) -> Self { self - o }
            fn mul(self, o: Self) -> Self { self * o }
            fn div(self, o: Self) -> Self { self / o }
            elem!(@common $t, $variant, 0.0);
        }
    };
    ($t:ty, $variant:ident, int) => {
        impl Elem for $t {
            // An integer division by zero is undefined: such a node stays in the graph.
            const ZERO_DIVIDES: bool = false;
            fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            // Truncating, as ONNX (and tract, and onnxruntime) divide integers.
            fn div(self, o: Self) -> Self { self.wrapping_div(o) }
            elem!(@common $t, $variant, 0);
        }
    };
    (@common $t:ty, $variant:ident, $zero:expr) => {
        fn zero() -> Self { $zero }
        fn slice(v: &Values) -> Option<&[Self]> {
            if let Values::$variant(v) = v { Some(v) } else { None }
        }
        fn wrap(v: Vec<Self>) -> Values { Values::$variant(v) }
    };
}
elem!(f64, F64, float);
elem!(f32, F32, float);
elem!(i64, I64, int);
elem!(i32, I32, int);

#[derive(Debug, Clone)]
struct Const {
    kind: Kind,
    shape: Vec<usize>,
    values: Values,
}

fn values_of<T: Elem>(tensor: &Tensor) -> TractResult<Values> {
    Ok(T::wrap(tensor.cast_to::<T>()?.try_as_plain_ram()?.as_slice::<T>()?.to_vec()))
}

impl Const {
    fn from_proto(t: &TensorProto) -> TractResult<Option<Const>> {
        let Some(kind) = Kind::of(datum_type(t.data_type)?) else { return Ok(None) };
        let tensor = load_tensor(t)?;
        let shape = tensor.shape().to_vec();
        let values = match kind {
            Kind::F32 => values_of::<f32>(&tensor)?,
            Kind::F16 | Kind::F64 => values_of::<f64>(&tensor)?,
            Kind::I32 => values_of::<i32>(&tensor)?,
            Kind::I8 | Kind::U8 | Kind::I64 => values_of::<i64>(&tensor)?,
        };
        Ok(Some(Const { kind, shape, values }))
    }

    fn into_tensor(self) -> TractResult<Tensor> {
        let shape = &self.shape;
        match (self.values, self.kind) {
            (Values::F64(v), Kind::F16) => tensor_of(shape, v.iter().map(|&x| f16::from_f64(x)).collect()),
            (Values::F64(v), _) => tensor_of(shape, v),
            (Values::F32(v), _) => tensor_of(shape, v),
            (Values::I64(v), Kind::I8) => tensor_of(shape, v.iter().map(|&x| x as i8).collect()),
            (Values::I64(v), Kind::U8) => tensor_of(shape, v.iter().map(|&x| x as u8).collect()),
            (Values::I64(v), _) => tensor_of(shape, v),
            (Values::I32(v), _) => tensor_of(shape, v),
        }
    }
}

/// numpy broadcasting of two shapes, or None when they do not broadcast.
fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() >= rank { s[i + s.len() - rank] } else { 1 };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// Appends `v` (of `shape`, the same rank as `out`) broadcast to `out`, in row-major order, block by block.
fn expand_into<T: Copy>(v: &[T], shape: &[usize], out: &[usize], dst: &mut Vec<T>) {
    let total: usize = out.iter().product();
    if v.len() == total {
        dst.extend_from_slice(v);
    } else if v.len() == 1 {
        dst.extend(std::iter::repeat_n(v[0], total));
    } else if shape[0] == out[0] {
        let inner: usize = shape[1..].iter().product();
        for block in v.chunks_exact(inner) {
            expand_into(block, &shape[1..], &out[1..], dst);
        }
    } else {
        // Broadcast along this axis (the dimension is 1): expand the rest once, then repeat it.
        let start = dst.len();
        expand_into(v, &shape[1..], &out[1..], dst);
        let len = dst.len() - start;
        for _ in 1..out[0] {
            dst.extend_from_within(start..start + len);
        }
    }
}

/// `v` (of `shape`) broadcast to `out`: borrowed when it already has that many elements.
fn expand<'a, T: Copy>(v: &'a [T], shape: &[usize], out: &[usize]) -> std::borrow::Cow<'a, [T]> {
    let total: usize = out.iter().product();
    if v.len() == total {
        return std::borrow::Cow::Borrowed(v);
    }
    let mut padded = vec![1; out.len() - shape.len()];
    padded.extend_from_slice(shape);
    let mut dst = Vec::with_capacity(total);
    expand_into(v, &padded, out, &mut dst);
    std::borrow::Cow::Owned(dst)
}

/// `op` on `x` (of shape `xs`) and `y` (of shape `ys`), broadcast to `out`. A scalar side is not expanded.
fn arith<T: Elem>(op: &str, x: &[T], xs: &[usize], y: &[T], ys: &[usize], out: &[usize]) -> Option<Vec<T>> {
    if !T::ZERO_DIVIDES && op == "Div" && y.contains(&T::zero()) {
        return None;
    }
    match op {
        "Add" => Some(zip_broadcast(x, xs, y, ys, out, T::add)),
        "Sub" => Some(zip_broadcast(x, xs, y, ys, out, T::sub)),
        "Mul" => Some(zip_broadcast(x, xs, y, ys, out, T::mul)),
        "Div" => Some(zip_broadcast(x, xs, y, ys, out, T::div)),
        _ => None,
    }
}

/// `f` element by element on `x` and `y` broadcast to `out`; a scalar side is not expanded. Generic over `f`, so
/// each operation compiles to its own loop.
fn zip_broadcast<T: Copy>(
    x: &[T],
    xs: &[usize],
    y: &[T],
    ys: &[usize],
    out: &[usize],
    f: impl Fn(T, T) -> T,
) -> Vec<T> {
    let total: usize = out.iter().product();
    // A per-row or per-channel scale (shape [8000, 1] against [8000, 96]): each of its values meets one
    // contiguous block of the other side, so it is not expanded (that took a quarter of the whole fold).
    match (x.len(), y.len(), block_of(xs, out), block_of(ys, out)) {
        (n, _, _, Some(inner)) if n == total => by_block(x, y, inner, &f),
        (_, n, Some(inner), _) if n == total => by_block(y, x, inner, |q, p| f(p, q)),
        _ => {
            let (x, y) = (expand(x, xs, out), expand(y, ys, out));
            x.iter().zip(y.iter()).map(|(&p, &q)| f(p, q)).collect()
        }
    }
}

/// `f(value, per)` for each value of `full`, `per` being the one of `each` whose block of `inner` values it is in.
fn by_block<T: Copy>(full: &[T], each: &[T], inner: usize, f: impl Fn(T, T) -> T) -> Vec<T> {
    let mut v = Vec::with_capacity(full.len());
    for (block, &per) in full.chunks_exact(inner).zip(each) {
        v.extend(block.iter().map(|&value| f(value, per)));
    }
    v
}

/// When `shape`, padded with leading 1s to the rank of `out`, equals `out` on its leading axes and is 1 on all
/// the others, each of its values stands for a contiguous block of `out`: that block's length (all of `out`
/// for a scalar).
fn block_of(shape: &[usize], out: &[usize]) -> Option<usize> {
    let pad = out.len().checked_sub(shape.len())?;
    let dim = |i: usize| if i < pad { 1 } else { shape[i - pad] };
    // The leading axes where the shape matches `out`; a leading 1 against a 1 counts as matching.
    let lead = (0..out.len()).take_while(|&i| dim(i) == out[i]).count();
    let inner: usize = out[lead..].iter().product();
    ((lead..out.len()).all(|i| dim(i) == 1) && inner > 0).then_some(inner)
}

/// Rounds every value to `kind` (f16 or f32; f64 and integers are left as they are).
fn round_all(kind: Kind, v: &mut [f64]) {
    match kind {
        Kind::F32 => v.iter_mut().for_each(|x| *x = *x as f32 as f64),
        Kind::F16 => v.iter_mut().for_each(|x| *x = f16::from_f64(*x).to_f64()),
        _ => {}
    }
}

/// Wraps every value to the width of `kind` (i8, u8; i64 is left as it is).
fn wrap_all(kind: Kind, v: &mut [i64]) {
    match kind {
        Kind::I8 => v.iter_mut().for_each(|x| *x = *x as i8 as i64),
        Kind::U8 => v.iter_mut().for_each(|x| *x = *x as u8 as i64),
        _ => {}
    }
}

fn binary(op: &str, a: &Const, b: &Const) -> Option<Const> {
    if a.kind != b.kind {
        return None;
    }
    let shape = broadcast(&a.shape, &b.shape)?;
    let kind = a.kind;
    let (xs, ys) = (&a.shape[..], &b.shape[..]);
    let values = match (&a.values, &b.values) {
        (Values::F64(x), Values::F64(y)) => {
            let mut v = arith(op, x, xs, y, ys, &shape)?;
            round_all(kind, &mut v);
            Values::F64(v)
        }
        (Values::F32(x), Values::F32(y)) => Values::F32(arith(op, x, xs, y, ys, &shape)?),
        (Values::I64(x), Values::I64(y)) => {
            let mut v = arith(op, x, xs, y, ys, &shape)?;
            wrap_all(kind, &mut v);
            Values::I64(v)
        }
        (Values::I32(x), Values::I32(y)) => Values::I32(arith(op, x, xs, y, ys, &shape)?),
        _ => return None,
    };
    Some(Const { kind, shape, values })
}

/// For each of `outer` rows, block `o` of every part in turn (the layout of a concatenation).
fn interleave<T: Copy>(parts: &[&[T]], blocks: &[usize], outer: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for o in 0..outer {
        for (p, &b) in parts.iter().zip(blocks) {
            out.extend_from_slice(&p[o * b..(o + 1) * b]);
        }
    }
    out
}

fn concat(parts: &[&Const], axis: i64) -> Option<Const> {
    let first = parts.first()?;
    let rank = first.shape.len() as i64;
    let axis = if axis < 0 { axis + rank } else { axis };
    if !(0..rank).contains(&axis) {
        return None;
    }
    let axis = axis as usize;
    let same_rest = |c: &Const| {
        c.kind == first.kind
            && c.shape.len() == first.shape.len()
            && c.shape.iter().zip(&first.shape).enumerate().all(|(i, (x, y))| i == axis || x == y)
    };
    if !parts.iter().all(|c| same_rest(c)) {
        return None;
    }
    let outer: usize = first.shape[..axis].iter().product();
    let inner: usize = first.shape[axis + 1..].iter().product();
    let mut shape = first.shape.clone();
    shape[axis] = parts.iter().map(|c| c.shape[axis]).sum();
    let blocks: Vec<usize> = parts.iter().map(|c| c.shape[axis] * inner).collect();
    // Same kind everywhere (checked above), so every part holds the same variant as the first.
    fn join<T: Elem>(parts: &[&Const], blocks: &[usize], outer: usize) -> Option<Values> {
        let v: Option<Vec<&[T]>> = parts.iter().map(|c| T::slice(&c.values)).collect();
        Some(T::wrap(interleave(&v?, blocks, outer)))
    }
    let values = match first.values {
        Values::F64(_) => join::<f64>(parts, &blocks, outer)?,
        Values::F32(_) => join::<f32>(parts, &blocks, outer)?,
        Values::I64(_) => join::<i64>(parts, &blocks, outer)?,
        Values::I32(_) => join::<i32>(parts, &blocks, outer)?,
    };
    Some(Const { kind: first.kind, shape, values })
}

/// A Cast that cannot change a value: integer to an integer at least as wide with the same signedness (or u8
/// to a wider signed one), integer to float, float to float.
fn cast(c: &Const, to: Kind) -> Option<Const> {
    // Each conversion below rounds at most once, to the target: int to f32 and f64 to f32 with `as` (round to
    // nearest even), anything to f16 through an exact f64.
    let values = match (&c.values, to) {
        (Values::F32(v), Kind::F32) => Values::F32(v.clone()),
        (Values::F32(v), Kind::F16 | Kind::F64) => Values::F64(rounded(to, v.iter().map(|&x| x as f64))),
        (Values::F64(v), Kind::F32) => Values::F32(v.iter().map(|&x| x as f32).collect()),
        (Values::F64(v), Kind::F16 | Kind::F64) => Values::F64(rounded(to, v.iter().copied())),
        (Values::I32(v), Kind::F32) => Values::F32(v.iter().map(|&x| x as f32).collect()),
        (Values::I32(v), Kind::F16 | Kind::F64) => Values::F64(rounded(to, v.iter().map(|&x| x as f64))),
        // Beyond 2^53 an i64 would be rounded twice (to f64, then to the target).
        (Values::I64(v), Kind::F16 | Kind::F32 | Kind::F64) if v.iter().all(|x| x.unsigned_abs() <= 1 << 53) => {
            match to {
                Kind::F32 => Values::F32(v.iter().map(|&x| x as f32).collect()),
                _ => Values::F64(rounded(to, v.iter().map(|&x| x as f64))),
            }
        }
        (Values::I64(_) | Values::I32(_), _) if !to.is_float() => {
            let widening = match (c.kind, to) {
                (from, to) if from == to => true,
                (Kind::U8, Kind::I32 | Kind::I64) | (Kind::I8, Kind::I32 | Kind::I64) | (Kind::I32, Kind::I64) => true,
                _ => false,
            };
            if !widening {
                return None;
            }
            match (&c.values, to) {
                // i8 and u8 values fit i32.
                (Values::I64(v), Kind::I32) => Values::I32(v.iter().map(|&x| x as i32).collect()),
                (Values::I32(v), Kind::I64) => Values::I64(v.iter().map(|&x| x as i64).collect()),
                (values, _) => values.clone(),
            }
        }
        _ => return None,
    };
    Some(Const { kind: to, shape: c.shape.clone(), values })
}

/// `values` rounded to `kind` (f16 or f64).
fn rounded(kind: Kind, values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    round_all(kind, &mut v);
    v
}

fn fold_node(n: &NodeProto, consts: &HashMap<String, Const>) -> TractResult<Option<Const>> {
    let inputs: Option<Vec<&Const>> = n.input.iter().map(|i| consts.get(i)).collect();
    let Some(inputs) = inputs else { return Ok(None) };
    if n.output.len() != 1 {
        return Ok(None);
    }
    Ok(match (n.op_type.as_str(), inputs.as_slice()) {
        ("Add" | "Sub" | "Mul" | "Div", [a, b]) => binary(&n.op_type, a, b),
        ("Concat", parts) if !parts.is_empty() => match n.int("axis")? {
            Some(axis) => concat(parts, axis),
            None => None,
        },
        ("Cast", [c]) => {
            let to = n.int("to")?.context("Cast needs `to`")?;
            match Kind::of(datum_type(to as i32)?) {
                Some(to) => cast(c, to),
                None => None,
            }
        }
        _ => None,
    })
}

/// Removes every node whose inputs are all constants (and whose op is one of the exact cases above), and the
/// initializers nothing reads any more; returns the folded values the remaining graph reads, by name.
pub fn fold(graph: &mut GraphProto) -> TractResult<Vec<(String, Tensor)>> {
    const FOLDABLE: &[&str] = &["Add", "Sub", "Mul", "Div", "Concat", "Cast"];
    let inputs: HashSet<String> = graph.input.iter().map(|i| i.name.clone()).collect();
    let mut consts: HashMap<String, Const> = HashMap::new();
    let mut folded: Vec<String> = Vec::new();
    let mut kept = Vec::with_capacity(graph.node.len());
    {
        // An initializer that is also a graph input can be overridden by the caller: not a constant.
        let protos: HashMap<&str, &TensorProto> =
            graph.initializer.iter().filter(|t| !inputs.contains(&t.name)).map(|t| (t.name.as_str(), t)).collect();
        // How many node inputs read each name; a graph output is read once more, by the caller.
        let mut readers: HashMap<String, usize> = HashMap::new();
        for name in graph.node.iter().flat_map(|n| n.input.iter()).chain(graph.output.iter().map(|o| &o.name)) {
            *readers.entry(name.clone()).or_default() += 1;
        }
        for n in std::mem::take(&mut graph.node) {
            let constant = |i: &String| consts.contains_key(i) || protos.contains_key(i.as_str());
            if !(FOLDABLE.contains(&n.op_type.as_str()) && n.input.iter().all(constant)) {
                kept.push(n);
                continue;
            }
            // Initializers are converted when a foldable node reads them, not before.
            for i in &n.input {
                if !consts.contains_key(i) {
                    if let Some(c) = Const::from_proto(protos[i.as_str()])? {
                        consts.insert(i.clone(), c);
                    }
                }
            }
            match fold_node(&n, &consts).with_context(|| format!("folding {} {:?}", n.op_type, n.name))? {
                Some(c) => {
                    // A value whose every reader is folded is not needed any more: dropped now, so the unpacking
                    // chain of a large table never holds all its stages at once (wasm memory does not shrink).
                    for i in &n.input {
                        if let Some(left) = readers.get_mut(i.as_str()) {
                            *left -= 1;
                            if *left == 0 {
                                consts.remove(i);
                            }
                        }
                    }
                    consts.insert(n.output[0].clone(), c);
                    folded.push(n.output[0].clone());
                }
                None => kept.push(n),
            }
        }
    }
    graph.node = kept;
    // What the remaining graph still reads.
    let used: HashSet<String> =
        graph.node.iter().flat_map(|n| n.input.iter()).chain(graph.output.iter().map(|o| &o.name)).cloned().collect();
    graph.initializer.retain(|t| used.contains(&t.name) || inputs.contains(&t.name));
    let mut out = Vec::new();
    for name in folded.into_iter().filter(|f| used.contains(f)) {
        if let Some(c) = consts.remove(&name) {
            out.push((name, c.into_tensor()?));
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "fold_tests.rs"]
mod tests;
