// backends.h — the execution context and the two backends' kernel entry points.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype.h"
#include "error.h"
#include "lmtrain.h"

/** An execution context: the device (-1 = CPU) and, for CUDA, the stream all its work goes to. */
struct lmt_ctx {
  int device = -1;
  void* stream = nullptr;  // cudaStream_t of a CUDA context
  bool is_cuda() const { return device >= 0; }
};

namespace lmt::cpu {
#include "ops.inc"
}  // namespace lmt::cpu

#ifdef LMTRAIN_WITH_CUDA
namespace lmt::cuda {
#include "ops.inc"
int device_count();
}  // namespace lmt::cuda
#endif
