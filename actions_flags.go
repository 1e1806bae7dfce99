package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/actions"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/collector"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/postfix"
	"github.com/postfix-queue-exporter/postfix_queue_exporter/webapi"
)

// actionsFlags holds the flags of the queue action endpoints.
type actionsFlags struct {
	enable           *string
	tokenFile        *string
	maxDelete        *int
	allowBulkDelete  *bool
	postsuperCommand *string
}

func addActionsFlags(app *kingpin.Application) *actionsFlags {
	return &actionsFlags{
		enable: app.Flag("actions.enable",
			"Comma-separated queue actions to serve at POST "+actions.PathPrefix+"ACTION: any of hold, release, "+
				"requeue and delete. Needs --actions.token-file. Default: none.").
			PlaceHolder("ACTIONS").String(),
		tokenFile: app.Flag("actions.token-file",
			"File with the bearer token that action requests must send. It must not be readable by all users, "+
				"and may be the flush token file. The exporter reads it again when it changes.").
			PlaceHolder("FILE").String(),
		maxDelete: app.Flag("actions.max-delete",
			"Maximum number of messages one delete request may remove; larger deletes and \"all\": true are "+
				"rejected unless --actions.allow-bulk-delete is set.").
			Default(fmt.Sprint(actions.DefaultMaxDelete)).Int(),
		allowBulkDelete: app.Flag("actions.allow-bulk-delete",
			fmt.Sprintf("Allow delete requests over --actions.max-delete (up to %d messages) and with \"all\": true.",
				actions.MaxMessages)).
			Bool(),
		postsuperCommand: app.Flag("actions.postsuper-command",
			"Command that runs postsuper as root, split at blanks into the program and its arguments; quotes "+
				"and backslashes are not interpreted. The operation, - and a queue name are appended.").
			Default("sudo -n postsuper").String(),
	}
}

// register adds the action endpoints to mux and their metrics to registry
// when --actions.enable lists an action. It returns an error naming the flag
// to fix when the flags do not go together or the token file cannot be used.
func (f *actionsFlags) register(mux *http.ServeMux, registry prometheus.Registerer, logger log.Logger,
	queueCfg *queueFlags, instances []collector.Instance,
) error {
	enabled, err := actions.ParseList(*f.enable)
	if err != nil {
		return fmt.Errorf("invalid --actions.enable: %w", err)
	}
	if len(enabled) == 0 {
		if *f.tokenFile != "" {
			level.Warn(logger).Log("msg", "--actions.token-file is set but --actions.enable lists no action, "+
				"so the action endpoints are off")
		}
		return nil
	}

	switch {
	case *f.tokenFile == "":
		return errors.New("--actions.enable needs --actions.token-file: write a random token to a file " +
			"(openssl rand -hex 32 > FILE; chmod 0640 FILE) and pass its path")
	case *queueCfg.input != "":
		return errors.New("--actions.enable cannot be used with --postqueue.input, which reads a saved listing")
	case *f.maxDelete < 1 || *f.maxDelete > actions.MaxMessages:
		return fmt.Errorf("invalid --actions.max-delete %d: use a number from 1 to %d", *f.maxDelete, actions.MaxMessages)
	}
	command, err := splitCommand(*f.postsuperCommand)
	if err != nil {
		return fmt.Errorf("invalid --actions.postsuper-command: %w", err)
	}

	tokens, err := webapi.LoadTokenFile(*f.tokenFile, logger)
	if err != nil {
		return fmt.Errorf("--actions.token-file: %w", err)
	}
	actionInstances, err := f.instances(queueCfg, command, logger)
	if err != nil {
		return err
	}
	handler, err := actions.NewHandler(actions.Config{
		Enabled:         enabled,
		Tokens:          tokens,
		MaxDelete:       *f.maxDelete,
		AllowBulkDelete: *f.allowBulkDelete,
		Instances:       actionInstances,
		Invalidate:      invalidateAll(instances),
		Logger:          logger,
	})
	if err != nil {
		return err
	}

	if err := registry.Register(handler); err != nil {
		return fmt.Errorf("register action metrics: %w", err)
	}
	handler.Register(mux)
	level.Info(logger).Log("msg", "Queue actions enabled", "actions", *f.enable, "path", actions.PathPrefix+"ACTION",
		"token_file", *f.tokenFile, "max_delete", *f.maxDelete, "allow_bulk_delete", *f.allowBulkDelete,
		"postsuper_command", strings.Join(command, " "))
	return nil
}

// instances builds the lister, postsuper and settings of every instance that
// is read, with the postqueue binary, format and timeout of the queue
// listing. postconf is looked up next to postqueue.
func (f *actionsFlags) instances(queueCfg *queueFlags, command []string, logger log.Logger) ([]actions.Instance, error) {
	resolved := queueCfg.resolved
	if resolved == nil {
		return nil, errors.New("the action endpoints need the postqueue instances, which were not set up")
	}
	result := make([]actions.Instance, 0, len(resolved.configs))
	for _, config := range resolved.configs {
		inst := actions.Instance{
			Name:      config.dir,
			Lister:    resolved.postqueue(config.dir),
			Postsuper: &postfix.Postsuper{Command: command, ConfigDir: config.dir, Runner: resolved.runner},
		}
		postconf := &postfix.Postconf{Path: resolved.siblingPath("postconf"), ConfigDir: config.dir, Runner: resolved.runner}
		actions.Inspect(context.Background(), logger, postconf, &inst)
		result = append(result, inst)
	}
	return result, nil
}

// splitCommand splits a command line at blanks. It rejects quotes and
// backslashes, because a shell would read them differently.
func splitCommand(s string) ([]string, error) {
	if strings.ContainsAny(s, `"'\`) {
		return nil, fmt.Errorf("%q contains a quote or backslash: the value is split at blanks only, "+
			"so no part may contain a blank", s)
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, errors.New("the command is empty: use for example \"sudo -n postsuper\"")
	}
	return fields, nil
}
