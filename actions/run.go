package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-kit/log/level"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/webapi"
)

// shortIDWarning is the response warning for a selection with short queue ids.
const shortIDWarning = "the selection has short queue ids, which Postfix gives again to new mail once a message " +
	"has left the queue, so a confirm value cannot tell a new message from an old one with the same id; " +
	"enable_long_queue_ids = yes makes it exact for mail that arrives after the change"

// logIDsPerLine bounds the queue ids in one debug log line.
const logIDsPerLine = 500

// act reads the queue for p and, unless p is a dry run, runs postsuper on
// the selection.
func (h *Handler) act(ctx context.Context, inst *Instance, p *plan) outcome {
	if !p.dryRun {
		release, _, err := h.running.Begin()
		if err != nil {
			return rejected(http.StatusConflict, ResultBusy,
				errors.New("another queue action is running: retry when it has finished"))
		}
		defer release(false)
		// A client that hangs up does not stop an action that has begun:
		// the runner's timeout bounds it.
		ctx = context.WithoutCancel(ctx)
	}

	sel := newSelection(p, inst.Name, h.cfg.Now(), inst.nullSender(), h.limit(p.action))
	listed, err := inst.Lister.List(ctx, sel.add)
	// Check errTooMany first: List returns it only after the listing has
	// stopped calling sel.add, which may still run after a timeout.
	if err != nil && !(errors.Is(err, errTooMany) && sel.overflow) {
		return failed(fmt.Errorf("list the queue: %w", err), Response{})
	}
	if sel.overflow {
		return h.tooMany(p)
	}
	sel.finish()
	h.logIDs(inst, p, "selected", sel.entryIDs())

	body := h.describe(inst, sel, p)
	if listed != nil {
		body.Warnings = append(body.Warnings, listed.Warnings...)
		if listed.MailSystemDown {
			body.Warnings = append(body.Warnings, "Postfix is not running: postqueue read the queue files directly")
		}
	}
	if p.dryRun {
		body.Result = ResultDryRun
		return outcome{status: http.StatusOK, body: body}
	}
	if p.confirm != "" && !strings.EqualFold(p.confirm, body.Confirm) {
		err := errors.New("the selection changed since the dry run: nothing was done; " +
			"review this result and repeat the request with its confirm value")
		body.Result, body.Error = ResultConflict, err.Error()
		return outcome{status: http.StatusConflict, body: body, err: err}
	}

	run, err := h.execute(ctx, inst, sel)
	body.Affected = &run.affected
	body.Commands = run.commands
	body.Missed = run.missed
	body.Warnings = append(body.Warnings, run.warnings...)
	if len(run.commands) > 0 {
		h.cfg.Invalidate()
	}
	if err != nil {
		return failed(fmt.Errorf("run postsuper: %w", err), body)
	}
	body.Result = ResultOK
	return outcome{status: http.StatusOK, body: body}
}

// tooMany rejects a selection larger than the request may change.
func (h *Handler) tooMany(p *plan) outcome {
	limit := h.limit(p.action)
	if p.action == Delete && !h.cfg.AllowBulkDelete {
		return rejected(http.StatusForbidden, ResultForbidden, fmt.Errorf(
			"the selection has more than --actions.max-delete=%d messages: narrow it, or start the exporter "+
				"with --actions.allow-bulk-delete", limit))
	}
	return rejected(http.StatusUnprocessableEntity, ResultInvalid, fmt.Errorf(
		"the selection has more than %d messages, the most one request may change: narrow it", limit))
}

// describe returns the response fields that describe the selection.
func (h *Handler) describe(inst *Instance, sel *selection, p *plan) Response {
	matched := len(sel.entries)
	body := Response{
		Matched:      &matched,
		MatchedBytes: sel.bytes,
		Queues:       sel.counts(),
		Messages:     sel.details,
		Confirm:      sel.confirm(),
		Skipped:      sel.skipped,
	}
	if p.ids != nil {
		body.NotFound = sel.notFound(p.ids)
		h.logIDs(inst, p, "not_found", body.NotFound)
	}
	if sel.hasShortIDs() {
		body.Warnings = append(body.Warnings, shortIDWarning)
		if inst.CheckIDShape {
			h.shortIDLog.Do(func() {
				level.Warn(h.cfg.Logger).Log("msg", "Queue actions selected messages with short queue ids, "+
					"which Postfix reuses; set enable_long_queue_ids = yes so that confirm values name "+
					"messages exactly", "instance", inst.Name)
			})
		}
	}
	return body
}

