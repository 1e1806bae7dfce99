// Package parser reads Postfix queue listings, as printed by `postqueue -j`
// (JSON Lines, Postfix 3.1 and later) and `postqueue -p` (text), one message
// at a time. It keeps no message after handing it on, so memory does not grow
// with the size of the queue.
package parser

import (
	"strings"
	"time"
)

// Queue names as Postfix prints them, in the order showq scans the queue
// directories.
const (
	QueueMaildrop = "maildrop"
	QueueIncoming = "incoming"
	QueueActive   = "active"
	QueueDeferred = "deferred"
	QueueHold     = "hold"
)

// Queues lists every queue name that a listing can report.
var Queues = []string{QueueMaildrop, QueueIncoming, QueueActive, QueueDeferred, QueueHold}

// Message is one queue file from a listing.
type Message struct {
	Queue        string
	ID           string
	ArrivalTime  time.Time
	Size         int64 // header and body bytes, without the envelope
	ForcedExpire bool  // set by `postsuper -e` or `-f` (Postfix 3.5 and later)
	Sender       string
	Recipients   []Recipient
}

// Recipient is one envelope recipient of a queued message.
type Recipient struct {
	Address      string
	OrigAddress  string // Postfix 3.11 and later
	DelayReason  string // empty when Postfix has not recorded a reason
	BounceReason string // Postfix 3.11 and later
}

// Handler receives each parsed message. The parser reuses the Message, its
// Recipients slice and the memory of its strings for the next message, so a
// handler must copy what it keeps (Clone, strings.Clone). A map assignment
// keeps its key too: assigning to an existing key stores the new one. A
// non-nil error stops parsing and is returned by the parse function
// unchanged.
type Handler func(*Message) error

// Clone returns a copy of m that shares no memory with the parser.
func (m *Message) Clone() Message {
	c := *m
	c.ID = strings.Clone(m.ID)
	c.Sender = strings.Clone(m.Sender)
	c.Recipients = nil
	if m.Recipients != nil {
		c.Recipients = make([]Recipient, len(m.Recipients))
	}
	for i, r := range m.Recipients {
		c.Recipients[i] = Recipient{
			Address:      strings.Clone(r.Address),
			OrigAddress:  strings.Clone(r.OrigAddress),
			DelayReason:  strings.Clone(r.DelayReason),
			BounceReason: strings.Clone(r.BounceReason),
		}
	}
	return c
}

// Format is the kind of listing a parser reads.
type Format int

// Listing formats. FormatAuto detects the format from the content.
const (
	FormatAuto Format = iota
	FormatJSON
	FormatText
)

// String returns the format's flag value: auto, json or text.
func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatText:
		return "text"
	default:
		return "auto"
	}
}
