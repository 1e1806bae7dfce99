package actions

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/webapi"
)

// PathPrefix is the URL path of the actions without the action name, as in
// /api/v1/queue/delete.
const PathPrefix = "/api/v1/queue/"

// DefaultMaxDelete is the default of --actions.max-delete.
const DefaultMaxDelete = 1000

// Lister lists the queue of one Postfix instance. *postfix.Postqueue is
// one.
type Lister interface {
	List(ctx context.Context, h parser.Handler) (*postfix.ListResult, error)
}

// Executor runs postsuper on the ids of one queue. *postfix.Postsuper is
// one.
type Executor interface {
	Run(ctx context.Context, op postfix.Operation, queue string, ids []string) (*postfix.PostsuperResult, error)
}

// Instance is one Postfix instance that actions can change.
type Instance struct {
	Name      string // its --postfix.config-dir value, "" for the default instance
	Lister    Lister
	Postsuper Executor
	// NullSender is the name its listings give the null sender, the value
	// of empty_address_recipient. "" means DefaultNullSender.
	NullSender string
	// CheckIDShape is set when enable_long_queue_ids could not be read at
	// start. The first selection with a short queue id is then logged as a
	// warning instead.
	CheckIDShape bool
}

func (i *Instance) nullSender() string {
	if i.NullSender == "" {
		return DefaultNullSender
	}
	return i.NullSender
}

// Config holds the settings of a Handler.
type Config struct {
	Enabled map[Action]bool
	Tokens  *webapi.TokenFile
	// MaxDelete bounds the messages one delete request may remove unless
	// AllowBulkDelete is set, which also allows "all": true with delete.
	MaxDelete       int
	AllowBulkDelete bool
	// Instances lists the instances a request may name. A request must
	// name one when there are several.
	Instances []Instance
	// Invalidate drops every cached queue listing. It is called after
	// postsuper has run, so the next scrape shows the change.
	Invalidate func()
	Logger     log.Logger
	Now        func() time.Time // nil means time.Now
}

// Handler serves the action endpoints and publishes their counts as a
// prometheus.Collector.
type Handler struct {
	cfg     Config
	metrics *Metrics
	// running lets one real action run at a time, so that two requests
	// never act on the same messages at once. Dry runs only read.
	running *webapi.RateLimiter

	shortIDLog sync.Once
}

// NewHandler returns a handler for cfg.
func NewHandler(cfg Config) (*Handler, error) {
	switch {
	case len(cfg.Instances) == 0:
		return nil, errors.New("actions handler: no Postfix instance configured")
	case cfg.Tokens == nil:
		return nil, errors.New("actions handler: no token file configured")
	case cfg.MaxDelete < 1 || cfg.MaxDelete > MaxMessages:
		return nil, fmt.Errorf("actions handler: max delete %d is outside 1 to %d", cfg.MaxDelete, MaxMessages)
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
	return &Handler{cfg: cfg, metrics: NewMetrics(), running: webapi.NewRateLimiter(0, nil)}, nil
}

// Register adds the endpoint of every action to mux, the disabled ones
// included, so that they respond with 403 and the flag that enables them.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, action := range All {
		mux.Handle(PathPrefix+string(action), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.serveAction(w, r, action)
		}))
	}
}

// Describe implements prometheus.Collector.
func (h *Handler) Describe(ch chan<- *prometheus.Desc) { h.metrics.Describe(ch) }

// Collect implements prometheus.Collector.
func (h *Handler) Collect(ch chan<- prometheus.Metric) { h.metrics.Collect(ch) }

// Response is the JSON body of every response of the action endpoints.
type Response struct {
	Action   Action `json:"action"`
	Result   Result `json:"result"`
	Error    string `json:"error,omitempty"`
	Instance string `json:"instance,omitempty"`
	DryRun   bool   `json:"dry_run"`

	// The selection, in every response after the listing.
	Matched      *int           `json:"matched,omitempty"`
	MatchedBytes int64          `json:"matched_bytes,omitempty"`
	Queues       map[string]int `json:"queues,omitempty"`   // matched messages by queue
	Messages     []Message      `json:"messages,omitempty"` // the first 100 matches, by queue and id
	Confirm      string         `json:"confirm,omitempty"`
	NotFound     []string       `json:"not_found,omitempty"` // requested ids not in the queue
	Skipped      []Skipped      `json:"skipped,omitempty"`   // requested ids in a queue the action leaves alone

	// The postsuper runs of a real request.
	Affected *int     `json:"affected,omitempty"`
	Missed   []string `json:"missed,omitempty"` // selected ids postsuper did not report, at most 100
	Commands []string `json:"commands,omitempty"`

	Warnings []string `json:"warnings,omitempty"`
}

