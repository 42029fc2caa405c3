package queue

import (
	"sync"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// hotGroups keeps the groups of the most recently accepted jobs in memory,
// so a healthy target's worker does not decode from disk what was encoded a
// moment ago. It is bounded (oldest evicted first) and only an
// optimisation: the store stays the source of truth.
type hotGroups struct {
	mu    sync.Mutex
	max   int
	byID  map[uint64]*alert.Group
	order []uint64 // insertion order; may hold ids already taken
}

func newHotGroups(max int) *hotGroups {
	return &hotGroups{max: max, byID: make(map[uint64]*alert.Group, max)}
}

func (h *hotGroups) put(id uint64, g *alert.Group) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.byID[id] = g
	h.order = append(h.order, id)
	for len(h.byID) > h.max && len(h.order) > 0 {
		delete(h.byID, h.order[0])
		h.order = h.order[1:]
	}
	if len(h.order) > 4*h.max { // drop ids already taken
		live := h.order[:0]
		for _, id := range h.order {
			if _, ok := h.byID[id]; ok {
				live = append(live, id)
			}
		}
		h.order = live
	}
}

// take returns and forgets the group of id, if still held.
func (h *hotGroups) take(id uint64) (*alert.Group, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	g, ok := h.byID[id]
	delete(h.byID, id)
	return g, ok
}
