/* Configuration space access: ECAM when the ACPI MCFG table describes it (PCI
 * Express, 4 KiB per function), else the legacy 0xcf8/0xcfc mechanism (256
 * bytes per function). ECAM is mapped one bus (1 MiB) at a time, on demand. */
#include "pci_internal.h"
#include <acpi/acpi.h>
#include <arch/io.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <mm/vmap.h>

struct mcfg_entry {
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved;
} __packed;

static paddr_t ecam_base;       /* physical address of bus start_bus */
static unsigned ecam_start, ecam_end;
static volatile uint8_t *ecam_bus[256];
static spinlock_t port_lock = SPINLOCK_INIT;

void pci_cfg_init(void)
{
	const struct acpi_header *mcfg = acpi_find_table("MCFG", 0);
	if (!mcfg || mcfg->length < sizeof(*mcfg) + 8 + sizeof(struct mcfg_entry))
		return;
	const struct mcfg_entry *e = (const void *)((const uint8_t *)mcfg + sizeof(*mcfg) + 8);
	unsigned n = (mcfg->length - sizeof(*mcfg) - 8) / sizeof(*e);
	for (unsigned i = 0; i < n; i++) {
		/* Segment 0 only: the machines we run on have one. */
		if (e[i].segment != 0 || e[i].end_bus < e[i].start_bus)
			continue;
		ecam_base = e[i].base;
		ecam_start = e[i].start_bus;
		ecam_end = e[i].end_bus;
		pr_info("pci: ECAM at %#llx, buses %u-%u\n", (unsigned long long)ecam_base, ecam_start, ecam_end);
		return;
	}
}

bool pci_cfg_ecam(void)
{
	return ecam_base != 0;
}

static volatile uint8_t *ecam_addr(unsigned bus, unsigned slot, unsigned func, unsigned off)
{
	if (bus < ecam_start || bus > ecam_end)
		return NULL;
	if (!ecam_bus[bus]) {
		void *p = ioremap(ecam_base + ((uint64_t)(bus - ecam_start) << 20), 1u << 20);
		if (!p)
			return NULL;
		ecam_bus[bus] = p;
	}
	return ecam_bus[bus] + ((slot << 15) | (func << 12) | off);
}

uint32_t pci_cfg_read(unsigned bus, unsigned slot, unsigned func, unsigned off, unsigned size)
{
	if (ecam_base) {
		volatile uint8_t *a = off < 4096 ? ecam_addr(bus, slot, func, off) : NULL;
		if (!a)
			return 0xffffffffu;
		switch (size) {
		case 1: return *a;
		case 2: return *(volatile uint16_t *)a;
		default: return *(volatile uint32_t *)a;
		}
	}
	if (off >= 256)
		return 0xffffffffu;
	uint64_t f = spin_lock_irqsave(&port_lock);
	outl(0xcf8, 0x80000000u | bus << 16 | slot << 11 | func << 8 | (off & 0xfc));
	uint32_t v;
	switch (size) {
	case 1: v = inb(0xcfc + (off & 3)); break;
	case 2: v = inw(0xcfc + (off & 2)); break;
	default: v = inl(0xcfc); break;
	}
	spin_unlock_irqrestore(&port_lock, f);
	return v;
}

void pci_cfg_write(unsigned bus, unsigned slot, unsigned func, unsigned off, unsigned size, uint32_t v)
{
	if (ecam_base) {
		volatile uint8_t *a = off < 4096 ? ecam_addr(bus, slot, func, off) : NULL;
		if (!a)
			return;
		switch (size) {
		case 1: *a = v; break;
		case 2: *(volatile uint16_t *)a = v; break;
		default: *(volatile uint32_t *)a = v; break;
		}
		return;
	}
	if (off >= 256)
		return;
	uint64_t f = spin_lock_irqsave(&port_lock);
	outl(0xcf8, 0x80000000u | bus << 16 | slot << 11 | func << 8 | (off & 0xfc));
	switch (size) {
	case 1: outb(0xcfc + (off & 3), v); break;
	case 2: outw(0xcfc + (off & 2), v); break;
	default: outl(0xcfc, v); break;
	}
	spin_unlock_irqrestore(&port_lock, f);
}

uint8_t pci_read8(const struct pci_dev *d, unsigned off)
{
	return pci_cfg_read(d->bus, d->slot, d->func, off, 1);
}

uint16_t pci_read16(const struct pci_dev *d, unsigned off)
{
	return pci_cfg_read(d->bus, d->slot, d->func, off, 2);
}

uint32_t pci_read32(const struct pci_dev *d, unsigned off)
{
	return pci_cfg_read(d->bus, d->slot, d->func, off, 4);
}

void pci_write8(const struct pci_dev *d, unsigned off, uint8_t v)
{
	pci_cfg_write(d->bus, d->slot, d->func, off, 1, v);
}

void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	pci_cfg_write(d->bus, d->slot, d->func, off, 2, v);
}

void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	pci_cfg_write(d->bus, d->slot, d->func, off, 4, v);
}

unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned after)
{
	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	unsigned p = after ? pci_read8(d, after + 1) : pci_read8(d, PCI_CAP_PTR);
	/* A device could loop its list: 48 capabilities fit in 256 bytes at most. */
	for (int n = 0; n < 48 && p >= 0x40; n++) {
		p &= 0xfc;
		if (pci_read8(d, p) == id)
			return p;
		p = pci_read8(d, p + 1);
	}
	return 0;
}

unsigned pci_find_ext_cap(const struct pci_dev *d, uint16_t id, unsigned after)
{
	if (!pci_cfg_ecam())
		return 0; /* port I/O reaches 256 bytes only */
	unsigned p = after ? pci_read32(d, after) >> 20 : PCI_EXT_CAP_START;
	/* Each header is 4 bytes, dword-aligned in 0x100..0xfff: a longer walk loops. */
	for (int n = 0; n < (4096 - 256) / 4 && p >= PCI_EXT_CAP_START && p < 4096; n++) {
		uint32_t h = pci_read32(d, p & ~3u);
		if (h == 0 || h == 0xffffffffu)
			return 0;
		if ((h & 0xffff) == id)
			return p & ~3u;
		p = h >> 20;
	}
	return 0;
}
