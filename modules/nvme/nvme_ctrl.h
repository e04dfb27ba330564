/* NVMe controller and namespace state, shared by core.c, ns.c and pci.c. */
#ifndef NVME_CTRL_H
#define NVME_CTRL_H

#include <stddef.h>
#include <stdint.h>
#include <arch/io.h>
#include <irq/irq.h>
#include <sched/mutex.h>
#include <sched/wait.h>
#include <time/timer.h>
#include "nvme.h"

#define NVME_MAX_CTRLS 8
#define NVME_MAX_NS 16
#define NVME_MAX_IOQ 16
#define NVME_IO_DEPTH 128
/* A command that has not completed after this long resets the controller. */
#define NVME_IO_TIMEOUT_NS (30 * NSEC_PER_SEC)

enum nvme_ctrl_state { NVME_CTRL_NEW, NVME_CTRL_LIVE, NVME_CTRL_RESETTING, NVME_CTRL_DEAD };

struct nvme_ctrl;
struct blk_dev;

/* What the transport (pci.c) provides. */
struct nvme_ctrl_ops {
	/* Set c->irq_entry[i] for each I/O queue i (-1: polled), or install a
	 * shared handler itself (nvme_ctrl_irq_shared). */
	int (*setup_irqs)(struct nvme_ctrl *c);
	/* Route interrupt entry to fn(arg); returns the vector or -errno. */
	int (*attach_irq)(struct nvme_ctrl *c, unsigned entry, irq_handler_t fn, void *arg);
};

struct nvme_ns {
	struct nvme_ctrl *ctrl;
	uint32_t nsid;
	unsigned index;        /* nvme<ctrl>n<index>, from 1 in discovery order */
	uint64_t blocks;
	unsigned lba_shift;
	bool readonly;         /* write protected (NSATTR) */
	struct blk_dev *blk;   /* /dev/nvme<c>n<index> */
};

struct nvme_ctrl {
	const struct nvme_ctrl_ops *ops;
	void *transport;       /* the struct pci_dev */
	volatile uint8_t *regs;
	size_t regs_len;       /* bytes mapped: doorbells past it are not used */
	unsigned instance;     /* nvme<instance> */
	uint64_t cap;
	uint32_t timeout_ms;   /* CAP.TO: enable/disable limit */
	struct nvme_queue admin;
	struct nvme_queue *ioq;
	unsigned nr_ioq;
	int irq_entry[NVME_MAX_IOQ];
	uint32_t max_transfer; /* bytes per command */
	uint32_t nn;
	bool vwc;              /* volatile write cache: flush means something */
	char serial[21], model[41];
	struct nvme_ns *ns[NVME_MAX_NS];
	unsigned nr_ns;

	volatile int state;    /* enum nvme_ctrl_state */
	struct wait_queue state_wait;
	struct mutex reset_lock;
	struct wait_queue reset_wait;
	volatile bool reset_requested;
	struct timer watchdog;
	volatile bool watchdog_armed;
	uint64_t timeouts, resets;
};

extern struct nvme_ctrl *nvme_ctrls[NVME_MAX_CTRLS];

/* Bring up a controller whose registers are mapped at c->regs. */
int nvme_ctrl_init(struct nvme_ctrl *c, unsigned nr_cpus);
unsigned nvme_nr_ctrls(void);
/* Disable and re-enable (also what a timeout does); 0 when it came back. */
int nvme_ctrl_reset(struct nvme_ctrl *c);
/* Expire commands whose deadline is before now and, if any did, have the
 * reset thread reset the controller. Returns how many expired. */
unsigned nvme_ctrl_check_timeouts(struct nvme_ctrl *c, uint64_t now, unsigned *inflight);
/* Arm the timeout watchdog if it is not (called on I/O submission). */
void nvme_ctrl_watch(struct nvme_ctrl *c);
/* A polled admin command with an optional data buffer (direct-map memory,
 * at most two pages). 0, -EIO for an error status, -ETIMEDOUT. */
int nvme_admin(struct nvme_ctrl *c, struct nvme_sqe *cmd, void *buf, size_t len, uint32_t *result);
void nvme_ctrl_irq_shared(struct nvme_ctrl *c, void **arg, irq_handler_t *fn);

/* ns.c */
/* Resubmit commands a reset sent back (the controller is up or dead now). */
void nvme_ns_resume(struct nvme_ctrl *c);
/* Register a block device (/dev/nvme<c>n<i>) for every namespace of c. */
int nvme_ns_register(struct nvme_ctrl *c);

#endif
