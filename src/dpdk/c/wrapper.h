/* Headers bindgen reads; the only DPDK surface ferrovs uses. */
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_bus_vdev.h>

/* rte_errno is a per-lcore TLS macro bindgen cannot express; this shim reads it. */
int ferrovs_rte_errno(void);
