package kube

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// protoMagic starts every protobuf object the API server sends.
var protoMagic = []byte("k8s\x00")

// zeroUnix is what an absent or empty meta/v1 Time gives: time.Time{}.Unix().
var zeroUnix = time.Time{}.Unix()

var errWire = errors.New("malformed protobuf")

// wirePod is what the decoder gathers of one Pod before projecting it. The
// byte slices point into the message being decoded; only what the
// projection keeps is copied out of it.
type wirePod struct {
	name, namespace, rv []byte
	created             int64
	deleted             bool
	eventsEnd           bool
	labels              [][2][]byte
	hostname, override  []byte
	asFQDN, hostNetwork bool
	phase, podIP        []byte
	ips                 [][]byte
	hasIPs              bool // status.podIPs had an entry, even an empty one
	readySince          int64
	labelsScratch       map[string]string
	ipViews             []string
}

var wirePods = sync.Pool{New: func() any { return &wirePod{labelsScratch: map[string]string{}} }}

// reset empties w for the next pod, keeping its buffers but nothing that
// points into the last message, which a pooled wirePod would otherwise pin.
func (w *wirePod) reset() {
	clear(w.labels)
	clear(w.ips)
	clear(w.ipViews)
	m, labels, ips, views := w.labelsScratch, w.labels[:0], w.ips[:0], w.ipViews[:0]
	clear(m)
	*w = wirePod{labelsScratch: m, labels: labels, ips: ips, ipViews: views, created: zeroUnix}
}

var (
	readyType = []byte(api.PodReadyToStartContainers)
	condTrue  = []byte(api.ConditionTrue)
	eventsEnd = []byte(meta.InitialEventsAnnotationKey)
	trueText  = []byte("true")
)

// decodePod projects a Pod message (without the envelope) as project does
// the decoded Pod. It returns an error, and no projection, for bytes the
// generated code could not decode as far as the fields it reads. A pod held
// (if held is not nil) at the message's resourceVersion is that version: its
// projection is returned, and none is built (a relist's unchanged pods).
func decodePod(b []byte, held *PodStore) (*Pod, error) {
	w := wirePods.Get().(*wirePod)
	w.reset()
	defer func() {
		w.reset()
		wirePods.Put(w)
	}()
	if err := w.pod(b); err != nil {
		return nil, err
	}
	if o := held.atVersion(view(w.namespace), view(w.name), parseRV(view(w.rv))); o != nil {
		return o, nil
	}
	return w.project(), nil
}

// fields walks the fields of one message, calling f for each with its
// value: for the bytes wire type the payload, for a varint its value, for
// other types nil. A field f does not want it ignores; an error stops.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %w", errWire, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: field %d: %w", errWire, num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// want checks a read field's wire type, as the generated code does.
func want(num protowire.Number, typ, want protowire.Type) error {
	if typ != want {
		return fmt.Errorf("%w: field %d has wire type %d", errWire, num, typ)
	}
	return nil
}

func (w *wirePod) pod(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		var next func([]byte) error
		switch num {
		case podMetadata:
			next = w.metadata
		case podSpec:
			next = w.spec
		case podStatus:
			next = w.status
		default:
			return nil
		}
		if err := want(num, typ, protowire.BytesType); err != nil {
			return err
		}
		return next(v)
	})
}

func (w *wirePod) metadata(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case metaName, metaNamespace, metaRV, metaCreated, metaDeleted, metaLabels, metaAnnotations:
		default:
			return nil
		}
		if err := want(num, typ, protowire.BytesType); err != nil {
			return err
		}
		switch num {
		case metaName:
			w.name = v
		case metaNamespace:
			w.namespace = v
		case metaRV:
			w.rv = v
		case metaCreated:
			t, err := unixTime(v)
			w.created = t
			return err
		case metaDeleted:
			w.deleted = true
			_, err := unixTime(v)
			return err
		case metaLabels:
			k, val, err := mapEntry(v)
			w.labels = append(w.labels, [2][]byte{k, val})
			return err
		case metaAnnotations:
			k, val, err := mapEntry(v)
			if bytes.Equal(k, eventsEnd) {
				w.eventsEnd = bytes.Equal(val, trueText)
			}
			return err
		}
		return nil
	})
}

