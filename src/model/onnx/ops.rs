//! The ONNX operators this runtime loads, and nothing else.
//!
//! `tract_onnx::onnx()` registers every operator tract knows (pooling, recurrent nets, FFT, attention...), and the
//! registry keeps all of their builders and the tract ops behind them in the .wasm. A character model needs about
//! twenty. Registering only those took the release .wasm from 2.53 to 2.21 MB gzip; parsing the protobuf
//! ourselves (`pb`, `graph`) instead of through tract-onnx, which links tract-nnef and its static
//! registrations, took it further (bench/model/run.mjs prints the sizes). A model that uses anything else is
//! refused at load with a message naming the operator.
//!
//! Operators whose opset-13+ form takes axes as an input (`Unsqueeze`, `Squeeze`, `ReduceSum`, and the other
//! reducers from opset 18) must get them from a constant: [`normalize`] moves such constants into an `axes`
//! attribute, so every builder below reads attributes only. `DequantizeLinear` (weight-only QDQ) is rewritten
//! into `Cast`, `Sub` and `Mul`, which `fold` turns into one f32 constant when the weights are initializers.
use std::collections::HashMap;

use prost::Message;
use tract_hir::internal::*;
use tract_hir::ops::{self, array, cnn, nn};

use super::fold;
use super::graph::{self, datum_type, load_tensor, Attrs, Builder, Built, Ctx};
use super::pb::{attr_type, data_type, AttributeProto, ModelProto, NodeProto, TensorProto};

/// The operator types [`load`] accepts, in the order they are registered.
pub const SUPPORTED: &[&str] = &[
    "Add",
    "Sub",
    "Mul",
    "Div",
    "MatMul",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Sqrt",
    "Greater",
    "Cast",
    "Gather",
    "Transpose",
    "Concat",
    "Reshape",
    "Unsqueeze",
    "Squeeze",
    "ReduceSum",
    "ReduceMax",
    "ReduceMean",
    "Softmax",
    "Conv",
    "Constant",
    "Identity",
    "DequantizeLinear",
];

fn registry() -> HashMap<&'static str, Builder> {
    let mut reg: HashMap<&'static str, Builder> = HashMap::new();
    reg.insert("Add", |_, _| Ok(ops::math::Add.into_hir()));
    reg.insert("Sub", |_, _| Ok(ops::math::Sub.into_hir()));
    reg.insert("Mul", |_, _| Ok(ops::math::Mul.into_hir()));
    reg.insert("Div", |_, _| Ok(ops::math::Div.into_hir()));
    reg.insert("MatMul", |_, _| Ok(expand(ops::matmul::MatMulInference::default())));
    reg.insert("Relu", |_, _| Ok(expand(ops::activations::Clip::new(Some(0.0), None))));
    reg.insert("Sigmoid", |_, _| Ok(ops::nn::sigmoid().into_hir()));
    reg.insert("Tanh", |_, _| Ok(ops::math::tanh().into_hir()));
    reg.insert("Sqrt", |_, _| Ok(ops::math::sqrt().into_hir()));
    reg.insert("Greater", |_, _| Ok(ops::logic::CompGT.into_hir()));
    reg.insert("Cast", cast);
    reg.insert("Gather", |_, node| Ok(expand(array::Gather::new(node.int("axis")?.unwrap_or(0)))));
    reg.insert("Transpose", |_, node| Ok(expand(array::PermuteAxes::new(node.usizes("perm")?))));
    reg.insert("Concat", |_, node| {
        let axis = node.int("axis")?.context("Concat needs an axis")?;
        Ok(expand(array::Concat::new(axis)))
    });
    reg.insert("Reshape", reshape);
    reg.insert("Unsqueeze", |_, node| {
        let axes = node.ints("axes")?.context("Unsqueeze needs axes")?;
        Ok(expand(array::AddDims::new(axes.into_iter().map(|a| a as isize).collect())))
    });
    reg.insert("Squeeze", |_, node| {
        let axes = node.ints("axes")?.map(|a| a.into_iter().map(|x| x as isize).collect());
        Ok(expand(array::Squeeze::new(axes)))
    });
    reg.insert("ReduceSum", |_, node| reduce(node, nn::Reducer::Sum));
    reg.insert("ReduceMax", |_, node| reduce(node, nn::Reducer::Max));
    reg.insert("ReduceMean", |_, node| reduce(node, nn::Reducer::Mean));
    reg.insert("Softmax", softmax);
    reg.insert("Conv", conv);
    reg.insert("Constant", constant);
    reg.insert("Identity", |_, _| Ok(Box::<ops::identity::Identity>::default()));
    reg
}

