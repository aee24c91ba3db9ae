package replica

import (
	"container/heap"
	"sync"
)

// waiters holds callbacks waiting for the applied index to reach a value.
type waiters struct {
	mu sync.Mutex
	h  waitHeap
}

type waiter struct {
	index uint64
	done  func(error)
}

type waitHeap []waiter

func (h waitHeap) Len() int           { return len(h) }
func (h waitHeap) Less(i, j int) bool { return h[i].index < h[j].index }
func (h waitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *waitHeap) Push(x any)        { *h = append(*h, x.(waiter)) }
func (h *waitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = waiter{}
	*h = old[:len(old)-1]
	return x
}

// add registers done for index, unless applied already reached it (done then runs at once).
func (w *waiters) add(index uint64, applied func() uint64, done func(error)) {
	w.mu.Lock()
	if applied() >= index {
		w.mu.Unlock()
		done(nil)
		return
	}
	heap.Push(&w.h, waiter{index, done})
	w.mu.Unlock()
}

// release runs the callbacks of every waiter at or below applied.
func (w *waiters) release(applied uint64) {
	var ready []func(error)
	w.mu.Lock()
	for len(w.h) > 0 && w.h[0].index <= applied {
		ready = append(ready, heap.Pop(&w.h).(waiter).done)
	}
	w.mu.Unlock()
	for _, f := range ready {
		f(nil)
	}
}

// fail runs every callback with err.
func (w *waiters) fail(err error) {
	w.mu.Lock()
	h := w.h
	w.h = nil
	w.mu.Unlock()
	for _, x := range h {
		x.done(err)
	}
}
