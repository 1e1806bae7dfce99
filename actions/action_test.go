package actions

import (
	"maps"
	"strings"
	"testing"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
)

func TestParseList(t *testing.T) {
	tests := []struct {
		value string
		want  map[Action]bool
	}{
		{"", map[Action]bool{}},
		{"  ", map[Action]bool{}},
		{"hold", map[Action]bool{Hold: true}},
		{"hold,release,requeue,delete", map[Action]bool{Hold: true, Release: true, Requeue: true, Delete: true}},
		{"delete, hold", map[Action]bool{Hold: true, Delete: true}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := ParseList(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseList = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		value string
		want  string
	}{
		{"purge", `unknown action "purge"`},
		{"Hold", `unknown action "Hold"`},
		{"hold,", `unknown action ""`},
		{"hold,hold", `action "hold" is listed twice`},
		{"flush", "use a comma-separated list of hold, release, requeue and delete"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			_, err := ParseList(tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestActionOperations(t *testing.T) {
	tests := []struct {
		action Action
		op     postfix.Operation
		queues string
	}{
		{Hold, postfix.OpHold, "incoming active deferred"},
		{Release, postfix.OpRelease, "hold"},
		{Requeue, postfix.OpRequeue, "incoming active deferred hold"},
		{Delete, postfix.OpDelete, "maildrop incoming active deferred hold"},
	}
	for _, tt := range tests {
		t.Run(string(tt.action), func(t *testing.T) {
			if got := tt.action.Operation(); got != tt.op {
				t.Errorf("Operation = %s, want %s", got, tt.op)
			}
			if got := strings.Join(tt.action.Queues(), " "); got != tt.queues {
				t.Errorf("Queues = %s, want %s", got, tt.queues)
			}
		})
	}
}
