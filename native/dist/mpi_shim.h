/*
 * mpi_shim.h — the interface between liblmtrain and its MPI shim, liblmtrain_mpi.so.
 *
 * The shim is the only code that includes mpi.h and links libmpi. It is built when CMake finds MPI
 * and loaded with dlopen only when a run is distributed, so liblmtrain.so loads on machines
 * without MPI. Plain C types cross this boundary: element types are lmt_dtype codes (F32, F64,
 * I32, I64), operations lmt_reduce_op codes.
 *
 * Every function returns 0 on success, or LMT_ERR_INVALID_ARGUMENT, LMT_ERR_UNSUPPORTED or
 * LMT_ERR_COMM with a NUL-terminated reason in err (err_len bytes). MPI errors come back as
 * errors (MPI_ERRORS_RETURN on the shim's communicator). Collectives are blocking MPI calls
 * watched by a thread: one that has not completed after timeout_s seconds (a peer died or hung)
 * makes the shim print one error line and call MPI_Abort, which ends every rank. Nothing else
 * here ends the process.
 */
#ifndef LMTRAIN_MPI_SHIM_H
#define LMTRAIN_MPI_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "lmtrain.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever the table below changes; liblmtrain refuses a shim of another version. */
#define LMT_MPI_SHIM_VERSION 1

typedef struct lmt_mpi_shim {
  int version;
  /* MPI_Init_thread (once per process); rank and size in MPI_COMM_WORLD, and within this node. */
  int (*init)(int* rank, int* size, int* local_rank, int* local_size, char* err, size_t err_len);
  /* In-place all-reduce of count elements of host memory. */
  int (*all_reduce)(void* buf, int64_t count, lmt_dtype dt, lmt_reduce_op op, double timeout_s, char* err,
                    size_t err_len);
  /* bytes of host memory from root to every rank. */
  int (*broadcast)(void* buf, int64_t bytes, int root, double timeout_s, char* err, size_t err_len);
  int (*barrier)(double timeout_s, char* err, size_t err_len);
  /* MPI_Abort(MPI_COMM_WORLD, code): the launcher ends every rank. Does not return. */
  void (*abort)(int code);
  /* MPI_Finalize; every rank calls it once at a normal end. */
  int (*finalize)(char* err, size_t err_len);
} lmt_mpi_shim;

/* The shim's one exported symbol. */
typedef const lmt_mpi_shim* (*lmt_mpi_shim_entry)(void);
#define LMT_MPI_SHIM_ENTRY "lmt_mpi_shim_get"

#ifdef __cplusplus
}
#endif

#endif /* LMTRAIN_MPI_SHIM_H */
