// matmul_sm90.cu — CUDA backend, Hopper (sm_90a) path of matmul: wgmma fed by TMA.
//
//   C (M, N) c_dt = alpha * op(A) (M, K) . op(B) (K, N) + beta * C (+ bias (N) c_dt)
//   A is (M, K) or (K, M) when trans_a; B is (K, N) or (N, K) when trans_b; A, B bf16 or f16;
//   c_dt = ab_dt or F32; beta == 0 never reads C. All four trans_a / trans_b combinations.
//
// When it is used (matmul_sm90() returns false otherwise and matmul.cu runs its mma.sync kernel):
//   - the device has compute capability 9.0 (the sm_90a SASS in the fat binary only runs there),
//   - M >= 128, N >= 128 and K >= 64 (smaller problems leave most of a 128 x 256 tile idle),
//   - A and B start on 16-byte boundaries and their leading dimensions (K or M for A, N or K for B)
//     are multiples of 8 elements: TMA needs 16-byte aligned bases and row strides,
//   - M, N, K < 2^31 (TMA coordinates are 32-bit) and N needs at most 65535 column tiles,
//   - the driver provides cuTensorMapEncodeTiled and accepts both tensor maps,
//   - the environment variable LMTRAIN_CUDA_MATMUL is not "mma" (read once per process): the
//     escape hatch that forces the mma.sync kernel everywhere.
//
// Kernel: block tile 128 (M) x 256 (N) x 64 (K), 384 threads = 3 warpgroups, 4-stage pipeline.
//   - Warpgroup 0 is the producer: it gives registers back (setmaxnreg.dec) and one thread issues
//     the TMA loads (cp.async.bulk.tensor) of each k tile into a free stage.
//   - Warpgroups 1 and 2 are consumers (setmaxnreg.inc): consumer c computes rows 64c..64c+63 of
//     the block tile with four wgmma.mma_async.m64n256k16 per k tile (fp32 accumulators, 128
//     registers per thread), operands read straight from shared memory through descriptors.
//   - Per stage two mbarriers: `full` (arrive count 1: the producer's arrive.expect_tx, then the
//     TMA's complete_tx bytes) and `empty` (arrive count 8: lane 0 of each consumer warp once its
//     wgmmas on the stage have completed). k tile kt uses stage kt % 4 in round kt / 4; the n-th
//     completion of a barrier has phase parity n & 1, so consumers wait on full with parity
//     (kt / 4) & 1 and the producer, from round 1 on, waits on empty with parity (kt / 4 - 1) & 1.
//   - Consumers keep one wgmma group in flight: after committing tile kt they wait until at most
//     one group is pending (tile kt - 1 done) and release tile kt - 1's stage.
//
// Shared memory tiles use the 128-byte swizzle on both sides (TMA writes it, wgmma reads it): a
// tile is a stack of 128-byte rows (64 16-bit elements), the 16-byte chunk j of row r stored at
// chunk j ^ (r % 8), so a pattern repeats every 8 rows = 1024 bytes and every tile starts on a
// 1024-byte boundary. Each operand is loaded in its stored layout:
//   - k contiguous ("K-major": A when !trans_a, B when trans_b): one TMA box of 64 k x R rows
//     (R = 128 for A, 256 for B): row r of the tile is row r of the operand, its 64 k values.
//   - m / n contiguous ("MN-major": A when trans_a, B when !trans_b): R / 64 boxes of 64 m-or-n
//     x 64 k, each 8 KiB: row r of box b holds k = r, m-or-n = 64b..64b+63. Boxes that lie wholly
//     past M or N are not loaded (their rows only feed outputs that are never stored). wgmma
//     reads these with the transpose immediate set (imm-trans = 1 means MN-major).
// In both layouts consumer c's 64 rows of A start 8 KiB into the A tile (64 rows of 128 bytes, or
// box c), because the tile depth (64), the wgmma M (64) and a swizzle row (64 elements) coincide.
// Out-of-range rows / columns / k of a box are zero-filled by TMA (and still counted in the
// transaction bytes), so M, N, K need not be tile multiples; the zero k tail makes the extra
// products vanish.
//
// Epilogue: straight from the accumulator registers with bounds checks (C's leading dimension is N,
// which may be odd, so no TMA store); two adjacent columns per store when N is even and C aligned.
//
// Split K: when the output has too few tiles to fill the GPU (a weight gradient such as 768 x 768 over
// 16384 tokens is 18 tiles for 132 multiprocessors) and K is long, blockIdx.z splits the k tiles into
// `splits` consecutive ranges of k_tiles_per_split. Each block stores its raw fp32 sums into its own
// slice of a stream-ordered workspace (splits, M, N), and matmul_split_k_reduce_kernel adds the slices
// in split order (so results do not depend on scheduling) and applies alpha, beta C and the bias.
#include "matmul_sm90.cuh"

