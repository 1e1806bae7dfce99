package postfix

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// Postconf reads main.cf parameters of one Postfix instance with
// postconf(1), which any user may run.
type Postconf struct {
	Path      string // the postconf binary
	ConfigDir string // passed as -c when not empty
	Runner    *Runner
}

// Values returns the value of each named parameter, in order, as
// `postconf -h NAME...` prints them: with $name references expanded.
func (p *Postconf) Values(ctx context.Context, names ...string) ([]string, error) {
	var args []string
	if p.ConfigDir != "" {
		args = append(args, "-c", p.ConfigDir)
	}
	args = append(args, "-h")
	args = append(args, names...)
	cmd := Command{Path: p.Path, Args: args}

	var values []string
	_, err := p.Runner.Run(ctx, cmd, func(stdout io.Reader) error {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			values = append(values, strings.TrimSpace(scanner.Text()))
		}
		return scanner.Err()
	})
	if err != nil {
		return nil, err
	}
	// postconf prints only a warning on stderr for an unknown name.
	if len(values) != len(names) {
		return nil, &Error{Kind: KindParse, Command: cmd.String(),
			Err: fmt.Errorf("printed %d values for %d parameters", len(values), len(names))}
	}
	return values, nil
}
