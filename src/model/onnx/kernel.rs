//! Our f32 GEMM micro-kernel for wasm simd128, registered with tract-linalg from this crate.
//!
//! tract lowers each Conv1d of the model to im2col + a GEMM with M = output channels (192, the packed
//! weights), K = 3 x input channels and N = positions. tract's own wasm kernel for that is 8x8: 16 v128
//! accumulators plus the two B vectors and a broadcast, more than the 16 xmm registers V8 allocates from on
//! x64, so the accumulators spill inside the inner loop. `unwritten_f32_4x8` keeps 8: 4 rows x 8 columns,
//! per k 4 broadcasts of A (`v128.load32_splat`) and 2 vectors of B, 8 mul + 8 add. The model runs about 15 %
//! faster with it than with tract's 8x8 or a 2x16 tile (figures in docs/performance.md).
//!
//! It runs one k step per loop iteration with plain `f32x4.mul` + `f32x4.add` (no relaxed simd). `AddMatMul`,
//! the fused ops the conv lowering emits per tile (clear, bias per row, ReLU as a scalar max, residual as
//! `AddUnicast`, store) and scalar min/add/mul, per-row mul and per-column add/mul have vector paths; every
//! other fused op spills the accumulators to a row-major tile and runs a scalar loop ([`fallback`]); the
//! model's convolutions never reach it.
//!
//! The kernel enters tract through its two registries: [`MmmRoutine`] (the kernel) and [`MmmTier`] (which
//! kernel to run: precedence 2, asked before tract's wasm tier at 1). The tier answers only for f32 with
//! n > 1 or a symbolic n; a GEMV (n = 1) and every integer product stay tract's.
use std::arch::wasm32::*;

use tract_hir::internal::{f16, DatumType};
use tract_linalg::isa::{Arch, Isa, IsaReq, IsaSet};
use tract_linalg::mmm::{DynKernel, FusedKerSpec, MatMatMul, OutputStoreKer, Query, Suitable};
use tract_linalg::mmm_routines::MmmRoutine;
use tract_linalg::mmm_tiers::MmmTier;
use tract_linalg::pack::Packing;
use tract_linalg::Scaler;

/// The 4-row x 8-column kernel.
pub const KERNEL_4X8: &str = "unwritten_f32_4x8";

/// The kernel of ours that runs a plain f32 matmul of `n` columns (`None`: symbolic at optimisation time),
/// `None` where tract's own choice stands (a matrix-vector product).
pub fn choice(n: Option<usize>) -> Option<&'static str> {
    match n {
        Some(0 | 1) => None,
        _ => Some(KERNEL_4X8),
    }
}

fn preferred(_isa: &IsaSet, dt: DatumType, query: &Query, _suitable: &[Suitable]) -> Option<&'static str> {
    if dt != DatumType::F32 {
        return None;
    }
    choice(query.n)
}

inventory::submit! {
    MmmTier { arch: Some(Arch::Wasm32Simd128), precedence: 2, name: "unwritten-ai", applies: |_| true, preferred }
}

type Kernel = unsafe fn(&[FusedKerSpec<f32>]) -> isize;

fn build<const MR: usize, const NR: usize>(name: &str, kernel: Kernel) -> Box<dyn MatMatMul> {
    let mut k = DynKernel::<MR, NR, f32>::new(name, kernel, f32::packing(MR), f32::packing(NR));
    k.arch = Some(Arch::Wasm32Simd128);
    k.with_isa(IsaReq::ANY.needing(&[Isa::Wasm32Simd128])).mmm()
}

/// Our 4x8 kernel as tract's dispatch sees it.
pub fn mmm_4x8() -> Box<dyn MatMatMul> {
    build::<4, 8>(KERNEL_4X8, kernel_4x8)
}

inventory::submit! { MmmRoutine { make: mmm_4x8 } }

/// `acc += splat(a) * b`.
macro_rules! madd {
    ($acc:ident, $a:ident, $b:ident) => {
        $acc = f32x4_add($acc, f32x4_mul($a, $b))
    };
}

