package kube

import (
	"bytes"
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// podList is a PodList as the slim decoder gives it: the list's metadata,
// which the reflector reads, and the projections of its items.
type podList struct {
	meta.ListMeta
	Items []*Pod
}

// GetObjectKind implements runtime.Object.
func (l *podList) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object; the items are shared, since
// what a copy could reach of a projection never changes (see Pod).
func (l *podList) DeepCopyObject() runtime.Object {
	c := *l
	c.ListMeta = *l.ListMeta.DeepCopy()
	c.Items = slices.Clone(l.Items)
	return &c
}

// decodePodList decodes a PodList message (without the envelope), each
// item as decodePod does.
func decodePodList(b []byte, held *PodStore) (*podList, error) {
	l := &podList{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case listMetadata:
			if err := want(num, typ, protowire.BytesType); err != nil {
				return err
			}
			return l.metadata(v)
		case listItems:
			if err := want(num, typ, protowire.BytesType); err != nil {
				return err
			}
			o, err := decodePod(v, held)
			if err != nil {
				return fmt.Errorf("item %d: %w", len(l.Items), err)
			}
			l.Items = append(l.Items, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (l *podList) metadata(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case listRV, listContinue:
			if err := want(num, typ, protowire.BytesType); err != nil {
				return err
			}
			if num == listRV {
				l.ResourceVersion = string(v)
			} else {
				l.Continue = string(v)
			}
		case listRemain:
			if err := want(num, typ, protowire.VarintType); err != nil {
				return err
			}
			n := int64(x)
			l.RemainingItemCount = &n
		}
		return nil
	})
}

// envelope splits the API server's protobuf framing (the magic, then a
// runtime.Unknown) into the object's apiVersion, kind and message. ok is
// false for what is not such an object or is content-encoded; the
// ordinary decoder deals with those.
func envelope(b []byte) (apiVersion, kind, raw []byte, ok bool) {
	if !bytes.HasPrefix(b, protoMagic) {
		return nil, nil, nil, false
	}
	ok = true
	err := fields(b[len(protoMagic):], func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case unknownTypeMeta:
			apiVersion, kind = nil, nil
			return fields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if typ == protowire.BytesType && num == typeAPIVersion {
					apiVersion = v
				} else if typ == protowire.BytesType && num == typeKind {
					kind = v
				}
				return nil
			})
		case unknownRaw:
			raw = v
		case unknownEncoding:
			ok = ok && len(v) == 0
		}
		return nil
	})
	return apiVersion, kind, raw, ok && err == nil
}