#include <cuda.h>          // CUtensorMap and its enums (types only: libcuda is never linked)
#include <cudaTypedefs.h>  // PFN_cuTensorMapEncodeTiled_v12000

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "helpers.cuh"

namespace lmt::cuda {
namespace {

constexpr int kBM = 128;                    // block tile rows (M)
constexpr int kBN = 256;                    // block tile columns (N) = wgmma N
constexpr int kBK = 64;                     // block tile depth (K)
constexpr int kStages = 4;                  // TMA -> wgmma pipeline depth
constexpr int kWarpgroup = 128;             // threads per warpgroup
constexpr int kConsumers = 2;               // consumer warpgroups, each kWgM x kBN
constexpr int kThreads = (1 + kConsumers) * kWarpgroup;
constexpr int kWgM = kBM / kConsumers;      // 64 = wgmma M
constexpr int kSwizzleRow = 128;            // bytes of a 128B-swizzled row = 64 16-bit elements
constexpr int kSwizzleAtom = 8 * kSwizzleRow;  // 1024 bytes: the 8-row period of the swizzle
constexpr int kRowElems = kSwizzleRow / 2;  // 64: TMA box inner extent (elements)
constexpr int kATileBytes = kBM * kBK * 2;  // 16 KiB
constexpr int kBTileBytes = kBN * kBK * 2;  // 32 KiB
constexpr int kStageBytes = kATileBytes + kBTileBytes;
// Dynamic shared memory: 1 KiB slack to align the stages to kSwizzleAtom, the stages, then the
// full and empty barriers (8 bytes each).
constexpr size_t kSmemBytes = kSwizzleAtom + static_cast<size_t>(kStages) * kStageBytes + 2 * kStages * 8;
static_assert(kBK * 2 == kSwizzleRow, "a K-major tile row must be exactly one 128-byte swizzle row");
static_assert(kWgM == kRowElems && kBK == kRowElems, "consumer A offsets assume 64 = wgmma M = tile depth = swizzle row");
static_assert(kStageBytes % kSwizzleAtom == 0 && kATileBytes % kSwizzleAtom == 0, "tiles must stay 1 KiB aligned");
static_assert(kSmemBytes <= 227 * 1024, "exceeds the 227 KiB of shared memory a Hopper block may use");

constexpr int64_t kMinM = 128, kMinN = 128, kMinK = 64;  // smaller problems use the mma.sync kernel
constexpr unsigned kMaxGridY = 65535;
constexpr int kMinSplitKTiles = 8;   // k tiles (of 64) per split at least: 512-deep sums amortise the workspace
constexpr int kMaxSplits = 16;
constexpr int64_t kMaxSplitWorkspaceBytes = int64_t{1} << 30;  // never more workspace than this

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)

// Device-side constants (the other compilation passes never see the kernel body).
constexpr int kWgmmaK = 16;                 // k per wgmma (16-bit operands)
constexpr int kMnBoxBytes = kRowElems * kBK * 2;  // an MN-major box: 64 k rows of 128 bytes
constexpr int kAccPerThread = kBN / 2;      // m64nNk16 fp32 D: N / 2 registers per thread
constexpr int kEmptyArrivals = kConsumers * kWarpgroup / 32;  // lane 0 of every consumer warp
constexpr int kProducerRegs = 40;           // setmaxnreg targets: 128 * 40 + 256 * 232 <= 64 Ki registers
constexpr int kConsumerRegs = 232;

__device__ __forceinline__ uint32_t shared_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// ---- mbarriers (shared::cta addresses)

__device__ __forceinline__ void mbarrier_init(uint32_t bar, uint32_t arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(arrivals) : "memory");
}

