// mpi_engine.cpp — the MPI engine: host-memory collectives through liblmtrain_mpi.so (the shim of
// mpi_shim.h), loaded here with dlopen when a distributed run starts. RTLD_GLOBAL: Open MPI's own
// plug-ins, which it dlopens in turn, resolve symbols of libmpi through the global scope.
#include <dlfcn.h>

#include <string>

#include "comm.h"
#include "mpi_shim.h"

namespace lmt::dist {
namespace {

constexpr size_t kErrLen = 1024;

const lmt_mpi_shim& load_shim(const char* path) {
  // The shim stays loaded for the life of the process: MPI cannot be unloaded or re-initialised.
  static const lmt_mpi_shim* shim = nullptr;
  if (shim != nullptr) return *shim;
  require(path != nullptr && path[0] != '\0', "shim_path is empty (expected the path of liblmtrain_mpi.so)");
  void* handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw Error(LMT_ERR_UNSUPPORTED, concat("cannot load the MPI shim ", path, ": ", why ? why : "unknown dlopen error",
                                            " (MPI runs need Open MPI's libmpi: apt-get install openmpi-bin"
                                            " libopenmpi-dev)"));
  }
  auto entry = reinterpret_cast<lmt_mpi_shim_entry>(dlsym(handle, LMT_MPI_SHIM_ENTRY));
  require(entry != nullptr, path, " has no symbol ", LMT_MPI_SHIM_ENTRY, " (not an lmtrain MPI shim)");
  const lmt_mpi_shim* table = entry();
  if (table == nullptr || table->version != LMT_MPI_SHIM_VERSION) {
    throw Error(LMT_ERR_UNSUPPORTED, concat(path, " is MPI shim version ", table ? table->version : -1, ", expected ",
                                            LMT_MPI_SHIM_VERSION, " (a stale build: rebuild lmtrain)"));
  }
  shim = table;
  return *shim;
}

/** Throws the shim's error unless status is 0. */
void check_shim(int status, const char* err) {
  if (status != 0) throw Error(status, err);
}

class MpiEngine final : public Engine {
 public:
  MpiEngine(const lmt_mpi_shim& shim, double timeout_s) : shim_(shim), timeout_s_(timeout_s) {
    char err[kErrLen] = "";
    check_shim(shim_.init(&rank_, &size_, &local_rank_, &local_size_, err, sizeof err), err);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }

  void all_reduce(void* buf, int64_t n, lmt_dtype dt, lmt_reduce_op op) override {
    char err[kErrLen] = "";
    check_shim(shim_.all_reduce(buf, n, dt, op, timeout_s_, err, sizeof err), err);
  }

  void all_reduce_host(void* values, int64_t n, lmt_dtype dt, lmt_reduce_op op) override {
    all_reduce(values, n, dt, op);
  }

  void broadcast(void* buf, int64_t bytes, int root) override {
    char err[kErrLen] = "";
    check_shim(shim_.broadcast(buf, bytes, root, timeout_s_, err, sizeof err), err);
  }

  void barrier() override {
    char err[kErrLen] = "";
    check_shim(shim_.barrier(timeout_s_, err, sizeof err), err);
  }

  void abort(int code) override { shim_.abort(code); }

  void finish() override {
    char err[kErrLen] = "";
    check_shim(shim_.finalize(err, sizeof err), err);
  }

 private:
  const lmt_mpi_shim& shim_;
  double timeout_s_;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

}  // namespace

std::unique_ptr<Engine> open_mpi(const char* shim_path, double timeout_s) {
  return std::make_unique<MpiEngine>(load_shim(shim_path), timeout_s);
}

}  // namespace lmt::dist
