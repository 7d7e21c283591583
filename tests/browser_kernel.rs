//! Our wasm simd128 GEMM kernel (src/model/kernel.rs) in headless Chromium and Firefox: which kernel tract's
//! dispatch picks, and every fused op of a matmul against a plain reference and against tract's own 8x8
//! kernel, on shapes whose m and n are not multiples of the tile.
#![cfg(all(target_arch = "wasm32", target_feature = "simd128"))]

use tract_hir::internal::*;
use tract_linalg::mmm::{AsInputValue, FusedSpec, MatMatMul, MmmDispatch, Query};
use tract_linalg::BinOp;
use unwritten_ai::model::kernel::{choice, mmm_4x8, KERNEL_4X8};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn picked(dt: DatumType, m: usize, k: usize, n: Option<usize>) -> Box<dyn MatMatMul> {
    let query = Query::plain(dt, Some(m), Some(k), n);
    MmmDispatch::native().pick(&query).expect("a kernel for the query").0
}

#[wasm_bindgen_test]
fn dispatch_picks_ours_for_wide_and_symbolic_n_and_keeps_tracts_gemv_and_integers() {
    let names: Vec<String> = MmmDispatch::native().runnable().iter().map(|k| k.name().to_string()).collect();
    assert!(names.iter().any(|n| n == KERNEL_4X8), "{KERNEL_4X8} is not registered: {names:?}");
    for n in [Some(128), Some(27), Some(8), Some(2), None] {
        let k = picked(DatumType::F32, 192, 576, n);
        assert_eq!(Some(k.name()), choice(n), "n = {n:?}");
        assert_eq!(k.name(), KERNEL_4X8, "n = {n:?}");
    }
    let gemv = picked(DatumType::F32, 192, 576, Some(1));
    assert!(gemv.name() != KERNEL_4X8 && gemv.nr() == 1, "n = 1 picked {}", gemv.name());
    let int = picked(DatumType::I32, 192, 576, Some(128));
    assert!(int.name() != KERNEL_4X8, "i32 picked {}", int.name());
}

/// Deterministic values in [-1, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn vec(&mut self, len: usize) -> Vec<f32> {
        (0..len).map(|_| self.next()).collect()
    }
    fn tensor(&mut self, shape: &[usize]) -> Tensor {
        tensor1(&self.vec(shape.iter().product())).into_shape(shape).expect("shape")
    }
}

/// The operands of one fused matmul program: C = f(A·B) with A m x k, B k x n.
struct Case {
    m: usize,
    k: usize,
    n: usize,
    a: Tensor,
    b: Tensor,
    rows: Tensor,
    rows2: Tensor,
    cols: Tensor,
    cols2: Tensor,
    d: Tensor,
}

impl Case {
    fn new(m: usize, k: usize, n: usize, seed: u64) -> Case {
        let mut r = Lcg(seed);
        Case {
            m,
            k,
            n,
            a: r.tensor(&[m, k]),
            b: r.tensor(&[k, n]),
            rows: r.tensor(&[m]),
            rows2: r.tensor(&[m]),
            cols: r.tensor(&[n]),
            cols2: r.tensor(&[n]),
            d: r.tensor(&[m, n]),
        }
    }

    fn at(t: &Tensor, ix: usize) -> f64 {
        t.try_as_plain_ram().expect("plain").as_slice::<f32>().expect("f32")[ix] as f64
    }

    /// A·B in f64, and the bound on its rounding error in f32 (sum of |a||b|).
    fn product(&self, r: usize, c: usize) -> (f64, f64) {
        (0..self.k).fold((0.0, 0.0), |(s, e), i| {
            let p = Self::at(&self.a, r * self.k + i) * Self::at(&self.b, i * self.n + c);
            (s + p, e + p.abs())
        })
    }