/** One arrival that also raises the bytes the current phase waits for by `bytes`. */
__device__ __forceinline__ void mbarrier_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}

__device__ __forceinline__ void mbarrier_arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}

/** Blocks until the barrier phase with parity `parity` has completed. */
__device__ __forceinline__ void mbarrier_wait(uint32_t bar, uint32_t parity) {
  uint32_t done;
  do {
    asm volatile(
        "{\n"
        ".reg .pred p;\n"
        "mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n"
        "}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (done == 0);
}

// ---- TMA

/** Box of `map` at element coordinates (c0 = contiguous dim, c1) -> shared `dst`; completes bytes on `bar`. */
__device__ __forceinline__ void tma_load(uint32_t dst, const CUtensorMap* map, int c0, int c1, uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(
          dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(bar)
      : "memory");
}

// ---- wgmma

/**
 * Shared memory matrix descriptor of a 128B-swizzled operand tile starting at `addr` (PTX ISA
 * "matrix descriptor"): bits 0-13 start address >> 4, 16-29 leading dimension byte offset >> 4,
 * 32-45 stride dimension byte offset >> 4, 49-51 base offset (0: atoms are 1 KiB aligned),
 * 62-63 swizzle mode (1 = 128B).
 *   K-major:  SBO = 1024 (next group of 8 rows); LBO unused with swizzling (set to 1 as the ISA says).
 *   MN-major: SBO = 1024 (next group of 8 k rows); LBO = distance to the next 64-element slice of
 *             m or n, i.e. the next box (kMnBoxBytes).
 */
__device__ __forceinline__ uint64_t smem_descriptor(uint32_t addr, uint32_t lbo_bytes) {
  return static_cast<uint64_t>((addr & 0x3FFFF) >> 4) | (static_cast<uint64_t>(lbo_bytes >> 4) << 16) |
         (static_cast<uint64_t>(kSwizzleAtom >> 4) << 32) | (1ull << 62);
}

/** Descriptor of the k16 slice `ks` of a tile: +32 bytes along a K-major row, +16 rows of 128 bytes when MN-major. */
template <bool kMnMajor>
__device__ __forceinline__ uint64_t slice_descriptor(uint32_t tile, int ks) {
  if constexpr (kMnMajor) return smem_descriptor(tile + ks * kWgmmaK * kSwizzleRow, kMnBoxBytes);
  else return smem_descriptor(tile + ks * kWgmmaK * 2, 16);
}

__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int kPending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
}

/**
 * Pins the accumulators in place across wgmma_fence / wgmma_wait: the compiler may not move reads or
 * writes of d over this point (the async wgmma writes d behind its back).
 */
__device__ __forceinline__ void fence_accumulators(float (&d)[kAccPerThread]) {
#pragma unroll
  for (int i = 0; i < kAccPerThread; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// d (64 x 256 fp32, this warpgroup) += A (64 x 16) . B (16 x 256). scale-d predicate true (accumulate),
// operand scales +1, transpose immediates kAMnMajor / kBMnMajor (0 = K-major, 1 = M- / N-major).
#define LMT_WGMMA_M64N256K16(TYPE)                                                                            \
  asm volatile(                                                                                               \
      "{\n"                                                                                                   \
      ".reg .pred p;\n"                                                                                       \
      "setp.ne.b32 p, %130, 0;\n"                                                                             \
      "wgmma.mma_async.sync.aligned.m64n256k16.f32." TYPE "." TYPE " {"                                       \
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                                \
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "                      \
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "                      \
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "                      \
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "                      \
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "                      \
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, "          \
      "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127}, "     \
      "%128, %129, p, 1, 1, %131, %132;\n"                                                                    \
      "}\n"                                                                                                   \
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),       \
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
        "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]),            \
        "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]),            \
        "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]),            \
        "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]),            \
        "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]),            \
        "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]),            \
        "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), "+f"(d[64]),            \
        "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),            \
        "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]),            \
        "+f"(d[79]), "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]),            \
        "+f"(d[86]), "+f"(d[87]), "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]),            \
        "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]),            \
        "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), "+f"(d[104]), "+f"(d[105]), "+f"(d[106]),     \
        "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), "+f"(d[112]), "+f"(d[113]),     \
        "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), "+f"(d[120]),     \
        "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])      \
      : "l"(desc_a), "l"(desc_b), "r"(1), "n"(kAMnMajor ? 1 : 0), "n"(kBMnMajor ? 1 : 0))

