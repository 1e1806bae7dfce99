package webapi

import (
	"net/http"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// Audit logs one info line for an API request: its remote address, method
// and path, the user it authenticated as, and the key-value pairs given,
// such as the target, result and duration. The URL query and the request
// headers are never logged, so neither is a token sent in them.
//
// The user is the basic auth user name of the request, which
// exporter-toolkit has checked before the handler runs when the
// --web.config.file lists basic_auth_users, and the subject of a verified
// TLS client certificate.
//
// NOTE: without basic_auth_users in the web config, nothing checks the basic
// auth user name, so the logged user is the name the client claims.
func Audit(logger log.Logger, r *http.Request, keyvals ...any) {
	line := []any{"msg", "API request", "remote_addr", r.RemoteAddr, "method", r.Method, "path", r.URL.Path}
	if user, _, ok := r.BasicAuth(); ok {
		line = append(line, "user", user)
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		line = append(line, "tls_client", r.TLS.VerifiedChains[0][0].Subject.String())
	}
	line = append(line, keyvals...)
	level.Info(logger).Log(line...)
}
