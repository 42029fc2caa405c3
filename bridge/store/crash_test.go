package store

// What the corruption and crash tests cannot make Open or Check detect,
// and why:
//
//   - A damaged last record of the newest WAL. A write cut off by a crash
//     and a flipped byte in the last record look the same, so Pebble takes
//     both as the end of the log (a record that is followed by a valid one
//     is corruption, and refused). An acknowledged write whose record is
//     the last one, damaged later on disk, is lost without an error.
//   - A MANIFEST cut off after its last complete edit, for the same
//     reason: Pebble takes its tail as a crash during a MANIFEST write. If
//     the edits cut off only flushed memtables whose WAL is still there,
//     nothing is lost (Pebble replays the WAL); if that WAL was already
//     deleted, what the flush wrote is lost. A cut further in names tables
//     that compactions have replaced, and is refused ("missing").
//   - A folder emptied of everything, the STORE marker too: it is a new,
//     empty store. Only the marker says a folder held one.
//   - Damage in a block no read touches: Open and Check read every key of
//     every kind and every value, but not the bloom filter blocks (used by
//     point reads only); a damaged filter block is found, and recorded in
//     Damage, by the first point read that needs it.

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const crashDirEnv = "ALERTBRIDGE_STORE_CRASH_DIR"

// TestCrashChild is the process TestCrashLosesNoAcknowledgedJob kills: it
// accepts notifications from 8 goroutines as fast as it can and prints
// the id of each job whose Accept returned, one per line, at once.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestCrashLosesNoAcknowledgedJob")
	}
	db, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "open: %v\n", err)
		os.Exit(3)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewSource(int64(os.Getpid()*8 + w)))
			for i := 0; ; i++ {
				req := bigReq(i, rnd)
				key := fmt.Sprintf("%d-%d-%d", os.Getpid(), w, i)
				req.DedupKey = key
				req.Group.GroupKey = key
				req.Jobs[0].Job.GroupKey = key
				req.Group.Records[0].ID = rnd.Int63n(1 << 40)
				acc, err := db.Accept(req)
				if err != nil {
					fmt.Fprintf(os.Stderr, "accept: %v\n", err)
					os.Exit(4)
				}
				mu.Lock()
				// os.Stdout is unbuffered: the line is written now.
				fmt.Fprintf(os.Stdout, "%d\n", acc.Jobs[0].ID)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
}

// TestCrashLosesNoAcknowledgedJob kills a process that is accepting
// notifications with SIGKILL at a random moment, five times on the same
// store, and requires after each kill that every job it acknowledged is
// there and that Check finds no damage.
func TestCrashLosesNoAcknowledgedJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	rnd := rand.New(rand.NewSource(time.Now().UnixNano()))
	acked := map[uint64]bool{}
	for round := 0; round < 5; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lines []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			// A line without its newline was cut by the kill: Accept
			// returned, so its job counts too, but its id may be cut
			// short, so it is left out.
			r := bufio.NewReader(out)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				lines = append(lines, line[:len(line)-1])
			}
		}()
		wait := time.Duration(100+rnd.Intn(500)) * time.Millisecond
		time.Sleep(wait)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-done
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended by itself (%v), not killed: %s", round, err, stderr.String())
		}
		n := 0
		for _, l := range lines {
			id, err := strconv.ParseUint(l, 10, 64)
			if err != nil {
				t.Fatalf("round %d: child printed %q", round, l)
			}
			acked[id] = true
			n++
		}
		rep, err := Check(dir)
		if err != nil {
			t.Fatalf("round %d: Check: %v", round, err)
		}
		if rep.Damaged() {
			t.Fatalf("round %d: Check after a kill finds damage: %q", round, rep.Problems)
		}
		db, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after a kill: %v", round, err)
		}
		pending := map[uint64]bool{}
		if err := db.ForEachPending(func(j *Job) error { pending[j.ID] = true; return nil }); err != nil {
			t.Fatal(err)
		}
		lost := 0
		for id := range acked {
			if !pending[id] {
				lost++
				if lost <= 5 {
					t.Errorf("round %d: acknowledged job %d is not in the store", round, id)
				}
			}
		}
		for id := range acked {
			if _, err := payloadOf(db, id); err != nil && pending[id] {
				t.Errorf("round %d: payload of acknowledged job %d: %v", round, id, err)
				break
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: killed after %v, %d acknowledged this round, %d in all, %d pending in the store, %d lost",
			round, wait, n, len(acked), len(pending), lost)
		if lost > 0 {
			t.FailNow()
		}
	}
	if len(acked) == 0 {
		t.Fatal("no job was acknowledged in five rounds; the test checked nothing")
	}
}
