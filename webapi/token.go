// Package webapi contains the pieces shared by the exporter's HTTP API
// endpoints: bearer-token authentication, input validation, rate limiting,
// request body decoding and the audit log line.
package webapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// maxTokenFileSize bounds the token file. A bearer token is one short line.
const maxTokenFileSize = 4096

// minTokenLength rejects tokens short enough to guess. `openssl rand -hex 32`
// prints 64 characters.
const minTokenLength = 16

// TokenHeader is the request header that carries the token when the
// Authorization header is taken by the basic auth of --web.config.file,
// because one Authorization header cannot carry both credentials.
const TokenHeader = "X-Auth-Token"

// Reasons a request is not authorized, returned by TokenFile.Check.
var (
	ErrNoToken          = errors.New("no bearer token in the Authorization or " + TokenHeader + " header")
	ErrWrongToken       = errors.New("wrong bearer token")
	ErrTokenInURL       = errors.New("token sent in the URL query, which is not accepted")
	ErrTokenUnavailable = errors.New("token file is not usable, so every request is rejected")
)

// TokenFile is a bearer token kept in a file. The file is checked on every
// request and read again when its inode, size, mtime or ctime changes, so the
// token can be rotated without a restart.
type TokenFile struct {
	path   string
	logger log.Logger

	mu     sync.Mutex
	stamp  fileStamp
	digest [sha256.Size]byte // SHA-256 of the token, valid when err is nil
	err    error             // reason the file is not usable, nil when it is
}

// fileStamp identifies one version of a file. A chmod changes ctime, so a
// file made world-readable after start is noticed too.
type fileStamp struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // nanoseconds since the epoch
	missing      bool
}

// LoadTokenFile reads the token from path. It returns an error naming the
// path and the fix if the file is missing, not a regular file, readable by
// all users, empty, or holds something that is not a single bearer token.
func LoadTokenFile(path string, logger log.Logger) (*TokenFile, error) {
	t := &TokenFile{path: path, logger: logger}
	stamp, digest, err := readTokenFile(path)
	if err != nil {
		return nil, err
	}
	t.stamp, t.digest = stamp, digest
	return t, nil
}

// Path returns the path of the token file.
func (t *TokenFile) Path() string { return t.path }

// Authorized reports whether r carries the current token. See Check.
func (t *TokenFile) Authorized(r *http.Request) bool {
	return t.Check(r) == nil
}

// Check returns nil if r carries the current token, else the reason it is
// rejected: ErrNoToken, ErrWrongToken, ErrTokenInURL or ErrTokenUnavailable.
//
// The token is read from "Authorization: Bearer TOKEN", or from the
// X-Auth-Token header when the Authorization header holds basic auth
// credentials. A request with a token in its URL query is rejected even if
// its headers carry the right token, and logged at warning level, because
// proxies and access logs record URLs.
func (t *TokenFile) Check(r *http.Request) error {
	if param := tokenQueryParam(r); param != "" {
		level.Warn(t.logger).Log("msg", "Rejected a request with a token in the URL query; "+
			"send it in the Authorization header, and rotate the token if it was the real one",
			"param", param, "remote_addr", r.RemoteAddr, "path", r.URL.Path)
		return ErrTokenInURL
	}

	presented, err := bearerToken(r)
	if err != nil {
		return err
	}

	digest, err := t.current()
	if err != nil {
		return ErrTokenUnavailable
	}
	// Comparing fixed-size digests keeps the comparison's time independent
	// of both the content and the length of the token.
	got := sha256.Sum256([]byte(presented))
	if subtle.ConstantTimeCompare(got[:], digest[:]) != 1 {
		return ErrWrongToken
	}
	return nil
}

// current returns the digest of the token in the file now, reading the file
// again if it changed. While the file is invalid every request is rejected:
// falling back to the previous token would keep a token working after an
// operator emptied or replaced the file to revoke it.
func (t *TokenFile) current() ([sha256.Size]byte, error) {
	stamp := statStamp(t.path)

	t.mu.Lock()
	defer t.mu.Unlock()
	if stamp == t.stamp {
		return t.digest, t.err
	}

	newStamp, digest, err := readTokenFile(t.path)
	if err != nil && newStamp == (fileStamp{}) {
		newStamp = stamp
	}
	t.stamp = newStamp
	t.digest = digest
	t.err = err
	// One log line per change of the file, not one per request.
	if err != nil {
		level.Error(t.logger).Log("msg", "Token file changed and is not usable; rejecting every API request until it is fixed",
			"path", t.path, "err", err)
	} else {
		level.Info(t.logger).Log("msg", "Token file changed; using the new token", "path", t.path)
	}
	return t.digest, t.err
}

