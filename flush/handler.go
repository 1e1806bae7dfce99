// Package flush serves POST /api/v1/flush, which makes Postfix retry
// deferred mail with postqueue -f, -s SITE or -i QUEUE_ID. Every request is
// authenticated with a bearer token, validated, rate-limited and logged
// before anything runs, because flushing too often hurts the mail server and
// its standing with the hosts it delivers to.
package flush

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/go-kit/log"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/webapi"
)

// Path is the URL path of the flush endpoint.
const Path = "/api/v1/flush"

// maxBodyBytes is the maximum size of a request body. The longest valid
// body, a 253-byte site and an instance's config directory, fits easily.
const maxBodyBytes = 1024

// Instance is one Postfix instance that can be flushed.
type Instance struct {
	Name    string // its --postfix.config-dir value, "" for the default instance
	Flusher *postfix.Flusher
}

// Config holds the dependencies of a Handler.
type Config struct {
	Tokens  *webapi.TokenFile
	Limiter *webapi.RateLimiter
	// Instances lists the instances a request may name. The first one is
	// flushed when a request names none.
	Instances []Instance
	// Invalidate is called after every successful flush, so that the next
	// scrape lists the queue again instead of returning a cached listing.
	Invalidate func()
	Logger     log.Logger
	Now        func() time.Time // nil means time.Now
}

// Handler serves the flush endpoint and publishes its request counts as a
// prometheus.Collector.
type Handler struct {
	cfg     Config
	metrics *metrics
}

// NewHandler returns a handler for cfg. cfg must list at least one
// instance and have Tokens and Limiter set.
func NewHandler(cfg Config) (*Handler, error) {
	switch {
	case len(cfg.Instances) == 0:
		return nil, errors.New("flush handler: no Postfix instance configured")
	case cfg.Tokens == nil:
		return nil, errors.New("flush handler: no token file configured")
	case cfg.Limiter == nil:
		return nil, errors.New("flush handler: no rate limiter configured")
	}
	if cfg.Logger == nil {
		cfg.Logger = log.NewNopLogger()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Invalidate == nil {
		cfg.Invalidate = func() {}
	}
	return &Handler{cfg: cfg, metrics: newMetrics()}, nil
}

// request is the body of a flush request. Site and QueueID are exclusive,
// and with neither the whole queue is flushed.
type request struct {
	Site     string `json:"site"`
	QueueID  string `json:"queue_id"`
	Instance string `json:"instance"`
}

// response is the JSON body of every response of the endpoint.
type response struct {
	Result  string `json:"result"`
	Error   string `json:"error,omitempty"`   // reason the request failed, for any result but ok
	Command string `json:"command,omitempty"` // the postqueue command line that ran, if one did
	// Message is postqueue's stderr, such as `postqueue: fatal: Flush
	// service is not configured for destination "example.net"`.
	Message           string  `json:"message,omitempty"`
	DurationSeconds   float64 `json:"duration_seconds,omitempty"`
	RetryAfterSeconds int64   `json:"retry_after_seconds,omitempty"`
}

// outcome is the response to one request, with the fields of its audit line.
type outcome struct {
	status int
	body   response
	req    *request // the decoded body, nil when it was not decoded
	inst   string   // the instance flushed, once one was chosen
	err    error    // logged; never contains the token
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	out := h.serve(w, r)

	h.metrics.count(out.body.Result)
	if out.body.Result == ResultOK {
		h.metrics.lastSuccess.Store(h.cfg.Now().UnixNano())
	}
	keyvals := []any{"action", "flush"}
	if out.req != nil {
		keyvals = append(keyvals, "target", out.req.target())
		if out.req.Site != "" {
			keyvals = append(keyvals, "site", clip(out.req.Site))
		}
		if out.req.QueueID != "" {
			keyvals = append(keyvals, "queue_id", clip(out.req.QueueID))
		}
	}
	keyvals = append(keyvals, "instance", out.inst,
		"result", out.body.Result, "status", out.status, "duration", h.cfg.Now().Sub(start))
	if out.err != nil {
		keyvals = append(keyvals, "err", out.err)
	} else if out.body.Message != "" {
		keyvals = append(keyvals, "stderr", out.body.Message)
	}
	webapi.Audit(h.cfg.Logger, r, keyvals...)
	webapi.WriteJSON(w, out.status, out.body)
}

// serve checks the request in order (method, token, body, rate limit) and
// runs the flush if every check passes. It sets the response headers that
// go with the status; ServeHTTP writes the body.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) outcome {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return rejected(http.StatusMethodNotAllowed, ResultMethodNotAllowed,
			fmt.Errorf("method %s is not allowed: use POST", r.Method))
	}

	if err := h.cfg.Tokens.Check(r); err != nil {
		return h.unauthorized(w, err)
	}
	if r.URL.RawQuery != "" {
		return rejected(http.StatusBadRequest, ResultInvalid,
			errors.New("the URL must have no query: send site, queue_id and instance in the body"))
	}

	var req request
	if err := webapi.ReadBody(r, maxBodyBytes, &req); err != nil {
		status := http.StatusBadRequest
		var bodyErr *webapi.BodyError
		if errors.As(err, &bodyErr) {
			status = bodyErr.Status
		}
		return rejected(status, ResultInvalid, err)
	}
	inst, err := h.check(req)
	if err != nil {
		out := rejected(http.StatusBadRequest, ResultInvalid, err)
		out.req, out.inst = &req, clip(req.Instance)
		return out
	}

	release, wait, err := h.cfg.Limiter.Begin()
	switch {
	case errors.Is(err, webapi.ErrBusy):
		out := rejected(http.StatusConflict, ResultBusy, errors.New("another flush is running"))
		out.req, out.inst = &req, inst.Name
		return out
	case errors.Is(err, webapi.ErrRateLimited):
		seconds := int64(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", fmt.Sprint(seconds))
		out := rejected(http.StatusTooManyRequests, ResultRateLimited,
			fmt.Errorf("the last flush ended less than the minimum interval ago: retry in %d s", seconds))
		out.body.RetryAfterSeconds = seconds
		out.req, out.inst = &req, inst.Name
		return out
	case err != nil:
		return rejected(http.StatusInternalServerError, ResultFailed, err)
	}

	out, counts := h.run(r, inst, req)
	release(counts)
	out.req, out.inst = &req, inst.Name
	return out
}

