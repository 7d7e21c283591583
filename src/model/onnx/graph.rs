//! ONNX graph -> tract inference model: tensors, graph inputs, nodes (built by `ops`) and their wiring.
//!
//! tract-hir does the shape inference and tract-core the optimisation; this module only turns the protobuf into
//! their model. It replaces tract-onnx's parser: tract-onnx links tract-nnef, whose static registrations (a
//! "patch" model transform that builds the whole NNEF operator registry, FFT included) stay in the .wasm whether
//! they are used or not.
use std::collections::HashMap;

use tract_hir::internal::*;

use super::pb::{attr_type, data_type, AttributeProto, GraphProto, NodeProto, TensorProto, TypeTensor};

/// What a node builder sees besides the node: the model's ONNX opset.
pub struct Ctx {
    pub opset: i64,
}

pub type Built = TractResult<Box<dyn InferenceOp>>;
pub type Builder = fn(&Ctx, &NodeProto) -> Built;

/// ONNX `TensorProto.DataType` -> tract's.
pub fn datum_type(code: i32) -> TractResult<DatumType> {
    Ok(match code {
        data_type::FLOAT => f32::datum_type(),
        data_type::UINT8 => u8::datum_type(),
        data_type::INT8 => i8::datum_type(),
        data_type::INT32 => i32::datum_type(),
        data_type::INT64 => i64::datum_type(),
        data_type::BOOL => bool::datum_type(),
        data_type::DOUBLE => f64::datum_type(),
        data_type::FLOAT16 => f16::datum_type(),
        other => bail!(
            "ONNX tensor data type {other} is not supported (float, float16, double, int8/32/64, uint8, bool are)"
        ),
    })
}

/// A tensor that takes ownership of `values` (`Tensor::from_shape` would copy them).
pub fn tensor_of<T: Datum>(shape: &[usize], values: Vec<T>) -> TractResult<Tensor> {
    Ok(tract_hir::tract_core::ndarray::ArrayD::from_shape_vec(shape, values)?.into_tensor())
}

fn from_raw<T: Datum + Copy>(shape: &[usize], raw: &[u8], decode: impl Fn(&[u8]) -> T) -> TractResult<Tensor> {
    let size = std::mem::size_of::<T>();
    ensure!(raw.len() % size == 0, "raw_data of {} bytes is not a whole number of {size}-byte values", raw.len());
    tensor_of(shape, raw.chunks_exact(size).map(decode).collect())
}

fn typed<T: Datum + Copy, S: Copy>(shape: &[usize], data: &[S], convert: impl Fn(S) -> T) -> TractResult<Tensor> {
    tensor_of(shape, data.iter().map(|&v| convert(v)).collect())
}

