package webapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kit/log"
)

func TestAudit(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(r *http.Request)
		want   []string
		absent []string
	}{
		{
			name: "bearer",
			setup: func(r *http.Request) {
				r.Header.Set("Authorization", "Bearer "+testToken)
			},
			want:   []string{"level=info", "msg=\"API request\"", "remote_addr=192.0.2.1:1234", "method=POST", "path=/api", "result=ok"},
			absent: []string{testToken, "user=", "access_token"},
		},
		{
			name: "basic auth user",
			setup: func(r *http.Request) {
				r.SetBasicAuth("alice", "secret-password")
				r.Header.Set(TokenHeader, testToken)
			},
			want:   []string{"user=alice"},
			absent: []string{testToken, "secret-password"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf strings.Builder
			r := httptest.NewRequest(http.MethodPost, "/api?access_token="+testToken, nil)
			r.RemoteAddr = "192.0.2.1:1234"
			tt.setup(r)
			Audit(log.NewLogfmtLogger(&buf), r, "result", "ok")
			line := buf.String()
			for _, want := range tt.want {
				if !strings.Contains(line, want) {
					t.Errorf("audit line %q lacks %q", line, want)
				}
			}
			for _, absent := range tt.absent {
				if strings.Contains(line, absent) {
					t.Errorf("audit line %q contains %q", line, absent)
				}
			}
		})
	}
}
