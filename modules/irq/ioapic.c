/* I/O APICs: redirection entries for GSIs. */
#include "irq_internal.h"
#include <arch/io.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <mm/vmap.h>

#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_VER 0x01
#define REDIR(n) (0x10 + 2 * (n))

#define RTE_MASKED (1u << 16)
#define RTE_LEVEL (1u << 15)
#define RTE_LOW (1u << 13)

struct ioapic ioapics[MAX_IOAPICS];
unsigned nioapics;

static uint32_t rd(struct ioapic *io, unsigned reg)
{
	mmio_write32(io->mmio + IOREGSEL, reg);
	return mmio_read32(io->mmio + IOWIN);
}

static void wr(struct ioapic *io, unsigned reg, uint32_t v)
{
	mmio_write32(io->mmio + IOREGSEL, reg);
	mmio_write32(io->mmio + IOWIN, v);
}

int ioapic_add(paddr_t addr, unsigned gsi_base)
{
	if (nioapics == MAX_IOAPICS)
		return -ENOSPC;
	struct ioapic *io = &ioapics[nioapics];
	io->mmio = ioremap(addr, 4096);
	if (!io->mmio)
		return -ENOMEM;
	io->gsi_base = gsi_base;
	io->count = ((rd(io, IOAPIC_VER) >> 16) & 0xff) + 1;
	for (unsigned i = 0; i < io->count; i++) {
		wr(io, REDIR(i) + 1, 0);
		wr(io, REDIR(i), RTE_MASKED);
	}
	nioapics++;
	printk(LOG_INFO, "irq: I/O APIC at %#lx, GSIs %u-%u\n", (unsigned long)addr, gsi_base,
	       gsi_base + io->count - 1);
	return 0;
}

static struct ioapic *find(unsigned gsi, unsigned *pin)
{
	for (unsigned i = 0; i < nioapics; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->count) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

int ioapic_route(unsigned gsi, unsigned vector, unsigned mode, unsigned dest_apic)
{
	unsigned pin;
	struct ioapic *io = find(gsi, &pin);

	if (!io)
		return -EINVAL;
	uint32_t lo = vector | ((mode & IRQ_LEVEL) ? RTE_LEVEL : 0) | ((mode & IRQ_ACTIVE_LOW) ? RTE_LOW : 0);
	wr(io, REDIR(pin) + 1, dest_apic << 24);
	wr(io, REDIR(pin), lo | RTE_MASKED);
	return 0;
}

void ioapic_set_masked(unsigned gsi, int masked)
{
	unsigned pin;
	struct ioapic *io = find(gsi, &pin);

	if (!io)
		return;
	uint32_t lo = rd(io, REDIR(pin));
	wr(io, REDIR(pin), masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
}
