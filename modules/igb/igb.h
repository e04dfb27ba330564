/* The 82576 PF driver's state, shared by igb.c (bring-up) and mbx.c (the VF
 * mailbox). */
#ifndef IGB_H
#define IGB_H

#include <stdbool.h>
#include <stdint.h>
#include <arch/io.h>
#include <pci/pci.h>
#include <sched/wait.h>
#include "igb_regs.h"

#define IGB_MAX_VFS 7 /* the 82576 has 8 pools; the PF keeps one */

struct igb_vf {
	uint8_t mac[6];
	bool cts;                     /* answered VF_RESET: may send other messages */
	uint16_t mc[IGB_MAX_VF_MC];   /* multicast hashes (12 bits each) */
	unsigned nmc;
};

struct igb_pf {
	struct pci_dev *pdev;
	volatile uint8_t *regs;
	uint8_t mac[6];
	unsigned nvfs;
	struct igb_vf vf[IGB_MAX_VFS];
	struct wait_queue wq;
	volatile bool pending;        /* the mailbox interrupt fired */
	bool irq;                     /* MSI-X works (else the mailbox is polled) */
};

static inline uint32_t igb_rd(struct igb_pf *pf, unsigned reg)
{
	return mmio_read32(pf->regs + reg);
}

static inline void igb_wr(struct igb_pf *pf, unsigned reg, uint32_t v)
{
	mmio_write32(pf->regs + reg, v);
}

/* mbx.c: a function-level reset of VF n (VFLRE), and one pending message. */
void igb_vf_reset_event(struct igb_pf *pf, unsigned vf);
void igb_vf_message(struct igb_pf *pf, unsigned vf);
/* The receive-address entry (RAR) a VF's MAC occupies: the last ones, as Linux does. */
static inline unsigned igb_vf_rar(unsigned vf)
{
	return IGB_RAR_ENTRIES - 1 - vf;
}

#endif
