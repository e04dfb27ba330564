/* storvsc in the kernel: each Hyper-V SCSI (or IDE) controller channel is
 * handshaken, LUNs 0..7 of target 0 are asked for a disk, and each disk
 * becomes a block device sda, sdb... Requests complete from the channel
 * callback (the vmbus thread) through blk_complete. */
#include "storvsc_core.h"
#include <block/block.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/kmalloc.h>
#include <mm/page.h>

#define RING_BYTES (64 * 1024)
#define MAX_LUNS 8
#define MAX_REQUEST (512 * 1024) /* bytes: keeps the GPA range within one packet */

static const uint8_t scsi_guid[16] =
	VMBUS_GUID(0xba6163d9, 0x04a1, 0x4d29, 0xb6, 0x05, 0x72, 0xe2, 0xff, 0xb1, 0xdc, 0x7f);
static const uint8_t ide_guid[16] =
	VMBUS_GUID(0x32412632, 0x86cb, 0x44a2, 0x9b, 0x5c, 0x50, 0xd1, 0x41, 0x73, 0x54, 0xf5);

struct sdisk {
	struct blk_dev disk;
	struct storvsc *sv;
	uint8_t lun;
};

static void rq_done(struct storvsc *sv, struct storvsc_req *srq, void *arg)
{
	struct blk_request *rq = arg;
	struct sdisk *d = rq->driver_data;
	(void)sv;
	int err = srq->err;
	if (!err && srq->got_len != srq->want_len)
		err = -EIO; /* a short read or write of whole blocks */
	rq->driver_data = NULL;
	blk_complete(&d->disk, rq, err);
}

static int sdisk_submit(struct blk_dev *bd, unsigned hwq, struct blk_request *rq)
{
	struct sdisk *d = bd->priv;
	(void)hwq;
	rq->driver_data = d;
	if (rq->op == BLK_FLUSH) {
		uint8_t cdb[VSTOR_CDB_MAX] = { SCSI_SYNCHRONIZE_CACHE_10 };
		return storvsc_scsi(d->sv, d->lun, cdb, 10, NULL, 0, SRB_DATA_NONE, rq_done, rq);
	}
	uint64_t byte = rq->sector * BLK_SECTOR_SIZE;
	if (byte % bd->block_size || ((uint64_t)rq->nsectors * BLK_SECTOR_SIZE) % bd->block_size)
		return -EINVAL;
	return storvsc_rw(d->sv, d->lun, rq->op == BLK_WRITE, byte / bd->block_size,
			  (uint32_t)((uint64_t)rq->nsectors * BLK_SECTOR_SIZE / bd->block_size), bd->block_size, rq->buf,
			  rq_done, rq);
}

static const struct blk_ops sdisk_ops = { sdisk_submit };

static int storvsc_probe(struct vmbus_channel *ch)
{
	struct storvsc *sv = kzalloc(sizeof(*sv));
	void *page = page_alloc(0, PAGE_ZERO);
	if (!sv || !page) {
		kfree(sv);
		if (page)
			page_free(page, 0);
		return -ENOMEM;
	}
	sv->ring_bytes = RING_BYTES;
	int r = storvsc_attach(sv, ch);
	if (r) {
		kfree(sv);
		page_free(page, 0);
		return r;
	}
	ch->driver_data = sv;
	for (uint8_t lun = 0; lun < MAX_LUNS; lun++) {
		uint64_t blocks;
		uint32_t bs;
		if (storvsc_probe_lun(sv, lun, &blocks, &bs, page))
			continue;
		struct sdisk *d = kzalloc(sizeof(*d));
		if (!d)
			break;
		d->sv = sv;
		d->lun = lun;
		blk_name_next("sd", d->disk.name);
		d->disk.sectors = blocks * (bs / BLK_SECTOR_SIZE);
		d->disk.block_size = bs;
		uint32_t max = sv->max_transfer < MAX_REQUEST ? sv->max_transfer : MAX_REQUEST;
		d->disk.max_sectors = max / BLK_SECTOR_SIZE / (bs / BLK_SECTOR_SIZE) * (bs / BLK_SECTOR_SIZE);
		d->disk.nr_hw_queues = 1;
		d->disk.write_cache = true;
		d->disk.ops = &sdisk_ops;
		d->disk.priv = d;
		if (blk_register(&d->disk)) {
			kfree(d);
			continue;
		}
		printk(LOG_INFO, "storvsc: %s lun %u, %lu blocks of %u bytes (VSTOR %u.%u)\n", d->disk.name, lun,
		       (unsigned long)blocks, bs, sv->proto >> 8, sv->proto & 0xff);
	}
	page_free(page, 0);
	return 0;
}

VMBUS_DRIVER(storvsc_scsi) = { "storvsc", scsi_guid, storvsc_probe, NULL };
VMBUS_DRIVER(storvsc_ide) = { "storvsc-ide", ide_guid, storvsc_probe, NULL };
