package postfix

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Kind is the reason a command failed. Its string values are the reason label of
// postfix_exporter_collect_errors_total, so the set is small and fixed.
type Kind string

// Failure kinds.
const (
	KindTimeout        Kind = "timeout"          // the time limit ran out and the command was killed
	KindPermission     Kind = "permission"       // Postfix refused this user, or a file or socket was not accessible
	KindMailSystemDown Kind = "mail_system_down" // Postfix is not running
	KindExec           Kind = "exec"             // the command could not start, or failed for another reason
	KindParse          Kind = "parse"            // the output was not what was expected
)

// Kinds lists every Kind, so that counters can be published with zeros.
var Kinds = []Kind{KindTimeout, KindPermission, KindMailSystemDown, KindExec, KindParse}

// Error is a failed command, with the stderr it printed.
type Error struct {
	Kind    Kind
	Command string
	Stderr  string // trimmed stderr, may be empty
	Err     error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Command, e.Err)
	if e.Stderr != "" {
		msg += ": " + strings.ReplaceAll(e.Stderr, "\n", "; ")
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or KindExec for an error that is not an
// *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindExec
}

// Stderr texts of Postfix 3.x tools, matched in lower case. "Mail system" is
// $mail_name, which an administrator can change, so only the rest is matched.
var (
	permissionTexts = []string{
		"is not allowed to",                      // authorized_mailq_users, authorized_flush_users
		"permission denied",                      // showq or flush socket, queue directory
		"reserved for the superuser",             // postsuper as non-root
		"a password is required",                 // sudo -n without a matching sudoers rule
		"specify \"alternate_config_directories", // -c with a directory main.cf does not list
	}
	mailSystemDownTexts = []string{
		"system is down", // "Queue report unavailable - mail system is down", "Cannot flush mail queue - mail system is down"
	}
)

// classifyExit turns a command's non-zero exit into an *Error whose Kind
// follows from its stderr.
func classifyExit(cmd Command, result *Result, waitErr error) *Error {
	kind := KindExec
	lower := strings.ToLower(result.Stderr)
	switch {
	case containsAny(lower, permissionTexts):
		kind = KindPermission
	case containsAny(lower, mailSystemDownTexts):
		kind = KindMailSystemDown
	case errors.Is(waitErr, os.ErrPermission):
		kind = KindPermission
	}
	return &Error{Kind: kind, Command: cmd.String(), Stderr: result.Stderr, Err: waitErr}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
