/* Split virtqueues (virtio 1.x section 2.7) with event index and indirect
 * descriptors. Everything the device writes into the used ring is checked: a
 * device is not trusted with our memory. */
#include <virtio/virtio.h>
#include <arch/memlayout.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>

struct vq_state {
	void *token;           /* NULL: not the head of a chain in flight */
	uint16_t ndesc;        /* descriptors of the chain in the ring */
	uint32_t in_len;       /* bytes the device may write */
	struct vring_desc *indirect;
};

#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define barrier() __asm__ __volatile__("" ::: "memory")

static inline volatile uint16_t *used_event(struct virtqueue *vq)
{
	return &vq->avail->ring[vq->num];
}

static inline volatile uint16_t *avail_event(struct virtqueue *vq)
{
	return (volatile uint16_t *)&vq->used->ring[vq->num];
}

size_t vring_size(unsigned num, unsigned align)
{
	size_t a = 16 * num + 6 + 2 * num;
	return ALIGN_UP(a, align) + ALIGN_UP(6 + 8 * num, align);
}

struct virtqueue *vring_new(struct virtio_device *vdev, unsigned index, unsigned num, unsigned align,
			    void (*notify)(struct virtqueue *vq), vq_callback_t cb)
{
	if (!num || (num & (num - 1)) || num > 32768)
		return NULL;
	struct virtqueue *vq = kzalloc(sizeof(*vq));
	if (!vq)
		return NULL;
	vq->state = kcalloc(num, sizeof(*vq->state));
	vq->mem_order = page_order_for(vring_size(num, align));
	vq->mem = vq->state ? page_alloc(vq->mem_order, PAGE_ZERO | PAGE_DMA32) : NULL;
	if (!vq->mem) {
		kfree(vq->state);
		kfree(vq);
		return NULL;
	}
	vq->vdev = vdev;
	vq->index = index;
	vq->num = num;
	vq->desc = vq->mem;
	vq->avail = (void *)((uint8_t *)vq->mem + 16 * num);
	vq->used = (void *)((uint8_t *)vq->mem + ALIGN_UP(16 * num + 6 + 2 * num, align));
	vq->desc_pa = virt_to_phys(vq->desc);
	vq->avail_pa = virt_to_phys(vq->avail);
	vq->used_pa = virt_to_phys(vq->used);
	for (unsigned i = 0; i + 1 < num; i++)
		vq->desc[i].next = i + 1;
	vq->num_free = num;
	vq->free_head = 0;
	vq->event_idx = virtio_has_feature(vdev, VIRTIO_F_EVENT_IDX);
	vq->indirect = virtio_has_feature(vdev, VIRTIO_F_INDIRECT_DESC);
	vq->notify = notify;
	vq->callback = cb;
	return vq;
}

void vring_free(struct virtqueue *vq)
{
	if (!vq)
		return;
	for (unsigned i = 0; i < vq->num; i++)
		kfree(vq->state[i].indirect);
	page_free(vq->mem, vq->mem_order);
	kfree(vq->state);
	kfree(vq);
}

