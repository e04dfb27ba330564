/*
 * NVMe base specification (1.4) definitions the driver uses: controller
 * registers, submission and completion queue entries, admin and NVM command
 * opcodes, and the Identify data it reads. Only what the driver needs.
 */
#ifndef NVME_SPEC_H
#define NVME_SPEC_H

#include <stdint.h>
#include <lib/compiler.h>

/* Controller registers (BAR0). */
#define NVME_REG_CAP 0x00   /* 64: capabilities */
#define NVME_REG_VS 0x08    /* 32: version */
#define NVME_REG_INTMS 0x0c /* 32: interrupt mask set (INTx/MSI only) */
#define NVME_REG_INTMC 0x10
#define NVME_REG_CC 0x14   /* 32: controller configuration */
#define NVME_REG_CSTS 0x1c /* 32: controller status */
#define NVME_REG_AQA 0x24  /* 32: admin queue attributes */
#define NVME_REG_ASQ 0x28  /* 64: admin SQ base */
#define NVME_REG_ACQ 0x30  /* 64: admin CQ base */
#define NVME_REG_DBS 0x1000 /* doorbells */

#define NVME_CAP_MQES(cap) ((uint32_t)((cap) & 0xffff)) /* 0-based */
#define NVME_CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xff)) /* 500 ms units */
#define NVME_CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xf))
#define NVME_CAP_CSS_NVM(cap) (((cap) >> 37) & 1)
#define NVME_CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xf)) /* 2^(12+n) */

#define NVME_CC_EN (1u << 0)
#define NVME_CC_CSS_NVM (0u << 4)
#define NVME_CC_MPS(shift) (((uint32_t)(shift) - 12) << 7)
#define NVME_CC_AMS_RR (0u << 11)
#define NVME_CC_SHN_NORMAL (1u << 14)
#define NVME_CC_SHN_MASK (3u << 14)
#define NVME_CC_IOSQES(n) ((uint32_t)(n) << 16) /* log2 of the SQ entry size */
#define NVME_CC_IOCQES(n) ((uint32_t)(n) << 20)

#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1)
#define NVME_CSTS_SHST_MASK (3u << 2)
#define NVME_CSTS_SHST_DONE (2u << 2)

/* Doorbell offsets from BAR0: SQ y tail and CQ y head, stride 4 << CAP.DSTRD. */
#define NVME_SQ_DB(qid, dstrd) (NVME_REG_DBS + (2u * (qid)) * (4u << (dstrd)))
#define NVME_CQ_DB(qid, dstrd) (NVME_REG_DBS + (2u * (qid) + 1) * (4u << (dstrd)))

/* The memory page size the driver configures (CC.MPS = 0). */
#define NVME_PAGE_SHIFT 12
#define NVME_PAGE_SIZE (1u << NVME_PAGE_SHIFT)

/* Submission queue entry: 64 bytes. */
struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;   /* FUSE (1:0), PSDT (7:6): 0 = PRPs */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
STATIC_ASSERT(sizeof(struct nvme_sqe) == 64, "NVMe SQE is 64 bytes");

/* Completion queue entry: 16 bytes. */
struct nvme_cqe {
	uint32_t result;   /* DW0: command specific */
	uint32_t rsvd;
	uint16_t sq_head;  /* SQHD: how far the controller consumed the SQ */
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status;   /* bit 0: phase tag; 15:1 status field */
};
STATIC_ASSERT(sizeof(struct nvme_cqe) == 16, "NVMe CQE is 16 bytes");

#define NVME_CQE_PHASE 1u
/* Status field without the phase bit: SC (7:0), SCT (10:8), CRD, M, DNR (14). */
#define NVME_STATUS(st) ((uint16_t)((st) >> 1))
#define NVME_STATUS_SC(s) ((s) & 0xff)
#define NVME_STATUS_SCT(s) (((s) >> 8) & 7)
#define NVME_STATUS_DNR (1u << 14)
#define NVME_SC_SUCCESS 0
#define NVME_SC_INVALID_FIELD 0x02
#define NVME_SC_ABORT_REQ 0x07
#define NVME_SC_LBA_RANGE 0x80 /* SCT 0, NVM command set */

/*
 * Driver-made status values (never from a device): set in a completion the
 * driver synthesises when it gives up on a command (timeout, reset). They use
 * SCT 7 (vendor specific) so they never collide with a device's own codes.
 */
#define NVME_STATUS_TIMEOUT ((7u << 8) | 0xf0)
#define NVME_STATUS_RESET ((7u << 8) | 0xf1)

/* Admin command opcodes. */
#define NVME_ADMIN_DELETE_SQ 0x00
#define NVME_ADMIN_CREATE_SQ 0x01
#define NVME_ADMIN_DELETE_CQ 0x04
#define NVME_ADMIN_CREATE_CQ 0x05
#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_ADMIN_SET_FEATURES 0x09

/* NVM command opcodes. */
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02

/* Identify CNS values. */
#define NVME_ID_CNS_NS 0x00
#define NVME_ID_CNS_CTRL 0x01
#define NVME_ID_CNS_NS_ACTIVE_LIST 0x02

/* Set Features identifiers. */
#define NVME_FEAT_NUM_QUEUES 0x07

/* Create I/O CQ / SQ CDW11 bits. */
#define NVME_QUEUE_PHYS_CONTIG (1u << 0)
#define NVME_CQ_IRQ_ENABLED (1u << 1)

/* Identify Controller: the fields the driver reads (4096-byte structure). */
#define NVME_IDC_SN 4        /* 20 bytes, ASCII, space padded */
#define NVME_IDC_MN 24       /* 40 bytes */
#define NVME_IDC_FR 64       /* 8 bytes */
#define NVME_IDC_MDTS 77     /* max transfer: 2^n min pages; 0 = no limit */
#define NVME_IDC_SQES 512    /* required (3:0) / max (7:4) SQ entry size, log2 */
#define NVME_IDC_CQES 513
#define NVME_IDC_NN 516      /* 32: number of namespaces */
#define NVME_IDC_VWC 525     /* bit 0: volatile write cache present */

/* Identify Namespace. */
#define NVME_IDNS_NSZE 0     /* 64: size in logical blocks */
#define NVME_IDNS_NLBAF 25   /* number of LBA formats, 0-based */
#define NVME_IDNS_FLBAS 26   /* formatted LBA size: (3:0) index, bit 4 extended */
#define NVME_IDNS_NSATTR 99  /* bit 0: write protected */
#define NVME_IDNS_LBAF 128   /* 16 x 4 bytes: MS (15:0), LBADS (23:16), RP */

#define NVME_IDENTIFY_SIZE 4096

#endif
