/* Vector table and GSI routing. Vectors 0x20-0x2f stay reserved for the
 * (masked) PICs' spurious interrupts; 0x30-0xef are handed out here. */
#include "irq_internal.h"
#include <irq/lapic.h>
#include <acpi/acpi.h>
#include <acpi/tables.h>
#include <arch/spinlock.h>
#include <arch/trap.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>

#define FIRST_VECTOR 0x30
#define LAST_VECTOR 0xef
#define SPURIOUS_VECTOR 0xff
#define ERROR_VECTOR 0xfe
#define MAX_GSI 256

struct vector_slot {
	irq_handler_t fn;
	void *arg;
	uint64_t count;
};

static struct vector_slot vectors[NR_VECTORS];
static int gsi_vector[MAX_GSI];
static spinlock_t lock = SPINLOCK_INIT;

/* ISA IRQ -> GSI and mode, from the MADT's interrupt source overrides. */
static struct {
	unsigned gsi;
	unsigned mode;
} isa_map[16];

static void dispatch(struct trap_frame *tf)
{
	struct vector_slot *v = &vectors[tf->vector];

	v->count++;
	if (v->fn)
		v->fn(v->arg);
	lapic_eoi();
}

static void spurious(struct trap_frame *tf)
{
	(void)tf; /* no EOI for spurious interrupts */
}

static void apic_error(struct trap_frame *tf)
{
	(void)tf;
	lapic_write(LAPIC_ESR, 0);
	printk(LOG_WARN, "irq: local APIC error %#x\n", lapic_read(LAPIC_ESR));
	lapic_eoi();
}

static void pic_spurious(struct trap_frame *tf)
{
	(void)tf; /* masked PIC: nothing to acknowledge */
}

int irq_alloc_vector(irq_handler_t fn, void *arg)
{
	uint64_t f = spin_lock_irqsave(&lock);
	for (int v = FIRST_VECTOR; v <= LAST_VECTOR; v++) {
		if (!vectors[v].fn) {
			vectors[v].fn = fn;
			vectors[v].arg = arg;
			vectors[v].count = 0;
			spin_unlock_irqrestore(&lock, f);
			trap_set_handler(v, dispatch);
			return v;
		}
	}
	spin_unlock_irqrestore(&lock, f);
	return -ENOSPC;
}

void irq_free_vector(int v)
{
	if (v < FIRST_VECTOR || v > LAST_VECTOR)
		return;
	trap_set_handler(v, NULL);
	uint64_t f = spin_lock_irqsave(&lock);
	vectors[v].fn = NULL;
	vectors[v].arg = NULL;
	spin_unlock_irqrestore(&lock, f);
}

uint64_t irq_count(int v)
{
	return v >= 0 && v < NR_VECTORS ? vectors[v].count : 0;
}

int irq_attach(unsigned gsi, unsigned mode, irq_handler_t fn, void *arg)
{
	if (gsi >= MAX_GSI || !fn)
		return -EINVAL;
	if (gsi_vector[gsi])
		return -EBUSY;
	int v = irq_alloc_vector(fn, arg);
	if (v < 0)
		return v;
	int r = ioapic_route(gsi, v, mode, lapic_id());
	if (r) {
		irq_free_vector(v);
		return r;
	}
	gsi_vector[gsi] = v;
	ioapic_set_masked(gsi, 0);
	return v;
}

int irq_attach_isa(unsigned isa_irq, irq_handler_t fn, void *arg)
{
	if (isa_irq >= 16)
		return -EINVAL;
	return irq_attach(isa_map[isa_irq].gsi, isa_map[isa_irq].mode, fn, arg);
}

void irq_detach(unsigned gsi)
{
	if (gsi >= MAX_GSI || !gsi_vector[gsi])
		return;
	ioapic_set_masked(gsi, 1);
	irq_free_vector(gsi_vector[gsi]);
	gsi_vector[gsi] = 0;
}

void irq_mask(unsigned gsi)
{
	ioapic_set_masked(gsi, 1);
}

void irq_unmask(unsigned gsi)
{
	ioapic_set_masked(gsi, 0);
}

static unsigned iso_mode(uint16_t flags)
{
	unsigned mode = 0;
	if ((flags & 3) == 3)
		mode |= IRQ_ACTIVE_LOW;
	if (((flags >> 2) & 3) == 3)
		mode |= IRQ_LEVEL;
	return mode;
}

void irq_init(void)
{
	paddr_t lapic_base = 0;

	for (unsigned i = 0; i < 16; i++)
		isa_map[i].gsi = i; /* ISA default: identity, edge, active high */

	pic_disable();
	for (unsigned v = 0x20; v < 0x30; v++)
		trap_set_handler(v, pic_spurious);
	trap_set_handler(SPURIOUS_VECTOR, spurious);
	trap_set_handler(ERROR_VECTOR, apic_error);

	const struct acpi_madt *madt = (const void *)acpi_find_table("APIC", 0);
	if (madt && madt->h.length >= sizeof(*madt)) {
		lapic_base = madt->lapic_addr;
		const uint8_t *p = madt->entries, *end = (const uint8_t *)madt + madt->h.length;
		/* Entries come from firmware: stop at the first malformed length. */
		while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
			const struct madt_entry *e = (const void *)p;
			if (e->type == MADT_IOAPIC && e->length >= sizeof(struct madt_ioapic)) {
				const struct madt_ioapic *io = (const void *)e;
				ioapic_add(io->addr, io->gsi_base);
			} else if (e->type == MADT_ISO && e->length >= sizeof(struct madt_iso)) {
				const struct madt_iso *iso = (const void *)e;
				if (iso->source < 16) {
					isa_map[iso->source].gsi = iso->gsi;
					isa_map[iso->source].mode = iso_mode(iso->flags);
				}
			} else if (e->type == MADT_LAPIC_ADDR && e->length >= sizeof(struct madt_lapic_addr)) {
				lapic_base = ((const struct madt_lapic_addr *)e)->addr;
			}
			p += p[1];
		}
	} else {
		/* No MADT: the PC defaults. */
		ioapic_add(0xfec00000, 0);
		isa_map[0].gsi = 2;
	}
	lapic_init(lapic_base);
}
