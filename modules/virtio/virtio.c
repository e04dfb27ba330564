/* Device registration and feature negotiation (virtio 1.x section 3.1). */
#include <virtio/virtio.h>
#include <console/printk.h>
#include <lib/errno.h>

KTABLE_DEFINE(struct virtio_driver, virtio_driver);

static unsigned next_index;

/* Features the core itself implements. */
#define CORE_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | \
		       VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

static void add_status(struct virtio_device *vdev, uint8_t bits)
{
	vdev->config->set_status(vdev, vdev->config->get_status(vdev) | bits);
}

int virtio_register_device(struct virtio_device *vdev)
{
	const struct virtio_driver *drv, *found = NULL;

	vdev->index = next_index++;
	ktable_foreach(drv, virtio_driver)
		if (drv->device_id == vdev->id) {
			found = drv;
			break;
		}
	vdev->config->reset(vdev);
	add_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE);
	if (!found) {
		pr_info("virtio%u: device id %u, no driver\n", vdev->index, vdev->id);
		return -ENODEV;
	}
	add_status(vdev, VIRTIO_STATUS_DRIVER);

	uint64_t offered = vdev->config->get_features(vdev);
	uint64_t want = (found->features & ((1ull << 24) - 1)) | CORE_FEATURES;
	if (vdev->legacy)
		want &= 0xffffffffull;
	vdev->features = offered & want;
	if (!vdev->legacy && !virtio_has_feature(vdev, VIRTIO_F_VERSION_1)) {
		/* A modern transport whose device does not speak 1.0. */
		pr_err("virtio%u: device does not offer VERSION_1\n", vdev->index);
		add_status(vdev, VIRTIO_STATUS_FAILED);
		return -ENODEV;
	}
	vdev->config->set_features(vdev, vdev->features);
	if (!vdev->legacy) {
		add_status(vdev, VIRTIO_STATUS_FEATURES_OK);
		if (!(vdev->config->get_status(vdev) & VIRTIO_STATUS_FEATURES_OK)) {
			pr_err("virtio%u: device refused features %#llx\n", vdev->index,
			       (unsigned long long)vdev->features);
			add_status(vdev, VIRTIO_STATUS_FAILED);
			return -ENODEV;
		}
	}
	vdev->driver = found;
	int r = found->probe(vdev);
	if (r) {
		pr_err("virtio%u: %s probe failed (error %d)\n", vdev->index, found->name, r);
		vdev->driver = NULL;
		add_status(vdev, VIRTIO_STATUS_FAILED);
		return r;
	}
	add_status(vdev, VIRTIO_STATUS_DRIVER_OK);
	pr_info("virtio%u: %s, features %#llx%s\n", vdev->index, found->name, (unsigned long long)vdev->features,
		vdev->legacy ? " (legacy)" : "");
	return 0;
}
