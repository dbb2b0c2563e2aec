/* Tiny C shim for DPDK macros that are not functions. */
#include "wrapper.h"

int ferrovs_rte_errno(void) { return rte_errno; }
