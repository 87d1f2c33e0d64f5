// parallel.cpp — a small fixed thread pool with a blocking parallel_for.
//
// A parallel region is `chunks` calls job(c). The caller publishes the region, wakes the workers
// and claims chunks itself; a worker that wakes claims what is left. The caller then waits only for
// chunks that were claimed and are still running, never for a worker that has not woken up yet: on
// a busy or virtualised machine a wake-up can take longer than a small region, and the caller just
// runs it alone. Claims go through one atomic word holding (generation, chunk count, next chunk),
// so a worker that wakes after its region ended cannot claim a chunk of a later one.
//
// Idle workers block on a condition variable. Spinning for 200 us before blocking was measured on
// the 2-core VM (lab BERT training step): 26-29 ms instead of 34-42 ms when the machine was
// otherwise idle, but 92-204 ms instead of ~80 ms while another process kept a core busy (and
// 316 ms when the spin also yielded), so the pool does not spin.
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lmt::cpu {
namespace {

/** The claim word: generation (32 bits) | chunk count (16 bits) | next unclaimed chunk (16 bits). */
struct Claim {
  static constexpr int64_t kMaxChunks = 0xFFFF;
  static uint64_t pack(uint32_t generation, int64_t chunks, int64_t next) {
    return static_cast<uint64_t>(generation) << 32 | static_cast<uint64_t>(chunks) << 16 |
           static_cast<uint64_t>(next);
  }
  static uint32_t generation(uint64_t w) { return static_cast<uint32_t>(w >> 32); }
  static int64_t chunks(uint64_t w) { return static_cast<int64_t>((w >> 16) & 0xFFFF); }
  static int64_t next(uint64_t w) { return static_cast<int64_t>(w & 0xFFFF); }
};

class ThreadPool {
 public:
  explicit ThreadPool(int threads) { resize(threads); }
  ~ThreadPool() { stop_workers(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int threads) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);
    stop_workers();
    stopping_ = false;
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  // Runs job(chunk) for chunk in [0, chunks) (chunks <= Claim::kMaxChunks) on the pool's threads and
  // the caller's; rethrows the first exception.
  void run(int64_t chunks, const std::function<void(int64_t)>& job) {
    std::lock_guard<std::mutex> run_lock(run_mutex_);  // one parallel region at a time
    job_ = &job;
    error_ = nullptr;
    finished_.store(0, std::memory_order_relaxed);
    uint32_t generation;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation = ++generation_;
      claim_.store(Claim::pack(generation, chunks, 0), std::memory_order_release);
    }
    wake_.notify_all();
    run_chunks(generation);
    if (finished_.load(std::memory_order_acquire) != chunks) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [&] { return finished_.load(std::memory_order_acquire) == chunks; });
    }
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  /**
   * The next chunk of region `generation` (and, in `chunks`, the region's chunk count), or -1 when
   * the region has none left or has ended.
   */
  int64_t claim(uint32_t generation, int64_t& chunks) {
    uint64_t w = claim_.load(std::memory_order_acquire);
    while (Claim::generation(w) == generation && Claim::next(w) < Claim::chunks(w)) {
      if (claim_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        chunks = Claim::chunks(w);
        return Claim::next(w);
      }
    }
    return -1;
  }

  /**
   * Claims and runs chunks of region `generation` until none is left. While a claimed chunk runs,
   * its region cannot end, so job_ is still the region's job.
   */
  void run_chunks(uint32_t generation) {
    int64_t chunks = 0;
    for (int64_t c = claim(generation, chunks); c >= 0; c = claim(generation, chunks)) {
      try {
        (*job_)(c);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
        std::lock_guard<std::mutex> lock(mutex_);  // pairs with the caller's predicate check
        done_.notify_one();
      }
    }
  }

  void worker_loop() {
    uint32_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
      }
      run_chunks(seen);
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t)>* job_ = nullptr;
  std::atomic<uint64_t> claim_{0};
  std::atomic<int64_t> finished_{0};  // chunks of the current region that have returned
  uint32_t generation_ = 0;           // guarded by mutex_
  bool stopping_ = false;             // guarded by mutex_
  std::exception_ptr error_;
};

int default_threads() {
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

ThreadPool& pool() {
  static ThreadPool instance(default_threads());
  return instance;
}

thread_local bool inside_parallel_region = false;

}  // namespace

void set_num_threads(int n) { pool().resize(n); }

int num_threads() { return pool().size(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int threads = num_threads();
  // Nested regions and small problems run inline on the calling thread.
  if (threads == 1 || n <= grain || inside_parallel_region) {
    fn(0, n);
    return;
  }
  int64_t chunks =
      std::min<int64_t>({(n + grain - 1) / grain, static_cast<int64_t>(threads) * 4, Claim::kMaxChunks});
  int64_t step = (n + chunks - 1) / chunks;
  chunks = (n + step - 1) / step;
  pool().run(chunks, [&](int64_t c) {
    inside_parallel_region = true;
    int64_t begin = c * step;
    int64_t end = std::min(n, begin + step);
    try {
      fn(begin, end);
    } catch (...) {
      inside_parallel_region = false;
      throw;
    }
    inside_parallel_region = false;
  });
}

}  // namespace lmt::cpu
