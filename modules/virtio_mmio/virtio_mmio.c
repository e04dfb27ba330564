/* virtio-mmio transport (virtio 1.x section 4.2), versions 1 (legacy) and 2.
 * Devices come from "virtio_mmio.device=SIZE@BASE:IRQ" kernel parameters
 * (Linux's syntax: SIZE with an optional K/M suffix, BASE and IRQ numbers,
 * an optional ":ID" that is ignored), and, since QEMU microvm passes those
 * only when it has no ACPI, from the LNRO0005 devices of its DSDT (dsdt.c). */
#include "virtio_mmio.h"
#include <virtio/virtio.h>
#include <arch/io.h>
#include <cmdline/cmdline.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <irq/irq.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/vmap.h>

CMDLINE_PARAM(virtio_mmio_device, "virtio_mmio.device", "a virtio-mmio device: SIZE@BASE:IRQ");

#define MAGIC 0x000
#define VERSION 0x004
#define DEVICE_ID 0x008
#define DEVICE_FEATURES 0x010
#define DEVICE_FEATURES_SEL 0x014
#define DRIVER_FEATURES 0x020
#define DRIVER_FEATURES_SEL 0x024
#define GUEST_PAGE_SIZE 0x028
#define QUEUE_SEL 0x030
#define QUEUE_NUM_MAX 0x034
#define QUEUE_NUM 0x038
#define QUEUE_ALIGN 0x03c
#define QUEUE_PFN 0x040
#define QUEUE_READY 0x044
#define QUEUE_NOTIFY 0x050
#define INTERRUPT_STATUS 0x060
#define INTERRUPT_ACK 0x064
#define STATUS 0x070
#define QUEUE_DESC_LOW 0x080
#define QUEUE_DESC_HIGH 0x084
#define QUEUE_DRIVER_LOW 0x090
#define QUEUE_DRIVER_HIGH 0x094
#define QUEUE_DEVICE_LOW 0x0a0
#define QUEUE_DEVICE_HIGH 0x0a4
#define CONFIG_GENERATION 0x0fc
#define CONFIG 0x100

#define VM_MAX_VQS 64

struct vm_dev {
	struct virtio_device vdev;
	volatile uint8_t *base;
	uint64_t size;
	unsigned version;
	unsigned irq;
	unsigned nvqs;
	struct virtqueue *vqs[VM_MAX_VQS];
};

static inline struct vm_dev *to_vm(struct virtio_device *v)
{
	return (struct vm_dev *)v;
}

static uint32_t rd(struct vm_dev *vm, unsigned off)
{
	return mmio_read32(vm->base + off);
}

static void wr(struct vm_dev *vm, unsigned off, uint32_t v)
{
	mmio_write32(vm->base + off, v);
}

static uint8_t vm_get_status(struct virtio_device *v)
{
	return rd(to_vm(v), STATUS);
}

static void vm_set_status(struct virtio_device *v, uint8_t s)
{
	wr(to_vm(v), STATUS, s);
}

static void vm_reset(struct virtio_device *v)
{
	wr(to_vm(v), STATUS, 0);
}

static uint64_t vm_get_features(struct virtio_device *v)
{
	struct vm_dev *vm = to_vm(v);
	wr(vm, DEVICE_FEATURES_SEL, 0);
	uint64_t f = rd(vm, DEVICE_FEATURES);
	wr(vm, DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)rd(vm, DEVICE_FEATURES) << 32;
}

static void vm_set_features(struct virtio_device *v, uint64_t f)
{
	struct vm_dev *vm = to_vm(v);
	wr(vm, DRIVER_FEATURES_SEL, 0);
	wr(vm, DRIVER_FEATURES, (uint32_t)f);
	wr(vm, DRIVER_FEATURES_SEL, 1);
	wr(vm, DRIVER_FEATURES, f >> 32);
}

static void vm_read_config(struct virtio_device *v, unsigned off, void *buf, unsigned len)
{
	struct vm_dev *vm = to_vm(v);
	uint8_t *b = buf;
	uint32_t gen;
	do {
		gen = vm->version >= 2 ? rd(vm, CONFIG_GENERATION) : 0;
		for (unsigned i = 0; i < len; i++)
			b[i] = CONFIG + off + i < vm->size ? vm->base[CONFIG + off + i] : 0;
	} while (vm->version >= 2 && gen != rd(vm, CONFIG_GENERATION));
}

static void vm_write_config(struct virtio_device *v, unsigned off, const void *buf, unsigned len)
{
	struct vm_dev *vm = to_vm(v);
	const uint8_t *b = buf;
	for (unsigned i = 0; i < len && CONFIG + off + i < vm->size; i++)
		vm->base[CONFIG + off + i] = b[i];
}

static unsigned vm_max_vqs(struct virtio_device *v)
{
	(void)v;
	return 0; /* the transport does not say; QUEUE_NUM_MAX of 0 ends the list */
}

static void vm_notify(struct virtqueue *vq)
{
	wr(vq->transport, QUEUE_NOTIFY, vq->index);
}

static void vm_irq(void *arg)
{
	struct vm_dev *vm = arg;
	uint32_t st = rd(vm, INTERRUPT_STATUS);
	wr(vm, INTERRUPT_ACK, st);
	if (st & 2)
		pr_info("virtio%u: configuration changed\n", vm->vdev.index);
	if (st & 1)
		for (unsigned i = 0; i < vm->nvqs; i++)
			vring_interrupt(vm->vqs[i]);
}

