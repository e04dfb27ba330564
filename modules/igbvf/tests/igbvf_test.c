/* igbvf's receive path against descriptors a hostile device wrote: a length
 * past the buffer, a frame spread over two descriptors (no EOP), a CRC
 * error, a runt; only the good frame after them reaches the stack, each bad
 * one is counted once, and every descriptor is reposted. The registers are
 * plain memory here: no device is needed. */
#include "../igbvf.h"
#include <arch/memlayout.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>
#include <selftest/selftest.h>

static unsigned delivered, delivered_len;
static uint8_t first_byte;

static void count_rx(struct netdev *nd, const void *frame, size_t len)
{
	(void)nd;
	delivered++;
	delivered_len = (unsigned)len;
	first_byte = *(const uint8_t *)frame;
}

static void wb(struct igbvf *vf, unsigned i, uint32_t status, uint16_t len)
{
	vf->rx[i].wb.info = 0;
	vf->rx[i].wb.rss = 0;
	vf->rx[i].wb.length = len;
	vf->rx[i].wb.vlan = 0;
	vf->rx[i].wb.status = status;
}

SELFTEST(igbvf_rx_descriptors, "igbvf.rx_descriptors")
{
	struct igbvf *vf = kzalloc(sizeof(*vf));
	ST_ASSERT(vf);
	vf->regs = kzalloc(VF_BAR_SIZE);
	vf->rx = page_alloc(0, PAGE_ZERO);
	ST_ASSERT(vf->regs && vf->rx);
	for (unsigned i = 0; i < VF_RING; i++) {
		vf->rx_buf[i] = kmalloc(VF_BUF);
		ST_ASSERT(vf->rx_buf[i]);
		igbvf_rx_post(vf, i);
	}
	vf->nd.mtu = 9000; /* so the netdev layer's own length check cannot hide the driver's */
	vf->nd.nqueues = 1;
	vf->nd.rx = count_rx;
	delivered = 0;
	wb(vf, 0, VF_RXD_DD | VF_RXD_EOP, 5000);            /* length past the 2 KiB buffer */
	wb(vf, 1, VF_RXD_DD, VF_BUF);                       /* first piece of an oversized frame */
	wb(vf, 2, VF_RXD_DD | VF_RXD_EOP, 100);             /* ... and its end: dropped with it */
	wb(vf, 3, VF_RXD_DD | VF_RXD_EOP | 1u << 24, 100);  /* CE: CRC error */
	wb(vf, 4, VF_RXD_DD | VF_RXD_EOP, 6);               /* runt */
	memset(vf->rx_buf[5], 0xab, 60);
	wb(vf, 5, VF_RXD_DD | VF_RXD_EOP, 60);              /* good */
	/* Descriptor 6 still belongs to the device (no DD): the scan stops there. */
	igbvf_rx_clean(vf);
	ST_EXPECT_EQ(delivered, 1u);
	ST_EXPECT_EQ(delivered_len, 60u);
	ST_EXPECT_EQ(first_byte, 0xab);
	ST_EXPECT_EQ(vf->nd.stats[0].rx_bad, 4u);
	ST_EXPECT_EQ(vf->rx_next, 6u);
	ST_EXPECT_EQ(mmio_read32(vf->regs + VF_RDT), 5u); /* the tail trails the next descriptor by one */
	for (unsigned i = 0; i < 6; i++) {
		ST_EXPECT_EQ(vf->rx[i].read.pkt_addr, virt_to_phys(vf->rx_buf[i]));
		ST_EXPECT_EQ(vf->rx[i].read.hdr_addr, 0u); /* DD cleared for the device's next pass */
	}
	/* A second pass finds nothing new. */
	igbvf_rx_clean(vf);
	ST_EXPECT_EQ(delivered, 1u);
}