template <typename T, bool kAMnMajor, bool kBMnMajor>
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[kAccPerThread], uint64_t desc_a, uint64_t desc_b) {
  static_assert(kAccPerThread == 128, "the asm below names 128 accumulator registers");
  if constexpr (std::is_same_v<T, bf16>) LMT_WGMMA_M64N256K16("bf16");
  else LMT_WGMMA_M64N256K16("f16");
}
#undef LMT_WGMMA_M64N256K16

// ---- epilogue

/** Two adjacent outputs c[0], c[1] of one row (both inside C) as one 2 * sizeof(CT)-byte access. */
template <typename CT>
struct alignas(2 * sizeof(CT)) OutPair {
  CT v[2];
};

#endif  // __CUDA_ARCH_FEAT_SM90_ALL

/**
 * C (M, N) CT = alpha op(A) op(B) + beta C + bias; block (blockIdx.x, blockIdx.y) owns the kBM x kBN
 * tile of C at (blockIdx.x * kBM, blockIdx.y * kBN) (m tiles vary fastest, so the blocks running
 * together share B tiles in L2). a_map / b_map: the operands as stored (see encode_operand).
 * pair_stores: N even and C aligned to two elements, so column pairs (2c, 2c + 1) may be stored at once.
 * Split K (partial != nullptr): block z sums k tiles z * k_tiles_per_split .. + k_tiles_per_split - 1
 * (fewer in the last split) and stores the raw sums to partial + z * M * N (M, N) fp32 instead of C.
 */
