/*
 * The XS machine prepared at build time and kept in flash (docs/firmware.md, the prepared machine).
 *
 * The image reserves BOARD_PREPARED_SIZE bytes of flash (.xsprep, at a fixed address, link.ld). The build boots the
 * image once in QEMU with `--prepare <file>` first on the command line: that run opens the region for writing (an MPU
 * region over the read-only flash), moves the heap into it, and main() creates the machine, loads the application's
 * modules and shares it (xsShareMachine: collected, compacted, every mutable object and closure given an alias
 * number). xrSavePreparedMachine() then writes a header and the used bytes to the host through semihosting, and
 * objcopy puts them into the same ELF's .xsprep. Since the image is the same ELF, every pointer in those bytes (to
 * slots and chunks in the region, to the bytecode, to host functions) is right as it is: nothing is relocated.
 *
 * At boot, xrPreparedMachine() finds the header and main() clones the machine (xsCloneMachine): the realm, the
 * built-ins and the modules run in place from flash, which the MPU keeps read-only; only what a program changes is
 * copied into RAM (XS's aliases). An image nobody prepared boots as before.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "board.h"

/* Flash for the prepared machine: the size of the MPU region the preparation run opens (a power of two, aligned). */
#define BOARD_PREPARED_LOG2 20
#define BOARD_PREPARED_SIZE (1u << BOARD_PREPARED_LOG2)
#define BOARD_PREPARED_MAGIC 0x4D505358u /* "XSPM" */

__attribute__((section(".xsprep"), aligned(32), used)) const unsigned char board_prepared[BOARD_PREPARED_SIZE] = { 0 };

/* RAM for the prepared machine's ArrayBuffers, whose bytes modules write (XS aliases objects, not buffers): the
   preparation moves each shared buffer here (xrKeepSharedInPlace), at the same address in every run of this ELF, and
   saves their bytes in flash; the boot copies them back, as the reset handler does .data. The device's take 3,824 B. */
#define BOARD_PREPARED_ROOM 4096
static unsigned char board_prepared_room[BOARD_PREPARED_ROOM] __attribute__((aligned(8)));

/* The region's first 32 bytes; the heap of the preparation run follows. `bundle` and `entry` tie the bytes to the
   image that made them: another link moves them, and the image then refuses the machine rather than run it. */
typedef struct {
	uint32_t magic;
	void* root;
	uint32_t bytes;
	const void* bundle;
	const void* entry;
	const unsigned char* room;
	uint32_t roomBytes;
	uint32_t reserved;
} BoardPrepared;

extern const unsigned char xsrun_bundle[];
extern int main(int argc, char** argv);

#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE 0x05
#define SYS_OPEN_WB 5

static const char* board_prepare_path = NULL;

int board_prepare_option(int argc, char** argv)
{
	int i;
	if (argc < 3 || strcmp(argv[1], "--prepare"))
		return argc;
	board_prepare_path = argv[2];
	for (i = 1; i + 2 <= argc; i++)
		argv[i] = argv[i + 2];
	/* Region 2 (over region 0, read-only flash): the prepared region, read-write, for this run only. */
	MPU_RNR = 2;
	MPU_RBAR = (uint32_t)__prep_start;
	MPU_RASR = MPU_RASR_XN | MPU_RASR_AP_FULL | MPU_RASR_NORMAL_WT | MPU_RASR_SIZE(BOARD_PREPARED_LOG2) | MPU_RASR_ENABLE;
	__asm volatile("dsb\n\tisb" ::: "memory");
	board_move_heap(__prep_start + sizeof(BoardPrepared), __prep_end);
	return argc - 2;
}

int xrPreparing(void)
{
	return board_prepare_path != NULL;
}

void* xrPreparedMachine(void)
{
	const BoardPrepared* header = (const BoardPrepared*)__prep_start;
	if (board_prepare_path || header->magic != BOARD_PREPARED_MAGIC)
		return NULL;
	if (header->bundle != xsrun_bundle || header->entry != (const void*)main) {
		board_puts("# board: the prepared machine in flash was made by another image; building the machine in RAM\n");
		return NULL;
	}
	memcpy(board_prepared_room, header->room, header->roomBytes);
	return header->root;
}

unsigned char* xrPreparedRoom(size_t* size)
{
	*size = sizeof(board_prepared_room);
	return board_prepared_room;
}

/* Called once the machine is shared: the header, the room's bytes, then the region's used bytes to the host file.
   Returns 0 or -1. */
int xrSavePreparedMachine(void* root, size_t roomUsed)
{
	unsigned char* room = malloc(roomUsed ? roomUsed : 1);
	BoardPrepared* header = (BoardPrepared*)__prep_start;
	struct { const char* name; int mode; int length; } open = { board_prepare_path, SYS_OPEN_WB, (int)strlen(board_prepare_path) };
	struct { int handle; const void* data; int length; } write;
	struct { int handle; } close;
	int handle;
	if (!room) {
		board_puts("# board: no room in the prepared region for the ArrayBuffers' bytes\n");
		return -1;
	}
	memcpy(room, board_prepared_room, roomUsed);
	header->magic = BOARD_PREPARED_MAGIC;
	header->root = root;
	header->room = room;
	header->roomBytes = (uint32_t)roomUsed;
	header->bytes = (uint32_t)(board_heap_break() - __prep_start);
	header->bundle = xsrun_bundle;
	header->entry = (const void*)main;
	handle = board_semihost(SYS_OPEN, &open);
	if (handle < 0) {
		board_puts("# board: cannot open the prepared machine's file on the host\n");
		return -1;
	}
	write.handle = handle;
	write.data = __prep_start;
	write.length = (int)header->bytes;
	close.handle = handle;
	if (board_semihost(SYS_WRITE, &write) != 0) {
		board_puts("# board: cannot write the prepared machine's file on the host\n");
		board_semihost(SYS_CLOSE, &close);
		return -1;
	}
	board_semihost(SYS_CLOSE, &close);
	board_puts("# board: prepared machine ");
	board_put_unsigned(header->bytes);
	board_puts(" bytes, its ArrayBuffers ");
	board_put_unsigned(header->roomBytes);
	board_puts(" bytes of RAM\n");
	return 0;
}
