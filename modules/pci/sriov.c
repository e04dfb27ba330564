/* SR-IOV (PCI Express base spec, section 9.3.3): a physical function's
 * capability sets how many virtual functions exist; each VF is a function of
 * its own at routing id PF + First VF Offset + i * VF Stride, whose BARs are
 * not in its own header but slices of the PF's VF BARs. Firmware such as
 * SeaBIOS leaves those empty, so they are placed here in the free part of
 * the upstream bridge's memory window. */
#include "pci_internal.h"
#include <console/printk.h>
#include <lib/errno.h>
#include <mm/kmalloc.h>
#include <sched/thread.h>
#include <time/clock.h>

#define SRIOV_CTRL 0x08
#define SRIOV_CTRL_VFE (1u << 0)
#define SRIOV_CTRL_MSE (1u << 3)
#define SRIOV_INITIAL_VFS 0x0c
#define SRIOV_TOTAL_VFS 0x0e
#define SRIOV_NUM_VFS 0x10
#define SRIOV_VF_OFFSET 0x14
#define SRIOV_VF_STRIDE 0x16
#define SRIOV_VF_DID 0x1a
#define SRIOV_SYS_PGSIZE 0x20
#define SRIOV_VF_BAR0 0x24

#define BRIDGE_MEM_BASE 0x20

unsigned pci_sriov_total_vfs(const struct pci_dev *pf)
{
	unsigned cap = pci_find_ext_cap(pf, PCI_EXT_CAP_SRIOV, 0);
	return cap ? pci_read16(pf, cap + SRIOV_TOTAL_VFS) : 0;
}

static const char *bdf(const struct pci_dev *d, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	buf[0] = hex[d->bus >> 4];
	buf[1] = hex[d->bus & 15];
	buf[2] = ':';
	buf[3] = hex[d->slot >> 4];
	buf[4] = hex[d->slot & 15];
	buf[5] = '.';
	buf[6] = (char)('0' + d->func);
	buf[7] = 0;
	return buf;
}

/* The bridge whose secondary bus is `bus` (NULL on bus 0 or when none). */
static struct pci_dev *upstream_bridge(unsigned bus)
{
	for (struct pci_dev *d = pci_devices(); d; d = d->next)
		if ((pci_read8(d, PCI_HEADER_TYPE) & 0x7f) == 1 && pci_read8(d, PCI_SECONDARY_BUS) == bus)
			return d;
	return NULL;
}

/* Highest end of any memory BAR on `bus` inside [lo, hi]. */
static uint64_t used_end(unsigned bus, uint64_t lo, uint64_t hi)
{
	uint64_t end = lo;
	for (struct pci_dev *d = pci_devices(); d; d = d->next) {
		if (d->bus != bus)
			continue;
		for (unsigned i = 0; i < PCI_BAR_COUNT; i++) {
			const struct pci_bar *b = &d->bar[i];
			if (b->io || !b->addr || !b->size)
				continue;
			if (b->addr >= lo && b->addr <= hi && b->addr + b->size > end)
				end = b->addr + b->size;
		}
	}
	return end;
}

/* Give the empty VF BARs addresses in the upstream bridge's (non-prefetchable)
 * memory window, above everything already there. */
static int place_vf_bars(struct pci_dev *pf, unsigned cap, struct pci_bar *vbar, unsigned nr)
{
	char b[8];
	struct pci_dev *br = upstream_bridge(pf->bus);
	if (!br) {
		pr_warn("pci: %s: VF BARs are unassigned and there is no bridge window to put them in\n", bdf(pf, b));
		return -ENOSPC;
	}
	uint32_t w = pci_read32(br, BRIDGE_MEM_BASE);
	uint64_t lo = (uint64_t)(w & 0xfff0u) << 16;
	uint64_t hi = ((uint64_t)(w >> 16 & 0xfff0u) << 16) | 0xfffffu;
	if (hi < lo)
		return -ENOSPC;
	uint64_t next = used_end(pf->bus, lo, hi);
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++) {
		struct pci_bar *v = &vbar[i];
		if (v->io || !v->size)
			continue;
		uint64_t total = v->size * nr;
		uint64_t at = (next + v->size - 1) & ~(v->size - 1);
		if (at < next || at + total - 1 > hi || at + total < at) {
			pr_warn("pci: %s: no room for VF BAR %u (%llu bytes) in the bridge window %#llx-%#llx\n",
				bdf(pf, b), i, (unsigned long long)total, (unsigned long long)lo, (unsigned long long)hi);
			return -ENOSPC;
		}
		v->addr = at;
		pr_info("pci: %s: VF BAR %u placed at %#llx (%u x %llu bytes)\n", bdf(pf, b), i, (unsigned long long)at, nr,
			(unsigned long long)v->size);
		pci_write32(pf, cap + SRIOV_VF_BAR0 + 4 * i, (uint32_t)at | (v->is64 ? 4u : 0) | (v->prefetch ? 8u : 0));
		if (v->is64)
			pci_write32(pf, cap + SRIOV_VF_BAR0 + 4 * (i + 1), (uint32_t)(at >> 32));
		next = at + total;
		if (v->is64)
			i++;
	}
	return 0;
}

int pci_sriov_enable(struct pci_dev *pf, unsigned nr_vfs)
{
	char b[8];
	unsigned cap = pci_find_ext_cap(pf, PCI_EXT_CAP_SRIOV, 0);
	if (!cap)
		return -ENODEV;
	uint16_t ctrl = pci_read16(pf, cap + SRIOV_CTRL);
	if (ctrl & SRIOV_CTRL_VFE)
		return -EBUSY;
	unsigned total = pci_read16(pf, cap + SRIOV_TOTAL_VFS);
	if (nr_vfs == 0 || nr_vfs > total)
		return -EINVAL;
	/* Offset and stride depend on NumVFs: read them after setting it. */
	pci_write16(pf, cap + SRIOV_NUM_VFS, (uint16_t)nr_vfs);
	unsigned offset = pci_read16(pf, cap + SRIOV_VF_OFFSET);
	unsigned stride = pci_read16(pf, cap + SRIOV_VF_STRIDE);
	uint16_t vf_did = pci_read16(pf, cap + SRIOV_VF_DID);
	unsigned rid = (unsigned)pf->bus << 8 | pf->slot << 3 | pf->func;
	unsigned last = rid + offset + (nr_vfs - 1) * stride;
	/* VFs on another bus would need the bridge's bus range widened: not done. */
	if (offset == 0 || (nr_vfs > 1 && stride == 0) || last >> 8 != pf->bus) {
		pr_warn("pci: %s: VF routing ids (offset %u, stride %u) leave bus %u\n", bdf(pf, b), offset, stride, pf->bus);
		pci_write16(pf, cap + SRIOV_NUM_VFS, 0);
		return -ERANGE;
	}
	/* 4 KiB system pages: the VF BARs' granularity. */
	pci_write32(pf, cap + SRIOV_SYS_PGSIZE, 1);
	struct pci_bar vbar[PCI_BAR_COUNT] = { 0 };
	pci_size_bar_regs(pf, cap + SRIOV_VF_BAR0, PCI_BAR_COUNT, vbar);
	bool empty = false;
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++)
		if (!vbar[i].io && vbar[i].size && !vbar[i].addr)
			empty = true;
	int r = empty ? place_vf_bars(pf, cap, vbar, nr_vfs) : 0;
	if (r) {
		pci_write16(pf, cap + SRIOV_NUM_VFS, 0);
		return r;
	}
	pci_write16(pf, cap + SRIOV_CTRL, ctrl | SRIOV_CTRL_VFE | SRIOV_CTRL_MSE);
	/* The spec gives VFs 100 ms before they must answer configuration requests. */
	thread_sleep_ns(100 * NSEC_PER_MSEC);
	unsigned n = 0;
	for (unsigned i = 0; i < nr_vfs; i++) {
		unsigned vrid = rid + offset + i * stride;
		struct pci_dev *d = kzalloc(sizeof(*d));
		if (!d)
			break;
		d->bus = vrid >> 8;
		d->slot = vrid >> 3 & 31;
		d->func = vrid & 7;
		/* A VF's own vendor and device ids may read as all ones (spec): the PF's and VF Device ID. */
		d->vendor = pf->vendor;
		d->device = vf_did;
		d->revision = pci_read8(d, PCI_REVISION);
		d->class = pci_read32(d, PCI_REVISION) >> 8;
		if (d->class == 0xffffff)
			d->class = pf->class;
		d->subsys_vendor = pci_read16(d, PCI_SUBSYS_VENDOR);
		d->subsys_device = pci_read16(d, PCI_SUBSYS_ID);
		d->irq_line = 0xff; /* VFs have no INTx */
		for (unsigned k = 0; k < PCI_BAR_COUNT; k++) {
			d->bar[k] = vbar[k];
			if (vbar[k].addr && !vbar[k].io)
				d->bar[k].addr = vbar[k].addr + (uint64_t)i * vbar[k].size;
		}
		d->physfn = pf;
		d->vf_index = i;
		pci_add_dev(d);
		n++;
		pr_info("pci: %s VF %u at %02x:%02x.%u %04x:%04x\n", bdf(pf, b), i, d->bus, d->slot, d->func, d->vendor,
			d->device);
	}
	return n ? (int)n : -ENOMEM;
}