template <typename T, typename CT, bool kTransA, bool kTransB>
__global__ void __launch_bounds__(kThreads, 1)
    matmul_wgmma_kernel(const __grid_constant__ CUtensorMap a_map, const __grid_constant__ CUtensorMap b_map, CT* C,
                        const CT* __restrict__ bias, int M, int N, int K, float alpha, float beta, bool pair_stores,
                        float* __restrict__ partial, int k_tiles_per_split) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  constexpr bool kAMnMajor = kTransA;   // A stored (K, M): m contiguous
  constexpr bool kBMnMajor = !kTransB;  // B stored (K, N): n contiguous
  extern __shared__ __align__(1024) uint8_t smem[];
  // The 128B swizzle is a function of the shared address bits, so every tile must start on a 1 KiB boundary.
  const uint32_t stages = (shared_addr(smem) + kSwizzleAtom - 1) & ~static_cast<uint32_t>(kSwizzleAtom - 1);
  const uint32_t full_bars = stages + kStages * kStageBytes;  // kStages barriers of 8 bytes
  const uint32_t empty_bars = full_bars + kStages * 8;
  auto a_tile = [&](int s) { return stages + s * kStageBytes; };
  auto b_tile = [&](int s) { return stages + s * kStageBytes + kATileBytes; };

  const int m0 = blockIdx.x * kBM;
  const int n0 = blockIdx.y * kBN;
  const int kt_begin = blockIdx.z * k_tiles_per_split;  // this block's k tiles: kt_begin .. + k_tiles - 1
  const int k_tiles = min((K + kBK - 1) / kBK - kt_begin, k_tiles_per_split);
  const int warpgroup = threadIdx.x / kWarpgroup;

  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) {
      mbarrier_init(full_bars + 8 * s, 1);
      mbarrier_init(empty_bars + 8 * s, kEmptyArrivals);
    }
    // Make the initialised barriers visible to the other threads and to the async proxy (TMA).
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  }
  __syncthreads();

  if (warpgroup == 0) {
    // ---------------------------------------------------------------- producer
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(kProducerRegs));
    if (threadIdx.x != 0) return;
    // MN-major operands come in 64-wide boxes; boxes wholly past M / N are skipped (see header).
    const int a_boxes = kAMnMajor ? min(kBM / kRowElems, (M - m0 + kRowElems - 1) / kRowElems) : 1;
    const int b_boxes = kBMnMajor ? min(kBN / kRowElems, (N - n0 + kRowElems - 1) / kRowElems) : 1;
    const uint32_t tx = (kAMnMajor ? a_boxes * kMnBoxBytes : kATileBytes) +  // bytes landing per stage
                        (kBMnMajor ? b_boxes * kMnBoxBytes : kBTileBytes);
    for (int kt = 0; kt < k_tiles; ++kt) {
      const int s = kt % kStages;
      const int round = kt / kStages;
      if (round > 0) mbarrier_wait(empty_bars + 8 * s, (round - 1) & 1);  // consumers released round - 1
      const uint32_t full = full_bars + 8 * s;
      mbarrier_arrive_expect_tx(full, tx);
      const int k0 = (kt_begin + kt) * kBK;
      if constexpr (kAMnMajor) {
        for (int b = 0; b < a_boxes; ++b) tma_load(a_tile(s) + b * kMnBoxBytes, &a_map, m0 + b * kRowElems, k0, full);
      } else {
        tma_load(a_tile(s), &a_map, k0, m0, full);
      }
      if constexpr (kBMnMajor) {
        for (int b = 0; b < b_boxes; ++b) tma_load(b_tile(s) + b * kMnBoxBytes, &b_map, n0 + b * kRowElems, k0, full);
      } else {
        tma_load(b_tile(s), &b_map, k0, n0, full);
      }
    }
    return;
  }

  // ------------------------------------------------------------------ consumers
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(kConsumerRegs));
  const int consumer = warpgroup - 1;
  const int lane = threadIdx.x % 32;
  // Consumer c's 64 rows of A: rows 64c.. of a K-major tile, or box c of an MN-major one; both 8 KiB in.
  const uint32_t a_offset = consumer * kWgM * kSwizzleRow;

  float acc[kAccPerThread];
#pragma unroll
  for (int i = 0; i < kAccPerThread; ++i) acc[i] = 0.0f;
  fence_accumulators(acc);

  for (int kt = 0; kt < k_tiles; ++kt) {
    const int s = kt % kStages;
    mbarrier_wait(full_bars + 8 * s, (kt / kStages) & 1);
    wgmma_fence();  // orders earlier register writes of acc before the wgmmas read them
#pragma unroll
    for (int ks = 0; ks < kBK / kWgmmaK; ++ks) {
      wgmma_m64n256k16<T, kAMnMajor, kBMnMajor>(acc, slice_descriptor<kAMnMajor>(a_tile(s) + a_offset, ks),
                                                 slice_descriptor<kBMnMajor>(b_tile(s), ks));
    }
    wgmma_commit();
    wgmma_wait<1>();  // the group of tile kt - 1 has finished reading its stage
    if (kt > 0 && lane == 0) mbarrier_arrive(empty_bars + 8 * ((kt - 1) % kStages));
  }
  wgmma_wait<0>();
  fence_accumulators(acc);

  // Epilogue. m64nNk16 D fragment: warp w of the warpgroup holds rows 16w..16w+15; register 4j + e
  // (j = 0..N/8-1, e = 0..3) is row lane / 4 + 8 (e / 2), column 8j + 2 (lane % 4) + e % 2.
  const int warp = (threadIdx.x % kWarpgroup) / 32;
  const int row_base = m0 + consumer * kWgM + warp * 16 + lane / 4;
  const int col_base = n0 + 2 * (lane % 4);
  if (partial != nullptr) {  // split K: raw sums into this split's slice; the reduce kernel finishes
    float* slice = partial + static_cast<int64_t>(blockIdx.z) * M * N;
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const int row = row_base + 8 * half;
      if (row >= M) continue;
      float* p_row = slice + static_cast<int64_t>(row) * N;
#pragma unroll
      for (int j = 0; j < kBN / 8; ++j) {
        const int col = col_base + 8 * j;
        if (col >= N) break;
        p_row[col] = acc[4 * j + 2 * half];
        if (col + 1 < N) p_row[col + 1] = acc[4 * j + 2 * half + 1];
      }
    }
    return;
  }
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int row = row_base + 8 * half;
    if (row >= M) continue;
    CT* c_row = C + static_cast<int64_t>(row) * N;