/// A `TensorProto` (initializer or `Constant` value) as a tract tensor, from `raw_data` (little-endian) or the
/// typed fields.
pub fn load_tensor(t: &TensorProto) -> TractResult<Tensor> {
    ensure!(t.data_location != Some(1), "tensor {:?} keeps its data in an external file: not supported", t.name);
    let shape = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format_err!("tensor {:?} has a negative dimension", t.name)))
        .collect::<TractResult<Vec<usize>>>()?;
    let raw = !t.raw_data.is_empty() || shape.contains(&0);
    let r = &t.raw_data;
    let tensor = match (t.data_type, raw) {
        (data_type::FLOAT, true) => from_raw(&shape, r, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        (data_type::FLOAT, false) => typed(&shape, &t.float_data, |v: f32| v),
        (data_type::DOUBLE, true) => {
            from_raw(&shape, r, |b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        }
        (data_type::DOUBLE, false) => typed(&shape, &t.double_data, |v: f64| v),
        (data_type::INT64, true) => {
            from_raw(&shape, r, |b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        }
        (data_type::INT64, false) => typed(&shape, &t.int64_data, |v: i64| v),
        (data_type::INT32, true) => from_raw(&shape, r, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        (data_type::INT32, false) => typed(&shape, &t.int32_data, |v: i32| v),
        (data_type::INT8, true) => from_raw(&shape, r, |b| b[0] as i8),
        (data_type::INT8, false) => typed(&shape, &t.int32_data, |v: i32| v as i8),
        (data_type::UINT8, true) => from_raw(&shape, r, |b| b[0]),
        (data_type::UINT8, false) => typed(&shape, &t.int32_data, |v: i32| v as u8),
        // float16 values travel as their bits: in raw_data, or one per int32_data element.
        (data_type::FLOAT16, true) => from_raw(&shape, r, |b| f16::from_bits(u16::from_le_bytes([b[0], b[1]]))),
        (data_type::FLOAT16, false) => typed(&shape, &t.int32_data, |v: i32| f16::from_bits(v as u16)),
        (data_type::BOOL, true) => from_raw(&shape, r, |b| b[0] != 0),
        (data_type::BOOL, false) => typed(&shape, &t.int32_data, |v: i32| v != 0),
        (other, _) => {
            bail!("ONNX tensor data type {other} is not supported (float, double, int8/32/64, uint8, bool are)")
        }
    };
    tensor.with_context(|| format!("loading tensor {:?}", t.name))
}

fn input_fact(t: &TypeTensor) -> TractResult<InferenceFact> {
    let mut fact = InferenceFact::default().with_datum_type(datum_type(t.elem_type)?);
    if let Some(shape) = &t.shape {
        // A named (symbolic) or missing dimension stays unknown: the engine sets the input fact it runs with.
        let dims: TVec<DimFact> = shape
            .dim
            .iter()
            .map(|d| match d.dim_value {
                Some(v) if v >= 0 && d.dim_param.is_none() => DimFact::from(v.to_dim()),
                _ => DimFact::default(),
            })
            .collect();
        fact = fact.with_shape(ShapeFactoid::closed(dims));
    }
    Ok(fact)
}

/// The attributes of a node, by name, with the type the schema gives them checked.
pub trait Attrs {
    fn attr(&self, name: &str, ty: i32) -> TractResult<Option<&AttributeProto>>;
    fn int(&self, name: &str) -> TractResult<Option<i64>> {
        Ok(self.attr(name, attr_type::INT)?.map(|a| a.i))
    }
    fn ints(&self, name: &str) -> TractResult<Option<Vec<i64>>> {
        Ok(self.attr(name, attr_type::INTS)?.map(|a| a.ints.clone()))
    }
    fn usizes(&self, name: &str) -> TractResult<Option<TVec<usize>>> {
        let Some(v) = self.ints(name)? else { return Ok(None) };
        let v = v.iter().map(|&x| usize::try_from(x)).collect::<Result<TVec<usize>, _>>();
        Ok(Some(v.map_err(|_| format_err!("attribute {name:?} must not be negative"))?))
    }
    fn string(&self, name: &str) -> TractResult<Option<String>> {
        let Some(a) = self.attr(name, attr_type::STRING)? else { return Ok(None) };
        Ok(Some(String::from_utf8(a.s.clone()).map_err(|_| format_err!("attribute {name:?} is not UTF-8"))?))
    }
    fn tensor(&self, name: &str) -> TractResult<Option<&TensorProto>> {
        Ok(self.attr(name, attr_type::TENSOR)?.and_then(|a| a.t.as_ref()))
    }
}

impl Attrs for NodeProto {
    fn attr(&self, name: &str, ty: i32) -> TractResult<Option<&AttributeProto>> {
        let Some(a) = self.attribute.iter().find(|a| a.name == name) else { return Ok(None) };
        // Writers before IR 3 left the type out; then the field that is set tells.
        ensure!(
            a.r#type == ty || a.r#type == 0,
            "{} {:?}: attribute {name:?} has type {}, expected {ty}",
            self.op_type,
            self.name,
            a.r#type
        );
        Ok(Some(a))
    }
}

fn node_name(n: &NodeProto, index: usize) -> String {
    if !n.name.is_empty() {
        n.name.clone()
    } else if let Some(out) = n.output.first().filter(|o| !o.is_empty()) {
        out.clone()
    } else {
        format!("{index}-{}", n.op_type)
    }
}

/// Builds the inference model of `graph`: initializers become constants, the other graph inputs sources, every
/// node is built by `builders[op_type]` (the caller has already refused unknown operators) and wired by name.
/// `folded` are constants computed before (see `fold`), added like initializers.
pub fn parse(
    graph: &GraphProto,
    folded: Vec<(String, Tensor)>,
    opset: i64,
    builders: &HashMap<&str, Builder>,
) -> TractResult<InferenceModel> {
    let ctx = Ctx { opset };
    // Names borrowed by `outlets` below, tensors moved into the model.
    let (folded_names, tensors): (Vec<String>, Vec<Tensor>) = folded.into_iter().unzip();
    let mut model = InferenceModel::default();
    let mut outlets: HashMap<&str, OutletId> = HashMap::new();
    let mut initializers: HashMap<&str, &TensorProto> =
        graph.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    for input in &graph.input {
        let id = match initializers.remove(input.name.as_str()) {
            Some(t) => model.add_const(input.name.clone(), load_tensor(t)?)?,
            None => {
                let t = input.r#type.as_ref().and_then(|t| t.tensor_type.as_ref());
                let t = t.with_context(|| format!("graph input {:?} is not a typed tensor", input.name))?;
                model.add_source(input.name.clone(), input_fact(t)?)?
            }
        };
        outlets.insert(&input.name, id);
    }
    let mut rest: Vec<(&str, &TensorProto)> = initializers.into_iter().collect();
    rest.sort_by_key(|(name, _)| *name);
    for (name, t) in rest {
        let id = model.add_const(name, load_tensor(t)?)?;
        outlets.insert(name, id);
    }
    for (name, t) in folded_names.iter().zip(tensors) {
        let id = model.add_const(name.clone(), t)?;
        outlets.insert(name, id);
    }
    let mut ids = Vec::with_capacity(graph.node.len());
    for (i, n) in graph.node.iter().enumerate() {
        let builder = builders.get(n.op_type.as_str()).with_context(|| format!("no builder for {}", n.op_type))?;
        let name = node_name(n, i);
        let op = builder(&ctx, n).with_context(|| format!("building node {name:?} ({})", n.op_type))?;
        let outputs: Vec<&String> = n.output.iter().filter(|o| !o.is_empty()).collect();
        let id = model.add_node(name, op, tvec![InferenceFact::default(); outputs.len()])?;
        for (slot, out) in outputs.into_iter().enumerate() {
            outlets.insert(out, OutletId::new(id, slot));
            model.set_outlet_label(OutletId::new(id, slot), out.clone())?;
        }
        ids.push(id);
    }
    for (n, &id) in graph.node.iter().zip(&ids) {
        for (slot, input) in n.input.iter().filter(|s| !s.is_empty()).enumerate() {
            let from = *outlets.get(input.as_str()).with_context(|| {
                format!("node {:?} ({}) reads {input:?}, which nothing produces", n.name, n.op_type)
            })?;
            model.add_edge(from, InletId::new(id, slot))?;
        }
    }
    let mut outputs = Vec::with_capacity(graph.output.len());
    for output in &graph.output {
        let outlet = *outlets
            .get(output.name.as_str())
            .with_context(|| format!("graph output {:?} is not produced by any node", output.name))?;
        model.set_outlet_label(outlet, output.name.clone())?;
        outputs.push(outlet);
    }
    model.select_output_outlets(&outputs)?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::onnx::pb::{data_type, ValueInfoProto};

    fn tensor(data_type: i32, dims: &[i64]) -> TensorProto {
        TensorProto { name: "t".into(), dims: dims.into(), data_type, ..Default::default() }
    }

    #[test]
    fn tensors_load_from_raw_data_and_from_typed_fields_alike() {
        let raw =
            TensorProto { raw_data: [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect(), ..tensor(1, &[2]) };
        let typed = TensorProto { float_data: vec![1.5, -2.0], ..tensor(data_type::FLOAT, &[2]) };
        assert_eq!(load_tensor(&raw).unwrap(), load_tensor(&typed).unwrap());
        let raw = TensorProto { raw_data: vec![0xff, 0x05, 0x80], ..tensor(data_type::INT8, &[3]) };
        let typed = TensorProto { int32_data: vec![-1, 5, -128], ..tensor(data_type::INT8, &[3]) };
        assert_eq!(load_tensor(&raw).unwrap(), load_tensor(&typed).unwrap());
        let ints = TensorProto { int64_data: vec![7, -1], ..tensor(data_type::INT64, &[1, 2]) };
        assert_eq!(load_tensor(&ints).unwrap(), Tensor::from_shape(&[1, 2], &[7i64, -1]).unwrap());
        let halves = [0.5f32, -3.25].map(f16::from_f32);
        let raw = TensorProto {
            raw_data: halves.iter().flat_map(|h| h.to_bits().to_le_bytes()).collect(),
            ..tensor(10, &[2])
        };
        let typed = TensorProto { int32_data: halves.iter().map(|h| h.to_bits() as i32).collect(), ..tensor(10, &[2]) };
        assert_eq!(load_tensor(&raw).unwrap(), Tensor::from_shape(&[2], &halves).unwrap());
        assert_eq!(load_tensor(&typed).unwrap(), Tensor::from_shape(&[2], &halves).unwrap());
        let empty = tensor(data_type::FLOAT, &[0, 3]);
        assert_eq!(load_tensor(&empty).unwrap().shape(), &[0, 3]);
    }

    #[test]
    fn bad_tensors_are_errors_that_say_why() {
        let cut = TensorProto { raw_data: vec![0; 6], ..tensor(data_type::FLOAT, &[2]) };
        assert!(load_tensor(&cut).unwrap_err().to_string().contains("loading tensor"));
        let short = TensorProto { float_data: vec![1.0], ..tensor(data_type::FLOAT, &[2]) };
        assert!(load_tensor(&short).is_err());
        let external = TensorProto { data_location: Some(1), ..tensor(data_type::FLOAT, &[2]) };
        assert!(load_tensor(&external).unwrap_err().to_string().contains("external file"));
        let strings = tensor(8, &[1]);
        assert!(load_tensor(&strings).unwrap_err().to_string().contains("data type 8 is not supported"));
        let negative = tensor(data_type::FLOAT, &[-1]);
        assert!(load_tensor(&negative).unwrap_err().to_string().contains("negative dimension"));
    }

    #[test]
    fn a_graph_that_reads_an_undefined_name_or_has_an_untyped_input_is_refused() {
        let mut builders: HashMap<&str, Builder> = HashMap::new();
        builders.insert("Identity", |_, _| Ok(Box::<tract_hir::ops::identity::Identity>::default()));
        let node = NodeProto {
            op_type: "Identity".into(),
            input: vec!["nowhere".into()],
            output: vec!["y".into()],
            ..Default::default()
        };
        let output = ValueInfoProto { name: "y".into(), r#type: None };
        let graph = GraphProto { node: vec![node], output: vec![output.clone()], ..Default::default() };
        let e = parse(&graph, vec![], 17, &builders).unwrap_err().to_string();
        assert!(e.contains("reads \"nowhere\", which nothing produces"), "{e}");
        let untyped =
            GraphProto { input: vec![ValueInfoProto { name: "x".into(), r#type: None }], ..Default::default() };
        assert!(parse(&untyped, vec![], 17, &builders).unwrap_err().to_string().contains("not a typed tensor"));
        let missing = GraphProto { output: vec![output], ..Default::default() };
        assert!(parse(&missing, vec![], 17, &builders).unwrap_err().to_string().contains("not produced by any node"));
    }
}
