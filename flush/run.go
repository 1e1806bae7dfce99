package flush

import (
	"context"
	"errors"
	"net/http"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// run runs the flush that req requests on inst. It also reports whether the
// run may have made Postfix retry mail, in which case it uses up the rate
// limit's interval.
func (h *Handler) run(r *http.Request, inst Instance, req request) (outcome, bool) {
	// A client that hangs up does not stop a flush that has begun: the
	// runner's timeout bounds it, and the rate limiter stays consistent.
	ctx := context.WithoutCancel(r.Context())

	var result *postfix.FlushResult
	var err error
	switch {
	case req.Site != "":
		result, err = inst.Flusher.FlushSite(ctx, req.Site)
	case req.QueueID != "":
		result, err = inst.Flusher.FlushQueueID(ctx, req.QueueID)
	default:
		result, err = inst.Flusher.Flush(ctx)
	}

	body := response{Command: result.Command}
	if result.Result != nil {
		body.Message = result.Stderr
		body.DurationSeconds = result.Duration.Seconds()
	}
	if err == nil {
		h.cfg.Invalidate()
		body.Result = ResultOK
		return outcome{status: http.StatusOK, body: body}, true
	}

	status, res, counts := classify(err)
	body.Result = res
	body.Error = err.Error()
	return outcome{status: status, body: body, err: err}, counts
}

// classify maps a failed flush to an HTTP status and a result. It also
// reports whether the failure may have come after Postfix began to retry
// mail: a timeout may, while a refusal by postqueue or the queue check
// before `postqueue -i` means nothing was retried.
func classify(err error) (status int, result string, counts bool) {
	var notDeferred *postfix.NotDeferredError
	switch {
	case errors.Is(err, postfix.ErrNotInQueue):
		return http.StatusNotFound, ResultInvalid, false
	case errors.As(err, &notDeferred):
		return http.StatusUnprocessableEntity, ResultInvalid, false
	case postfix.FlushRejected(err):
		return http.StatusUnprocessableEntity, ResultFailed, false
	}

	switch postfix.KindOf(err) {
	case postfix.KindPermission:
		return http.StatusForbidden, ResultFailed, false
	case postfix.KindMailSystemDown:
		return http.StatusServiceUnavailable, ResultFailed, false
	case postfix.KindTimeout:
		return http.StatusGatewayTimeout, ResultFailed, true
	}
	return http.StatusInternalServerError, ResultFailed, true
}