fn cast(_: &Ctx, node: &NodeProto) -> Built {
    let to = datum_type(node.int("to")?.context("Cast needs `to`")? as i32)?;
    ensure!(to != i64::datum_type(), "Cast to int64 is not supported by this runtime");
    Ok(Box::new(ops::cast::cast(to)))
}

fn reshape(_: &Ctx, node: &NodeProto) -> Built {
    ensure!(node.int("allowzero")?.unwrap_or(0) == 0, "Reshape with allowzero=1 is not supported");
    Ok(expand(array::Reshape::default()))
}

fn reduce(node: &NodeProto, reducer: nn::Reducer) -> Built {
    let axes = node.ints("axes")?;
    let keep_dims = node.int("keepdims")?.unwrap_or(1) == 1;
    let noop = node.int("noop_with_empty_axes")?.unwrap_or(0) == 1;
    ensure!(
        !(noop && axes.as_ref().is_none_or(|a| a.is_empty())),
        "{}: noop_with_empty_axes is not supported",
        node.op_type
    );
    // No axes (or an empty list) reduces over all of them.
    let axes = axes.filter(|a| !a.is_empty());
    Ok(expand(nn::Reduce::new(axes, keep_dims, reducer)))
}

fn softmax(ctx: &Ctx, node: &NodeProto) -> Built {
    // Before opset 13 Softmax flattened the input from `axis` on: a different operator, not supported.
    ensure!(ctx.opset >= 13, "Softmax before ONNX opset 13 is not supported");
    Ok(expand(ops::nn::Softmax::new(node.int("axis")?.unwrap_or(-1) as isize)))
}

fn conv(_: &Ctx, node: &NodeProto) -> Built {
    let pad = node.string("auto_pad")?.unwrap_or_else(|| "NOTSET".into());
    let padding = match (pad.as_str(), node.usizes("pads")?) {
        ("NOTSET", Some(pads)) => {
            let half = pads.len() / 2;
            cnn::PaddingSpec::Explicit(pads[..half].into(), pads[half..].into())
        }
        ("NOTSET", None) | ("VALID", _) => cnn::PaddingSpec::Valid,
        ("SAME_UPPER", _) => cnn::PaddingSpec::SameUpper,
        ("SAME_LOWER", _) => cnn::PaddingSpec::SameLower,
        (other, _) => bail!("Conv: unknown auto_pad {other:?}"),
    };
    let mut op = cnn::Conv::default().padding(padding);
    if let Some(k) = node.usizes("kernel_shape")? {
        op = op.kernel_shape(k);
    }
    if let Some(g) = node.int("group")? {
        op = op.group(usize::try_from(g).map_err(|_| format_err!("Conv: negative group"))?);
    }
    if let Some(d) = node.usizes("dilations")? {
        op = op.dilations(d);
    }
    if let Some(s) = node.usizes("strides")? {
        op = op.strides(s);
    }
    if node.input.len() == 3 {
        op = op.bias_input(2);
    }
    Ok(expand(op))
}

fn constant(_: &Ctx, node: &NodeProto) -> Built {
    let value = node.tensor("value")?.context("Constant: only the `value` attribute is supported")?;
    Ok(Box::new(ops::konst::Const::new(load_tensor(value)?.into_arc_tensor())?))
}

