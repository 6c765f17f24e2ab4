package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// pollInterval is how often start-up conditions are checked; each check is a local request.
const pollInterval = 100 * time.Millisecond

// waitFor polls cond until it returns nil or another error than notYet, ctx ends, or one of
// procs exits (an *exitedError). The reason of the last notYet is kept for a timeout to say
// what was still missing. Its errors quote no logs; the caller knows which log explains them.
func waitFor(ctx context.Context, what string, procs []*process, cond func(context.Context) error) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		for _, p := range procs {
			if err := p.exitError(); err != nil {
				return false, err
			}
		}
		err := cond(ctx)
		var pending notYetError
		if errors.As(err, &pending) {
			last = pending.reason
			return false, nil
		}
		return err == nil, err
	})
	if err == nil {
		return nil
	}
	if last != nil && ctx.Err() != nil {
		return fmt.Errorf("wait for %s: %w (last: %v)", what, err, last)
	}
	return fmt.Errorf("wait for %s: %w", what, err)
}

// notYetError is a condition that does not hold yet, and why.
type notYetError struct{ reason error }

func (e notYetError) Error() string { return "not yet: " + e.reason.Error() }

// notYet marks reason as a condition still pending, for waitFor to retry.
func notYet(reason error) error { return notYetError{reason: reason} }

// notYetf is notYet with a formatted reason.
func notYetf(format string, args ...any) error { return notYet(fmt.Errorf(format, args...)) }

// httpGetOK is a condition that holds once url answers 200. Other answers and connection
// errors are pending: a component is expected to refuse connections until it listens.
func httpGetOK(client *http.Client, url, token string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("request %s: %w", url, err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return notYet(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		if resp.StatusCode != http.StatusOK {
			return notYetf("GET %s: %s: %s", url, resp.Status, body)
		}
		return nil
	}
}

// probeClient is for health checks on components this package started on 127.0.0.1. It skips
// certificate verification because the API server's certificate does not exist until it runs.
var probeClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
}