#pragma unroll
    for (int j = 0; j < kBN / 8; ++j) {
      const int col = col_base + 8 * j;
      if (col >= N) break;  // columns only grow with j
      float v0 = alpha * acc[4 * j + 2 * half];
      float v1 = alpha * acc[4 * j + 2 * half + 1];
      if (pair_stores) {  // N even, so col + 1 < N as well
        OutPair<CT>* out = reinterpret_cast<OutPair<CT>*>(c_row + col);
        if (beta != 0.0f) {
          const OutPair<CT> old = *out;
          v0 += beta * load(old.v[0]);
          v1 += beta * load(old.v[1]);
        }
        if (bias != nullptr) {
          v0 += load(bias[col]);
          v1 += load(bias[col + 1]);
        }
        *out = OutPair<CT>{{store<CT>(v0), store<CT>(v1)}};
      } else {
        const float v[2] = {v0, v1};
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          if (col + e >= N) break;
          CT* c = c_row + col + e;
          float x = v[e];
          if (beta != 0.0f) x += beta * load(*c);
          if (bias != nullptr) x += load(bias[col + e]);
          *c = store<CT>(x);
        }
      }
    }
  }
#else
  __trap();  // unreachable: matmul_sm90 launches only on compute capability 9.0, which runs the sm_90a build
#endif
}

/** C (M, N) = alpha * sum_z partial[z] + beta C (+ bias), the split slices added in order z = 0, 1, ... */
template <typename CT>
__global__ void matmul_split_k_reduce_kernel(CT* __restrict__ C, const float* __restrict__ partial,
                                             const CT* __restrict__ bias, int64_t M, int64_t N, int splits,
                                             float alpha, float beta) {
  const int64_t count = M * N;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float sum = 0.0f;
    for (int z = 0; z < splits; ++z) sum += partial[z * count + i];
    float v = alpha * sum;
    if (beta != 0.0f) v += beta * load(C[i]);
    if (bias != nullptr) v += load(bias[i % N]);
    C[i] = store<CT>(v);
  }
}

// ------------------------------------------------------------------ host side

using EncodeTiledFn = PFN_cuTensorMapEncodeTiled_v12000;

/** cuTensorMapEncodeTiled from the driver, or nullptr (resolved once; the runtime is static, libcuda not linked). */
EncodeTiledFn encode_tiled_fn() {
  static const EncodeTiledFn fn = []() -> EncodeTiledFn {
    void* p = nullptr;
    cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
    const cudaError_t err =
        cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &found);
    if (err != cudaSuccess || found != cudaDriverEntryPointSuccess) {
      cudaGetLastError();  // not fatal: the caller falls back to the mma.sync kernel
      return nullptr;
    }
    return reinterpret_cast<EncodeTiledFn>(p);
  }();
  return fn;
}

/**
 * Tensor map of an operand stored as `rows` x `cols` 16-bit elements (cols contiguous, leading
 * dimension cols) read in boxes of 64 columns (128 bytes, one swizzle row) x `box_rows` rows, written
 * to shared memory with the 128-byte swizzle; out-of-range elements read as zero. False if refused.
 */
