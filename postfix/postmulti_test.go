package postfix

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestPostmultiList(t *testing.T) {
	tests := []struct {
		file string
		want []Instance
	}{
		{"testdata/postmulti/two-instances.txt", []Instance{
			{Name: "", Group: "", Enabled: true, ConfigDir: "/etc/postfix"},
			{Name: "postfix-lab2", Group: "lab", Enabled: true, ConfigDir: "/etc/postfix-lab2"},
		}},
		{"testdata/postmulti/disabled.txt", []Instance{
			{Name: "", Group: "", Enabled: true, ConfigDir: "/etc/postfix"},
			{Name: "postfix-lab2", Group: "lab", Enabled: false, ConfigDir: "/etc/postfix-lab2"},
			{Name: "postfix-out", Group: "", Enabled: true, ConfigDir: "/etc/postfix-out"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Setenv("FAKE_POSTMULTI_LIST", tt.file)
			p := &Postmulti{Path: "testdata/postmulti/fake.sh", Runner: &Runner{Timeout: 10 * time.Second}}
			got, err := p.List(context.Background())
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("List = %+v, want %+v", got, tt.want)
			}
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("instance %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestParsePostmultiListInvalid(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"three fields", "- - y\n", "line 1: expected name, group, enabled and config directory"},
		{"bad enabled", "- - yes /etc/postfix\n", `line 1: expected y or n in the enabled column, got "yes"`},
		{"empty", "\n", "no instance listed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePostmultiList(strings.NewReader(tt.input))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestPostmultiListFails(t *testing.T) {
	p := &Postmulti{Path: "testdata/postmulti/does-not-exist", Runner: &Runner{Timeout: 10 * time.Second}}
	_, err := p.List(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	if got := KindOf(err); got != KindExec {
		t.Errorf("kind = %s, want %s", got, KindExec)
	}
}