/// Parses ONNX bytes into a tract model through [`normalize`] and the restricted registry.
pub fn load(bytes: &[u8]) -> TractResult<InferenceModel> {
    let mut proto = ModelProto::decode(bytes).map_err(|e| format_err!("not an ONNX model: {e}"))?;
    normalize(&mut proto)?;
    let opset = opset(&proto);
    let graph = proto.graph.as_mut().context("the ONNX file has no graph")?;
    let folded = fold::fold(graph)?;
    graph::parse(graph, folded, opset, &registry())
}

/// The version of the default ("" or "ai.onnx") operator set the model imports.
fn opset(proto: &ModelProto) -> i64 {
    proto.opset_import.iter().find(|o| o.domain.is_empty() || o.domain == "ai.onnx").map(|o| o.version).unwrap_or(0)
}

fn to_f32() -> Vec<AttributeProto> {
    vec![AttributeProto { name: "to".into(), r#type: attr_type::INT, i: data_type::FLOAT as i64, ..Default::default() }]
}

fn ints_attr(name: &str, values: Vec<i64>) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attr_type::INTS, ints: values, ..Default::default() }
}

fn node(op: &str, name: String, input: Vec<String>, output: Vec<String>, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto { op_type: op.into(), name, input, output, attribute, ..Default::default() }
}

