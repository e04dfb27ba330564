/*
 * Physical Region Page pointers (NVMe base spec 4.3). PRP1 points at the
 * first byte (any dword offset); PRP2 is either the second page or, for more
 * than two pages, a PRP list whose entries are the following pages, each
 * with offset 0. One list page suffices for our largest transfer, so list
 * chaining is never needed.
 */
#include <lib/compiler.h>
#include <lib/errno.h>
#include "nvme.h"

long nvme_prp_build(struct nvme_sqe *cmd, const struct nvme_sg *sg, unsigned n,
		    uint64_t *list_page, paddr_t list_phys)
{
	uint64_t first = 0, second = 0;
	unsigned pages = 0;
	long total = 0;

	for (unsigned i = 0; i < n; i++) {
		paddr_t a = sg[i].addr;
		uint32_t rem = sg[i].len;

		if (rem == 0)
			return -EINVAL;
		if (i > 0 && !IS_ALIGNED(a, NVME_PAGE_SIZE))
			return -EINVAL;          /* a gap inside a memory page */
		if (i + 1 < n && !IS_ALIGNED(a + rem, NVME_PAGE_SIZE))
			return -EINVAL;          /* only the last piece ends mid-page */
		while (rem) {
			uint32_t chunk = MIN(rem, NVME_PAGE_SIZE - (uint32_t)(a & (NVME_PAGE_SIZE - 1)));

			if (pages == 0) {
				if (a & 3)
					return -EINVAL;  /* PRP1 offset must be dword aligned */
				first = a;
			} else if (pages == 1) {
				second = a;
			} else {
				if (pages > NVME_PRP_PER_PAGE)
					return -E2BIG;
				if (!list_page)
					return -E2BIG;
				/* Entry k of the list is page k + 1 of the transfer. */
				if (pages == 2)
					list_page[0] = second;
				list_page[pages - 1] = a;
			}
			pages++;
			a += chunk;
			rem -= chunk;
			total += chunk;
		}
	}
	cmd->prp1 = first;
	cmd->prp2 = pages > 2 ? list_phys : second;
	return total;
}
