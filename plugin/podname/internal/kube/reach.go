package kube

import (
	"net/http"
	"sync"
	"time"
)

// reach logs, once each way, when requests to the API server start failing
// and when one gets through again. client-go's reflector retries a refused
// list or watch by itself without calling the watch error handler, so an
// outage would otherwise go unlogged.
type reach struct {
	key string

	mu    sync.Mutex
	down  bool
	since time.Time
}

func newReach(key string) *reach { return &reach{key: key} }

// wrap is a rest.Config WrapTransport.
func (r *reach) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err != nil && req.Context().Err() != nil {
			return resp, err // cancelled by us (a stopped watch), not an outage
		}
		r.observe(err)
		return resp, err
	})
}

// observe records the outcome of one request; any HTTP response counts as
// reaching the server (errors with a status are the watch error handler's).
func (r *reach) observe(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && !r.down:
		r.down, r.since = true, time.Now()
		log.Warningf("cannot reach the API server (%s), answers stay as last synced: %v", r.key, err)
	case err == nil && r.down:
		r.down = false
		log.Infof("API server reachable again (%s) after %s", r.key, seconds(time.Since(r.since)))
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
