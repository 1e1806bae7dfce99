// Package logging builds the exporter's go-kit logger from its flags, and
// the *slog.Logger that exporter-toolkit needs, writing through the same
// go-kit logger.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	slgk "github.com/tjhop/slog-gokit"
)

// Levels and Formats list the accepted flag values.
var (
	Levels  = []string{"debug", "info", "warn", "error"}
	Formats = []string{"logfmt", "json"}
)

// New returns a logger that writes to w in format ("logfmt" or "json") and
// drops records below lvl ("debug", "info", "warn" or "error"). Each record
// carries one ts and one caller: the go-kit logger adds them itself, and the
// slog logger's handler adds them from the slog record.
func New(w io.Writer, format, lvl string) (log.Logger, *slog.Logger, error) {
	var base log.Logger
	switch format {
	case "logfmt":
		base = log.NewLogfmtLogger(log.NewSyncWriter(w))
	case "json":
		base = log.NewJSONLogger(log.NewSyncWriter(w))
	default:
		return nil, nil, fmt.Errorf("invalid log format %q: use logfmt or json", format)
	}

	var option level.Option
	var slogLevel slog.Level
	switch lvl {
	case "debug":
		option, slogLevel = level.AllowDebug(), slog.LevelDebug
	case "info":
		option, slogLevel = level.AllowInfo(), slog.LevelInfo
	case "warn":
		option, slogLevel = level.AllowWarn(), slog.LevelWarn
	case "error":
		option, slogLevel = level.AllowError(), slog.LevelError
	default:
		return nil, nil, fmt.Errorf("invalid log level %q: use debug, info, warn or error", lvl)
	}
	base = level.NewFilter(base, option)

	logger := log.With(base, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	slogger := slog.New(slgk.NewGoKitHandler(tsLogger{base}, slogLevel))
	return logger, slogger, nil
}

// tsLogger renames the "time" key of records from slog to "ts" and puts the
// time in UTC, so that lines logged by exporter-toolkit look like the
// exporter's own.
type tsLogger struct {
	next log.Logger
}

func (l tsLogger) Log(keyvals ...interface{}) error {
	for i := 0; i+1 < len(keyvals); i += 2 {
		if keyvals[i] != slog.TimeKey {
			continue
		}
		keyvals[i] = "ts"
		if t, ok := keyvals[i+1].(time.Time); ok {
			keyvals[i+1] = t.UTC()
		}
	}
	return l.next.Log(keyvals...)
}
