//! tract inference: load ONNX bytes once into an optimised plan, then run token ids through it.
use std::cell::RefCell;
use std::sync::Arc;

use tract_hir::prelude::*;

use super::ModelError;

use tract_hir::tract_core::model::{TypedSimplePlan, TypedSimpleState};

/// The four heads of one inference, for one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Heads {
    pub sentiment: Vec<f32>,
    pub personality: Vec<f32>,
    pub relationship: f32,
    pub embedding: Vec<f32>,
}

/// A loaded model: an optimised tract plan for batch 1 and a reusable execution state.
pub struct Engine {
    state: RefCell<TypedSimpleState>,
    seq_len: usize,
    /// The plan takes any number of ids up to `seq_len` (its sequence axis is a symbol), not exactly `seq_len`.
    variable: bool,
    /// Position of sentiment, personality, relationship, embedding among the plan's outputs.
    slots: [usize; 4],
}

fn load_err(e: impl std::fmt::Display) -> ModelError {
    ModelError::Load(e.to_string())
}

fn run_err(e: impl std::fmt::Display) -> ModelError {
    ModelError::Inference(e.to_string())
}

const HEADS: [&str; 4] = ["sentiment", "personality", "relationship", "embedding"];

impl Engine {
    /// Loads ONNX bytes (from fetch, IndexedDB or a file: one path for all) and optimises them for
    /// `seq_len` int64 token ids, or, with `variable`, for any number of ids from 1 to `seq_len` (one plan whose
    /// sequence axis is a symbol, resolved on each run).
    pub fn load(onnx: &[u8], seq_len: usize, variable: bool) -> Result<Engine, ModelError> {
        let model = super::onnx::load(onnx).map_err(load_err)?;
        let fact = if variable {
            let s = model.symbols.sym("S");
            InferenceFact::dt_shape(i64::datum_type(), tvec![1.to_dim(), s.to_dim()])
        } else {
            i64::fact([1, seq_len]).into()
        };
        let model = model.with_input_fact(0, fact).map_err(load_err)?.into_optimized().map_err(load_err)?;
        let outlets = model.output_outlets().map_err(load_err)?.to_vec();
        let names: Vec<String> = outlets.iter().map(|o| model.node(o.node).name.clone()).collect::<Vec<_>>();
        let label_of =
            |i: usize| model.outlet_label(outlets[i]).map(str::to_string).unwrap_or_else(|| names[i].clone());
        let labels: Vec<String> = (0..outlets.len()).map(label_of).collect();
        let mut slots = [0usize; 4];
        for (slot, head) in slots.iter_mut().zip(HEADS) {
            *slot = labels
                .iter()
                .position(|l| l == head)
                .ok_or_else(|| ModelError::Load(format!("the model has no output named {head:?} (has {labels:?})")))?;
        }
        let plan = Arc::new(TypedSimplePlan::new(model).map_err(load_err)?);
        let state = TypedSimpleState::new(&plan).map_err(load_err)?;
        Ok(Engine { state: RefCell::new(state), seq_len, variable, slots })
    }

    /// Whether [`Engine::run`] takes fewer than `seq_len` ids.
    pub fn variable(&self) -> bool {
        self.variable
    }

    /// Runs one sequence of ids: exactly `seq_len` of them, or with a variable plan from 1 to `seq_len`.
    pub fn run(&self, ids: &[i64]) -> Result<Heads, ModelError> {
        let fits = if self.variable { (1..=self.seq_len).contains(&ids.len()) } else { ids.len() == self.seq_len };
        if !fits {
            let want = if self.variable { format!("1 to {}", self.seq_len) } else { self.seq_len.to_string() };
            return Err(ModelError::Inference(format!("expected {want} token ids, got {}", ids.len())));
        }
        let input = Tensor::from_shape(&[1, ids.len()], ids).map_err(run_err)?;
        // Synchronous and never re-entered (single thread, no await inside), so the borrow cannot clash.
        let mut state =
            self.state.try_borrow_mut().map_err(|_| ModelError::Inference("the model is already running".into()))?;
        let outputs = state.run(tvec!(input.into_tvalue())).map_err(run_err)?;
        let vec_of = |slot: usize| -> Result<Vec<f32>, ModelError> {
            let t = outputs.get(slot).ok_or_else(|| ModelError::Inference("missing output".into()))?;
            Ok(t.try_as_plain_ram().map_err(run_err)?.as_slice::<f32>().map_err(run_err)?.to_vec())
        };
        let relationship = vec_of(self.slots[2])?.first().copied().unwrap_or(0.0);
        Ok(Heads {
            sentiment: vec_of(self.slots[0])?,
            personality: vec_of(self.slots[1])?,
            relationship,
            embedding: vec_of(self.slots[3])?,
        })
    }
}
