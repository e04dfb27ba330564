/*
 * NVMe driver internals, shared by the files of this module (Linux's
 * drivers/nvme/host split: queue.c and prp.c are the queue pair and data
 * pointer logic, core.c the controller (reset, enable, identify, namespaces),
 * ns.c the block devices, pci.c the PCI transport). Nothing outside
 * modules/nvme includes this.
 */
#ifndef NVME_NVME_H
#define NVME_NVME_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/memlayout.h>
#include <arch/spinlock.h>
#include <sched/wait.h>
#include "nvme_spec.h"

/* A physically contiguous piece of a transfer. */
struct nvme_sg {
	paddr_t addr;
	uint32_t len;
};

/* PRP list entries in one list page: one page of PRP entries, so a transfer
 * is at most NVME_PRP_MAX_PAGES memory pages (the first through PRP1). */
#define NVME_PRP_PER_PAGE (NVME_PAGE_SIZE / 8)
#define NVME_PRP_MAX_PAGES (NVME_PRP_PER_PAGE + 1)

/*
 * Fill cmd->prp1/prp2 for the transfer sg[0..n). Only the first piece may
 * start inside a page (dword aligned) and only the last may end inside one;
 * others are -EINVAL. More than two pages use the PRP list in list_page
 * (list_phys); more than NVME_PRP_MAX_PAGES is -E2BIG. Returns the byte count.
 */
long nvme_prp_build(struct nvme_sqe *cmd, const struct nvme_sg *sg, unsigned n,
		    uint64_t *list_page, paddr_t list_phys);

/* Called when a command completes: status is the status field without the
 * phase bit (0 = success, or NVME_STATUS_TIMEOUT/RESET), result is CQE DW0. */
typedef void (*nvme_done_fn)(void *arg, uint16_t status, uint32_t result);

enum nvme_slot_state { NVME_SLOT_FREE, NVME_SLOT_BUSY, NVME_SLOT_EXPIRED };

/* One outstanding command, indexed by the low bits of its command id. */
struct nvme_slot {
	nvme_done_fn done;
	void *arg;
	uint64_t deadline;      /* monotonic ns; 0 = none */
	uint8_t gen;            /* high bits of the command id, bumped on reuse */
	uint8_t state;          /* enum nvme_slot_state */
	uint16_t next_free;
	uint64_t *prp_list;     /* one page, allocated on first use and kept */
};

/*
 * Command id: slot index in bits 11:0, a 4-bit generation above, so a late
 * or replayed completion for a reused slot does not match the new command.
 */
#define NVME_CID_SLOT_BITS 12
#define NVME_CID(slot, gen) ((uint16_t)((slot) | ((unsigned)((gen) & 0xf) << NVME_CID_SLOT_BITS)))
#define NVME_QUEUE_MAX_DEPTH (1u << NVME_CID_SLOT_BITS)

/* A submission/completion queue pair (qid 0 is the admin pair). */
struct nvme_queue {
	spinlock_t lock;
	uint16_t qid;
	uint16_t depth;         /* entries in each ring */
	struct nvme_sqe *sq;
	struct nvme_cqe *cq;
	volatile uint32_t *sq_db;
	volatile uint32_t *cq_db;
	uint16_t sq_tail;       /* next SQ entry we fill */
	uint16_t sq_head;       /* last SQHD the controller reported */
	uint16_t cq_head;       /* next CQ entry we look at */
	uint8_t cq_phase;       /* phase tag a new entry carries */
	bool dead;              /* controller down: submissions fail */
	struct nvme_slot *slots; /* depth - 1 of them: the SQ can never overrun */
	uint16_t free_head;     /* free slot list; 0xffff = empty */
	uint16_t nfree;
	struct wait_queue slot_wait;
	int vector;             /* MSI-X vector handling this CQ, -1 = polled */
	uint64_t completed;
	uint64_t dropped;       /* completions ignored as invalid */
};

/* Rings and slots for a pair of depth entries (2..NVME_QUEUE_MAX_DEPTH);
 * doorbells at regs + NVME_{SQ,CQ}_DB(qid, dstrd). 0 or -ENOMEM/-EINVAL. */
int nvme_queue_init(struct nvme_queue *q, uint16_t qid, uint16_t depth, volatile void *regs,
		    unsigned dstrd);
void nvme_queue_destroy(struct nvme_queue *q);
paddr_t nvme_queue_sq_phys(const struct nvme_queue *q);
paddr_t nvme_queue_cq_phys(const struct nvme_queue *q);

/*
 * Submit cmd (its cid is set here) with data sg[0..n) (n = 0: PRP1/PRP2 as
 * the caller set them, zero or a queue's ring). done(arg, ...) runs
 * from nvme_queue_process() (interrupt or polling context) or from
 * nvme_queue_cancel_all(). timeout_ns 0 = no deadline. Returns 0, -EAGAIN
 * when every slot is taken, -EIO when the queue is dead, or a PRP error.
 */
int nvme_queue_submit(struct nvme_queue *q, struct nvme_sqe *cmd, const struct nvme_sg *sg,
		      unsigned n, nvme_done_fn done, void *arg, uint64_t timeout_ns);
/* The same, sleeping while every slot is taken (thread context). */
int nvme_queue_submit_wait(struct nvme_queue *q, struct nvme_sqe *cmd, const struct nvme_sg *sg,
			   unsigned n, nvme_done_fn done, void *arg, uint64_t timeout_ns);

/*
 * Consume new completion entries: each is checked (command id known and in
 * flight, SQ id ours, SQ head within what we submitted) and an invalid one
 * is logged, counted in q->dropped and skipped. Returns the number of
 * commands completed.
 */
unsigned nvme_queue_process(struct nvme_queue *q);

/* Mark commands whose deadline passed as expired (their completion will not
 * be trusted any more); returns how many expired now. The caller resets the
 * controller, then calls nvme_queue_cancel_all(). */
unsigned nvme_queue_expire(struct nvme_queue *q, uint64_t now_ns);

/* With the controller disabled (no DMA any more): complete every command
 * still outstanding (expired ones with NVME_STATUS_TIMEOUT, others with
 * status) and empty both rings, ready for the queue to be created again. */
void nvme_queue_cancel_all(struct nvme_queue *q, uint16_t status);

unsigned nvme_queue_inflight(struct nvme_queue *q);

/* Submit and wait for the completion by polling (admin commands, and
 * commands during reset). Returns the status, or -ETIMEDOUT after which the
 * caller must disable the controller and call nvme_queue_cancel_all(). */
int nvme_queue_exec_poll(struct nvme_queue *q, struct nvme_sqe *cmd, const struct nvme_sg *sg,
			 unsigned n, uint64_t timeout_ns, uint32_t *result);

#endif
