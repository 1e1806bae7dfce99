package actions

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testConfirm = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// planBody decodes body as a request for action and checks it.
func planBody(action Action, body string) (*plan, error) {
	r := httptest.NewRequest(http.MethodPost, PathPrefix+string(action), strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	req, err := readRequest(r)
	if err != nil {
		return nil, err
	}
	return req.plan(action, DefaultNullSender)
}

func TestPlanRejects(t *testing.T) {
	longIDs := make([]string, MaxQueueIDs+1)
	for i := range longIDs {
		longIDs[i] = fmt.Sprintf(`"%010X"`, i)
	}
	tests := []struct {
		name   string
		action Action
		body   string
		status int
		want   string
	}{
		{"empty body", Delete, ``, 400, "missing queue_ids or select"},
		{"empty object", Delete, `{}`, 400, "missing queue_ids or select"},
		{"both forms", Delete, `{"queue_ids":["4B3C21C0F5"],"select":{"all":true}}`, 400, "not both"},
		{"unknown field", Delete, `{"queue_id":"4B3C21C0F5"}`, 400, "unknown field"},
		{"unknown select field", Delete, `{"select":{"domain":"example.org"}}`, 400, "unknown field"},
		{"data after object", Delete, `{"select":{"all":true},"dry_run":true} {}`, 400, "data after"},
		{"wrong type", Delete, `{"queue_ids":"4B3C21C0F5"}`, 400, "invalid JSON"},
		{"size as string", Delete, `{"select":{"min_size":"10"},"dry_run":true}`, 400, "invalid JSON"},

		{"empty ids", Delete, `{"queue_ids":[]}`, 400, "queue_ids is empty"},
		{"too many ids", Hold, `{"queue_ids":[` + strings.Join(longIDs, ",") + `]}`, 400, "more than the maximum of 10000"},
		{"id with mark", Delete, `{"queue_ids":["4B3C21C0F5*"]}`, 400, `invalid queue id "4B3C21C0F5*"`},
		{"id lower hex", Delete, `{"queue_ids":["4b3c21c0f5"]}`, 400, "invalid queue id"},
		{"id ALL", Delete, `{"queue_ids":["ALL"]}`, 400, "invalid queue id"},
		{"id option", Delete, `{"queue_ids":["-d"]}`, 400, "invalid queue id"},
		{"id newline", Delete, `{"queue_ids":["4B3C21C0F5\n4B3C21C0F6"]}`, 400, "invalid queue id"},
		{"id twice", Delete, `{"queue_ids":["4B3C21C0F5","4B3C21C0F5"]}`, 400, "listed twice"},

		{"confirm short", Delete, `{"queue_ids":["4B3C21C0F5"],"confirm":"abc"}`, 400, "invalid confirm"},
		{"confirm not hex", Delete, `{"queue_ids":["4B3C21C0F5"],"confirm":"` + strings.Repeat("g", 64) + `"}`,
			400, "invalid confirm"},
		{"confirm in dry run", Delete, `{"select":{"all":true},"dry_run":true,"confirm":"` + testConfirm + `"}`,
			400, "leave it out of a dry run"},
		{"select without confirm", Delete, `{"select":{"queue":"deferred"}}`, 400, "missing confirm"},

		{"select empty", Delete, `{"select":{},"dry_run":true}`, 400, "select is empty"},
		{"select all false", Delete, `{"select":{"all":false},"dry_run":true}`, 400, "select is empty"},
		{"select all and queue", Delete, `{"select":{"all":true,"queue":"deferred"},"dry_run":true}`, 400,
			"cannot be combined"},
		{"queue unknown", Delete, `{"select":{"queue":"corrupt"},"dry_run":true}`, 400, `invalid queue "corrupt"`},
		{"queue case", Delete, `{"select":{"queue":"Deferred"},"dry_run":true}`, 400, "invalid queue"},
		{"release deferred", Release, `{"select":{"queue":"deferred"},"dry_run":true}`, 422,
			"release does not act on the deferred queue, only on hold"},
		{"hold from hold", Hold, `{"select":{"queue":"hold"},"dry_run":true}`, 422, "only on incoming, active, deferred"},
		{"hold from maildrop", Hold, `{"select":{"queue":"maildrop"},"dry_run":true}`, 422, "maildrop"},
		{"requeue from maildrop", Requeue, `{"select":{"queue":"maildrop"},"dry_run":true}`, 422, "maildrop"},

		{"sender listed null", Delete, `{"select":{"sender":"MAILER-DAEMON"},"dry_run":true}`, 400,
			"select the null sender with"},
		{"sender control", Delete, `{"select":{"sender":"a\u0007@example.org"},"dry_run":true}`, 400,
			"control character"},
		{"recipient empty", Delete, `{"select":{"recipient":""},"dry_run":true}`, 400, "recipient is empty"},
		{"recipient no domain", Delete, `{"select":{"recipient":"bob@"},"dry_run":true}`, 400, "no domain"},

		{"older than days", Delete, `{"select":{"older_than":"2d"},"dry_run":true}`, 400, "there is no d unit"},
		{"older than number", Delete, `{"select":{"older_than":"3600"},"dry_run":true}`, 400, "invalid older_than"},
		{"older than zero", Delete, `{"select":{"older_than":"0s"},"dry_run":true}`, 400, "must be positive"},
		{"younger than negative", Delete, `{"select":{"younger_than":"-1h"},"dry_run":true}`, 400, "must be positive"},
		{"age window empty", Delete, `{"select":{"older_than":"2h","younger_than":"1h"},"dry_run":true}`, 400,
			"select nothing"},
		{"age window equal", Delete, `{"select":{"older_than":"1h","younger_than":"60m"},"dry_run":true}`, 400,
			"select nothing"},

		{"min size negative", Delete, `{"select":{"min_size":-1},"dry_run":true}`, 400, "invalid min_size -1"},
		{"max size negative", Delete, `{"select":{"max_size":-5},"dry_run":true}`, 400, "invalid max_size -5"},
		{"min over max", Delete, `{"select":{"min_size":10,"max_size":9},"dry_run":true}`, 400, "larger than max_size"},
		{"size fraction", Delete, `{"select":{"min_size":1.5},"dry_run":true}`, 400, "invalid JSON"},

		{"category unknown", Delete, `{"select":{"reason_category":"refused"},"dry_run":true}`, 400,
			`invalid reason_category "refused"`},
		{"reason contains empty", Delete, `{"select":{"reason_contains":""},"dry_run":true}`, 400,
			"reason_contains is empty"},
		{"reason contains control", Delete, `{"select":{"reason_contains":"a\tb"},"dry_run":true}`, 400,
			"control character"},
		{"reason contains too long", Delete,
			`{"select":{"reason_contains":"` + strings.Repeat("x", maxPatternLength+1) + `"},"dry_run":true}`, 400,
			"more than the maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := planBody(tt.action, tt.body)
			if err == nil {
				t.Fatal("no error")
			}
			var reqErr *requestError
			if !errors.As(err, &reqErr) {
				t.Fatalf("error %v is not a *requestError", err)
			}
			if reqErr.status != tt.status {
				t.Errorf("status = %d, want %d", reqErr.status, tt.status)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestPlanAccepts(t *testing.T) {
	tests := []struct {
		name   string
		action Action
		body   string
		check  func(t *testing.T, p *plan)
	}{
		{"ids", Delete, `{"queue_ids":["4B3C21C0F5","4jgvV55S19z5g1Y"]}`, func(t *testing.T, p *plan) {
			if len(p.ids) != 2 || p.ids[1] != "4jgvV55S19z5g1Y" {
				t.Errorf("ids = %q", p.ids)
			}
			if p.selector != nil {
				t.Error("selector is set")
			}
		}},
		{"ids with confirm", Hold, `{"queue_ids":["4B3C21C0F5"],"confirm":"` + strings.ToUpper(testConfirm) + `"}`,
			func(t *testing.T, p *plan) {
				if p.confirm != strings.ToUpper(testConfirm) {
					t.Errorf("confirm = %q", p.confirm)
				}
			}},
		{"all", Delete, `{"select":{"all":true},"dry_run":true}`, func(t *testing.T, p *plan) {
			if !p.selector.All || !p.dryRun {
				t.Errorf("selector %+v, dry run %t", *p.selector, p.dryRun)
			}
		}},
		{"null sender", Release, `{"select":{"sender":""},"dry_run":true}`, func(t *testing.T, p *plan) {
			if p.selector.Sender == nil || !p.selector.Sender.Null {
				t.Errorf("sender = %+v, want the null sender", p.selector.Sender)
			}
		}},
		{"every field", Delete, `{"select":{"queue":"deferred","sender":"@example.org","recipient":"bob@example.net",
			"older_than":"48h","younger_than":"720h","min_size":1,"max_size":1000000,
			"reason_category":"connection_refused","reason_contains":"refused"},"confirm":"` + testConfirm + `"}`,
			func(t *testing.T, p *plan) {
				want := Selector{
					Queue: "deferred", OlderThan: 48 * time.Hour, YoungerThan: 720 * time.Hour,
					MinSize: 1, MaxSize: 1000000, ReasonCategory: "connection_refused", ReasonContains: "refused",
				}
				got := *p.selector
				got.Sender, got.Recipient = nil, nil
				if got != want {
					t.Errorf("selector = %+v, want %+v", got, want)
				}
				if p.selector.Sender.String() != "@example.org" || p.selector.Recipient.String() != "bob@example.net" {
					t.Errorf("sender %v, recipient %v", p.selector.Sender, p.selector.Recipient)
				}
				if p.dryRun || p.confirm != testConfirm {
					t.Errorf("dry run %t, confirm %q", p.dryRun, p.confirm)
				}
			}},
		{"zero sizes", Delete, `{"select":{"min_size":0,"max_size":0},"dry_run":true}`, func(t *testing.T, p *plan) {
			if p.selector.MinSize != 0 || p.selector.MaxSize != 0 {
				t.Errorf("sizes %d to %d, want 0 to 0", p.selector.MinSize, p.selector.MaxSize)
			}
		}},
		{"requeue hold", Requeue, `{"select":{"queue":"hold"},"dry_run":true}`, func(t *testing.T, p *plan) {
			if p.selector.Queue != "hold" {
				t.Errorf("queue = %q", p.selector.Queue)
			}
		}},
		{"delete maildrop", Delete, `{"select":{"queue":"maildrop"},"dry_run":true}`, func(t *testing.T, p *plan) {
			if p.selector.Queue != "maildrop" {
				t.Errorf("queue = %q", p.selector.Queue)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := planBody(tt.action, tt.body)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			tt.check(t, p)
		})
	}
}

func TestReadRequestRejects(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
	}{
		{"form", "application/x-www-form-urlencoded", "queue_ids=4B3C21C0F5", http.StatusUnsupportedMediaType},
		{"text", "text/plain", `{"select":{"all":true}}`, http.StatusUnsupportedMediaType},
		{"no content type", "", `{"select":{"all":true}}`, http.StatusUnsupportedMediaType},
		{"latin1", "application/json; charset=iso-8859-1", `{"select":{"all":true}}`, http.StatusUnsupportedMediaType},
		{"too large", "application/json", `{"queue_ids":["` + strings.Repeat("A", maxBodyBytes) + `"]}`,
			http.StatusRequestEntityTooLarge},
		{"not json", "application/json", `queue_ids=4B3C21C0F5`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, PathPrefix+"delete", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			_, err := readRequest(r)
			var reqErr *requestError
			if !errors.As(err, &reqErr) {
				t.Fatalf("error %v is not a *requestError", err)
			}
			if reqErr.status != tt.status {
				t.Errorf("status = %d, want %d (%v)", reqErr.status, tt.status, err)
			}
		})
	}
}

func TestReadRequestCharsetUTF8(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, PathPrefix+"delete", strings.NewReader(`{"select":{"all":true}}`))
	r.Header.Set("Content-Type", "Application/JSON; charset=UTF-8")
	req, err := readRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if req.Select == nil || !req.Select.All {
		t.Errorf("select = %+v, want all", req.Select)
	}
}
