// comm.h — the communicator behind lmt_comm_*: one Engine interface, an MPI engine (host memory,
// through the dlopen'ed shim of mpi_shim.h) and an NCCL engine (device memory, libnccl dlopen'ed;
// CUDA builds only). api.cpp validates arguments and calls these; engines throw lmt::Error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "backends.h"

namespace lmt::dist {

constexpr size_t kNcclIdBytes = 128;

/** One rank's view of a job: collectives over buffers in the engine's memory space. */
class Engine {
 public:
  virtual ~Engine() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int local_rank() const = 0;  // -1 if unknown
  virtual int local_size() const = 0;  // -1 if unknown
  virtual void all_reduce(void* buf, int64_t n, lmt_dtype dt, lmt_reduce_op op) = 0;
  virtual void all_reduce_host(void* values, int64_t n, lmt_dtype dt, lmt_reduce_op op) = 0;
  virtual void broadcast(void* buf, int64_t bytes, int root) = 0;
  virtual void barrier() = 0;
  /** Ends the job (may not return). */
  virtual void abort(int code) = 0;
  /** Leaves the job in order (MPI_Finalize / ncclCommDestroy); called once before destruction. */
  virtual void finish() = 0;
};

/** Joins the MPI job through the shim library at shim_path (once per process). */
std::unique_ptr<Engine> open_mpi(const char* shim_path, double timeout_s);

/** ncclGetUniqueId of the NCCL library `library` (nullptr: libnccl.so.2). */
std::array<uint8_t, kNcclIdBytes> nccl_unique_id(const char* library);

/** Joins an NCCL clique on the context's GPU. */
std::unique_ptr<Engine> open_nccl(lmt_ctx& ctx, const uint8_t* id, int rank, int size, const char* library,
                                  double timeout_s);

}  // namespace lmt::dist

/** The ABI's opaque communicator. */
struct lmt_comm {
  std::unique_ptr<lmt::dist::Engine> engine;
};
