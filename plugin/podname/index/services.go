package index

import "sync"

// Services holds each Service's selector, by name then namespace, so the
// DNS path can ask whether a Service selects a pod without allocating.
type Services struct {
	mu     sync.RWMutex
	byName map[string]map[string][]string // name -> namespace -> selector needles
	byNS   map[string]map[string]struct{} // namespace -> names, for a pod's Services
}

// NewServices returns an empty Services.
func NewServices() *Services {
	return &Services{byName: map[string]map[string][]string{}, byNS: map[string]map[string]struct{}{}}
}

// Set records the selector of Service namespace/name. A Service with an
// empty selector selects no pod, as for the EndpointSlice controller.
func (s *Services) Set(namespace, name string, selector map[string]string) {
	if len(selector) == 0 {
		s.Delete(namespace, name)
		return
	}
	needles := selectorNeedles(selector)
	s.mu.Lock()
	defer s.mu.Unlock()
	byNS := s.byName[name]
	if byNS == nil {
		byNS = map[string][]string{}
		s.byName[name] = byNS
	}
	byNS[namespace] = needles
	names := s.byNS[namespace]
	if names == nil {
		names = map[string]struct{}{}
		s.byNS[namespace] = names
	}
	names[name] = struct{}{}
}

// Delete forgets Service namespace/name.
func (s *Services) Delete(namespace, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byNS := s.byName[name]
	delete(byNS, namespace)
	if len(byNS) == 0 {
		delete(s.byName, name)
	}
	names := s.byNS[namespace]
	delete(names, name)
	if len(names) == 0 {
		delete(s.byNS, namespace)
	}
}

// Selects reports whether Service name in the pod's namespace selects p.
func (s *Services) Selects(name string, p *Pod) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return p.Labels.matches(s.byName[name][p.Namespace])
}

// any reports whether f holds for a Service called name in some namespace.
func (s *Services) any(name string, f func(namespace string, needles []string) bool) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for ns, needles := range s.byName[name] {
		if f(ns, needles) {
			return true
		}
	}
	return false
}

// selecting calls f with the name of every Service in p's namespace that
// selects p.
func (s *Services) selecting(p *Pod, f func(name string)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for name := range s.byNS[p.Namespace] {
		if p.Labels.matches(s.byName[name][p.Namespace]) {
			f(name)
		}
	}
}