int virtqueue_add(struct virtqueue *vq, const struct vq_buf *bufs, unsigned nout, unsigned nin, void *token)
{
	unsigned n = nout + nin;
	uint32_t in_len = 0;

	if (vq->broken)
		return -EIO;
	if (!n || !token)
		return -EINVAL;
	struct vring_desc *ind = NULL;
	if (vq->indirect && n > 1 && vq->num_free >= 1)
		ind = kmalloc(n * sizeof(*ind));
	if (!ind && n > vq->num_free)
		return -ENOSPC;

	uint16_t head = vq->free_head;
	if (ind) {
		for (unsigned i = 0; i < n; i++) {
			ind[i].addr = virt_to_phys(bufs[i].addr);
			ind[i].len = bufs[i].len;
			ind[i].flags = (i >= nout ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
			ind[i].next = i + 1;
			if (i >= nout)
				in_len += bufs[i].len;
		}
		struct vring_desc *d = &vq->desc[head];
		d->addr = virt_to_phys(ind);
		d->len = n * sizeof(*ind);
		d->flags = VRING_DESC_F_INDIRECT;
		vq->free_head = d->next;
		vq->num_free--;
		vq->state[head].ndesc = 1;
	} else {
		uint16_t i = head, last = head;
		for (unsigned k = 0; k < n; k++) {
			struct vring_desc *d = &vq->desc[i];
			d->addr = virt_to_phys(bufs[k].addr);
			d->len = bufs[k].len;
			d->flags = (k >= nout ? VRING_DESC_F_WRITE : 0) | (k + 1 < n ? VRING_DESC_F_NEXT : 0);
			if (k >= nout)
				in_len += bufs[k].len;
			last = i;
			i = d->next;
		}
		(void)last;
		vq->free_head = i;
		vq->num_free -= n;
		vq->state[head].ndesc = n;
	}
	vq->state[head].token = token;
	vq->state[head].in_len = in_len;
	vq->state[head].indirect = ind;

	vq->avail->ring[vq->avail_idx & (vq->num - 1)] = head;
	barrier(); /* x86 keeps stores in order; the compiler must too */
	vq->avail_idx++;
	*(volatile uint16_t *)&vq->avail->idx = vq->avail_idx;
	return 0;
}

/* virtio 1.x 2.7.10: notify when new_idx passed the index the device asked for. */
static inline bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void virtqueue_kick(struct virtqueue *vq)
{
	uint16_t old = vq->kicked_idx, now = vq->avail_idx;
	vq->kicked_idx = now;
	if (old == now)
		return;
	mb(); /* the index store must be visible before we read the device's wish */
	bool notify = vq->event_idx ? need_event(*avail_event(vq), now, old)
				    : !(*(volatile uint16_t *)&vq->used->flags & VRING_USED_F_NO_NOTIFY);
	if (notify)
		vq->notify(vq);
}

static void free_chain(struct virtqueue *vq, uint16_t head)
{
	struct vq_state *s = &vq->state[head];
	uint16_t i = head;
	/* Walk our own record of the chain (ndesc), not the device-visible
	 * next fields alone, so a rewritten descriptor cannot make us loop. */
	for (unsigned k = 1; k < s->ndesc; k++)
		i = vq->desc[i].next & (vq->num - 1);
	vq->desc[i].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += s->ndesc;
	kfree(s->indirect);
	s->indirect = NULL;
	s->token = NULL;
	s->ndesc = 0;
}

void *virtqueue_get_buf(struct virtqueue *vq, uint32_t *len)
{
	for (;;) {
		if (vq->broken)
			return NULL;
		uint16_t used_idx = *(volatile uint16_t *)&vq->used->idx;
		if (used_idx == vq->last_used)
			return NULL;
		if ((uint16_t)(used_idx - vq->last_used) > vq->num) {
			pr_err("virtio%u: queue %u: used index %u is %u entries past ours (ring of %u); queue stopped\n",
			       vq->vdev->index, vq->index, used_idx, (uint16_t)(used_idx - vq->last_used), vq->num);
			vq->broken = true;
			return NULL;
		}
		barrier(); /* read the entry after the index (x86 loads are ordered) */
		struct vring_used_elem e = vq->used->ring[vq->last_used & (vq->num - 1)];
		vq->last_used++;
		if (vq->event_idx)
			*used_event(vq) = vq->last_used;
		if (e.id >= vq->num || !vq->state[e.id].token) {
			vq->bad_entries++;
			pr_err("virtio%u: queue %u: used entry with id %u %s; dropped\n", vq->vdev->index, vq->index,
			       e.id, e.id >= vq->num ? "out of range" : "not in flight");
			continue;
		}
		void *token = vq->state[e.id].token;
		uint32_t max = vq->state[e.id].in_len;
		if (e.len > max) {
			vq->bad_entries++;
			pr_err("virtio%u: queue %u: used entry %u claims %u bytes written into %u; length dropped\n",
			       vq->vdev->index, vq->index, e.id, e.len, max);
			e.len = 0;
		}
		free_chain(vq, e.id);
		*len = e.len;
		return token;
	}
}

bool virtqueue_enable_cb(struct virtqueue *vq)
{
	if (vq->event_idx)
		*used_event(vq) = vq->last_used;
	else
		*(volatile uint16_t *)&vq->avail->flags &= ~VRING_AVAIL_F_NO_INTERRUPT;
	mb();
	return *(volatile uint16_t *)&vq->used->idx == vq->last_used;
}

void virtqueue_disable_cb(struct virtqueue *vq)
{
	/* With event index the device interrupts only when used_event is passed;
	 * the flag is a hint either way. */
	if (!vq->event_idx)
		*(volatile uint16_t *)&vq->avail->flags |= VRING_AVAIL_F_NO_INTERRUPT;
}

void vring_interrupt(struct virtqueue *vq)
{
	if (vq->callback && !vq->broken)
		vq->callback(vq);
}
