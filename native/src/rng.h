// rng.h — the counter-based random numbers shared by the CPU and CUDA kernels.
//
// uniform(seed, counter) is a pure function (SplitMix64-style finaliser over a 64-bit mix of
// seed and counter), so element i of a dropout mask is the same on any thread, block or device.
#pragma once

#include <cstdint>

#include "dtype.h"

namespace lmt {

LMT_HD uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/** A uniform float in [0, 1) with 24 random bits, from (seed, counter). */
LMT_HD float uniform01(uint64_t seed, uint64_t counter) {
  uint64_t h = mix64(seed * 0x9e3779b97f4a7c15ull + mix64(counter + 0x632be59bd9b4e019ull));
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f);
}

/** Dropout keeps element `counter` when its uniform draw is >= p. */
LMT_HD bool dropout_keep(uint64_t seed, uint64_t counter, float p) { return uniform01(seed, counter) >= p; }

}  // namespace lmt