bool encode_operand(EncodeTiledFn encode, CUtensorMap* map, const void* ptr, int64_t rows, int64_t cols,
                    int box_rows, lmt_dtype dt) {
  const cuuint64_t dims[2] = {static_cast<cuuint64_t>(cols), static_cast<cuuint64_t>(rows)};
  const cuuint64_t row_stride_bytes[1] = {static_cast<cuuint64_t>(cols) * 2};
  const cuuint32_t box[2] = {static_cast<cuuint32_t>(kRowElems), static_cast<cuuint32_t>(box_rows)};
  const cuuint32_t element_strides[2] = {1, 1};
  const CUtensorMapDataType type = dt == LMT_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  return encode(map, type, 2, const_cast<void*>(ptr), dims, row_stride_bytes, box, element_strides,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

/** cudaDeviceGetAttribute of `device` for an attribute that never changes, cached per device. */
template <cudaDeviceAttr kAttribute>
int device_attribute(int device) {
  constexpr int kCachedDevices = 64;
  static std::atomic<int> cache[kCachedDevices] = {};  // value + 1; 0 unknown
  auto query = [device] {
    int value = 0;
    check_cuda(cudaDeviceGetAttribute(&value, kAttribute, device), "cudaDeviceGetAttribute");
    return value;
  };
  if (device < 0 || device >= kCachedDevices) return query();
  int known = cache[device].load(std::memory_order_relaxed);
  if (known == 0) {
    known = query() + 1;
    cache[device].store(known, std::memory_order_relaxed);
  }
  return known - 1;
}

/** Whether `device` has compute capability 9.0. */
bool is_sm90(int device) {
  return device_attribute<cudaDevAttrComputeCapabilityMajor>(device) == 9 &&
         device_attribute<cudaDevAttrComputeCapabilityMinor>(device) == 0;
}

/** Number of multiprocessors of `device`. */
int multiprocessors(int device) { return device_attribute<cudaDevAttrMultiProcessorCount>(device); }

/**
 * How many k ranges to split an (M, N, K) product into: 1 unless its output tiles fill at most half
 * of the multiprocessors and K has at least 2 * kMinSplitKTiles tiles; then enough splits to give
 * each multiprocessor about one block, kMinSplitKTiles k tiles each at least, at most kMaxSplits and
 * kMaxSplitWorkspaceBytes of fp32 partial sums.
 */
int split_k_count(int device, int64_t M, int64_t N, int64_t k_tiles) {
  const int64_t tiles = static_cast<int64_t>(blocks_for(M, kBM)) * blocks_for(N, kBN);
  const int64_t sms = multiprocessors(device);
  if (2 * tiles > sms) return 1;
  int64_t splits = std::min<int64_t>({sms / tiles, k_tiles / kMinSplitKTiles, kMaxSplits,
                                      kMaxSplitWorkspaceBytes / (M * N * static_cast<int64_t>(sizeof(float)))});
  return static_cast<int>(std::max<int64_t>(splits, 1));
}

/** LMTRAIN_CUDA_MATMUL=mma forces the mma.sync kernel (read once). */
bool forced_mma() {
  static const bool forced = [] {
    const char* v = std::getenv("LMTRAIN_CUDA_MATMUL");
    return v != nullptr && std::strcmp(v, "mma") == 0;
  }();
  return forced;
}

/** The wgmma kernel over a grid of M x N tiles x `splits` k ranges; with splits > 1 also the reduce. */
template <typename T, typename CT, bool kTransA, bool kTransB>
void launch_wgmma(cudaStream_t stream, const CUtensorMap& a_map, const CUtensorMap& b_map, void* C, const void* bias,
                  int M, int N, int K, float alpha, float beta, int splits) {
  auto kernel = matmul_wgmma_kernel<T, CT, kTransA, kTransB>;
  check_cuda(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(kSmemBytes)),
             "cudaFuncSetAttribute (matmul_sm90 shared memory)");
  const bool pair_stores = N % 2 == 0 && reinterpret_cast<uintptr_t>(C) % (2 * sizeof(CT)) == 0;
  const int k_tiles = (K + kBK - 1) / kBK;
  const int per_split = (k_tiles + splits - 1) / splits;
  splits = (k_tiles + per_split - 1) / per_split;  // no empty split
  StreamScratch workspace(stream, splits > 1 ? static_cast<size_t>(splits) * M * N * sizeof(float) : 0);
  const dim3 grid(blocks_for(M, kBM), blocks_for(N, kBN), splits);
  kernel<<<grid, kThreads, kSmemBytes, stream>>>(a_map, b_map, static_cast<CT*>(C), static_cast<const CT*>(bias), M, N,
                                                 K, alpha, beta, pair_stores, workspace.as<float>(), per_split);
  check_launch("matmul_wgmma_kernel");
  if (splits > 1) {
    const int64_t count = static_cast<int64_t>(M) * N;
    matmul_split_k_reduce_kernel<CT><<<grid_stride_blocks(count, 256), 256, 0, stream>>>(
        static_cast<CT*>(C), workspace.as<float>(), static_cast<const CT*>(bias), M, N, splits, alpha, beta);
    check_launch("matmul_split_k_reduce_kernel");
  }
}

template <typename T, typename CT>
void dispatch_trans(cudaStream_t stream, const CUtensorMap& a_map, const CUtensorMap& b_map, int trans_a, int trans_b,
                    void* C, const void* bias, int M, int N, int K, float alpha, float beta, int splits) {
  with_transposes(trans_a, trans_b, [&](auto ta, auto tb) {
    launch_wgmma<T, CT, decltype(ta)::value, decltype(tb)::value>(stream, a_map, b_map, C, bias, M, N, K, alpha, beta,
                                                                  splits);
  });
}

}  // namespace

