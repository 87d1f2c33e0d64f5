/*
 * mpi_shim.c — liblmtrain_mpi.so: the MPI calls of the MPI engine (native/dist/mpi_engine.cpp),
 * behind the plain-C table of mpi_shim.h. Built only when CMake finds MPI; loaded with dlopen.
 *
 * All traffic goes over a duplicate of MPI_COMM_WORLD whose error handler is MPI_ERRORS_RETURN,
 * so an MPI failure is a status and a message, never an exit. Collectives are the blocking MPI
 * calls (Open MPI's tuned algorithms: its non-blocking ones (libnbc) were measured 8-15x slower on
 * a 55 MB all-reduce); a watchdog thread bounds them: a collective still waiting for the other
 * ranks after timeout_s seconds makes it print one error line and call MPI_Abort, which ends every
 * rank. That is the one way this library ends a process, and it is the job's abort.
 *
 * Unless the user set them, Open MPI is asked for its ring all-reduce
 * (coll_tuned_allreduce_algorithm 4): on a 2-core VM, 2 ranks all-reduced 13.8M floats in 82 ms
 * with it and in 850-1430 ms with Open MPI 4.1.4's default choice (recursive doubling).
 */
#include <errno.h>
#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_shim.h"

/* Elements (or bytes) per MPI call: MPI counts are int. */
#define MAX_CHUNK (1LL << 30)

static MPI_Comm world = MPI_COMM_NULL; /* MPI_COMM_WORLD, duplicated, errors returned */
static int world_rank = 0;
static int world_size = 1;

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

/* ---------------------------------------------------------------- the watchdog */

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_wake; /* on CLOCK_MONOTONIC, set up by watch_start */
static int watch_active = 0;            /* a collective is in progress */
static struct timespec watch_deadline;  /* CLOCK_MONOTONIC */
static double watch_timeout = 0;
/* A watchdog that wakes this much after the deadline was not running (the process was stopped). */
#define LATE_WAKE_SECONDS 1.0
/* Seconds between a timeout and the abort (see watchdog()). */
#define ABORT_GRACE_SECONDS 2
static unsigned long watch_seq = 0; /* collectives begun so far */
static char watch_what[160];

