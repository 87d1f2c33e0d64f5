/*
 * mpi_shim.c — liblmtrain_mpi.so: the MPI calls of the MPI engine (native/dist/mpi_engine.cpp),
 * behind the plain-C table of mpi_shim.h. Built only when CMake finds MPI; loaded with dlopen.
 *
 * All traffic goes over a duplicate of MPI_COMM_WORLD whose error handler is MPI_ERRORS_RETURN,
 * so an MPI failure is a status and a message, never an exit. Collectives are the non-blocking
 * MPI-3 calls completed by an MPI_Test loop that yields the core between tests and gives up after
 * the caller's timeout, which bounds how long a rank waits for a peer that died or hung.
 */
#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "mpi_shim.h"

/* Elements (or bytes) per MPI call: MPI counts are int. */
#define MAX_CHUNK (1LL << 30)

static MPI_Comm world = MPI_COMM_NULL; /* MPI_COMM_WORLD, duplicated, errors returned */

static int fail(char* err, size_t err_len, int status, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(err, err_len, format, args);
  va_end(args);
  return status;
}

static int mpi_fail(int rc, const char* call, char* err, size_t err_len) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS) {
    snprintf(text, sizeof text, "MPI error code %d", rc);
  }
  return fail(err, err_len, LMT_ERR_COMM, "%s failed: %s", call, text);
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Drives one non-blocking operation to completion, or fails once timeout_s seconds have passed. */
static int complete(MPI_Request* request, const char* call, double timeout_s, char* err, size_t err_len) {
  double deadline = seconds_now() + timeout_s;
  for (;;) {
    int done = 0;
    int rc = MPI_Test(request, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, call, err, err_len);
    if (done) return 0;
    if (seconds_now() > deadline) {
      return fail(err, err_len, LMT_ERR_COMM, "%s did not complete within %.0f s", call, timeout_s);
    }
    sched_yield();
  }
}

static int require_init(char* err, size_t err_len) {
  return world == MPI_COMM_NULL ? fail(err, err_len, LMT_ERR_INVALID_ARGUMENT, "MPI is not initialised") : 0;
}

static int shim_init(int* rank, int* size, int* local_rank, int* local_size, char* err, size_t err_len) {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized || finalized) {
    return fail(err, err_len, LMT_ERR_UNSUPPORTED, "MPI was %s in this process already (one distributed run per process)",
                finalized ? "finalized" : "initialised");
  }
  int provided = 0;
  int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided);
  if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Init_thread", err, err_len);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (provided < MPI_THREAD_SERIALIZED) {
    return fail(err, err_len, LMT_ERR_UNSUPPORTED, "this MPI provides thread level %d; lmtrain needs MPI_THREAD_SERIALIZED",
                provided);
  }
  if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &world)) != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_dup", err, err_len);
  MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN);
  if ((rc = MPI_Comm_rank(world, rank)) != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_rank", err, err_len);
  if ((rc = MPI_Comm_size(world, size)) != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_size", err, err_len);
  MPI_Comm node = MPI_COMM_NULL;
  rc = MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, *rank, MPI_INFO_NULL, &node);
  if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_split_type", err, err_len);
  MPI_Comm_rank(node, local_rank);
  MPI_Comm_size(node, local_size);
  MPI_Comm_free(&node);
  return 0;
}

static int datatype_of(lmt_dtype dt, MPI_Datatype* out) {
  switch (dt) {
    case LMT_F32: *out = MPI_FLOAT; return 1;
    case LMT_F64: *out = MPI_DOUBLE; return 1;
    case LMT_I32: *out = MPI_INT32_T; return 1;
    case LMT_I64: *out = MPI_INT64_T; return 1;
    default: return 0;
  }
}

static int op_of(lmt_reduce_op op, MPI_Op* out) {
  switch (op) {
    case LMT_REDUCE_SUM: *out = MPI_SUM; return 1;
    case LMT_REDUCE_MIN: *out = MPI_MIN; return 1;
    case LMT_REDUCE_MAX: *out = MPI_MAX; return 1;
    default: return 0;
  }
}

static int shim_all_reduce(void* buf, int64_t count, lmt_dtype dt, lmt_reduce_op op, double timeout_s, char* err,
                           size_t err_len) {
  MPI_Datatype type;
  MPI_Op mpi_op;
  int rc = require_init(err, err_len);
  if (rc != 0) return rc;
  if (!datatype_of(dt, &type)) return fail(err, err_len, LMT_ERR_INVALID_ARGUMENT, "unsupported dtype code %d", (int)dt);
  if (!op_of(op, &mpi_op)) return fail(err, err_len, LMT_ERR_INVALID_ARGUMENT, "unsupported reduce op code %d", (int)op);
  int element = 0;
  MPI_Type_size(type, &element);
  for (int64_t done = 0; done < count; done += MAX_CHUNK) {
    int n = (int)(count - done < MAX_CHUNK ? count - done : MAX_CHUNK);
    MPI_Request request;
    rc = MPI_Iallreduce(MPI_IN_PLACE, (char*)buf + done * element, n, type, mpi_op, world, &request);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Iallreduce", err, err_len);
    if ((rc = complete(&request, "MPI_Iallreduce", timeout_s, err, err_len)) != 0) return rc;
  }
  return 0;
}

static int shim_broadcast(void* buf, int64_t bytes, int root, double timeout_s, char* err, size_t err_len) {
  int rc = require_init(err, err_len);
  if (rc != 0) return rc;
  for (int64_t done = 0; done < bytes; done += MAX_CHUNK) {
    int n = (int)(bytes - done < MAX_CHUNK ? bytes - done : MAX_CHUNK);
    MPI_Request request;
    rc = MPI_Ibcast((char*)buf + done, n, MPI_BYTE, root, world, &request);
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Ibcast", err, err_len);
    if ((rc = complete(&request, "MPI_Ibcast", timeout_s, err, err_len)) != 0) return rc;
  }
  return 0;
}

static int shim_barrier(double timeout_s, char* err, size_t err_len) {
  int rc = require_init(err, err_len);
  if (rc != 0) return rc;
  MPI_Request request;
  rc = MPI_Ibarrier(world, &request);
  if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Ibarrier", err, err_len);
  return complete(&request, "MPI_Ibarrier", timeout_s, err, err_len);
}

static void shim_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static int shim_finalize(char* err, size_t err_len) {
  int rc = require_init(err, err_len);
  if (rc != 0) return rc;
  MPI_Comm_free(&world);
  world = MPI_COMM_NULL;
  rc = MPI_Finalize();
  return rc == MPI_SUCCESS ? 0 : mpi_fail(rc, "MPI_Finalize", err, err_len);
}

static const lmt_mpi_shim table = {LMT_MPI_SHIM_VERSION, shim_init,  shim_all_reduce, shim_broadcast,
                                   shim_barrier,         shim_abort, shim_finalize};

__attribute__((visibility("default"))) const lmt_mpi_shim* lmt_mpi_shim_get(void) { return &table; }
