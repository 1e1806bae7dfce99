package postfix

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// Instance is one Postfix instance as `postmulti -l` lists it.
type Instance struct {
	Name      string // multi_instance_name; "" when it has none, as the default instance usually
	Group     string // multi_instance_group; "" when it has none
	Enabled   bool   // multi_instance_enable
	ConfigDir string
}

// Postmulti lists the Postfix instances of a host with postmulti(1), which
// any user may run.
type Postmulti struct {
	Path   string // the postmulti binary
	Runner *Runner
}

// List runs `postmulti -l -a` and returns every instance, the default one
// included, in postmulti's order.
func (p *Postmulti) List(ctx context.Context) ([]Instance, error) {
	cmd := Command{Path: p.Path, Args: []string{"-l", "-a"}}
	var instances []Instance
	_, err := p.Runner.Run(ctx, cmd, func(stdout io.Reader) error {
		var err error
		instances, err = parsePostmultiList(stdout)
		return err
	})
	if err != nil {
		return nil, err
	}
	return instances, nil
}

// parsePostmultiList reads the lines of `postmulti -l`: name, group,
// enabled ("y" or "n") and config directory, separated by blanks, with "-"
// for no name or group.
func parsePostmultiList(r io.Reader) ([]Instance, error) {
	var instances []Instance
	scanner := bufio.NewScanner(r)
	for number := 1; scanner.Scan(); number++ {
		line := scanner.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 4 {
			return nil, fmt.Errorf("line %d: expected name, group, enabled and config directory, got %q", number, line)
		}

		instance := Instance{Name: fields[0], Group: fields[1], ConfigDir: fields[3]}
		if instance.Name == "-" {
			instance.Name = ""
		}
		if instance.Group == "-" {
			instance.Group = ""
		}
		switch fields[2] {
		case "y":
			instance.Enabled = true
		case "n":
		default:
			return nil, fmt.Errorf("line %d: expected y or n in the enabled column, got %q", number, fields[2])
		}
		instances = append(instances, instance)
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if len(instances) == 0 {
		return nil, fmt.Errorf("no instance listed, not even the default one")
	}
	return instances, nil
}
