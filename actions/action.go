// Package actions serves the queue actions of the exporter's HTTP API: hold,
// release, requeue and delete Postfix messages chosen by queue id or by a
// selector, after a dry run that shows exactly which messages would change.
// Each action reads the queue afresh with postqueue and runs postsuper only
// on the messages it found, each in the queue it was found in.
package actions

import (
	"fmt"
	"strings"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

// Action is one queue action, named as in its URL path.
type Action string

// The queue actions.
const (
	Hold    Action = "hold"
	Release Action = "release"
	Requeue Action = "requeue"
	Delete  Action = "delete"
)

// All lists every action in a fixed order.
var All = []Action{Hold, Release, Requeue, Delete}

// Operation returns the postsuper option that performs a, or "" for an
// unknown action, which postfix.Postsuper rejects.
func (a Action) Operation() postfix.Operation {
	switch a {
	case Hold:
		return postfix.OpHold
	case Release:
		return postfix.OpRelease
	case Requeue:
		return postfix.OpRequeue
	case Delete:
		return postfix.OpDelete
	}
	return ""
}

// Queues returns the queues in which a changes a message, in the order
// postqueue lists them. postsuper leaves messages in the other queues alone.
func (a Action) Queues() []string {
	return postfix.OperationQueues[a.Operation()]
}

// appliesTo reports whether a changes messages in queue.
func (a Action) appliesTo(queue string) bool {
	for _, q := range a.Queues() {
		if q == queue {
			return true
		}
	}
	return false
}

// ParseList reads the value of --actions.enable: a comma-separated subset of
// hold, release, requeue and delete. Blanks around names are ignored; an
// unknown or repeated name is an error. The empty string enables nothing.
func ParseList(s string) (map[Action]bool, error) {
	enabled := make(map[Action]bool)
	if strings.TrimSpace(s) == "" {
		return enabled, nil
	}
	for _, name := range strings.Split(s, ",") {
		action := Action(strings.TrimSpace(name))
		if !isAction(action) {
			return nil, fmt.Errorf("unknown action %q: use a comma-separated list of hold, release, requeue and delete", name)
		}
		if enabled[action] {
			return nil, fmt.Errorf("action %q is listed twice", action)
		}
		enabled[action] = true
	}
	return enabled, nil
}

func isAction(a Action) bool {
	for _, known := range All {
		if a == known {
			return true
		}
	}
	return false
}
