#ifndef PCI_INTERNAL_H
#define PCI_INTERNAL_H

#include <pci/pci.h>

/* Configuration access by address (used while scanning). */
uint32_t pci_cfg_read(unsigned bus, unsigned slot, unsigned func, unsigned off, unsigned size);
void pci_cfg_write(unsigned bus, unsigned slot, unsigned func, unsigned off, unsigned size, uint32_t v);
void pci_cfg_init(void);
bool pci_cfg_ecam(void);

#endif