/// Rewrites the graph into the forms the registry builds (see the module doc), and refuses operators it does not
/// know, naming them.
pub fn normalize(proto: &mut ModelProto) -> TractResult<()> {
    let opset = opset(proto);
    let graph = proto.graph.as_mut().context("the ONNX file has no graph")?;
    let unknown: Vec<&str> = graph
        .node
        .iter()
        .map(|n| n.op_type.as_str())
        .filter(|op| !SUPPORTED.contains(op))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    ensure!(
        unknown.is_empty(),
        "the model uses ONNX operators this runtime does not load: {} (it loads {})",
        unknown.join(", "),
        SUPPORTED.join(", ")
    );
    // Constant tensors by name: initializers and the outputs of Constant nodes.
    let mut consts: HashMap<String, TensorProto> =
        graph.initializer.iter().map(|t| (t.name.clone(), t.clone())).collect();
    for n in &graph.node {
        if n.op_type == "Constant" {
            if let (Some(out), Some(t)) = (n.output.first(), n.attribute.iter().find(|a| a.name == "value")) {
                if let Some(t) = &t.t {
                    consts.insert(out.clone(), t.clone());
                }
            }
        }
    }
    let const_ints = |name: &str| -> TractResult<Vec<i64>> {
        let t = consts.get(name).with_context(|| format!("{name:?} must be a constant"))?;
        let t = load_tensor(t)?.cast_to::<i64>()?.into_owned();
        Ok(t.try_as_plain_ram()?.as_slice::<i64>()?.to_vec())
    };
    let mut out = Vec::with_capacity(graph.node.len());
    let mut scale_dims: Vec<(String, Vec<i64>)> = vec![];
    for mut n in std::mem::take(&mut graph.node) {
        let axes_input = match n.op_type.as_str() {
            "Unsqueeze" | "Squeeze" => opset >= 13,
            "ReduceSum" => opset >= 13,
            "ReduceMax" | "ReduceMean" => opset >= 18,
            _ => false,
        };
        if axes_input && n.input.len() == 2 {
            let axes = const_ints(&n.input[1]).with_context(|| format!("{} {:?}: axes", n.op_type, n.name))?;
            n.input.truncate(1);
            n.attribute.retain(|a| a.name != "axes");
            n.attribute.push(ints_attr("axes", axes));
        }
        if n.op_type == "DequantizeLinear" {
            let name = if n.name.is_empty() { n.output[0].clone() } else { n.name.clone() };
            ensure!(
                n.input.len() >= 2 && n.output.len() == 1,
                "DequantizeLinear {name:?}: expected x, scale[, zero point]"
            );
            ensure!(
                n.attribute.iter().all(|a| a.name == "axis" || (a.name == "block_size" && a.i == 0)),
                "DequantizeLinear {name:?}: blocked quantization is not supported"
            );
            // A per-axis scale (1-D, along `axis`) becomes a tensor that broadcasts against x.
            let scale = consts
                .get(&n.input[1])
                .with_context(|| format!("DequantizeLinear {name:?}: scale must be a constant"))?;
            if scale.dims.len() == 1 && scale.dims[0] > 1 {
                let x = consts.get(&n.input[0]).with_context(|| {
                    format!(
                        "DequantizeLinear {name:?}: per-axis scales need x to be a constant (weight-only quantization)"
                    )
                })?;
                let rank = x.dims.len() as i64;
                let axis = n.attribute.iter().find(|a| a.name == "axis").map(|a| a.i).unwrap_or(1);
                let axis = if axis < 0 { axis + rank } else { axis };
                ensure!((0..rank).contains(&axis), "DequantizeLinear {name:?}: axis out of range");
                let mut dims = vec![1; rank as usize];
                dims[axis as usize] = scale.dims[0];
                scale_dims.push((n.input[1].clone(), dims));
            }
            let x = format!("{name}.x");
            out.push(node("Cast", format!("{name}.cast"), vec![n.input[0].clone()], vec![x.clone()], to_f32()));
            let centred = match n.input.get(2).filter(|z| !z.is_empty()) {
                Some(zp) => {
                    let zf = format!("{name}.zero_point");
                    out.push(node(
                        "Cast",
                        format!("{name}.cast_zero_point"),
                        vec![zp.clone()],
                        vec![zf.clone()],
                        to_f32(),
                    ));
                    let c = format!("{name}.centred");
                    out.push(node("Sub", format!("{name}.sub"), vec![x, zf], vec![c.clone()], vec![]));
                    c
                }
                None => x,
            };
            out.push(node("Mul", name, vec![centred, n.input[1].clone()], n.output.clone(), vec![]));
            continue;
        }
        out.push(n);
    }
    graph.node = out;
    for (scale, dims) in scale_dims {
        if let Some(t) = graph.initializer.iter_mut().find(|t| t.name == scale) {
            t.dims = dims;
        } else {
            bail!("DequantizeLinear: a per-axis scale from a Constant node is not supported (make it an initializer)");
        }
    }
    Ok(())
}

// tract-onnx is a native dev-dependency only: the reference the tests compare with.
#[cfg(test)]
#[cfg(not(target_arch = "wasm32"))]
mod tests {
    //! Every supported operator, in a tiny graph, against tract-onnx's own full registry on the same bytes.
    use super::*;
    use crate::model::onnx::pb::{
        Dimension, GraphProto, OperatorSetIdProto, TensorShapeProto, TypeProto, TypeTensor, ValueInfoProto,
    };

