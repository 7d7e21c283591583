//! Tests of `fold`: exact folding, what stays in the graph, and broadcasting.
use super::*;
use crate::model::onnx::pb::{attr_type, data_type, AttributeProto, ValueInfoProto};

fn ints(name: &str, dims: &[i64], v: &[i32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.into(),
        data_type: data_type::INT32,
        int32_data: v.into(),
        ..Default::default()
    }
}
fn floats(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.into(),
        data_type: data_type::FLOAT,
        float_data: v.into(),
        ..Default::default()
    }
}
fn node(op: &str, inputs: &[&str], out: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![out.into()],
        attribute,
        ..Default::default()
    }
}
fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attr_type::INT, i, ..Default::default() }
}
fn graph(init: Vec<TensorProto>, node: Vec<NodeProto>, outputs: &[&str]) -> GraphProto {
    let output = outputs.iter().map(|o| ValueInfoProto { name: o.to_string(), r#type: None }).collect();
    GraphProto { node, initializer: init, output, ..Default::default() }
}

#[test]
fn broadcast_arithmetic_and_concat_fold_to_the_numpy_result() {
    let a = ints("a", &[2, 3], &[1, 2, 3, 4, 5, 6]);
    let col = ints("col", &[2, 1], &[10, 20]);
    let row = ints("row", &[3], &[2, -3, 5]);
    let nodes = vec![
        node("Mul", &["a", "col"], "m", vec![]), // [[10,20,30],[80,100,120]]
        node("Div", &["m", "row"], "d", vec![]), // truncating: [[5,-6,6],[40,-33,24]]
        node("Concat", &["d", "a"], "c", vec![int_attr("axis", 1)]),
        node("Cast", &["c"], "f", vec![int_attr("to", data_type::FLOAT as i64)]),
        node("Sub", &["f", "half"], "y", vec![]),
    ];
    let mut g = graph(vec![a, col, row, floats("half", &[], &[0.5])], nodes, &["y"]);
    let folded = fold(&mut g).unwrap();
    assert!(g.node.is_empty(), "{:?}", g.node);
    assert!(g.initializer.is_empty(), "inputs nothing reads any more are dropped");
    let want = [4.5f32, -6.5, 5.5, 0.5, 1.5, 2.5, 39.5, -33.5, 23.5, 3.5, 4.5, 5.5];
    assert_eq!(folded, vec![("y".to_string(), Tensor::from_shape(&[2, 6], &want).unwrap())]);
}

#[test]
fn inexact_or_undefined_cases_stay_in_the_graph() {
    let nodes = vec![
        node("Div", &["a", "zero"], "d", vec![]),
        node("Cast", &["f"], "i", vec![int_attr("to", data_type::INT32 as i64)]),
        node("Cast", &["a"], "n", vec![int_attr("to", data_type::INT8 as i64)]),
        node("Add", &["a", "x"], "y", vec![]),
    ];
    let init = vec![ints("a", &[2], &[1, 2]), ints("zero", &[1], &[0]), floats("f", &[1], &[2.7])];
    let mut g = graph(init, nodes, &["d", "i", "n", "y"]);
    g.input = vec![ValueInfoProto { name: "x".into(), r#type: None }];
    fold(&mut g).unwrap();
    let ops: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops, ["Div", "Cast", "Cast", "Add"]);
    assert_eq!(g.initializer.len(), 3);
}

#[test]
fn a_folded_value_that_a_kept_node_still_reads_is_handed_over() {
    // "s" is read by a folded Mul and by an Add on the graph input: freed after the Mul, it would be lost.
    let nodes = vec![
        node("Add", &["a", "b"], "s", vec![]),
        node("Mul", &["s", "s"], "m", vec![]),
        node("Add", &["s", "x"], "y", vec![]),
    ];
    let mut g = graph(vec![ints("a", &[1], &[2]), ints("b", &[1], &[3])], nodes, &["m", "y"]);
    g.input = vec![ValueInfoProto { name: "x".into(), r#type: None }];
    let mut folded = fold(&mut g).unwrap();
    folded.sort_by(|p, q| p.0.cmp(&q.0));
    let one = |v: i32| Tensor::from_shape(&[1], &[v]).unwrap();
    assert_eq!(folded, vec![("m".to_string(), one(25)), ("s".to_string(), one(5))]);
    assert_eq!(g.node.len(), 1);
}

#[test]
fn an_initializer_that_is_also_a_graph_input_is_not_a_constant() {
    let mut g =
        graph(vec![ints("a", &[1], &[1]), ints("b", &[1], &[2])], vec![node("Add", &["a", "b"], "y", vec![])], &["y"]);
    g.input = vec![ValueInfoProto { name: "a".into(), r#type: None }];
    fold(&mut g).unwrap();
    assert_eq!(g.node.len(), 1);
}

/// The claim behind computing f32 in f32 and i32 in i32: the same bits as the widened computation rounded
/// (wrapped) to the kind, on random bit patterns (subnormals, infinities and NaN included) and edge values.
#[test]
fn narrow_arithmetic_gives_the_bits_of_the_wide_one() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut fa: Vec<f32> = vec![0.0, -0.0, 1.0, f32::MIN_POSITIVE, 1e-45, f32::MAX, f32::INFINITY, f32::NAN];
    let mut ia: Vec<i32> = vec![0, 1, -1, i32::MIN, i32::MAX, 16, -16];
    for _ in 0..4000 {
        let r = next();
        fa.push(f32::from_bits(r as u32));
        // Small magnitudes too: the unpacking arithmetic of a quantized model works on those.
        fa.push((r >> 40) as f32 / 7.0 - 1000.0);
        ia.push(r as i32);
        ia.push((r >> 56) as i32 - 128);
    }
    let fb: Vec<f32> = fa.iter().rev().copied().collect();
    let ib: Vec<i32> = ia.iter().rev().map(|&x| if x == 0 { 3 } else { x }).collect();
    let shape = |n: usize| vec![n];
    // One operation in the wide type (f64, i64): what the fold computed before f32 and i32 kept their own.
    fn wide<T: Elem>(op: &str, x: T, y: T) -> T {
        arith(op, &[x], &[], &[y], &[], &[]).expect("a wide op")[0]
    }
    for op in ["Add", "Sub", "Mul", "Div"] {
        let c = |kind, values| Const { kind, shape: shape(fa.len()), values };
        let got = binary(op, &c(Kind::F32, Values::F32(fa.clone())), &c(Kind::F32, Values::F32(fb.clone())));
        let Some(Const { values: Values::F32(got), .. }) = got else { panic!("{op} did not fold") };
        for ((&x, &y), g) in fa.iter().zip(&fb).zip(got) {
            let wide = wide(op, x as f64, y as f64) as f32;
            assert!(wide.to_bits() == g.to_bits() || (wide.is_nan() && g.is_nan()), "{op} {x} {y}: {wide} vs {g}");
        }
        let c = |values| Const { kind: Kind::I32, shape: shape(ia.len()), values };
        let got = binary(op, &c(Values::I32(ia.clone())), &c(Values::I32(ib.clone())));
        let Some(Const { values: Values::I32(got), .. }) = got else { panic!("{op} did not fold on i32") };
        for ((&x, &y), g) in ia.iter().zip(&ib).zip(got) {
            let wide = wide(op, x as i64, y as i64) as i32;
            assert_eq!(wide, g, "{op} {x} {y}");
        }
    }
}

#[test]
fn casts_round_once_to_the_target() {
    let big = (1i64 << 24) + 1; // not an f32: rounds to even, 2^24
    let c = Const { kind: Kind::I64, shape: vec![3], values: Values::I64(vec![big, -big, 7]) };
    let Some(Const { values: Values::F32(v), .. }) = cast(&c, Kind::F32) else { panic!("no fold") };
    assert_eq!(v, [16_777_216.0, -16_777_216.0, 7.0]);
    let c = Const { kind: Kind::U8, shape: vec![2], values: Values::I64(vec![255, 0]) };
    let Some(Const { values: Values::I32(v), kind: Kind::I32, .. }) = cast(&c, Kind::I32) else { panic!() };
    assert_eq!(v, [255, 0]);
    let c = Const { kind: Kind::I32, shape: vec![1], values: Values::I32(vec![300]) };
    assert!(cast(&c, Kind::U8).is_none(), "a narrowing cast stays in the graph");
    let c = Const { kind: Kind::F32, shape: vec![1], values: Values::F32(vec![65520.0]) };
    let Some(Const { values: Values::F64(v), kind: Kind::F16, .. }) = cast(&c, Kind::F16) else { panic!() };
    assert!(v[0].is_infinite(), "65520 rounds to f16 infinity");
}

#[test]
fn broadcasting_expands_in_row_major_order() {
    assert_eq!(broadcast(&[2, 1], &[3]), Some(vec![2, 3]));
    assert_eq!(broadcast(&[2], &[3]), None);
    let e = |v: &[i64], shape: &[usize], out: &[usize]| expand(v, shape, out).into_owned();
    assert_eq!(e(&[1, 2], &[2, 1], &[2, 3]), [1, 1, 1, 2, 2, 2]);
    assert_eq!(e(&[1, 2, 3], &[3], &[2, 3]), [1, 2, 3, 1, 2, 3]);
    assert_eq!(e(&[7], &[], &[2, 2]), [7, 7, 7, 7]);
    assert_eq!(e(&[1, 2], &[1, 2, 1], &[2, 2, 2]), [1, 1, 2, 2, 1, 1, 2, 2]);
    assert_eq!(e(&[1, 2, 3, 4], &[2, 1, 2], &[2, 3, 2]), [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
}

#[test]
fn a_side_that_covers_blocks_gives_what_expanding_it_gives() {
    assert_eq!(block_of(&[4, 1], &[4, 3]), Some(3));
    assert_eq!(block_of(&[2, 1, 1], &[2, 3, 5]), Some(15));
    assert_eq!(block_of(&[], &[2, 3]), Some(6));
    assert_eq!(block_of(&[1, 1], &[2, 3]), Some(6));
    assert_eq!(block_of(&[2, 3], &[2, 3]), Some(1));
    assert_eq!(block_of(&[3], &[2, 3]), None, "a row repeated per row is not one block per value");
    assert_eq!(block_of(&[1, 3], &[2, 3]), None);
    assert_eq!(block_of(&[2, 1, 5], &[2, 3, 5]), None);
    // Every pairing of shapes, both ways round, against the expanded reference.
    let cases: [(&[usize], &[usize]); 6] = [
        (&[4, 3], &[4, 1]),
        (&[2, 3, 5], &[2, 1, 1]),
        (&[2, 3], &[]),
        (&[2, 3], &[3]),
        (&[2, 3, 5], &[2, 1, 5]),
        (&[1], &[2, 2]),
    ];
    for (a, b) in cases {
        let out = broadcast(a, b).unwrap();
        let n = |s: &[usize]| s.iter().product::<usize>();
        let x: Vec<i64> = (0..n(a) as i64).map(|i| 3 * i + 1).collect();
        let y: Vec<i64> = (0..n(b) as i64).map(|i| 7 - 2 * i).collect();
        for (p, ps, q, qs) in [(&x, a, &y, b), (&y, b, &x, a)] {
            let reference: Vec<i64> =
                expand(p, ps, &out).iter().zip(expand(q, qs, &out).iter()).map(|(&u, &v)| u * 10 - v).collect();
            assert_eq!(zip_broadcast(p, ps, q, qs, &out, |u, v| u * 10 - v), reference, "{ps:?} with {qs:?}");
        }
    }
}
