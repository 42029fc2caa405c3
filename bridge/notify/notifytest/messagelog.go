package notifytest

// MessageLog keeps the messages a fake platform posted, numbered from 0
// in posting order, for fakes that answer edits of their own messages. A
// deleted message keeps its number and cannot be got again. It does no
// locking: the fake holds its own lock around each use.
type MessageLog[M any] struct {
	msgs []*M // nil once deleted
}

// Add keeps m and returns its number.
func (l *MessageLog[M]) Add(m *M) int {
	l.msgs = append(l.msgs, m)
	return len(l.msgs) - 1
}

// Next is the number the next Add returns.
func (l *MessageLog[M]) Next() int { return len(l.msgs) }

// Get returns message n, or nil when there is none or it was deleted.
func (l *MessageLog[M]) Get(n int) *M {
	if n < 0 || n >= len(l.msgs) {
		return nil
	}
	return l.msgs[n]
}

// Delete deletes message n; an unknown n is ignored.
func (l *MessageLog[M]) Delete(n int) {
	if n >= 0 && n < len(l.msgs) {
		l.msgs[n] = nil
	}
}

// Live returns copies of the messages not deleted, oldest first.
func (l *MessageLog[M]) Live() []M {
	var out []M
	for _, m := range l.msgs {
		if m != nil {
			out = append(out, *m)
		}
	}
	return out
}
