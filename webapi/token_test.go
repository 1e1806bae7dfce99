package webapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/go-kit/log"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/internal/testhelp"
)

const (
	testToken  = "0123456789abcdef0123456789abcdef"
	otherToken = "fedcba9876543210fedcba9876543210"
)

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile applies the umask: set the mode the test asked for.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// replaceFile writes content to a new file and renames it over path, as
// an operator rotating the token should.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	writeFile(t, tmp, content, 0o640)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func loadTestToken(t *testing.T, content string) (*TokenFile, string, *testhelp.SyncBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	writeFile(t, path, content, 0o640)
	logs := &testhelp.SyncBuffer{}
	tokens, err := LoadTokenFile(path, log.NewLogfmtLogger(logs))
	if err != nil {
		t.Fatalf("LoadTokenFile: %v", err)
	}
	return tokens, path, logs
}

func requestWith(target string, header map[string]string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, nil)
	for name, value := range header {
		r.Header.Set(name, value)
	}
	return r
}

func TestLoadTokenFileRejects(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		path    string // overrides the written file
		want    string // in the error
	}{
		{name: "missing", path: filepath.Join(dir, "nonexistent"), want: "no such file"},
		{name: "directory", path: dir, want: "not a regular file"},
		{name: "fifo", path: fifo, want: "not a regular file"},
		{name: "empty", content: "", mode: 0o600, want: "is empty"},
		{name: "whitespace only", content: " \n\t\n", mode: 0o600, want: "is empty"},
		{name: "world-readable", content: testToken, mode: 0o644, want: "chmod 0640"},
		{name: "world-readable-writable", content: testToken, mode: 0o666, want: "readable by all users"},
		{name: "too short", content: "short", mode: 0o600, want: "fewer than the minimum"},
		{name: "two lines", content: testToken + "\n" + otherToken, mode: 0o600, want: "cannot contain"},
		{name: "inner space", content: "0123456789 abcdef0123", mode: 0o600, want: "cannot contain"},
		{name: "too large", content: strings.Repeat("a", maxTokenFileSize+1), mode: 0o600, want: "more than the maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = filepath.Join(t.TempDir(), "token")
				writeFile(t, path, tt.content, tt.mode)
			}
			_, err := LoadTokenFile(path, log.NewNopLogger())
			if err == nil {
				t.Fatal("LoadTokenFile succeeded, want an error")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the path %s", err, path)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadTokenFileAccepts(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
	}{
		{name: "trailing newline", content: testToken + "\n", mode: 0o600},
		{name: "group-readable", content: testToken, mode: 0o640},
		{name: "base64 padding", content: "QUJDREVGR0hJSktMTU5PUA==", mode: 0o400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token")
			writeFile(t, path, tt.content, tt.mode)
			if _, err := LoadTokenFile(path, log.NewNopLogger()); err != nil {
				t.Errorf("LoadTokenFile: %v", err)
			}
		})
	}
}

