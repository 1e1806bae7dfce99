package actions

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-kit/log"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/internal/testhelp"
)

// fakeParameters returns fixed values, or err.
type fakeParameters struct {
	values []string
	err    error
	names  []string
}

func (p *fakeParameters) Values(ctx context.Context, names ...string) ([]string, error) {
	p.names = names
	return p.values, p.err
}

func TestInspect(t *testing.T) {
	tests := []struct {
		name       string
		params     *fakeParameters
		nullSender string
		checkShape bool
		warning    string
	}{
		{"long ids", &fakeParameters{values: []string{"yes", "MAILER-DAEMON"}}, "MAILER-DAEMON", false, ""},
		{"long ids upper case", &fakeParameters{values: []string{"YES", "MAILER-DAEMON"}}, "MAILER-DAEMON", false, ""},
		{"short ids", &fakeParameters{values: []string{"no", "MAILER-DAEMON"}}, "MAILER-DAEMON", false,
			"short queue ids"},
		{"other null sender", &fakeParameters{values: []string{"yes", "postmaster"}}, "postmaster", false, ""},
		{"empty null sender", &fakeParameters{values: []string{"yes", ""}}, "", false, ""},
		{"postconf failed", &fakeParameters{err: errors.New("exit status 1")}, "", true,
			"Could not read enable_long_queue_ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged testhelp.SyncBuffer
			inst := Instance{Name: "/etc/postfix"}
			Inspect(context.Background(), log.NewLogfmtLogger(&logged), tt.params, &inst)

			if want := []string{"enable_long_queue_ids", "empty_address_recipient"}; !slices.Equal(tt.params.names, want) {
				t.Errorf("read %q, want %q", tt.params.names, want)
			}
			if inst.NullSender != tt.nullSender {
				t.Errorf("NullSender = %q, want %q", inst.NullSender, tt.nullSender)
			}
			if inst.CheckIDShape != tt.checkShape {
				t.Errorf("CheckIDShape = %t, want %t", inst.CheckIDShape, tt.checkShape)
			}
			switch {
			case tt.warning == "" && logged.String() != "":
				t.Errorf("logged %q, want nothing", logged.String())
			case tt.warning != "" && !strings.Contains(logged.String(), tt.warning):
				t.Errorf("log %q does not contain %q", logged.String(), tt.warning)
			case tt.warning != "" && !strings.Contains(logged.String(), "instance=/etc/postfix"):
				t.Errorf("log %q does not name the instance", logged.String())
			}
		})
	}
}
