#ifndef PCI_INTERNAL_H
#define PCI_INTERNAL_H

#include <pci/pci.h>

/* Configuration access by address (used while scanning). */
uint32_t pci_cfg_read(unsigned bus, unsigned slot, unsigned func, unsigned off, unsigned size);
void pci_cfg_write(unsigned bus, unsigned slot, unsigned func, unsigned off, unsigned size, uint32_t v);
void pci_cfg_init(void);
bool pci_cfg_ecam(void);
/* Append a function to the device list (scan order; later ones probed later). */
void pci_add_dev(struct pci_dev *d);
void pci_size_bar_regs(struct pci_dev *d, unsigned base, unsigned nbars, struct pci_bar *out);

#endif
