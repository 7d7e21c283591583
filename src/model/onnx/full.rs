//! The `onnx-full` loader: tract-onnx's parser and its whole operator registry, for a game that ships a model
//! our slim front end (`ops`) does not load. It costs .wasm size (tract-onnx links tract-nnef and every
//! operator's builder); README "Package size" has the figures.
use std::collections::BTreeSet;

use prost::Message;
use tract_hir::internal::*;
use tract_onnx::pb::{GraphProto, ModelProto};

/// Parses ONNX bytes into tract's inference model. An operator tract-onnx does not know is refused here, by
/// name: tract-onnx itself would put a placeholder in the graph that fails later, in the optimiser, with a
/// message that does not say which operator.
pub fn load(bytes: &[u8]) -> TractResult<InferenceModel> {
    let proto = ModelProto::decode(bytes).map_err(|e| format_err!("not an ONNX model: {e}"))?;
    let onnx = tract_onnx::onnx();
    let graph = proto.graph.as_ref().context("the ONNX file has no graph")?;
    let mut unknown = BTreeSet::new();
    unknown_ops(graph, &|op| onnx.op_register.0.contains_key(op), &mut unknown);
    ensure!(
        unknown.is_empty(),
        "the model uses ONNX operators this runtime does not load: {} (this onnx-full build loads every \
         operator tract-onnx knows)",
        unknown.into_iter().collect::<Vec<_>>().join(", "),
    );
    tract_onnx::prelude::Framework::model_for_proto_model(&onnx, &proto)
}

/// The operator types of `graph` and of its subgraphs (`If`, `Loop`, `Scan` bodies) that `known` refuses. The
/// depth is bounded by the protobuf decoder's recursion limit.
fn unknown_ops(graph: &GraphProto, known: &dyn Fn(&str) -> bool, out: &mut BTreeSet<String>) {
    for node in &graph.node {
        if !known(&node.op_type) {
            out.insert(node.op_type.clone());
        }
        for attr in &node.attribute {
            for g in attr.g.iter().chain(&attr.graphs) {
                unknown_ops(g, known, out);
            }
        }
    }
}
