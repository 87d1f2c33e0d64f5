// memory.cpp — CPU backend: contexts and host memory (256-byte aligned, like cudaMalloc).
#include <cstdlib>
#include <cstring>

#include "backends.h"

namespace lmt::cpu {

void context_init(lmt_ctx&) {}
void context_release(lmt_ctx&) {}
void synchronize(lmt_ctx&) {}

void* allocate(lmt_ctx&, size_t bytes) {
  size_t rounded = (bytes + 255) / 256 * 256;
  void* p = std::aligned_alloc(256, rounded);
  if (p == nullptr) throw Error(LMT_ERR_OUT_OF_MEMORY, concat("out of host memory allocating ", bytes, " bytes"));
  return p;
}

void release(lmt_ctx&, void* ptr) { std::free(ptr); }

void copy(lmt_ctx&, void* dst, const void* src, size_t bytes, lmt_copy_kind) { std::memmove(dst, src, bytes); }

void fill_bytes(lmt_ctx&, void* dst, int value, size_t bytes) { std::memset(dst, value, bytes); }

}  // namespace lmt::cpu