    fn floats(name: &str, dims: &[i64], data: Vec<f32>) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims: dims.into(),
            data_type: data_type::FLOAT,
            float_data: data,
            ..Default::default()
        }
    }
    fn int64s(name: &str, data: &[i64]) -> TensorProto {
        let dims = vec![data.len() as i64];
        TensorProto {
            name: name.into(),
            dims,
            data_type: data_type::INT64,
            int64_data: data.into(),
            ..Default::default()
        }
    }
    fn int8s(name: &str, dims: &[i64], data: &[i8]) -> TensorProto {
        let raw = data.iter().map(|&b| b as u8).collect();
        TensorProto {
            name: name.into(),
            dims: dims.into(),
            data_type: data_type::INT8,
            raw_data: raw,
            ..Default::default()
        }
    }
    fn op(kind: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
        let strings = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        node(kind, String::new(), strings(inputs), vec![output.into()], attribute)
    }
    fn int(name: &str, i: i64) -> AttributeProto {
        AttributeProto { name: name.into(), r#type: attr_type::INT, i, ..Default::default() }
    }

    /// One float input `x` of `shape` (values -1.5, -1.4, ...), output `y`.
    fn model(opset: i64, shape: &[usize], init: Vec<TensorProto>, nodes: Vec<NodeProto>) -> (ModelProto, Tensor) {
        let dims = shape.iter().map(|&d| Dimension { dim_value: Some(d as i64), dim_param: None });
        let tensor = TypeTensor { elem_type: data_type::FLOAT, shape: Some(TensorShapeProto { dim: dims.collect() }) };
        let typed = TypeProto { tensor_type: Some(tensor) };
        let input = ValueInfoProto { name: "x".into(), r#type: Some(typed) };
        let output = ValueInfoProto { name: "y".into(), ..Default::default() };
        let graph = GraphProto {
            node: nodes,
            initializer: init,
            input: vec![input],
            output: vec![output],
            ..Default::default()
        };
        let proto = ModelProto {
            graph: Some(graph),
            opset_import: vec![OperatorSetIdProto { domain: String::new(), version: opset }],
            ir_version: 8,
        };
        let len = shape.iter().product::<usize>();
        let x = Tensor::from_shape(shape, &(0..len).map(|i| i as f32 * 0.1 - 1.5).collect::<Vec<_>>()).unwrap();
        (proto, x)
    }

    fn run(m: InferenceModel, x: &Tensor) -> TractResult<Tensor> {
        let m = m.with_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), x.shape()))?.into_optimized()?;
        let out = m.into_runnable()?.run(tvec!(x.clone().into_tvalue()))?;
        Ok(out[0].clone().into_tensor())
    }

    /// Ours (normalize + the restricted registry) gives the same output as tract-onnx's full registry.
    fn same(case: &str, (proto, x): (ModelProto, Tensor)) {
        use tract_onnx::prelude::Framework;
        let bytes = proto.encode_to_vec();
        let theirs = tract_onnx::onnx().model_for_read(&mut &bytes[..]).unwrap();
        let theirs = run(theirs, &x).unwrap();
        let ours = run(load(&bytes).unwrap(), &x).unwrap();
        assert_eq!(ours.shape(), theirs.shape(), "{case}");
        let (a, b) = (ours.cast_to::<f32>().unwrap(), theirs.cast_to::<f32>().unwrap());
        let (a, b) = (
            a.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap(),
            b.try_as_plain_ram().unwrap().as_slice::<f32>().unwrap(),
        );
        for (i, (p, q)) in a.iter().zip(b).enumerate() {
            assert!((p - q).abs() <= 1e-5, "{case}: element {i}: {p} vs {q}");
        }
    }

    #[test]
    fn elementwise_and_activations() {
        for kind in ["Relu", "Sigmoid", "Tanh", "Identity"] {
            same(kind, model(17, &[2, 3], vec![], vec![op(kind, &["x"], "y", vec![])]));
        }
        let c = floats("c", &[3], vec![0.5, -2.0, 4.0]);
        for kind in ["Add", "Sub", "Mul", "Div"] {
            same(kind, model(17, &[2, 3], vec![c.clone()], vec![op(kind, &["x", "c"], "y", vec![])]));
        }
        let (sq, cast) = (op("Mul", &["x", "x"], "x2", vec![]), op("Sqrt", &["x2"], "y", vec![]));
        same("Sqrt", model(17, &[4], vec![], vec![sq, cast]));
        let gt = op("Greater", &["x", "c"], "b", vec![]);
        same("Greater+Cast", model(17, &[2, 3], vec![c], vec![gt, op("Cast", &["b"], "y", vec![int("to", 1)])]));
    }

    #[test]
    fn shapes_and_axes_from_inputs_or_attributes() {
        let ax = int64s("ax", &[1]);
        same("Unsqueeze 13", model(13, &[2, 3], vec![ax.clone()], vec![op("Unsqueeze", &["x", "ax"], "y", vec![])]));
        same(
            "Unsqueeze 11",
            model(11, &[2, 3], vec![], vec![op("Unsqueeze", &["x"], "y", vec![ints_attr("axes", vec![0])])]),
        );
        let un = op("Unsqueeze", &["x", "ax"], "u", vec![]);
        same("Squeeze 13", model(13, &[2, 3], vec![ax.clone()], vec![un, op("Squeeze", &["u", "ax"], "y", vec![])]));
        for (kind, opset) in [("ReduceSum", 13), ("ReduceMax", 18), ("ReduceMean", 18)] {
            for keep in [0, 1] {
                let n = op(kind, &["x", "ax"], "y", vec![int("keepdims", keep)]);
                same(kind, model(opset, &[2, 3, 4], vec![ax.clone()], vec![n]));
            }
        }
        let n = op("ReduceMax", &["x"], "y", vec![ints_attr("axes", vec![2]), int("keepdims", 0)]);
        same("ReduceMax 17", model(17, &[2, 3, 4], vec![], vec![n]));
        same("ReduceMean all", model(17, &[2, 3], vec![], vec![op("ReduceMean", &["x"], "y", vec![])]));
        let shape = int64s("s", &[3, -1]);
        same("Reshape", model(17, &[2, 3], vec![shape], vec![op("Reshape", &["x", "s"], "y", vec![])]));
        let perm = ints_attr("perm", vec![0, 2, 1]);
        same("Transpose", model(17, &[2, 3, 4], vec![], vec![op("Transpose", &["x"], "y", vec![perm])]));
        let concat = op("Concat", &["x", "x"], "y", vec![int("axis", 1)]);
        same("Concat", model(17, &[2, 3], vec![], vec![concat]));
        same("Softmax", model(17, &[2, 3], vec![], vec![op("Softmax", &["x"], "y", vec![int("axis", -1)])]));
    }

    #[test]
    fn gather_conv_matmul_constant() {
        let table = floats("t", &[4, 2], (0..8).map(|i| i as f32).collect());
        let ids = int64s("ids", &[3, 0, 3]);
        let gather = op("Gather", &["t", "ids"], "g", vec![int("axis", 0)]);
        same("Gather", model(17, &[3, 2], vec![table, ids], vec![gather, op("Add", &["g", "x"], "y", vec![])]));
        let w = floats("w", &[4, 3, 3], (0..36).map(|i| (i as f32 * 0.37).sin()).collect());
        let b = floats("b", &[4], vec![0.1, -0.2, 0.3, 0.0]);
        let attrs =
            vec![ints_attr("dilations", vec![2]), ints_attr("kernel_shape", vec![3]), ints_attr("pads", vec![2, 2])];
        same("Conv", model(17, &[1, 3, 8], vec![w, b], vec![op("Conv", &["x", "w", "b"], "y", attrs)]));
        let m = floats("m", &[3, 2], vec![1.0, 2.0, -1.0, 0.5, 0.0, 3.0]);
        same("MatMul", model(17, &[2, 3], vec![m], vec![op("MatMul", &["x", "m"], "y", vec![])]));
        let value = AttributeProto {
            name: "value".into(),
            r#type: attr_type::TENSOR,
            t: Some(floats("", &[3], vec![1.0, 2.0, 3.0])),
            ..Default::default()
        };
        let k = op("Constant", &[], "k", vec![value]);
        same("Constant", model(17, &[2, 3], vec![], vec![k, op("Mul", &["x", "k"], "y", vec![])]));
    }

    #[test]
    fn dequantize_linear_per_tensor_and_per_axis() {
        let q = int8s("q", &[3, 2], &[-128, -3, 0, 5, 127, 64]);
        let (s, z) = (floats("s", &[], vec![0.05]), int8s("z", &[], &[3]));
        let dq = op("DequantizeLinear", &["q", "s", "z"], "w", vec![]);
        same("per tensor", model(17, &[2, 3], vec![q.clone(), s, z], vec![dq, op("MatMul", &["x", "w"], "y", vec![])]));
        let s = floats("s", &[3], vec![0.1, 0.02, 0.5]);
        let dq = op("DequantizeLinear", &["q", "s"], "w", vec![int("axis", 0)]);
        same("per axis", model(17, &[2, 3], vec![q, s], vec![dq, op("MatMul", &["x", "w"], "y", vec![])]));
    }

    #[test]
    fn four_bit_weights_unpacked_in_the_graph() {
        // The v2 model's weight storage: two 4-bit values per uint8, split with integer Div/Mul/Sub, centred on 8,
        // scaled by float16 scales cast to float.
        let packed = TensorProto {
            name: "p".into(),
            dims: vec![3, 1],
            data_type: data_type::UINT8,
            raw_data: vec![0x0f, 0x81, 0x7a],
            ..Default::default()
        };
        let int32 = |name: &str, v: i32| TensorProto {
            name: name.into(),
            data_type: data_type::INT32,
            int32_data: vec![v],
            ..Default::default()
        };
        let halves: Vec<u8> =
            [0.5f32, 0.25, 2.0].iter().flat_map(|&v| f16::from_f32(v).to_bits().to_le_bytes()).collect();
        let scale = TensorProto {
            name: "s".into(),
            dims: vec![3, 1],
            data_type: data_type::FLOAT16,
            raw_data: halves,
            ..Default::default()
        };
        let nodes = vec![
            op("Cast", &["p"], "pi", vec![int("to", data_type::INT32 as i64)]),
            op("Div", &["pi", "sixteen"], "hi", vec![]),
            op("Mul", &["hi", "sixteen"], "hi16", vec![]),
            op("Sub", &["pi", "hi16"], "lo", vec![]),
            op("Concat", &["hi", "lo"], "q", vec![int("axis", 1)]),
            op("Sub", &["q", "eight"], "c", vec![]),
            op("Cast", &["c"], "cf", vec![int("to", 1)]),
            op("Cast", &["s"], "sf", vec![int("to", 1)]),
            op("Mul", &["cf", "sf"], "w", vec![]),
            op("MatMul", &["x", "w"], "y", vec![]),
        ];
        same("4-bit", model(17, &[2, 3], vec![packed, int32("sixteen", 16), int32("eight", 8), scale], nodes));
    }

    #[test]
    fn other_operators_are_refused_by_name() {
        let (mut proto, _) =
            model(17, &[2, 3], vec![], vec![op("LSTM", &["x"], "y", vec![]), op("Erf", &["x"], "z", vec![])]);
        let e = normalize(&mut proto).unwrap_err().to_string();
        assert!(e.contains("does not load: Erf, LSTM"), "{e}");
        let ax = op("Shape", &["x"], "a", vec![]);
        let (mut proto, _) = model(13, &[2, 3], vec![], vec![ax, op("Unsqueeze", &["x", "a"], "y", vec![])]);
        assert!(normalize(&mut proto).unwrap_err().to_string().contains("Shape"));
        let (mut proto, _) = model(13, &[2, 3], vec![], vec![op("Unsqueeze", &["x", "x"], "y", vec![])]);
        let e = format!("{:?}", normalize(&mut proto).unwrap_err());
        assert!(e.contains("must be a constant"), "{e}");
    }
}

#[cfg(test)]
mod load_errors {
    #[test]
    fn bytes_that_are_not_onnx_are_an_error_not_a_panic() {
        for bytes in [&b"not a model"[..], &[0xff; 64][..], &[][..]] {
            let e = super::load(bytes).map(|_| ()).unwrap_err().to_string();
            assert!(e.contains("not an ONNX model") || e.contains("no graph"), "{e}");
        }
    }
}
