package webapi

import (
	"errors"
	"net/http"
)

// Unauthorized sets the WWW-Authenticate challenge of RFC 6750 for a request
// that TokenFile.Check rejected with err, and returns the message for the
// client. The message names only what the client can fix, because a token
// file that is not usable is a server-side fault, which TokenFile logs.
func Unauthorized(w http.ResponseWriter, err error) string {
	challenge := `Bearer realm="postfix_queue_exporter"`
	if errors.Is(err, ErrWrongToken) {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if errors.Is(err, ErrTokenInURL) {
		return "a token in the URL is not accepted: send it in the Authorization header"
	}
	return "missing or invalid bearer token: send Authorization: Bearer TOKEN"
}
