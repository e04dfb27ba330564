#ifndef VIRTIO_MMIO_INTERNAL_H
#define VIRTIO_MMIO_INTERNAL_H

#include <stdint.h>

#define VM_MAX_DEVICES 32

/* Probe a transport at base (from: where it was found, for messages). */
int virtio_mmio_probe(uint64_t base, uint64_t size, unsigned irq, const char *from);
/* The virtio-mmio devices (_HID LNRO0005) the DSDT describes. */
void virtio_mmio_acpi_scan(void);

#endif
