# QEMU virt (TF-A PLAT=qemu): where TF-A loads the images (plat/qemu/qemu/include/platform_def.h).
RMM_LINK_BASE=0x40100000        # RMM_BASE; the RMM region ends at 0x418FF000 (shared page)
RMM_MAX_GRANULES=0x100000       # 4 GiB of NS DRAM; the manifest reports one 3 GiB bank
TESTHOST_LINK_BASE=0x60000000   # NS_IMAGE_OFFSET (BL33)
TFA_PLAT_ARGS="PLAT=qemu ENABLE_RME=1 QEMU_USE_GIC_DRIVER=QEMU_GICV3"
