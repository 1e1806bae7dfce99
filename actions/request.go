package actions

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/reason"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/webapi"
)

// MaxQueueIDs is the maximum number of ids in one request's queue_ids.
const MaxQueueIDs = 10000

// maxBodyBytes bounds the request body: MaxQueueIDs long queue ids of up to
// 29 characters, quoted and comma-separated, take about 320 KB.
const maxBodyBytes = 512 << 10

// Request is the JSON body of an action request. Exactly one of QueueIDs and
// Select must be given.
type Request struct {
	QueueIDs []string      `json:"queue_ids,omitempty"`
	Select   *SelectFields `json:"select,omitempty"`
	DryRun   bool          `json:"dry_run,omitempty"`
	Confirm  string        `json:"confirm,omitempty"`
	// Instance is the --postfix.config-dir value of the Postfix instance
	// to act on. It may be left out when the exporter reads one instance.
	Instance string `json:"instance,omitempty"`
}

// SelectFields is the "select" object of a request. Pointers tell a field
// that is left out from one set to its zero value, which matters for
// "sender": "" (the null sender).
type SelectFields struct {
	All            bool    `json:"all,omitempty"`
	Queue          *string `json:"queue,omitempty"`
	Sender         *string `json:"sender,omitempty"`
	Recipient      *string `json:"recipient,omitempty"`
	OlderThan      *string `json:"older_than,omitempty"`
	YoungerThan    *string `json:"younger_than,omitempty"`
	MinSize        *int64  `json:"min_size,omitempty"`
	MaxSize        *int64  `json:"max_size,omitempty"`
	ReasonCategory *string `json:"reason_category,omitempty"`
	ReasonContains *string `json:"reason_contains,omitempty"`
}

// requestError is a request the handler rejects, with its HTTP status.
type requestError struct {
	status int
	err    error
}

func (e *requestError) Error() string { return e.err.Error() }

func (e *requestError) Unwrap() error { return e.err }

func invalidf(format string, args ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
}

// plan is a validated request.
type plan struct {
	action   Action
	ids      []string  // the queue_ids form
	selector *Selector // the select form
	dryRun   bool
	confirm  string
}

// readRequest reads the JSON body of r. The error is a *requestError.
func readRequest(r *http.Request) (*Request, error) {
	mediaType, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if mediaType != "application/json" && r.ContentLength != 0 {
		return nil, &requestError{status: http.StatusUnsupportedMediaType,
			err: fmt.Errorf("unsupported Content-Type %q: send a JSON object with Content-Type application/json", mediaType)}
	}
	var req Request
	if err := webapi.ReadBody(r, maxBodyBytes, &req); err != nil {
		var bodyErr *webapi.BodyError
		if errors.As(err, &bodyErr) {
			return nil, &requestError{status: bodyErr.Status, err: bodyErr.Err}
		}
		return nil, invalidf("%v", err)
	}
	return &req, nil
}

// plan checks the request for action. nullSender is the name that the
// instance's listings give the null sender. The error is a *requestError.
func (req *Request) plan(action Action, nullSender string) (*plan, error) {
	p := &plan{action: action, dryRun: req.DryRun}
	switch {
	case req.QueueIDs != nil && req.Select != nil:
		return nil, invalidf("give either queue_ids or select, not both")
	case req.QueueIDs == nil && req.Select == nil:
		return nil, invalidf("missing queue_ids or select: name the messages to %s", action)
	}

	if req.Confirm != "" {
		if !isConfirmValue(req.Confirm) {
			return nil, invalidf("invalid confirm %q: use the confirm value of a dry run, 64 hexadecimal digits", req.Confirm)
		}
		if req.DryRun {
			return nil, invalidf("confirm is for the real request: leave it out of a dry run")
		}
		p.confirm = req.Confirm
	}

	if req.QueueIDs != nil {
		ids, err := checkQueueIDs(req.QueueIDs)
		if err != nil {
			return nil, err
		}
		p.ids = ids
		return p, nil
	}

	selector, err := req.Select.selector(action, nullSender)
	if err != nil {
		return nil, err
	}
	if !req.DryRun && req.Confirm == "" {
		return nil, invalidf("missing confirm: send the request with \"dry_run\": true first, check the result, " +
			"and repeat it with the confirm value it returned")
	}
	p.selector = selector
	return p, nil
}

func checkQueueIDs(ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, invalidf("queue_ids is empty: list at least one queue id")
	}
	if len(ids) > MaxQueueIDs {
		return nil, invalidf("queue_ids lists %d ids, more than the maximum of %d: split the request or use select",
			len(ids), MaxQueueIDs)
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !webapi.ValidQueueID(id) {
			return nil, invalidf("invalid queue id %q: expected a short (hexadecimal) or long Postfix queue id, "+
				"without the * or ! that listings append", truncate(id))
		}
		if seen[id] {
			return nil, invalidf("queue id %s is listed twice", id)
		}
		seen[id] = true
	}
	return ids, nil
}

