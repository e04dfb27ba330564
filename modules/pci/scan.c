/* Enumeration: every function on bus 0 and on the buses behind bridges, BARs
 * sized (the firmware assigned them), then each device offered to the
 * PCI_DRIVER entries that match it. */
#include "pci_internal.h"
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/errno.h>
#include <mm/kmalloc.h>
#include <mm/vmap.h>

KTABLE_DEFINE(struct pci_driver, pci_driver);

static struct pci_dev *devices, **devices_tail = &devices;
static uint8_t bus_seen[256 / 8];

struct pci_dev *pci_devices(void)
{
	return devices;
}

/* Size nbars BAR registers from config offset base into out (the caller
 * keeps decoding off while they hold all ones). */
void pci_size_bar_regs(struct pci_dev *d, unsigned base, unsigned nbars, struct pci_bar *out)
{
	for (unsigned i = 0; i < nbars; i++) {
		unsigned off = base + 4 * i;
		uint32_t lo = pci_read32(d, off);
		struct pci_bar *b = &out[i];
		if (lo & 1) {
			pci_write32(d, off, 0xffffffffu);
			uint32_t mask = pci_read32(d, off) & ~3u;
			pci_write32(d, off, lo);
			b->io = true;
			b->addr = lo & ~3u;
			b->size = mask ? (~mask + 1) & 0xffff : 0;
			continue;
		}
		b->is64 = ((lo >> 1) & 3) == 2;
		b->prefetch = lo & 8;
		uint64_t addr = lo & ~0xfu;
		pci_write32(d, off, 0xffffffffu);
		uint64_t mask = pci_read32(d, off) & ~0xfu;
		pci_write32(d, off, lo);
		if (b->is64 && i + 1 < nbars) {
			uint32_t hi = pci_read32(d, off + 4);
			pci_write32(d, off + 4, 0xffffffffu);
			mask |= (uint64_t)pci_read32(d, off + 4) << 32;
			pci_write32(d, off + 4, hi);
			addr |= (uint64_t)hi << 32;
		} else {
			mask |= 0xffffffff00000000ull;
		}
		b->addr = addr;
		b->size = mask & 0xfffffff0u ? ~mask + 1 : 0;
		if (b->is64)
			i++; /* the upper half is not a BAR of its own */
	}
}

static void size_bars(struct pci_dev *d, unsigned nbars)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	/* No decoding while the BARs hold all ones. */
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	pci_size_bar_regs(d, PCI_BAR0, nbars, d->bar);
	pci_write16(d, PCI_COMMAND, cmd);
}

void pci_add_dev(struct pci_dev *d)
{
	*devices_tail = d;
	devices_tail = &d->next;
}

static void scan_bus(unsigned bus);

static void add_function(unsigned bus, unsigned slot, unsigned func)
{
	struct pci_dev *d = kzalloc(sizeof(*d));
	if (!d) {
		pr_err("pci: out of memory at %02x:%02x.%u\n", bus, slot, func);
		return;
	}
	d->bus = bus;
	d->slot = slot;
	d->func = func;
	d->vendor = pci_read16(d, PCI_VENDOR_ID);
	d->device = pci_read16(d, PCI_DEVICE_ID);
	d->revision = pci_read8(d, PCI_REVISION);
	d->class = pci_read32(d, PCI_REVISION) >> 8;
	uint8_t htype = pci_read8(d, PCI_HEADER_TYPE) & 0x7f;
	if (htype == 0) {
		d->subsys_vendor = pci_read16(d, PCI_SUBSYS_VENDOR);
		d->subsys_device = pci_read16(d, PCI_SUBSYS_ID);
		d->irq_line = pci_read8(d, PCI_INTERRUPT_LINE);
		d->irq_pin = pci_read8(d, PCI_INTERRUPT_PIN);
		size_bars(d, 6);
	} else if (htype == 1) {
		size_bars(d, 2);
	}
	pci_add_dev(d);
	pr_debug("pci: %02x:%02x.%u %04x:%04x class %06x\n", bus, slot, func, d->vendor, d->device, d->class);
	if (htype == 1) {
		unsigned sec = pci_read8(d, PCI_SECONDARY_BUS);
		if (sec > bus)
			scan_bus(sec);
	}
}

static void scan_bus(unsigned bus)
{
	if (bus_seen[bus / 8] & (1u << (bus % 8)))
		return; /* a bridge pointing back: do not loop */
	bus_seen[bus / 8] |= 1u << (bus % 8);
	for (unsigned slot = 0; slot < 32; slot++) {
		if ((pci_cfg_read(bus, slot, 0, PCI_VENDOR_ID, 2) & 0xffff) == 0xffff)
			continue;
		unsigned nfunc = pci_cfg_read(bus, slot, 0, PCI_HEADER_TYPE, 1) & 0x80 ? 8 : 1;
		for (unsigned func = 0; func < nfunc; func++)
			if ((pci_cfg_read(bus, slot, func, PCI_VENDOR_ID, 2) & 0xffff) != 0xffff)
				add_function(bus, slot, func);
	}
}

static int pci_scan(void)
{
	pci_cfg_init();
	scan_bus(0);
	unsigned n = 0;
	for (struct pci_dev *d = devices; d; d = d->next)
		n++;
	pr_info("pci: %u functions (%s)\n", n, pci_cfg_ecam() ? "ECAM" : "port I/O");
	return 0;
}
INITCALL(INIT_SUBSYS, pci_scan);

static bool id_match(const struct pci_id *id, const struct pci_dev *d)
{
	return (id->vendor == PCI_ANY || id->vendor == d->vendor) &&
	       (id->device == PCI_ANY || id->device == d->device) &&
	       (d->class & id->class_mask) == (id->class & id->class_mask);
}

static int pci_probe_all(void)
{
	for (struct pci_dev *d = devices; d; d = d->next) {
		const struct pci_driver *drv;
		ktable_foreach(drv, pci_driver) {
			const struct pci_id *id;
			for (id = drv->ids; id->vendor; id++)
				if (id_match(id, d))
					break;
			if (!id->vendor)
				continue;
			int r = drv->probe(d, id);
			if (r == 0) {
				d->driver = drv;
				pr_info("pci: %02x:%02x.%u %04x:%04x -> %s\n", d->bus, d->slot, d->func, d->vendor,
					d->device, drv->name);
				break;
			}
			/* -ENODEV: nothing to drive it with (a virtio device without its driver). */
			printk(r == -ENODEV ? LOG_INFO : LOG_WARN, "pci: %02x:%02x.%u: %s did not take it (error %d)\n",
			       d->bus, d->slot, d->func, drv->name, r);
		}
	}
	return 0;
}
INITCALL(INIT_DEVICE, pci_probe_all);

void pci_enable(struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd | PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

void *pci_map_bar(struct pci_dev *d, unsigned bar, uint64_t offset, size_t len)
{
	if (bar >= PCI_BAR_COUNT)
		return NULL;
	struct pci_bar *b = &d->bar[bar];
	if (b->io || !b->addr || !len || offset > b->size || len > b->size - offset)
		return NULL;
	return ioremap(b->addr + offset, len);
}
