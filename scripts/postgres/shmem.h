/*
 * The PostgreSQL structures that shmscope reads in a server's main shared memory to say who waits
 * for whom without a connection: the segment header, the shared memory index (a dynahash table of
 * ShmemIndexEnt), ProcGlobal and its PGPROC array, heavyweight locks (LOCK, PROCLOCK, LOCKTAG),
 * LWLocks and the wait event numbers. scripts/postgres-schema.ts imports this file with
 * `shmscope import` against the server's own headers (Debian's postgresql-server-dev-N) into
 * schemas/postgresql-N.shms.
 */
#include "postgres.h"
#include "storage/pg_shmem.h"
#include "storage/s_lock.h"
#include "storage/shmem.h"
#include "storage/proc.h"
#include "storage/lock.h"
#include "storage/lockdefs.h"
#include "storage/lwlock.h"
#include "utils/hsearch.h"
#include "utils/wait_event.h"

/*
 * A shared hash table's header is private to dynahash.c (the headers only name it), so it is
 * declared here as that file lays it out (unchanged from PostgreSQL 9.6 to 16): 32 free lists,
 * then the directory's size and the bucket masks, then the sizes fixed at creation. The directory
 * of a shared table follows the header directly. The decoder checks the values it reads (the
 * index's key and entry sizes) against ShmemIndexEnt, so a different layout is refused, not misread.
 */
typedef struct ShmscopeHashFreeList
{
	slock_t		mutex;
	long		nentries;
	HASHELEMENT *freeList;
} ShmscopeHashFreeList;

struct HASHHDR
{
	ShmscopeHashFreeList freeList[32];
	long		dsize;
	long		nsegs;
	uint32		max_bucket;
	uint32		high_mask;
	uint32		low_mask;
	Size		keysize;
	Size		entrysize;
	long		num_partitions;
	long		max_dsize;
	long		ssize;
	int			sshift;
	int			nelem_alloc;
};

/*
 * What the decoder uses, by value, so that the import writes these types and every type they
 * hold (a header's types are written only when something of the wrapper uses them).
 */
typedef struct ShmscopePostgres
{
	PGShmemHeader header;
	struct HASHHDR indexHeader;
	HASHELEMENT indexElement;
	ShmemIndexEnt indexEntry;
	PROC_HDR procHeader;
	PGPROC proc;
	LOCK lock;
	PROCLOCK procLock;
	LOCKTAG lockTag;
	LWLockPadded lwlock;
	LockTagType lockTagType;
	BuiltinTrancheIds tranche;
	WaitEventActivity activity;
	WaitEventClient client;
	WaitEventIPC ipc;
	WaitEventTimeout timeout;
	WaitEventIO io;
} ShmscopePostgres;

/* The numbers the headers give as macros, which the decoder needs by name. */
typedef enum ShmscopePostgresNumbers
{
	SHMSCOPE_PGShmemMagic = PGShmemMagic,
	SHMSCOPE_SHMEM_INDEX_KEYSIZE = SHMEM_INDEX_KEYSIZE,
	SHMSCOPE_NUM_INDIVIDUAL_LWLOCKS = NUM_INDIVIDUAL_LWLOCKS,
	SHMSCOPE_MAX_LOCKMODES = MAX_LOCKMODES,
	SHMSCOPE_PG_WAIT_LWLOCK = PG_WAIT_LWLOCK,
	SHMSCOPE_PG_WAIT_LOCK = PG_WAIT_LOCK,
	SHMSCOPE_PG_WAIT_BUFFER_PIN = PG_WAIT_BUFFER_PIN,
	SHMSCOPE_PG_WAIT_ACTIVITY = PG_WAIT_ACTIVITY,
	SHMSCOPE_PG_WAIT_CLIENT = PG_WAIT_CLIENT,
	SHMSCOPE_PG_WAIT_EXTENSION = PG_WAIT_EXTENSION,
	SHMSCOPE_PG_WAIT_IPC = PG_WAIT_IPC,
	SHMSCOPE_PG_WAIT_TIMEOUT = PG_WAIT_TIMEOUT,
	SHMSCOPE_PG_WAIT_IO = PG_WAIT_IO,
	SHMSCOPE_AccessShareLock = AccessShareLock,
	SHMSCOPE_RowShareLock = RowShareLock,
	SHMSCOPE_RowExclusiveLock = RowExclusiveLock,
	SHMSCOPE_ShareUpdateExclusiveLock = ShareUpdateExclusiveLock,
	SHMSCOPE_ShareLock = ShareLock,
	SHMSCOPE_ShareRowExclusiveLock = ShareRowExclusiveLock,
	SHMSCOPE_ExclusiveLock = ExclusiveLock,
	SHMSCOPE_AccessExclusiveLock = AccessExclusiveLock
} ShmscopePostgresNumbers;
