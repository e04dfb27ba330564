/*
 * PCI bus: configuration space through ECAM (the ACPI MCFG table) or the
 * legacy 0xcf8/0xcfc ports, enumeration of every bus behind bridges, BARs
 * (sized, 64-bit too), capability lists, MSI-X (one vector per source) with
 * legacy INTx as the fallback, and a PCI_DRIVER table matched at INIT_DEVICE.
 */
#ifndef PCI_PCI_H
#define PCI_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lib/ktable.h>
#include <irq/irq.h>
#include <arch/memlayout.h>

/* Configuration space registers. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_PRIMARY_BUS 0x18
#define PCI_SECONDARY_BUS 0x19
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST (1u << 4)

/* Capability ids. */
#define PCI_CAP_MSI 0x05
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_EXP 0x10
#define PCI_CAP_MSIX 0x11

#define PCI_BAR_COUNT 6

/* PCI Express extended capabilities (configuration space 0x100..0xfff). */
#define PCI_EXT_CAP_START 0x100
#define PCI_EXT_CAP_SRIOV 0x0010

struct pci_bar {
	paddr_t addr;  /* bus address (0: not implemented) */
	uint64_t size;
	bool io;       /* I/O port space (addr is the port) */
	bool is64;
	bool prefetch;
};

struct pci_dev {
	uint16_t segment;
	uint8_t bus, slot, func;
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint32_t class;          /* class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	uint8_t irq_line, irq_pin;
	struct pci_bar bar[PCI_BAR_COUNT];
	/* MSI-X, once pci_msix_enable succeeded. */
	uint16_t msix_cap;       /* 0: no MSI-X capability */
	uint16_t msix_size;      /* table entries */
	volatile uint32_t *msix_table;
	bool msix_on;
	/* SR-IOV: a virtual function's physical function and its index there. */
	struct pci_dev *physfn;  /* NULL: not a VF */
	unsigned vf_index;
	const struct pci_driver *driver;
	void *priv;              /* the driver's */
	struct pci_dev *next;    /* every device found, in scan order */
};

/* A driver matches when every field that is not PCI_ANY equals the device's
 * (class compared under class_mask). */
#define PCI_ANY 0xffffffffu
struct pci_id {
	uint32_t vendor, device;
	uint32_t class, class_mask;
};
#define PCI_ID_DEV(v, d) { (v), (d), 0, 0 }
#define PCI_ID_CLASS(c, m) { PCI_ANY, PCI_ANY, (c), (m) }

struct pci_driver {
	const char *name;
	const struct pci_id *ids; /* ends with an entry whose vendor is 0 */
	/* Take the device: 0 when bound, negative errno otherwise (the next
	 * matching driver is tried). */
	int (*probe)(struct pci_dev *dev, const struct pci_id *id);
};
KTABLE_DECLARE(struct pci_driver, pci_driver);
#define PCI_DRIVER(ident) KTABLE_ENTRY(struct pci_driver, pci_driver, 5, __pci_driver_##ident)

/* Configuration space of a found device (off within the 4 KiB extended space
 * with ECAM, 256 bytes with port I/O: reads past it give all ones). */
uint8_t pci_read8(const struct pci_dev *d, unsigned off);
uint16_t pci_read16(const struct pci_dev *d, unsigned off);
uint32_t pci_read32(const struct pci_dev *d, unsigned off);
void pci_write8(const struct pci_dev *d, unsigned off, uint8_t v);
void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v);
void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v);

/* Offset of the first capability with this id at or after `after`'s successor
 * (after = 0: from the start of the list); 0 when none. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned after);

/* Offset of the first PCI Express extended capability with this id after
 * `after` (0: from the start at 0x100); 0 when none or without ECAM. */
unsigned pci_find_ext_cap(const struct pci_dev *d, uint16_t id, unsigned after);

/* SR-IOV (PCIe base spec 9.3.3): set NumVFs, give the VF BARs addresses when
 * the firmware left them empty (inside the bridge window above the PF),
 * enable VFs and VF memory decoding, and add each VF to the device list as a
 * struct pci_dev (physfn set; BARs from the PF's VF BARs), so the PCI_DRIVER
 * table is offered it later in the same probe pass. Returns the number of
 * VFs enabled or a negative errno (-ENODEV: no SR-IOV capability). */
int pci_sriov_enable(struct pci_dev *pf, unsigned nr_vfs);
/* TotalVFs of the SR-IOV capability (0 without one). */
unsigned pci_sriov_total_vfs(const struct pci_dev *pf);

/* Enable memory and I/O decoding and bus mastering (DMA). */
void pci_enable(struct pci_dev *d);

/* Map a memory BAR (uncached); NULL for an I/O BAR, an empty one or when
 * offset + len is past its end. */
void *pci_map_bar(struct pci_dev *d, unsigned bar, uint64_t offset, size_t len);

/* MSI-X: enable with every entry masked; then route entry i to fn(arg) on a
 * fresh vector. pci_msix_enable returns the table size or a negative errno
 * (-ENODEV without the capability); INTx is disabled while MSI-X is on. */
int pci_msix_enable(struct pci_dev *d);
/* Returns the vector or a negative errno. */
int pci_msix_attach(struct pci_dev *d, unsigned entry, irq_handler_t fn, void *arg);
void pci_msix_disable(struct pci_dev *d);

/* Legacy INTx (level-triggered, shared: fn runs for every interrupt on the line).
 * Returns the vector or a negative errno (-ENODEV without a pin). */
int pci_intx_attach(struct pci_dev *d, irq_handler_t fn, void *arg);

/* Every device found (after INIT_SUBSYS). */
struct pci_dev *pci_devices(void);

#endif
