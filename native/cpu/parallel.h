// parallel.h — the CPU backend's thread pool.
//
// parallel_for(n, grain, fn) splits [0, n) into chunks of at least `grain` items and runs
// fn(begin, end) on the pool's threads (the caller's thread takes part). Kernels that reduce
// must not let the chunking change their result: they reduce over fixed-size blocks whose
// boundaries depend on n only, then combine the block results in order.
#pragma once

#include <cstdint>
#include <functional>

namespace lmt::cpu {

void set_num_threads(int n);
int num_threads();
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace lmt::cpu
