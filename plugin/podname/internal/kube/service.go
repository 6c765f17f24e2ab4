package kube

import (
	"github.com/coredns/coredns/plugin/kubernetes/object"

	api "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Service is what the informer stores for a Service.
type Service struct {
	Namespace, Name string
	Selector        map[string]string
	rv              uint64 // as Pod.rv
	*object.Empty
}

// ProjectService keeps only what the index needs of a Service.
func ProjectService(s *api.Service) *Service {
	return &Service{Namespace: s.Namespace, Name: s.Name, Selector: s.Spec.Selector, rv: parseRV(s.ResourceVersion)}
}

// projectService is the Service informer's transform.
func projectService(obj any) (any, error) {
	if s, ok := obj.(*api.Service); ok {
		return ProjectService(s), nil
	}
	return obj, nil
}

// Version is the resource version of the event that brought s.
func (s *Service) Version() uint64 { return s.rv }

// GetNamespace implements metav1.Object.
func (s *Service) GetNamespace() string { return s.Namespace }

// SetNamespace implements metav1.Object.
func (s *Service) SetNamespace(string) {}

// GetName implements metav1.Object.
func (s *Service) GetName() string { return s.Name }

// SetName implements metav1.Object.
func (s *Service) SetName(string) {}

// GetResourceVersion implements metav1.Object.
func (s *Service) GetResourceVersion() string { return "" }

// SetResourceVersion implements metav1.Object.
func (s *Service) SetResourceVersion(string) {}

// DeepCopyObject implements runtime.Object.
func (s *Service) DeepCopyObject() runtime.Object {
	c := *s
	return &c
}
