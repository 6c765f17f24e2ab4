package index

import "slices"

// ranked keeps, for every key, the pods that hold it and the one that wins.
// Most keys have one holder; only keys held by several pods use more.
type ranked[K comparable] struct {
	win  map[K]*Pod
	more map[K][]*Pod // every holder, best first, for keys with two or more
	less func(a, b *Pod) bool
}

func newRanked[K comparable](less func(a, b *Pod) bool) ranked[K] {
	return ranked[K]{win: map[K]*Pod{}, more: map[K][]*Pod{}, less: less}
}

// add inserts p under k, replacing an older version of the same pod.
// It reports whether k is new and whether k just became shared.
func (r *ranked[K]) add(k K, p *Pod) (created, shared bool) {
	w, ok := r.win[k]
	if !ok {
		r.win[k] = p
		return true, false
	}
	all, multi := r.more[k]
	if !multi {
		if same(w, p) {
			r.win[k] = p
			return false, false
		}
		all = []*Pod{w}
	}
	all = slices.DeleteFunc(all, func(q *Pod) bool { return same(q, p) })
	all = append(all, p)
	slices.SortFunc(all, r.cmp)
	r.store(k, all)
	return false, !multi && len(all) > 1
}

// remove deletes p (any version of it) from k and reports whether k is gone.
func (r *ranked[K]) remove(k K, p *Pod) (gone bool) {
	w, ok := r.win[k]
	if !ok {
		return false
	}
	all, multi := r.more[k]
	if !multi {
		if same(w, p) {
			delete(r.win, k)
			return true
		}
		return false
	}
	r.store(k, slices.DeleteFunc(all, func(q *Pod) bool { return same(q, p) }))
	return false
}

func (r *ranked[K]) store(k K, all []*Pod) {
	r.win[k] = all[0]
	if len(all) == 1 {
		delete(r.more, k)
		return
	}
	r.more[k] = all
}

// holders returns the winner of k and, when k is shared, every holder.
func (r *ranked[K]) holders(k K) (win *Pod, all []*Pod) {
	win = r.win[k]
	return win, r.more[k]
}

func (r *ranked[K]) cmp(a, b *Pod) int {
	switch {
	case r.less(a, b):
		return -1
	case r.less(b, a):
		return 1
	}
	return 0
}