// selector checks the select object for action.
func (f *SelectFields) selector(action Action, nullSender string) (*Selector, error) {
	s := &Selector{All: f.All, MinSize: -1, MaxSize: -1}
	if f.All {
		if f.hasFilter() {
			return nil, invalidf("select: \"all\": true cannot be combined with other fields")
		}
		return s, nil
	}
	if !f.hasFilter() {
		return nil, invalidf("select is empty: give at least one field, or \"all\": true to select every message")
	}

	if f.Queue != nil {
		if !slices.Contains(parser.Queues, *f.Queue) {
			return nil, invalidf("select: invalid queue %q: use one of %s", truncate(*f.Queue), strings.Join(parser.Queues, ", "))
		}
		if !action.appliesTo(*f.Queue) {
			return nil, &requestError{status: http.StatusUnprocessableEntity,
				err: fmt.Errorf("select: %s does not act on the %s queue, only on %s",
					action, *f.Queue, strings.Join(action.Queues(), ", "))}
		}
		s.Queue = *f.Queue
	}

	var err error
	if f.Sender != nil {
		if s.Sender, err = ParseAddress(*f.Sender, true, nullSender); err != nil {
			return nil, invalidf("select: sender %v", err)
		}
	}
	if f.Recipient != nil {
		if s.Recipient, err = ParseAddress(*f.Recipient, false, nullSender); err != nil {
			return nil, invalidf("select: recipient %v", err)
		}
	}
	if err := f.ages(s); err != nil {
		return nil, err
	}
	if err := f.sizes(s); err != nil {
		return nil, err
	}
	if err := f.reasons(s); err != nil {
		return nil, err
	}
	return s, nil
}

func (f *SelectFields) hasFilter() bool {
	return f.Queue != nil || f.Sender != nil || f.Recipient != nil || f.OlderThan != nil ||
		f.YoungerThan != nil || f.MinSize != nil || f.MaxSize != nil || f.ReasonCategory != nil ||
		f.ReasonContains != nil
}

func (f *SelectFields) ages(s *Selector) error {
	var err error
	if f.OlderThan != nil {
		if s.OlderThan, err = parseAge("older_than", *f.OlderThan); err != nil {
			return err
		}
	}
	if f.YoungerThan != nil {
		if s.YoungerThan, err = parseAge("younger_than", *f.YoungerThan); err != nil {
			return err
		}
	}
	if s.OlderThan > 0 && s.YoungerThan > 0 && s.OlderThan >= s.YoungerThan {
		return invalidf("select: older_than %s and younger_than %s select nothing: older_than must be the smaller",
			s.OlderThan, s.YoungerThan)
	}
	return nil
}

func parseAge(field, value string) (time.Duration, error) {
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, invalidf("select: invalid %s %q: use a Go duration such as 90m or 48h (there is no d unit)",
			field, truncate(value))
	}
	if d <= 0 {
		return 0, invalidf("select: invalid %s %q: the duration must be positive", field, value)
	}
	return d, nil
}

func (f *SelectFields) sizes(s *Selector) error {
	if f.MinSize != nil {
		if *f.MinSize < 0 {
			return invalidf("select: invalid min_size %d: sizes are bytes, 0 or more", *f.MinSize)
		}
		s.MinSize = *f.MinSize
	}
	if f.MaxSize != nil {
		if *f.MaxSize < 0 {
			return invalidf("select: invalid max_size %d: sizes are bytes, 0 or more", *f.MaxSize)
		}
		s.MaxSize = *f.MaxSize
	}
	if s.MinSize >= 0 && s.MaxSize >= 0 && s.MinSize > s.MaxSize {
		return invalidf("select: min_size %d is larger than max_size %d, so nothing matches", s.MinSize, s.MaxSize)
	}
	return nil
}

func (f *SelectFields) reasons(s *Selector) error {
	if f.ReasonCategory != nil {
		if !slices.Contains(reason.Categories, *f.ReasonCategory) {
			return invalidf("select: invalid reason_category %q: use one of %s",
				truncate(*f.ReasonCategory), strings.Join(reason.Categories, ", "))
		}
		s.ReasonCategory = *f.ReasonCategory
	}
	if f.ReasonContains != nil {
		value := *f.ReasonContains
		switch {
		case value == "":
			return invalidf("select: reason_contains is empty: give the text to look for, or leave the field out")
		case len(value) > maxPatternLength:
			return invalidf("select: reason_contains is %d bytes long, more than the maximum of %d",
				len(value), maxPatternLength)
		case hasControl(value):
			return invalidf("select: reason_contains contains a control character")
		}
		s.ReasonContains = value
	}
	return nil
}

// truncate shortens a rejected value for an error message.
func truncate(s string) string {
	const limit = 80
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
