#ifndef CROSSRES_CMPI_SHIM_H
#define CROSSRES_CMPI_SHIM_H

#include <mpi.h>

// Open MPI defines its handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) as casts of the
// addresses of global objects, which Swift cannot import as constants: these accessors
// return them.

static inline MPI_Comm crossres_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype crossres_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype crossres_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype crossres_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op crossres_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Errhandler crossres_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *crossres_mpi_in_place(void) { return MPI_IN_PLACE; }

#endif
