package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Lab scripts, relative to the repository root.
const (
	labPopulateScript = "deploy/lab/lab-populate.sh"
	labClearScript    = "deploy/lab/lab-clear.sh"
	labRestoreScript  = "deploy/lab/lab-restore.sh"
	labDownScript     = "deploy/lab/lab-down.sh"
)

// labScriptTimeout bounds one lab script run.
const labScriptTimeout = 5 * time.Minute

// RunLabScript runs a script of deploy/lab with args and returns its stdout.
// The test fails unless the script exits 0.
func RunLabScript(t testing.TB, script string, args ...string) string {
	t.Helper()
	RequireLab(t)
	path := filepath.Join(repoRoot, script)
	result, err := runCommand(commandSpec{Name: path, Args: args, Timeout: labScriptTimeout})
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	if result.ExitCode != 0 {
		t.Fatalf("%s %s: exit code %d\nstdout: %s\nstderr: %s",
			script, strings.Join(args, " "), result.ExitCode, result.Stdout, result.Stderr)
	}
	return result.Stdout
}

// Populate fills the lab queues by running deploy/lab/lab-populate.sh with
// args.
func Populate(t testing.TB, args ...string) {
	t.Helper()
	RunLabScript(t, labPopulateScript, args...)
}

// Clear empties every queue of the lab by running deploy/lab/lab-clear.sh.
func Clear(t testing.TB) {
	t.Helper()
	RunLabScript(t, labClearScript)
}

// Restore enables qmgr and pickup again after Populate disabled them, by
// running deploy/lab/lab-restore.sh, and waits until mail has moved on from
// maildrop and incoming.
func Restore(t testing.TB) {
	t.Helper()
	RunLabScript(t, labRestoreScript)
}

// EnsurePopulated leaves the lab with mail in all five queues, including a
// force-expired message, a null sender and a message with several
// recipients. It keeps the queue when it has all that already, and otherwise
// runs Clear and Populate. It returns the queue as ReadQueue counts it.
func EnsurePopulated(t testing.TB) QueueState {
	t.Helper()
	if state := ReadQueue(t); state.populated() {
		return state
	}
	Clear(t)
	Populate(t)
	state := ReadQueue(t)
	if !state.populated() {
		t.Fatalf("the queue lacks mail that %s should have added: %+v", labPopulateScript, state.Queues)
	}
	return state
}

// PostfixRunning reports whether the default Postfix instance runs.
func PostfixRunning(t testing.TB) bool {
	t.Helper()
	return Command(t, "postfix", "status").ExitCode == 0
}

// StopPostfix stops every lab Postfix instance with deploy/lab/lab-down.sh,
// which also ends the slow transport's sleep processes, and starts Postfix
// again when the test ends. Queued mail stays where it is.
func StopPostfix(t testing.TB) {
	t.Helper()
	RequireLab(t)
	t.Cleanup(func() { startPostfix(t) })
	RunLabScript(t, labDownScript)
	waitFor(t, 30*time.Second, "Postfix to stop", func() bool { return !PostfixRunning(t) })
}

func startPostfix(t testing.TB) {
	t.Helper()
	if PostfixRunning(t) {
		return
	}
	Run(t, "postfix", "start")
	waitFor(t, 30*time.Second, "Postfix to start", func() bool { return PostfixRunning(t) })
}

// SetPostconf sets main.cf parameters of the default instance with
// `postconf -e`, given as "name = value", and restores their previous
// values, or removes them, when the test ends. postqueue reads main.cf on
// every run, but daemons only see the change after `postfix reload`.
func SetPostconf(t testing.TB, settings ...string) {
	t.Helper()
	RequireLab(t)
	for _, setting := range settings {
		name, _, ok := strings.Cut(setting, "=")
		if !ok {
			t.Fatalf("SetPostconf: %q is not \"name = value\"", setting)
		}
		name = strings.TrimSpace(name)
		// -n prints the parameter only when main.cf sets it.
		previous := strings.TrimSpace(Run(t, "postconf", "-n", name))
		t.Cleanup(func() {
			if previous == "" {
				Run(t, "postconf", "-X", name)
			} else {
				Run(t, "postconf", "-e", previous)
			}
		})
		Run(t, "postconf", "-e", setting)
	}
}

// waitFor polls condition every 100 ms until it holds or timeout runs out,
// and then fails the test naming what it waited for.
func waitFor(t testing.TB, timeout time.Duration, what string, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
