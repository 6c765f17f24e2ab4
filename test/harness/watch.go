package harness

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// PodEvent is a pod as WatchPods shows it.
type PodEvent struct {
	Pod     *corev1.Pod
	Deleted bool // a deletion event
	Listed  bool // from the first list, not from the watch
}

// WatchPods lists the pods of ns and hands each to see, then watches them from the list's
// resource version and hands see the pod of every event, until ctx ends. It returns once the
// list is handed over. The API server closes a watch it finds slow to read, or at its timeout:
// the watch resumes from the last resource version seen, so no event is lost or repeated. The
// channel yields the error that ended the watch for good, or nil once ctx ended, and closes.
func WatchPods(ctx context.Context, client kubernetes.Interface, ns string, see func(PodEvent)) (<-chan error, error) {
	pods := client.CoreV1().Pods(ns)
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", ns, err)
	}
	for i := range list.Items {
		see(PodEvent{Pod: &list.Items[i], Listed: true})
	}
	rv := list.ResourceVersion
	open := func() (watch.Interface, error) {
		w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			return nil, fmt.Errorf("watch pods in %s from %s: %w", ns, rv, err)
		}
		return w, nil
	}
	w, err := open()
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		defer close(done)
		done <- follow(ctx, w, open, &rv, see)
	}()
	return done, nil
}

// follow hands see the pods of w's events, reopening w when the server closes it, until ctx
// ends (nil) or the watch fails for good.
func follow(ctx context.Context, w watch.Interface, open func() (watch.Interface, error), rv *string, see func(PodEvent)) error {
	defer func() { w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				next, err := open()
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				w.Stop()
				w = next
				continue
			}
			if ev.Type == watch.Error {
				return fmt.Errorf("watch of pods: %w", apierrors.FromObject(ev.Object))
			}
			obj, err := meta.Accessor(ev.Object)
			if err != nil {
				return fmt.Errorf("watch of pods: %s event of %T: %w", ev.Type, ev.Object, err)
			}
			*rv = obj.GetResourceVersion()
			if ev.Type == watch.Bookmark {
				continue
			}
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				return fmt.Errorf("watch of pods: %s event of %T", ev.Type, ev.Object)
			}
			see(PodEvent{Pod: pod, Deleted: ev.Type == watch.Deleted})
		}
	}
}

// Closed reports whether ch is closed, without waiting.
func Closed[C ~chan struct{} | ~<-chan struct{}](ch C) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