// outcome is the response to one request, with the fields the audit line needs.
type outcome struct {
	status   int
	body     Response
	selector []any // audit key-value pairs: the select object, or the number of queue_ids
	err      error
}

func (h *Handler) serveAction(w http.ResponseWriter, r *http.Request, action Action) {
	start := h.cfg.Now()
	out := h.serve(w, r, action)
	out.body.Action = action

	h.metrics.countRequest(action, out.body.Result)
	if out.body.Affected != nil {
		h.metrics.countMessages(action, *out.body.Affected)
	}
	h.audit(r, start, action, out)
	webapi.WriteJSON(w, out.status, out.body)
}

// serve checks the request in order (method, token, enabled action, body,
// limits) and then reads the queue and acts.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, action Action) outcome {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return rejected(http.StatusMethodNotAllowed, ResultMethod,
			fmt.Errorf("method %s is not allowed: use POST", r.Method))
	}
	if err := h.cfg.Tokens.Check(r); err != nil {
		return unauthorized(w, err)
	}
	if !h.cfg.Enabled[action] {
		return rejected(http.StatusForbidden, ResultForbidden,
			fmt.Errorf("the %s action is not enabled: add it to --actions.enable", action))
	}
	if r.URL.RawQuery != "" {
		return rejected(http.StatusBadRequest, ResultInvalid,
			errors.New("the URL must have no query: send every field in the JSON body"))
	}

	req, err := readRequest(r)
	if err != nil {
		return fromRequestError(err)
	}
	out := h.serveRequest(r, action, req)
	out.selector = describeRequest(req)
	out.body.DryRun = req.DryRun
	return out
}

// serveRequest checks a decoded request and then reads the queue and acts.
func (h *Handler) serveRequest(r *http.Request, action Action, req *Request) outcome {
	inst, err := h.instance(req.Instance)
	if err != nil {
		return fromRequestError(err)
	}
	p, err := req.plan(action, inst.nullSender())
	if err != nil {
		return fromRequestError(err)
	}
	if err := h.checkBulk(p); err != nil {
		return rejected(http.StatusForbidden, ResultForbidden, err)
	}

	out := h.act(r.Context(), inst, p)
	out.body.Instance = inst.Name
	return out
}

// instance returns the instance a request names.
func (h *Handler) instance(name string) (*Instance, error) {
	if name == "" && len(h.cfg.Instances) == 1 {
		return &h.cfg.Instances[0], nil
	}
	names := make([]string, 0, len(h.cfg.Instances))
	for i := range h.cfg.Instances {
		if h.cfg.Instances[i].Name == name {
			return &h.cfg.Instances[i], nil
		}
		names = append(names, fmt.Sprintf("%q", h.cfg.Instances[i].Name))
	}
	if name == "" {
		return nil, invalidf("missing instance: the exporter reads several Postfix instances, name one of %s",
			strings.Join(names, ", "))
	}
	return nil, invalidf("unknown instance %q: use one of %s", truncate(name), strings.Join(names, ", "))
}

// checkBulk applies the limits on deletes that are known before listing.
func (h *Handler) checkBulk(p *plan) error {
	if p.action != Delete || h.cfg.AllowBulkDelete {
		return nil
	}
	if p.selector != nil && p.selector.All {
		return errors.New("deleting every message with \"all\": true needs --actions.allow-bulk-delete")
	}
	if len(p.ids) > h.cfg.MaxDelete {
		return fmt.Errorf("the request lists %d queue ids, more than --actions.max-delete=%d: "+
			"split it, or start the exporter with --actions.allow-bulk-delete", len(p.ids), h.cfg.MaxDelete)
	}
	return nil
}

// limit returns the most messages a request for action may select.
func (h *Handler) limit(action Action) int {
	if action == Delete && !h.cfg.AllowBulkDelete {
		return h.cfg.MaxDelete
	}
	return MaxMessages
}

func rejected(status int, result Result, err error) outcome {
	return outcome{status: status, body: Response{Result: result, Error: err.Error()}, err: err}
}

func fromRequestError(err error) outcome {
	var reqErr *requestError
	if errors.As(err, &reqErr) {
		return rejected(reqErr.status, ResultInvalid, reqErr.err)
	}
	return rejected(http.StatusBadRequest, ResultInvalid, err)
}

func unauthorized(w http.ResponseWriter, err error) outcome {
	out := rejected(http.StatusUnauthorized, ResultUnauthorized, err)
	out.body.Error = webapi.Unauthorized(w, err)
	return out
}