// execution is the outcome of the postsuper runs of one request.
type execution struct {
	affected int
	commands []string
	warnings []string
	missed   []string
}

// execute runs postsuper once per queue of the selection, naming that queue,
// so that a message that moved since the listing is left alone.
func (h *Handler) execute(ctx context.Context, inst *Instance, sel *selection) (*execution, error) {
	run := &execution{}
	for _, group := range sel.groups() {
		result, err := inst.Postsuper.Run(ctx, sel.action.Operation(), group.queue, group.ids)
		if result != nil {
			run.affected += result.Affected
			run.commands = append(run.commands, result.Commands...)
			run.warnings = append(run.warnings, result.Warnings...)
		}
		if err != nil {
			return run, err
		}
		run.missed = appendMissed(run.missed, group.ids, result.IDs)
	}
	return run, nil
}

// appendMissed appends the ids of selected that postsuper did not report,
// such as messages delivered since the listing, up to maxDetails in all.
func appendMissed(missed, selected, reported []string) []string {
	done := make(map[string]bool, len(reported))
	for _, id := range reported {
		done[id] = true
	}
	for _, id := range selected {
		if len(missed) >= maxDetails {
			break
		}
		if !done[id] {
			missed = append(missed, id)
		}
	}
	return missed
}

// failed maps a failed listing or postsuper run to a status.
func failed(err error, body Response) outcome {
	status := http.StatusInternalServerError
	switch postfix.KindOf(err) {
	case postfix.KindTimeout:
		status = http.StatusGatewayTimeout
	case postfix.KindMailSystemDown:
		status = http.StatusServiceUnavailable
	}
	body.Result, body.Error = ResultFailed, err.Error()
	return outcome{status: status, body: body, err: err}
}

// audit logs the request at info level. The ids are logged at debug level
// by logIDs.
func (h *Handler) audit(r *http.Request, start time.Time, action Action, out outcome) {
	keyvals := []any{"action", string(action), "dry_run", out.body.DryRun, "instance", out.body.Instance}
	keyvals = append(keyvals, out.selector...)
	if out.body.Matched != nil {
		keyvals = append(keyvals, "matched", *out.body.Matched)
	}
	if out.body.Affected != nil {
		keyvals = append(keyvals, "affected", *out.body.Affected)
	}
	keyvals = append(keyvals, "result", string(out.body.Result), "status", out.status,
		"duration", h.cfg.Now().Sub(start))
	if out.err != nil {
		keyvals = append(keyvals, "err", out.err)
	}
	webapi.Audit(h.cfg.Logger, r, keyvals...)
}

// logIDs logs ids at debug level, logIDsPerLine to a line.
func (h *Handler) logIDs(inst *Instance, p *plan, kind string, ids []string) {
	for start := 0; start < len(ids); start += logIDsPerLine {
		chunk := ids[start:min(start+logIDsPerLine, len(ids))]
		level.Debug(h.cfg.Logger).Log("msg", "Queue action ids", "action", string(p.action), "dry_run", p.dryRun,
			"instance", inst.Name, "kind", kind, "ids", strings.Join(chunk, " "))
	}
}

// describeRequest returns the audit key-value pairs that name what a request
// selects: the select object as JSON, or the number of queue ids.
func describeRequest(req *Request) []any {
	if req.Select != nil {
		data, err := json.Marshal(req.Select)
		if err != nil {
			return []any{"select", fmt.Sprintf("%+v", *req.Select)}
		}
		return []any{"select", string(data)}
	}
	return []any{"queue_ids", len(req.QueueIDs)}
}