func TestTokenCheck(t *testing.T) {
	tokens, _, _ := loadTestToken(t, testToken+"\n")
	tests := []struct {
		name   string
		target string
		header map[string]string
		want   error
	}{
		{name: "bearer", header: map[string]string{"Authorization": "Bearer " + testToken}},
		{name: "scheme lower case", header: map[string]string{"Authorization": "bearer " + testToken}},
		{name: "token header", header: map[string]string{TokenHeader: testToken}},
		{
			name: "token header with basic auth",
			header: map[string]string{
				"Authorization": "Basic dXNlcjpwYXNz",
				TokenHeader:     testToken,
			},
		},
		{name: "no header", want: ErrNoToken},
		{name: "empty bearer", header: map[string]string{"Authorization": "Bearer "}, want: ErrNoToken},
		{name: "basic only", header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, want: ErrNoToken},
		{name: "token without scheme", header: map[string]string{"Authorization": testToken}, want: ErrNoToken},
		{name: "wrong token", header: map[string]string{"Authorization": "Bearer " + otherToken}, want: ErrWrongToken},
		{name: "prefix of token", header: map[string]string{"Authorization": "Bearer " + testToken[:20]}, want: ErrWrongToken},
		{name: "token plus suffix", header: map[string]string{"Authorization": "Bearer " + testToken + "x"}, want: ErrWrongToken},
		{name: "wrong token header", header: map[string]string{TokenHeader: otherToken}, want: ErrWrongToken},
		{
			name: "bearer and token header",
			header: map[string]string{
				"Authorization": "Bearer " + testToken,
				TokenHeader:     testToken,
			},
			want: ErrNoToken,
		},
		{name: "access_token in URL", target: "/api?access_token=" + testToken, want: ErrTokenInURL},
		{
			name:   "token in URL with header",
			target: "/api?token=" + testToken,
			header: map[string]string{"Authorization": "Bearer " + testToken},
			want:   ErrTokenInURL,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tt.target
			if target == "" {
				target = "/api"
			}
			err := tokens.Check(requestWith(target, tt.header))
			if !errors.Is(err, tt.want) {
				t.Errorf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTokenCheckTwoHeaders(t *testing.T) {
	tokens, _, _ := loadTestToken(t, testToken)
	r := requestWith("/api", nil)
	r.Header.Add("Authorization", "Bearer "+otherToken)
	r.Header.Add("Authorization", "Bearer "+testToken)
	if err := tokens.Check(r); !errors.Is(err, ErrNoToken) {
		t.Errorf("Check = %v, want %v", err, ErrNoToken)
	}
}

func TestTokenInURLIsLoggedWithoutValue(t *testing.T) {
	tokens, _, logs := loadTestToken(t, testToken)
	tokens.Check(requestWith("/api?access_token="+testToken, nil))
	if !strings.Contains(logs.String(), "URL query") {
		t.Errorf("log %q does not report the token in the URL", logs.String())
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("log %q contains the token", logs.String())
	}
}

func TestTokenRotation(t *testing.T) {
	tokens, path, logs := loadTestToken(t, testToken)
	bearer := func(token string) *http.Request {
		return requestWith("/api", map[string]string{"Authorization": "Bearer " + token})
	}

	replaceFile(t, path, otherToken+"\n")
	if err := tokens.Check(bearer(testToken)); !errors.Is(err, ErrWrongToken) {
		t.Errorf("old token after rotation: Check = %v, want %v", err, ErrWrongToken)
	}
	if err := tokens.Check(bearer(otherToken)); err != nil {
		t.Errorf("new token after rotation: Check = %v, want nil", err)
	}
	if !strings.Contains(logs.String(), "using the new token") {
		t.Errorf("log %q does not report the rotation", logs.String())
	}

	// Rewriting in place with a different size is noticed too.
	writeFile(t, path, testToken+"\n\n", 0o640)
	if err := tokens.Check(bearer(testToken)); err != nil {
		t.Errorf("token rewritten in place: Check = %v, want nil", err)
	}
}

func TestTokenFileBecomesInvalid(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{name: "emptied", change: func(t *testing.T, path string) { replaceFile(t, path, "") }},
		{name: "removed", change: func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "made world-readable", change: func(t *testing.T, path string) {
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "too short", change: func(t *testing.T, path string) { replaceFile(t, path, "abc") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, path, logs := loadTestToken(t, testToken)
			tt.change(t, path)
			r := requestWith("/api", map[string]string{"Authorization": "Bearer " + testToken})

			for range 3 {
				if err := tokens.Check(r); !errors.Is(err, ErrTokenUnavailable) {
					t.Fatalf("Check = %v, want %v", err, ErrTokenUnavailable)
				}
			}
			if n := strings.Count(logs.String(), "level=error"); n != 1 {
				t.Errorf("%d error lines for one change, want 1: %q", n, logs.String())
			}
			if strings.Contains(logs.String(), testToken) {
				t.Errorf("log %q contains the token", logs.String())
			}

			replaceFile(t, path, testToken)
			if err := tokens.Check(r); err != nil {
				t.Errorf("after the fix: Check = %v, want nil", err)
			}
		})
	}
}
