// embedding.cpp — CPU backend: token + position (+ token-type) embeddings, forward and backward.
//
//   forward:  out (B, T, C) dt = wte (V, C)[ids[b, t]] + wpe (P, C)[pos_offset + t] + wtt (TT, C)[type_ids[b, t]]
//             (wpe and wtt/type_ids nullable; the sum is fp32, rounded once)
//   backward: dwte (V, C)  F32 += sum over tokens with ids[b, t] = v of dout[b, t]      (parameter gradients:
//             dwpe (P, C)  F32 += sum over b of dout[b, t] at row pos_offset + t         accumulated)
//             dwtt (TT, C) F32 += sum over tokens with type_ids[b, t] = k of dout[b, t]
// Ids are checked against their tables before anything is written. The forward runs tokens in
// parallel. The backward runs blocks of kChannelsPerBlock channels in parallel, each walking the
// tokens in (b, t) order, so no two threads touch the same gradient element and every sum is
// taken in token order: the same bits for any thread count. (T is the sequence length here, so the
// storage type is called E.)
#include <algorithm>

#include "backends.h"
#include "parallel.h"

namespace lmt::cpu {
namespace {

constexpr int64_t kElementsPerTask = 1 << 14;
constexpr int64_t kChannelsPerBlock = 32;

/** ids (B, T) all lie in [0, rows) of the named table; checked before any output is written. */
void check_ids(const int32_t* ids, int64_t B, int64_t T, int64_t rows, const char* ids_name, const char* table,
               const char* rows_name) {
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const int32_t id = ids[b * T + t];
      require(id >= 0 && id < rows, ids_name, "[b=", b, ", t=", t, "] = ", id, " is out of range for the ", table,
              " table (", rows_name, " = ", rows, ")");
    }
  }
}

void check_all_ids(const int32_t* ids, const int32_t* type_ids, int64_t B, int64_t T, int64_t V, int64_t TT) {
  check_ids(ids, B, T, V, "ids", "token", "V");
  if (type_ids != nullptr) check_ids(type_ids, B, T, TT, "type_ids", "token-type", "TT");
}

}  // namespace

void embedding_forward(lmt_ctx&, void* out, const int32_t* ids, const int32_t* type_ids, const void* wte,
                       const void* wpe, const void* wtt, int64_t B, int64_t T, int64_t C, int64_t V, int64_t,
                       int64_t TT, int64_t pos_offset, lmt_dtype dt) {
  check_all_ids(ids, type_ids, B, T, V, TT);
  LMT_DISPATCH_FLOAT(dt, E, {
    const E* tok = static_cast<const E*>(wte);
    const E* pos = static_cast<const E*>(wpe);
    const E* typ = static_cast<const E*>(wtt);
    E* o = static_cast<E*>(out);
    parallel_for(B * T, std::max<int64_t>(1, kElementsPerTask / C), [&](int64_t lo, int64_t hi) {
      for (int64_t n = lo; n < hi; ++n) {
        E* on = o + n * C;
        const E* tok_row = tok + static_cast<int64_t>(ids[n]) * C;
        if (pos == nullptr && typ == nullptr) {
          for (int64_t c = 0; c < C; ++c) on[c] = tok_row[c];
          continue;
        }
        const E* pos_row = pos != nullptr ? pos + (pos_offset + n % T) * C : nullptr;
        const E* typ_row = typ != nullptr ? typ + static_cast<int64_t>(type_ids[n]) * C : nullptr;
        if (typ_row == nullptr) {
          for (int64_t c = 0; c < C; ++c) on[c] = store<E>(load(tok_row[c]) + load(pos_row[c]));
        } else if (pos_row == nullptr) {
          for (int64_t c = 0; c < C; ++c) on[c] = store<E>(load(tok_row[c]) + load(typ_row[c]));
        } else {
          for (int64_t c = 0; c < C; ++c) on[c] = store<E>(load(tok_row[c]) + load(pos_row[c]) + load(typ_row[c]));
        }
      }
    });
  });
}

void embedding_backward(lmt_ctx&, float* dwte, float* dwpe, float* dwtt, const void* dout, const int32_t* ids,
                        const int32_t* type_ids, int64_t B, int64_t T, int64_t C, int64_t V, int64_t, int64_t TT,
                        int64_t pos_offset, lmt_dtype dt) {
  check_all_ids(ids, type_ids, B, T, V, TT);
  const int64_t blocks = (C + kChannelsPerBlock - 1) / kChannelsPerBlock;
  LMT_DISPATCH_FLOAT(dt, E, {
    const E* g = static_cast<const E*>(dout);
    parallel_for(blocks, 1, [&](int64_t block_lo, int64_t block_hi) {
      float grad[kChannelsPerBlock];
      for (int64_t blk = block_lo; blk < block_hi; ++blk) {
        const int64_t c0 = blk * kChannelsPerBlock;
        const int64_t width = std::min(kChannelsPerBlock, C - c0);
        for (int64_t n = 0; n < B * T; ++n) {
          const E* gn = g + n * C + c0;
          for (int64_t c = 0; c < width; ++c) grad[c] = load(gn[c]);
          float* tok_row = dwte + static_cast<int64_t>(ids[n]) * C + c0;
          for (int64_t c = 0; c < width; ++c) tok_row[c] += grad[c];
          if (dwpe != nullptr) {
            float* pos_row = dwpe + (pos_offset + n % T) * C + c0;
            for (int64_t c = 0; c < width; ++c) pos_row[c] += grad[c];
          }
          if (dwtt != nullptr) {
            float* typ_row = dwtt + static_cast<int64_t>(type_ids[n]) * C + c0;
            for (int64_t c = 0; c < width; ++c) typ_row[c] += grad[c];
          }
        }
      }
    });
  });
}

}  // namespace lmt::cpu
