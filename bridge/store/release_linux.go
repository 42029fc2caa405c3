package store

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMapped drops the process's page-table entries for the database
// file's memory map (madvise MADV_DONTNEED). bbolt reads through the map,
// so every page a read or a commit touched stays resident in the process
// (its RSS) until unmapped, although it is clean file cache the kernel
// can drop at any time: after draining a backlog of 100,000 jobs that was
// most of a gigabyte. The pages stay in the page cache, and the next
// access maps them again, at the same address: nothing a reader holds
// changes. The read transaction keeps bbolt from remapping meanwhile.
func releaseMapped(db *bolt.DB) {
	_ = db.View(func(tx *bolt.Tx) error {
		data, size := db.Info().Data, tx.Size()
		if data == 0 || size <= 0 {
			return nil
		}
		_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, data, uintptr(size), syscall.MADV_DONTNEED)
		if errno != 0 {
			return errno
		}
		return nil
	})
}
