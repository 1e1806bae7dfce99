package actions

import (
	"context"
	"strings"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// Parameters reads the settings of an instance's main.cf that actions
// depend on. *postfix.Postconf is one.
type Parameters interface {
	Values(ctx context.Context, names ...string) ([]string, error)
}

// Inspect reads enable_long_queue_ids and empty_address_recipient of inst
// and sets inst.NullSender. It logs a warning when the instance uses short
// queue ids, which Postfix reuses, so that a confirm value cannot tell a new
// message from an old one with the same id. When the settings cannot be
// read, it logs that, keeps the default null sender and sets
// inst.CheckIDShape so that the first short id seen is reported instead.
func Inspect(ctx context.Context, logger log.Logger, params Parameters, inst *Instance) {
	values, err := params.Values(ctx, "enable_long_queue_ids", "empty_address_recipient")
	if err != nil {
		level.Warn(logger).Log("msg", "Could not read enable_long_queue_ids and empty_address_recipient; "+
			"assuming the null sender is listed as "+DefaultNullSender, "instance", inst.Name, "err", err)
		inst.CheckIDShape = true
		return
	}

	if values[1] != "" {
		inst.NullSender = values[1]
	}
	if !postfixBool(values[0]) {
		level.Warn(logger).Log("msg", "Queue actions are enabled on a Postfix with short queue ids, which it "+
			"gives again to new mail once a message has left the queue, so a confirm value cannot tell the two "+
			"apart. Set enable_long_queue_ids = yes to make actions exact for new mail.",
			"instance", inst.Name, "enable_long_queue_ids", values[0])
	}
}

// postfixBool reads a boolean main.cf value as Postfix's
// mail_conf_bool.c does: "yes" in any case is true. Postfix rejects any value
// but yes and no, so anything else counts as false here.
func postfixBool(s string) bool {
	return strings.EqualFold(s, "yes")
}

var _ Parameters = (*postfix.Postconf)(nil)