    /// Runs `program` (0: the conv lowering's ops, 1: every other fused op) through `mmm`.
    fn run(&self, mmm: &dyn MatMatMul, program: usize) -> TractResult<Vec<f32>> {
        let (pack_a, pack_b) = &mmm.packings()[0];
        let pa = pack_a.prepare_one(&self.a, 1, 0)?;
        let pb = pack_b.prepare_one(&self.b, 0, 1)?;
        let mut c = Tensor::zero::<f32>(&[self.m, self.n])?;
        let zero = tensor0(0f32);
        let half = tensor0(0.5f32);
        let alpha = tensor0(0.1f32);
        unsafe {
            let d = mmm.c_view(Some(0), Some(1)).wrap(&self.d.view());
            let store = mmm.c_view(Some(0), Some(1)).wrap(&c.view_mut());
            let matmul =
                FusedSpec::AddMatMul { a: AsInputValue::Borrowed(&*pa), b: AsInputValue::Borrowed(&*pb), packing: 0 };
            let specs = if program == 0 {
                vec![
                    matmul,
                    FusedSpec::BinPerRow(self.rows.view(), BinOp::Add),
                    FusedSpec::AddUnicast(d),
                    FusedSpec::BinScalar(&zero, BinOp::Max),
                    FusedSpec::Store(store),
                ]
            } else {
                vec![
                    matmul,
                    FusedSpec::BinPerRow(self.rows.view(), BinOp::Mul),
                    FusedSpec::BinPerCol(self.cols.view(), BinOp::Add),
                    FusedSpec::BinScalar(&half, BinOp::Sub),
                    FusedSpec::BinPerCol(self.cols2.view(), BinOp::Mul),
                    FusedSpec::AddRowColProducts(&self.rows2, &self.cols),
                    FusedSpec::BinPerRow(self.rows2.view(), BinOp::SubF),
                    FusedSpec::BinScalar(&half, BinOp::Min),
                    FusedSpec::BinPerCol(self.cols.view(), BinOp::Max),
                    FusedSpec::LeakyRelu(&alpha),
                    FusedSpec::BinScalar(&half, BinOp::Mul),
                    FusedSpec::Store(store),
                ]
            };
            mmm.run(self.m, self.n, &specs)?;
        }
        Ok(c.try_as_plain_ram()?.as_slice::<f32>()?.to_vec())
    }

    /// The conv lowering's program in f64: relu(A·B + bias per row + D).
    fn reference(&self, r: usize, c: usize) -> (f64, f64) {
        let (p, e) = self.product(r, c);
        ((p + Self::at(&self.rows, r) + Self::at(&self.d, r * self.n + c)).max(0.0), e)
    }
}

fn check(mmm: &dyn MatMatMul, tract: &dyn MatMatMul, m: usize, k: usize, n: usize) -> TractResult<()> {
    let case = Case::new(m, k, n, (m * 1000 + k * 10 + n) as u64);
    let ours = case.run(mmm, 0)?;
    let theirs = case.run(tract, 0)?;
    for r in 0..m {
        for c in 0..n {
            let (want, bound) = case.reference(r, c);
            let tol = 1e-5 * (1.0 + bound);
            let got = ours[r * n + c] as f64;
            assert!((got - want).abs() <= tol, "{} {m}x{k}x{n} at ({r}, {c}): {got} vs {want}", mmm.name());
            assert!((got - theirs[r * n + c] as f64).abs() <= tol, "{} vs tract at ({r}, {c})", mmm.name());
        }
    }
    let ours = case.run(mmm, 1)?;
    let theirs = case.run(tract, 1)?;
    for (ix, (got, want)) in ours.iter().zip(&theirs).enumerate() {
        let (r, c) = (ix / n, ix % n);
        let tol = 1e-5 * (1.0 + case.product(r, c).1) * 4.0;
        assert!((got - want).abs() as f64 <= tol, "{} {m}x{k}x{n} rare ops at ({r}, {c}): {got} vs {want}", mmm.name());
    }
    Ok(())
}

#[wasm_bindgen_test]
fn our_kernel_matches_a_reference_and_tracts_8x8_on_ragged_shapes() {
    let tract = MmmDispatch::native()
        .runnable()
        .iter()
        .find(|k| k.name() == "wasm_f32_8x8")
        .expect("tract's wasm 8x8 kernel")
        .clone();
    let mmm = mmm_4x8();
    for (m, k, n) in [
        (192, 576, 128),
        (192, 288, 27),
        (1, 1, 1),
        (5, 7, 3),
        (4, 8, 8),
        (2, 16, 16),
        (7, 33, 17),
        (33, 5, 50),
        (96, 289, 9),
    ] {
        check(&*mmm, &*tract, m, k, n).expect("a kernel run");
    }
}