// readTokenFile reads and checks the token file at path. The stamp is that
// of the opened file, so it matches the content read.
func readTokenFile(path string) (fileStamp, [sha256.Size]byte, error) {
	var digest [sha256.Size]byte

	// Stat before opening: opening a FIFO would block.
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, digest, fmt.Errorf("token file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return fileStamp{}, digest, fmt.Errorf("token file %s is not a regular file", path)
	}

	f, err := os.Open(path)
	if err != nil {
		return fileStamp{}, digest, fmt.Errorf("token file %s: %w", path, err)
	}
	defer f.Close()
	info, err = f.Stat()
	if err != nil {
		return fileStamp{}, digest, fmt.Errorf("token file %s: %w", path, err)
	}
	stamp := stampOf(info)

	if !info.Mode().IsRegular() {
		return stamp, digest, fmt.Errorf("token file %s is not a regular file", path)
	}
	if info.Mode().Perm()&0o004 != 0 {
		return stamp, digest, fmt.Errorf("token file %s is readable by all users (mode %04o): "+
			"run chmod 0640 %s and give its group to the exporter's user", path, info.Mode().Perm(), path)
	}
	if info.Size() > maxTokenFileSize {
		return stamp, digest, fmt.Errorf("token file %s is %d bytes, more than the maximum of %d: "+
			"it must hold one token", path, info.Size(), maxTokenFileSize)
	}

	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileSize+1))
	if err != nil {
		return stamp, digest, fmt.Errorf("token file %s: %w", path, err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return stamp, digest, fmt.Errorf("token file %s is empty: write a random token into it, "+
			"for example with openssl rand -hex 32 > %s", path, path)
	}
	if err := checkTokenSyntax(token); err != nil {
		return stamp, digest, fmt.Errorf("token file %s: %w", path, err)
	}
	return stamp, sha256.Sum256([]byte(token)), nil
}

// checkTokenSyntax accepts the b64token characters that RFC 6750 allows in
// a bearer token: letters, digits and - . _ ~ + /, then any number of =.
func checkTokenSyntax(token string) error {
	if len(token) < minTokenLength {
		return fmt.Errorf("token has %d characters, fewer than the minimum of %d: "+
			"use a random one, for example from openssl rand -hex 32", len(token), minTokenLength)
	}
	body := strings.TrimRight(token, "=")
	for i := 0; i < len(body); i++ {
		if !isToken68Char(body[i]) {
			return fmt.Errorf("token contains a character at byte %d that a bearer token cannot contain: "+
				"use only letters, digits and - . _ ~ + / (and = at the end)", i)
		}
	}
	return nil
}

func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

// bearerToken returns the token of r's Authorization header, or of its
// X-Auth-Token header when the Authorization header is absent or carries
// another scheme such as Basic.
func bearerToken(r *http.Request) (string, error) {
	auth := r.Header.Values("Authorization")
	alt := r.Header.Values(TokenHeader)
	if len(auth) > 1 || len(alt) > 1 {
		return "", ErrNoToken
	}

	if len(auth) == 1 {
		scheme, value, _ := strings.Cut(strings.TrimSpace(auth[0]), " ")
		if strings.EqualFold(scheme, "Bearer") {
			if len(alt) == 1 {
				// Two tokens: accept neither rather than pick one.
				return "", ErrNoToken
			}
			return nonEmpty(strings.TrimSpace(value))
		}
	}
	if len(alt) == 1 {
		return nonEmpty(strings.TrimSpace(alt[0]))
	}
	return "", ErrNoToken
}

func nonEmpty(token string) (string, error) {
	if token == "" {
		return "", ErrNoToken
	}
	return token, nil
}

// tokenQueryParam returns the name of a URL query parameter of r that looks
// like a credential, such as access_token (RFC 6750 section 2.3), or "".
func tokenQueryParam(r *http.Request) string {
	for name := range r.URL.Query() {
		lower := strings.ToLower(name)
		if strings.Contains(lower, "token") || lower == "auth" || lower == "authorization" {
			return name
		}
	}
	return ""
}

func statStamp(path string) fileStamp {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{missing: true}
	}
	return stampOf(info)
}

func stampOf(info os.FileInfo) fileStamp {
	stamp := fileStamp{size: info.Size(), mtime: info.ModTime().UnixNano()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		stamp.dev = uint64(st.Dev)
		stamp.ino = st.Ino
		stamp.ctime = st.Ctim.Nano()
	}
	return stamp
}