bool matmul_sm90(int device, cudaStream_t stream, void* C, const void* A, const void* B, const void* bias,
                 int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, float beta,
                 lmt_dtype ab_dt, lmt_dtype c_dt) {
  if (ab_dt != LMT_BF16 && ab_dt != LMT_F16) return false;
  if (forced_mma()) return false;
  if (M < kMinM || N < kMinN || K < kMinK || M > INT_MAX || N > INT_MAX || K > INT_MAX) return false;
  if (blocks_for(N, kBN) > kMaxGridY) return false;
  const int64_t lda = trans_a ? M : K;
  const int64_t ldb = trans_b ? K : N;
  if (lda % 8 != 0 || ldb % 8 != 0) return false;
  if (reinterpret_cast<uintptr_t>(A) % 16 != 0 || reinterpret_cast<uintptr_t>(B) % 16 != 0) return false;
  if (!is_sm90(device)) return false;
  const EncodeTiledFn encode = encode_tiled_fn();
  if (encode == nullptr) return false;

  // K-major operands: one box of the whole tile (R rows of 64 k). MN-major: boxes of 64 k rows.
  CUtensorMap a_map, b_map;
  const bool a_ok = trans_a ? encode_operand(encode, &a_map, A, K, M, kBK, ab_dt)
                            : encode_operand(encode, &a_map, A, M, K, kBM, ab_dt);
  const bool b_ok = trans_b ? encode_operand(encode, &b_map, B, N, K, kBN, ab_dt)
                            : encode_operand(encode, &b_map, B, K, N, kBK, ab_dt);
  if (!a_ok || !b_ok) return false;

  const int m = static_cast<int>(M), n = static_cast<int>(N), k = static_cast<int>(K);
  const int splits = split_k_count(device, M, N, (K + kBK - 1) / kBK);
  const bool c_f32 = c_dt == LMT_F32;
  if (ab_dt == LMT_BF16) {
    if (c_f32) dispatch_trans<bf16, float>(stream, a_map, b_map, trans_a, trans_b, C, bias, m, n, k, alpha, beta, splits);
    else dispatch_trans<bf16, bf16>(stream, a_map, b_map, trans_a, trans_b, C, bias, m, n, k, alpha, beta, splits);
  } else {
    if (c_f32) dispatch_trans<f16, float>(stream, a_map, b_map, trans_a, trans_b, C, bias, m, n, k, alpha, beta, splits);
    else dispatch_trans<f16, f16>(stream, a_map, b_map, trans_a, trans_b, C, bias, m, n, k, alpha, beta, splits);
  }
  return true;
}

}  // namespace lmt::cuda