func (w *wirePod) spec(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case specHostNetwork, specAsFQDN:
			if err := want(num, typ, protowire.VarintType); err != nil {
				return err
			}
			if num == specHostNetwork {
				w.hostNetwork = x != 0
			} else {
				w.asFQDN = x != 0
			}
		case specHostname, specOverride:
			if err := want(num, typ, protowire.BytesType); err != nil {
				return err
			}
			if num == specHostname {
				w.hostname = v
			} else {
				w.override = v
			}
		}
		return nil
	})
}

func (w *wirePod) status(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case statusPhase, statusConditions, statusPodIP, statusPodIPs:
		default:
			return nil
		}
		if err := want(num, typ, protowire.BytesType); err != nil {
			return err
		}
		switch num {
		case statusPhase:
			w.phase = v
		case statusPodIP:
			w.podIP = v
		case statusPodIPs:
			w.hasIPs = true
			var ip []byte
			err := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != podIPIP {
					return nil
				}
				ip = v
				return want(num, typ, protowire.BytesType)
			})
			w.ips = append(w.ips, ip)
			return err
		case statusConditions:
			return w.condition(v)
		}
		return nil
	})
}

// condition reads one PodCondition; as project, the last ready one counts.
func (w *wirePod) condition(b []byte) error {
	var typ, status []byte
	since := zeroUnix
	err := fields(b, func(num protowire.Number, wt protowire.Type, v []byte, _ uint64) error {
		switch num {
		case condType, condStatus, condTransition:
		default:
			return nil
		}
		if err := want(num, wt, protowire.BytesType); err != nil {
			return err
		}
		switch num {
		case condType:
			typ = v
		case condStatus:
			status = v
		case condTransition:
			t, err := unixTime(v)
			since = t
			return err
		}
		return nil
	})
	if err == nil && bytes.Equal(typ, readyType) && bytes.Equal(status, condTrue) {
		w.readySince = since
	}
	return err
}

// unixTime decodes a meta/v1 Time as its Unmarshal does: empty is the zero
// time, otherwise the seconds (nanos are dropped).
func unixTime(b []byte) (int64, error) {
	if len(b) == 0 {
		return zeroUnix, nil
	}
	var s int64
	err := fields(b, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		switch num {
		case timeSeconds:
			s = int64(x)
		case timeNanos:
		default:
			return nil
		}
		return want(num, typ, protowire.VarintType)
	})
	return s, err
}

// mapEntry decodes a map<string, string> entry; absent parts are empty.
func mapEntry(b []byte) (k, v []byte, err error) {
	err = fields(b, func(num protowire.Number, typ protowire.Type, x []byte, _ uint64) error {
		switch num {
		case mapKey:
			k = x
		case mapValue:
			v = x
		default:
			return nil
		}
		return want(num, typ, protowire.BytesType)
	})
	return k, v, err
}

// view is a string over b that must not outlive b; for lookups and
// parsing only, never for what the projection keeps.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// project builds the projection of what w gathered, as project does for
// a decoded Pod.
func (w *wirePod) project() *Pod {
	if w.hasIPs {
		for _, ip := range w.ips {
			w.ipViews = append(w.ipViews, view(ip))
		}
	} else if len(w.podIP) > 0 {
		w.ipViews = append(w.ipViews, view(w.podIP))
	}
	for _, kv := range w.labels {
		w.labelsScratch[view(kv[0])] = view(kv[1])
	}
	f := podFacts{
		namespace: view(w.namespace), name: view(w.name), rv: view(w.rv), phase: view(w.phase),
		hostname: view(w.hostname), override: view(w.override), asFQDN: w.asFQDN, hostNetwork: w.hostNetwork,
		deleted: w.deleted, created: w.created, readySince: w.readySince, ips: w.ipViews, labels: w.labelsScratch,
	}
	o := f.project()
	o.initialEventsEnd = w.eventsEnd
	return o
}