static int vm_find_vqs(struct virtio_device *v, unsigned n, struct virtqueue *vqs[], const vq_callback_t cbs[])
{
	struct vm_dev *vm = to_vm(v);
	if (n > VM_MAX_VQS)
		return -EINVAL;
	if (vm->version == 1)
		wr(vm, GUEST_PAGE_SIZE, 4096);
	for (unsigned i = 0; i < n; i++) {
		wr(vm, QUEUE_SEL, i);
		if (vm->version == 1 ? rd(vm, QUEUE_PFN) : rd(vm, QUEUE_READY))
			return -EBUSY;
		unsigned max = rd(vm, QUEUE_NUM_MAX);
		if (!max)
			return -ENOENT;
		unsigned num = max < 256 ? max : 256;
		while (num & (num - 1))
			num &= num - 1;
		struct virtqueue *vq = vring_new(v, i, num, vm->version == 1 ? 4096 : 64, vm_notify, cbs[i]);
		if (!vq)
			return -ENOMEM;
		vq->transport = vm;
		wr(vm, QUEUE_NUM, num);
		if (vm->version == 1) {
			wr(vm, QUEUE_ALIGN, 4096);
			wr(vm, QUEUE_PFN, (uint32_t)(vq->desc_pa >> 12));
		} else {
			wr(vm, QUEUE_DESC_LOW, (uint32_t)vq->desc_pa);
			wr(vm, QUEUE_DESC_HIGH, vq->desc_pa >> 32);
			wr(vm, QUEUE_DRIVER_LOW, (uint32_t)vq->avail_pa);
			wr(vm, QUEUE_DRIVER_HIGH, vq->avail_pa >> 32);
			wr(vm, QUEUE_DEVICE_LOW, (uint32_t)vq->used_pa);
			wr(vm, QUEUE_DEVICE_HIGH, vq->used_pa >> 32);
			wr(vm, QUEUE_READY, 1);
		}
		vm->vqs[i] = vqs[i] = vq;
	}
	vm->nvqs = n;
	/* One line for the whole device: level-triggered, active high (QEMU
	 * raises it until INTERRUPT_ACK clears the status). */
	int r = irq_attach(vm->irq, IRQ_LEVEL | IRQ_ACTIVE_HIGH, vm_irq, vm);
	return r < 0 ? r : 0;
}

static const struct virtio_config_ops mmio_ops = {
	.get_status = vm_get_status,
	.set_status = vm_set_status,
	.reset = vm_reset,
	.get_features = vm_get_features,
	.set_features = vm_set_features,
	.read_config = vm_read_config,
	.write_config = vm_write_config,
	.max_vqs = vm_max_vqs,
	.find_vqs = vm_find_vqs,
};

/* SIZE@BASE:IRQ[:ID]; 0 on success. */
static int parse(const char *s, uint64_t *size, uint64_t *base, unsigned *irq)
{
	char *end;
	*size = strtoull(s, &end, 0);
	if (*end == 'K' || *end == 'k')
		*size <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		*size <<= 20, end++;
	if (*end != '@' || !*size)
		return -EINVAL;
	*base = strtoull(end + 1, &end, 0);
	if (*end != ':')
		return -EINVAL;
	unsigned long long i = strtoull(end + 1, &end, 0);
	if ((*end && *end != ':') || i > 255)
		return -EINVAL;
	*irq = i;
	return 0;
}

static uint64_t probed[VM_MAX_DEVICES];
static unsigned nprobed;

int virtio_mmio_probe(uint64_t base, uint64_t size, unsigned irq, const char *from)
{
	for (unsigned i = 0; i < nprobed; i++)
		if (probed[i] == base)
			return 0; /* named twice (command line and ACPI) */
	if (nprobed == VM_MAX_DEVICES || size < CONFIG + 4 || size > (1u << 20)) {
		pr_err("virtio-mmio: %s: device at %#llx not taken (size %#llx, or too many devices)\n", from,
		       (unsigned long long)base, (unsigned long long)size);
		return -EINVAL;
	}
	probed[nprobed++] = base;
	struct vm_dev *vm = kzalloc(sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->base = ioremap(base, size);
	vm->size = size;
	vm->irq = irq;
	if (!vm->base) {
		kfree(vm);
		return -ENOMEM;
	}
	uint32_t magic = rd(vm, MAGIC);
	vm->version = rd(vm, VERSION);
	if (magic != 0x74726976 || vm->version < 1 || vm->version > 2) {
		pr_err("virtio-mmio: %s: no virtio-mmio device at %#llx (magic %#x, version %u)\n", from,
		       (unsigned long long)base, magic, vm->version);
		iounmap((void *)vm->base, size);
		kfree(vm);
		return -ENODEV;
	}
	vm->vdev.id = rd(vm, DEVICE_ID);
	if (vm->vdev.id == 0) {
		/* An empty slot. */
		iounmap((void *)vm->base, size);
		kfree(vm);
		return 0;
	}
	vm->vdev.config = &mmio_ops;
	vm->vdev.transport = vm;
	vm->vdev.legacy = vm->version == 1;
	pr_info("virtio-mmio: %#llx irq %u (%s): device id %u, version %u\n", (unsigned long long)base, irq, from,
		vm->vdev.id, vm->version);
	return virtio_register_device(&vm->vdev);
}

static int virtio_mmio_init(void)
{
	int n = cmdline_param_count("virtio_mmio.device");
	for (int i = 0; i < n; i++) {
		const char *arg = cmdline_param("virtio_mmio.device", i);
		uint64_t size, base;
		unsigned irq;
		if (parse(arg, &size, &base, &irq)) {
			pr_err("virtio_mmio.device=%s: not SIZE@BASE:IRQ\n", arg);
			continue;
		}
		virtio_mmio_probe(base, size, irq, "command line");
	}
	virtio_mmio_acpi_scan();
	return 0;
}
INITCALL(INIT_DEVICE, virtio_mmio_init);
