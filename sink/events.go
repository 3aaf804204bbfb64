package sink

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"slices"
)

// eventWriter is the event log: every announced event as one JSON line.
// With neither store configured it is the whole sink (log-only mode).
type eventWriter struct {
	w    io.Writer
	node string
	buf  bytes.Buffer
}

// eventPiece is about how many bytes of the log are written at a time: a
// burst of new templates (a node's first minute: thousands) then neither
// grows a buffer of its whole size nor keeps one.
const eventPiece = 64 << 10

func (e *eventWriter) write(_ context.Context, b *batch) error {
	if len(b.items) == 0 {
		return nil
	}
	items := slices.Clone(b.items)
	sortBySeen(items)
	e.buf.Reset()
	for _, it := range items {
		if it.muted {
			continue
		}
		e.buf.Write(it.json(e.node))
		e.buf.WriteByte('\n')
		if e.buf.Len() >= eventPiece {
			if _, err := e.w.Write(e.buf.Bytes()); err != nil {
				return err
			}
			e.buf.Reset()
		}
	}
	if e.buf.Len() == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf.Bytes())
	return err
}

func (e *eventWriter) classify(error) (string, bool) { return CauseIO, true }

// sortBySeen orders events oldest first, those of the same instant as the
// sink took them, so lists and logs read in order.
func sortBySeen(items []*item) {
	slices.SortStableFunc(items, func(x, y *item) int {
		if c := x.t.SeenAt.Compare(y.t.SeenAt); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	})
}