static struct timespec seconds_after(struct timespec t, double seconds) {
  double whole = (double)(time_t)seconds;
  t.tv_sec += (time_t)seconds;
  t.tv_nsec += (long)((seconds - whole) * 1e9);
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

/* Waits for the current collective's deadline; when it passes with the collective still running, ends the job. */
static void* watchdog(void* unused) {
  (void)unused;
  pthread_mutex_lock(&watch_lock);
  for (;;) {
    if (!watch_active) {
      pthread_cond_wait(&watch_wake, &watch_lock);
      continue;
    }
    struct timespec deadline = watch_deadline;
    if (pthread_cond_timedwait(&watch_wake, &watch_lock, &deadline) != ETIMEDOUT) continue;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double overdue = (double)(now.tv_sec - watch_deadline.tv_sec) + (now.tv_nsec - watch_deadline.tv_nsec) * 1e-9;
    if (!watch_active || overdue < 0) continue;
    if (overdue > LATE_WAKE_SECONDS) {
      /* This process was not running when its deadline passed (stopped, e.g. SIGSTOP, then
         continued): the wait was its own, not its peers'. Give the collective a full timeout again. */
      watch_deadline = seconds_after(now, watch_timeout);
      continue;
    }
    /* A short grace before acting: a rank that the launcher is already ending (stopped, then
       continued and terminated) must not report a timeout of its own. */
    unsigned long seq = watch_seq;
    pthread_mutex_unlock(&watch_lock);
    struct timespec grace = {ABORT_GRACE_SECONDS, 0};
    nanosleep(&grace, NULL);
    pthread_mutex_lock(&watch_lock);
    if (!watch_active || watch_seq != seq) continue;
    fprintf(stderr,
            "error: rank %d of %d: %s did not complete within %.0f s (another rank died, hung or failed; set"
            " LMTRAIN_DIST_TIMEOUT to wait longer): aborting the job\n",
            world_rank, world_size, watch_what, watch_timeout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return NULL;
}

/* Starts the watchdog thread (once, from init). */
static int watch_start(char* err, size_t err_len) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&watch_wake, &attr);
  pthread_condattr_destroy(&attr);
  pthread_t thread;
  int rc = pthread_create(&thread, NULL, watchdog, NULL);
  if (rc != 0) return fail(err, err_len, LMT_ERR_INTERNAL, "cannot start the collectives' watchdog thread: %s", strerror(rc));
  pthread_detach(thread);
  return 0;
}

/* Arms the watchdog for one collective. */
static void watch_begin(double timeout_s, const char* format, ...) {
  pthread_mutex_lock(&watch_lock);
  va_list args;
  va_start(args, format);
  vsnprintf(watch_what, sizeof watch_what, format, args);
  va_end(args);
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  watch_deadline = seconds_after(now, timeout_s);
  watch_timeout = timeout_s;
  watch_seq++;
  watch_active = 1;
  pthread_cond_signal(&watch_wake);
  pthread_mutex_unlock(&watch_lock);
}

static void watch_end(void) {
  pthread_mutex_lock(&watch_lock);
  watch_active = 0;
  pthread_cond_signal(&watch_wake);
  pthread_mutex_unlock(&watch_lock);
}

static int require_init(char* err, size_t err_len) {
  return world == MPI_COMM_NULL ? fail(err, err_len, LMT_ERR_INVALID_ARGUMENT, "MPI is not initialised") : 0;
}

/* Sets an Open MPI parameter through its environment variable unless the user set it. */
static void default_mca(const char* name, const char* value) {
  setenv(name, value, 0);
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
  if (getenv("OMPI_MCA_coll_tuned_use_dynamic_rules") == NULL && getenv("OMPI_MCA_coll_tuned_allreduce_algorithm") == NULL) {
    default_mca("OMPI_MCA_coll_tuned_use_dynamic_rules", "1");
    default_mca("OMPI_MCA_coll_tuned_allreduce_algorithm", "4");
  }
  int provided = 0;
  /* MPI_THREAD_MULTIPLE: the watchdog thread may call MPI_Abort while another thread waits in a collective. */
  int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided);
  if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Init_thread", err, err_len);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (provided < MPI_THREAD_MULTIPLE) {
    return fail(err, err_len, LMT_ERR_UNSUPPORTED, "this MPI provides thread level %d; lmtrain needs MPI_THREAD_MULTIPLE"
                " (its watchdog aborts a collective that waits too long)", provided);
  }
  if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &world)) != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_dup", err, err_len);
  MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN);
  if ((rc = MPI_Comm_rank(world, rank)) != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_rank", err, err_len);
  if ((rc = MPI_Comm_size(world, size)) != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_size", err, err_len);
  world_rank = *rank;
  world_size = *size;
  MPI_Comm node = MPI_COMM_NULL;
  rc = MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, *rank, MPI_INFO_NULL, &node);
  if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Comm_split_type", err, err_len);
  MPI_Comm_rank(node, local_rank);
  MPI_Comm_size(node, local_size);
  MPI_Comm_free(&node);
  return watch_start(err, err_len);
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

static const char* dtype_name(lmt_dtype dt) {
  switch (dt) {
    case LMT_F32: return "F32";
    case LMT_F64: return "F64";
    case LMT_I32: return "I32";
    case LMT_I64: return "I64";
    default: return "?";
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
    watch_begin(timeout_s, "MPI_Allreduce of %lld %s values", (long long)count, dtype_name(dt));
    rc = MPI_Allreduce(MPI_IN_PLACE, (char*)buf + done * element, n, type, mpi_op, world);
    watch_end();
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Allreduce", err, err_len);
  }
  return 0;
}

static int shim_broadcast(void* buf, int64_t bytes, int root, double timeout_s, char* err, size_t err_len) {
  int rc = require_init(err, err_len);
  if (rc != 0) return rc;
  for (int64_t done = 0; done < bytes; done += MAX_CHUNK) {
    int n = (int)(bytes - done < MAX_CHUNK ? bytes - done : MAX_CHUNK);
    watch_begin(timeout_s, "MPI_Bcast of %lld bytes from rank %d", (long long)bytes, root);
    rc = MPI_Bcast((char*)buf + done, n, MPI_BYTE, root, world);
    watch_end();
    if (rc != MPI_SUCCESS) return mpi_fail(rc, "MPI_Bcast", err, err_len);
  }
  return 0;
}

static int shim_barrier(double timeout_s, char* err, size_t err_len) {
  int rc = require_init(err, err_len);
  if (rc != 0) return rc;
  watch_begin(timeout_s, "MPI_Barrier");
  rc = MPI_Barrier(world);
  watch_end();
  return rc == MPI_SUCCESS ? 0 : mpi_fail(rc, "MPI_Barrier", err, err_len);
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