func (h *Handler) unauthorized(w http.ResponseWriter, err error) outcome {
	out := rejected(http.StatusUnauthorized, ResultUnauthorized, err)
	out.body.Error = webapi.Unauthorized(w, err)
	return out
}

// check validates the request body and returns the instance to flush.
func (h *Handler) check(req request) (Instance, error) {
	switch {
	case req.Site != "" && req.QueueID != "":
		return Instance{}, errors.New("site and queue_id are exclusive: give one of them, " +
			"or neither to flush the whole queue")
	case req.Site != "" && !webapi.ValidSite(req.Site):
		return Instance{}, errors.New("invalid site: use a domain name such as example.com, " +
			"or an address literal such as [192.0.2.1] or [ipv6:2001:db8::1]")
	case req.QueueID != "" && !webapi.ValidQueueID(req.QueueID):
		return Instance{}, errors.New("invalid queue_id: use a Postfix queue ID, " +
			"upper-case hex such as 4B3C21C0F5 or a long ID such as 4jgvV56dbhz5g2P")
	}

	if req.Instance == "" {
		return h.cfg.Instances[0], nil
	}
	for _, inst := range h.cfg.Instances {
		if inst.Name == req.Instance {
			return inst, nil
		}
	}
	return Instance{}, errors.New("unknown instance: use one of the --postfix.config-dir values")
}

// target returns what the request flushes: "all", "site" or "queue_id".
func (req request) target() string {
	switch {
	case req.Site != "" && req.QueueID != "":
		return "site+queue_id"
	case req.Site != "":
		return "site"
	case req.QueueID != "":
		return "queue_id"
	}
	return "all"
}

func rejected(status int, result string, err error) outcome {
	return outcome{status: status, body: response{Result: result, Error: err.Error()}, err: err}
}

// clip shortens a value from a rejected request for the audit line.
func clip(s string) string {
	const maxLength = 80
	if len(s) <= maxLength {
		return s
	}
	return s[:maxLength] + "..."
}
