package model

/*
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
static void pin_mmap_threshold(int n) { mallopt(M_MMAP_THRESHOLD, n); }
#else
static void pin_mmap_threshold(int n) { (void)n; }
#endif
*/
import "C"

// sqliteMmapThreshold is where glibc's malloc hands a block its own
// mapping, returned to the system when freed (glibc's default start).
const sqliteMmapThreshold = 128 << 10

// pinMallocThreshold keeps glibc's malloc from raising its mmap threshold
// on its own. SQLite (the only C code in the process) copies every blob it
// is given, and the ledger writes one of about 45 bytes per open stream
// each second (ledger_figures.go): 400 KB at 9,000 streams. glibc raises
// the threshold to the largest block freed, so from the second write on
// those copies came from its arenas, which kept them: resident memory grew
// by 0.13 MiB/s while 9,000 streams were merely held, and stayed flat with
// the threshold fixed (0.01; scripts/bench-streams.sh, issue 14). A fixed
// threshold only sends blocks above it to mmap, one map and unmap per
// figures write. Without glibc (musl) it does nothing.
func pinMallocThreshold() { C.pin_mmap_threshold(sqliteMmapThreshold) }