/// One k step of the 4x8 tile: A holds 4 rows, B 8 columns (2 vectors) per k.
macro_rules! step_4x8 {
    ($a:expr, $b:expr; $c00:ident $c01:ident $c10:ident $c11:ident $c20:ident $c21:ident $c30:ident $c31:ident) => {{
        let a: *const f32 = $a;
        let b: *const v128 = $b;
        let b0 = v128_load(b);
        let b1 = v128_load(b.add(1));
        let a0 = v128_load32_splat(a as *const u32);
        madd!($c00, a0, b0);
        madd!($c01, a0, b1);
        let a1 = v128_load32_splat(a.add(1) as *const u32);
        madd!($c10, a1, b0);
        madd!($c11, a1, b1);
        let a2 = v128_load32_splat(a.add(2) as *const u32);
        madd!($c20, a2, b0);
        madd!($c21, a2, b1);
        let a3 = v128_load32_splat(a.add(3) as *const u32);
        madd!($c30, a3, b0);
        madd!($c31, a3, b1);
    }};
}

/// A whole kernel: the FusedKerSpec interpreter around one tile shape. The accumulators come row by row
/// (each row's vectors in column order); `step` is the k step for that shape. The `@` rules are the fused
/// ops that differ only in their `f32x4` instruction, written once.
macro_rules! kernel {
    // `c = op(splat(s), c)` on every accumulator.
    (@scalar $op:ident, $s:expr; $($c:ident)+) => {{
        let s = f32x4_splat($s);
        $($c = $op(s, $c);)+
    }};
    // `c = op(splat(p[row]), c)`: one value per row, `p` an f32 pointer.
    (@per_row $op:ident, $p:expr; $([$($c:ident)+])+) => {{
        let mut p = $p;
        $(
            let s = v128_load32_splat(p as *const u32);
            $($c = $op(s, $c);)+
            p = p.add(1);
        )+
        let _ = p;
    }};
    // `c = op(p[col], c)`: one value per column, `p` an f32 pointer.
    (@per_col $op:ident, $p:expr; $([$($c:ident)+])+) => {{
        $(
            let mut q = $p as *const v128;
            $(
                $c = $op(v128_load(q), $c);
                q = q.add(1);
            )+
            let _ = q;
        )+
    }};
    ($name:ident, $mr:literal, $nr:literal, $step:ident; $([$($c:ident)+])+) => {
        /// # Safety
        /// `spec` is a program tract built for this kernel's tile: every pointer in it is valid for the
        /// tile's rows and columns (and for `k` steps of both packed panels).
        unsafe fn $name(spec: &[FusedKerSpec<f32>]) -> isize {
            let zero = f32x4_splat(0.0);
            $($(let mut $c = zero;)+)+
            for op in spec {
                match *op {
                    FusedKerSpec::Done => break,
                    FusedKerSpec::Clear => {
                        $($($c = zero;)+)+
                    }
                    FusedKerSpec::AddMatMul { k, pa, pb, packing: 0 } => {
                        let mut a = pa as *const f32;
                        let mut b = pb as *const v128;
                        // One k step per iteration: unrolled by two, LLVM hoists both steps' broadcasts
                        // ahead of the products, and the live vectors no longer fit V8's 16 registers.
                        for _ in 0..k {
                            $step!(a, b; $($($c)+)+);
                            a = a.add($mr);
                            b = b.add($nr / 4);
                        }
                    }
                    FusedKerSpec::ScalarMax(s) => kernel!(@scalar f32x4_max, s; $($($c)+)+),
                    FusedKerSpec::ScalarMin(s) => kernel!(@scalar f32x4_min, s; $($($c)+)+),
                    FusedKerSpec::PerRowAdd(p) => kernel!(@per_row f32x4_add, p; $([$($c)+])+),
                    FusedKerSpec::PerRowMul(p) => kernel!(@per_row f32x4_mul, p; $([$($c)+])+),
                    FusedKerSpec::AddUnicast(t) if t.item_size == 4 && t.col_byte_stride == 4 => {
                        let mut row = t.ptr as *const u8;
                        $(
                            let mut q = row as *const v128;
                            $(
                                $c = f32x4_add($c, v128_load(q));
                                q = q.add(1);
                            )+
                            let _ = q;
                            row = row.offset(t.row_byte_stride);
                        )+
                        let _ = row;
                    }
                    FusedKerSpec::Store(t) if t.item_size == 4 && t.col_byte_stride == 4 => {
                        let mut row = t.ptr;
                        $(
                            let mut q = row as *mut v128;
                            $(
                                v128_store(q, $c);
                                q = q.add(1);
                            )+
                            let _ = q;
                            row = row.offset(t.row_byte_stride);
                        )+
                        let _ = row;
                    }
                    FusedKerSpec::Store(t) if t.item_size == 4 => {
                        let cs = t.col_byte_stride;
                        let mut row = t.ptr;
                        $(
                            let mut q = row;
                            $(
                                *(q as *mut f32) = f32x4_extract_lane::<0>($c);
                                *(q.offset(cs) as *mut f32) = f32x4_extract_lane::<1>($c);
                                *(q.offset(2 * cs) as *mut f32) = f32x4_extract_lane::<2>($c);
                                *(q.offset(3 * cs) as *mut f32) = f32x4_extract_lane::<3>($c);
                                q = q.offset(4 * cs);
                            )+
                            let _ = q;
                            row = row.offset(t.row_byte_stride);
                        )+
                        let _ = row;
                    }
                    FusedKerSpec::AddUnicast(t) if t.item_size == 4 => {
                        let cs = t.col_byte_stride;
                        let mut row = t.ptr as *const u8;
                        $(
                            let mut q = row;
                            $(
                                let v = f32x4(
                                    *(q as *const f32),
                                    *(q.offset(cs) as *const f32),
                                    *(q.offset(2 * cs) as *const f32),
                                    *(q.offset(3 * cs) as *const f32),
                                );
                                $c = f32x4_add($c, v);
                                q = q.offset(4 * cs);
                            )+
                            let _ = q;
                            row = row.offset(t.row_byte_stride);
                        )+
                        let _ = row;
                    }
                    FusedKerSpec::PerColAdd(p) => kernel!(@per_col f32x4_add, p; $([$($c)+])+),
                    FusedKerSpec::PerColMul(p) => kernel!(@per_col f32x4_mul, p; $([$($c)+])+),
                    FusedKerSpec::ScalarAdd(s) => kernel!(@scalar f32x4_add, s; $($($c)+)+),
                    FusedKerSpec::ScalarMul(s) => kernel!(@scalar f32x4_mul, s; $($($c)+)+),
                    _ => {
                        let mut tile = [$($($c),+),+];
                        let err = fallback::<$mr, $nr>(&mut tile, op);
                        [$($($c),+),+] = tile;
                        if err != 0 {
                            return err;
                        }
                    }
                }
            }
            0
        }
    };
}

kernel!(kernel_4x8, 4, 8, step_4x8; [c00 c01] [c10 c11] [c20 c21] [c30 c31]);

/// Every fused op on the accumulators spilled to a row-major `MR x NR` tile (8 vectors), scalar: the ops
/// the kernel has no vector path for, and those with an unusual store layout. Returns tract's kernel
/// error code: 0, or 1 for an operation an f32 kernel cannot do.
#[inline(never)]
unsafe fn fallback<const MR: usize, const NR: usize>(tile: &mut [v128; 8], op: &FusedKerSpec<f32>) -> isize {
    debug_assert_eq!(MR * NR, 32);
    // SAFETY: 8 v128 are 32 f32, element (r, c) at r * NR + c.
    let t: &mut [f32; 32] = &mut *(tile as *mut [v128; 8] as *mut [f32; 32]);
    let scalar = |t: &mut [f32; 32], f: &dyn Fn(f32) -> f32| t.iter_mut().for_each(|x| *x = f(*x));
    let per_row = |t: &mut [f32; 32], p: *const f32, f: &dyn Fn(f32, f32) -> f32| {
        for r in 0..MR {
            let m = *p.add(r);
            for c in 0..NR {
                t[r * NR + c] = f(m, t[r * NR + c]);
            }
        }
    };
    let per_col = |t: &mut [f32; 32], p: *const f32, f: &dyn Fn(f32, f32) -> f32| {
        for r in 0..MR {
            for c in 0..NR {
                t[r * NR + c] = f(*p.add(c), t[r * NR + c]);
            }
        }
    };
    let at = |tile: &OutputStoreKer, r: usize, c: usize| {
        tile.ptr.offset(tile.row_byte_stride * r as isize + tile.col_byte_stride * c as isize)
    };
    let min = |a: f32, b: f32| if a < b { a } else { b };
    let max = |a: f32, b: f32| if a > b { a } else { b };
    match *op {
        FusedKerSpec::Done => {}
        FusedKerSpec::Clear => t.fill(0.0),
        FusedKerSpec::LoadTile(_col_major, row_major) => {
            for (i, x) in t.iter_mut().enumerate() {
                *x = *row_major.add(i);
            }
        }
        FusedKerSpec::ScalarMin(m) => scalar(t, &|x| min(m, x)),
        FusedKerSpec::ScalarMax(m) => scalar(t, &|x| max(m, x)),
        FusedKerSpec::ScalarAdd(m) => scalar(t, &|x| m + x),
        FusedKerSpec::ScalarMul(m) => scalar(t, &|x| m * x),
        FusedKerSpec::ScalarSub(m) => scalar(t, &|x| m - x),
        FusedKerSpec::ScalarSubF(m) => scalar(t, &|x| x - m),
        FusedKerSpec::LeakyRelu(alpha) => scalar(t, &|x| if x > 0.0 { x } else { alpha * x }),
        FusedKerSpec::PerRowMin(p) => per_row(t, p, &min),
        FusedKerSpec::PerRowMax(p) => per_row(t, p, &max),
        FusedKerSpec::PerRowAdd(p) => per_row(t, p, &|m, x| m + x),
        FusedKerSpec::PerRowMul(p) => per_row(t, p, &|m, x| m * x),
        FusedKerSpec::PerRowSub(p) => per_row(t, p, &|m, x| m - x),
        FusedKerSpec::PerRowSubF(p) => per_row(t, p, &|m, x| x - m),
        FusedKerSpec::PerColMin(p) => per_col(t, p, &min),
        FusedKerSpec::PerColMax(p) => per_col(t, p, &max),
        FusedKerSpec::PerColAdd(p) => per_col(t, p, &|m, x| m + x),
        FusedKerSpec::PerColMul(p) => per_col(t, p, &|m, x| m * x),
        FusedKerSpec::PerColSub(p) => per_col(t, p, &|m, x| m - x),
        FusedKerSpec::PerColSubF(p) => per_col(t, p, &|m, x| x - m),
        // The integer requantisation steps, on a float accumulator: the scale they stand for (as tract's
        // own wasm f32 kernels do).
        FusedKerSpec::QScale(shift, policy, mult) => {
            let s = Scaler::from_fuse_params(shift, policy, mult).scale;
            scalar(t, &|x| s * x)
        }
        FusedKerSpec::RoundingShiftRight(shift, _) => {
            let s = 2f32.powi(-(shift as i32));
            scalar(t, &|x| s * x)
        }
        FusedKerSpec::ShiftLeft(shift) => {
            let s = 2f32.powi(shift as i32);
            scalar(t, &|x| s * x)
        }
        FusedKerSpec::AddRowColProducts(rows, cols) => {
            for r in 0..MR {
                for c in 0..NR {
                    t[r * NR + c] += *rows.add(r) * *cols.add(c);
                }
            }
        }
        FusedKerSpec::AddUnicast(other) => {
            for r in 0..MR {
                for c in 0..NR {
                    let p = at(&other, r, c);
                    t[r * NR + c] += match other.item_size {
                        2 => (*(p as *const f16)).to_f32(),
                        4 => *(p as *const f32),
                        8 => *(p as *const f64) as f32,
                        _ => return 1,
                    };
                }
            }
        }
        FusedKerSpec::Store(out) => {
            if out.item_size != 4 {
                return 1;
            }
            for r in 0..MR {
                for c in 0..NR {
                    *(at(&out, r, c) as *mut f32) = t[r * NR + c];
                }
            }
        }
        // Only the plain f32 x f32 packing is declared; AddMatMul with it never reaches here.
        FusedKerSpec::AddMatMul { .. } => return 1,
    }
    0
}
