package parser

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"time"
)

// ParseJSON reads `postqueue -j` output: one JSON object per line, Postfix
// 3.1 and later. It calls h once per message, in input order. Empty input is
// an empty queue. Blank lines are skipped, and members that Postfix may add
// in later releases are ignored.
//
// Postfix always prints queue_name, queue_id, arrival_time, message_size,
// sender and recipients, and address in each recipient, so a missing one is
// an error, as are an unknown queue name, an empty queue ID and a negative
// size. forced_expire (Postfix 3.5 and later) may be missing. Errors in the
// input are *SyntaxError values, and an error from h is returned unchanged.
//
// The strings of a message are only valid until h returns, as Handler
// documents.
func ParseJSON(r io.Reader, h Handler) error {
	return parseJSONLines(newLineReader(r), h)
}

func parseJSONLines(lr *lineReader, h Handler) error {
	var (
		scanner jsonScanner
		m       Message
	)
	for {
		line, err := lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if isBlank(line) {
			continue
		}

		if !scanner.scanMessage(line, &m) {
			if err := decodeJSONMessage(line, lr.number, &m); err != nil {
				return err
			}
		}
		if err := h(&m); err != nil {
			return err
		}
	}
}

// jsonMessage is one `postqueue -j` line as encoding/json decodes it.
// Pointers tell a missing member (or null) from a zero value.
type jsonMessage struct {
	QueueName    *string          `json:"queue_name"`
	QueueID      *string          `json:"queue_id"`
	ArrivalTime  *int64           `json:"arrival_time"`
	MessageSize  *int64           `json:"message_size"`
	ForcedExpire *bool            `json:"forced_expire"`
	Sender       *string          `json:"sender"`
	Recipients   *[]jsonRecipient `json:"recipients"`
}

type jsonRecipient struct {
	Address      *string `json:"address"`
	OrigAddress  string  `json:"orig_address"`
	DelayReason  string  `json:"delay_reason"`
	BounceReason string  `json:"bounce_reason"`
}

// decodeJSONMessage decodes line with encoding/json into m. It handles every
// line that jsonScanner does not accept, and produces all JSON errors.
func decodeJSONMessage(line []byte, number int, m *Message) error {
	start := 0
	for start < len(line) && isSpace(line[start]) {
		start++
	}
	if start == len(line) || line[start] != '{' {
		return newSyntaxError(number, "a JSON object", line)
	}

	var v jsonMessage
	if err := json.Unmarshal(line, &v); err != nil {
		return jsonSyntaxError(number, line, err)
	}
	return v.copyTo(number, line, m)
}

// jsonSyntaxError turns an encoding/json error into a SyntaxError whose Got
// shows the input up to the place of the error.
func jsonSyntaxError(number int, line []byte, err error) error {
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		expected := fmt.Sprintf("a complete JSON object on one line (%v)", syntaxErr)
		return &SyntaxError{Line: number, Expected: expected, Got: tailExcerpt(line, int(syntaxErr.Offset))}
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		expected := fmt.Sprintf("%s in %q", jsonKind(typeErr.Type), typeErr.Field)
		return &SyntaxError{Line: number, Expected: expected, Got: tailExcerpt(line, int(typeErr.Offset))}
	}
	return newSyntaxError(number, fmt.Sprintf("a valid JSON object (%v)", err), line)
}

// jsonKind names the JSON value that decodes into a Go type of jsonMessage.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a JSON string"
	case reflect.Int64:
		return "a JSON integer"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a JSON array"
	case reflect.Struct:
		return "a JSON object"
	default:
		return "a JSON value of type " + t.String()
	}
}

// copyTo checks v and copies it into m, reusing m.Recipients.
func (v *jsonMessage) copyTo(number int, line []byte, m *Message) error {
	missing := ""
	switch {
	case v.QueueName == nil:
		missing = "queue_name"
	case v.QueueID == nil:
		missing = "queue_id"
	case v.ArrivalTime == nil:
		missing = "arrival_time"
	case v.MessageSize == nil:
		missing = "message_size"
	case v.Sender == nil:
		missing = "sender"
	case v.Recipients == nil:
		missing = "recipients"
	}
	if missing != "" {
		return newSyntaxError(number, fmt.Sprintf("the member %q in the JSON object", missing), line)
	}

	queue, ok := queueName(*v.QueueName)
	if !ok {
		return newSyntaxError(number, "a queue_name of maildrop, incoming, active, deferred or hold",
			[]byte(*v.QueueName))
	}
	if *v.QueueID == "" {
		return newSyntaxError(number, "a non-empty queue_id", nil)
	}
	if *v.MessageSize < 0 {
		return newSyntaxError(number, "a message_size of 0 or more",
			strconv.AppendInt(nil, *v.MessageSize, 10))
	}

	m.Queue = queue
	m.ID = *v.QueueID
	m.ArrivalTime = time.Unix(*v.ArrivalTime, 0)
	m.Size = *v.MessageSize
	m.ForcedExpire = v.ForcedExpire != nil && *v.ForcedExpire
	m.Sender = *v.Sender
	m.Recipients = m.Recipients[:0]
	for i, r := range *v.Recipients {
		if r.Address == nil {
			expected := fmt.Sprintf("the member \"address\" in recipient %d", i+1)
			return newSyntaxError(number, expected, line)
		}
		m.Recipients = append(m.Recipients, Recipient{
			Address:      *r.Address,
			OrigAddress:  r.OrigAddress,
			DelayReason:  r.DelayReason,
			BounceReason: r.BounceReason,
		})
	}
	return nil
}

// queueName returns the package constant equal to name, so that messages
// share one string per queue.
func queueName(name string) (string, bool) {
	switch name {
	case QueueMaildrop:
		return QueueMaildrop, true
	case QueueIncoming:
		return QueueIncoming, true
	case QueueActive:
		return QueueActive, true
	case QueueDeferred:
		return QueueDeferred, true
	case QueueHold:
		return QueueHold, true
	}
	return "", false
}
