/* The realm test payload, carried inside the NS test payload, which loads it into a
 * realm with RMI_DATA_CREATE. */
	.section .rodata.realm_image, "a"
	.balign	4096
	.global	testrealm_image_start
testrealm_image_start:
	.incbin	"testrealm.bin"
	.balign	4096
	.global	testrealm_image_end
testrealm_image_end:
