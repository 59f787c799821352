package main

import (
	"path/filepath"
	"sync"

	"github.com/phonehome/phonehome/classify"
)

// saver writes capture's checkpoints on a goroutine of its own: merging with
// a resumed run, encoding, gzip and the fsyncs of a large run take long
// enough that libpcap would drop packets if the capture waited for them.
// One at a time: a checkpoint due while the last is still being written is
// taken at a later poll. The run handed over is the saver's: the capture
// goes on with its own (Classifier.Snapshot copies).
type saver struct {
	path  string // dir/classify.CheckpointName; "" for no checkpoints
	prior resumed

	mu      sync.Mutex
	running bool
	done    sync.WaitGroup
	err     string // the last save's failure; "" when it succeeded
	fresh   bool   // a save ended since outcome was last asked
}

func newSaver(prior resumed) *saver {
	s := &saver{prior: prior}
	if prior.dir != "" {
		s.path = filepath.Join(prior.dir, classify.CheckpointName)
	}
	return s
}

// busy reports whether a checkpoint is being written.
func (s *saver) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// save writes run in the background; the caller checks busy first.
func (s *saver) save(run *classify.Run) {
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		s.saveNow(run)
	}()
}

// saveNow merges run with the resumed run and writes it, atomically
// (classify.SaveRecord), and keeps the outcome.
func (s *saver) saveNow(run *classify.Run) {
	merged, err := s.prior.merge(run)
	if err == nil {
		err = classify.SaveRecord(s.path, merged, recordMeta(s.prior.label))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = false
	s.fresh = true
	s.err = ""
	if err != nil {
		s.err = err.Error()
	}
}

// wait waits for the checkpoint being written, if any.
func (s *saver) wait() { s.done.Wait() }

// outcome is the last save's failure ("" for success), and whether a save
// ended since the last call.
func (s *saver) outcome() (err string, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh, s.fresh = s.fresh, false
	return s.err, fresh
}
