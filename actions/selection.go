package actions

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/postfix-queue-exporter/postfix_queue_exporter/parser"
)

// MaxMessages bounds the messages one request may change, whatever the
// action, so that the ids kept in memory stay bounded (about 50 bytes each).
// Larger selections must be narrowed or split.
const MaxMessages = 100000

// maxDetails is the number of matched messages a response describes.
const maxDetails = 100

// maxDetailRecipients is the number of recipients shown for each described
// message.
const maxDetailRecipients = 20

// errTooMany stops a listing once the selection is over its limit.
var errTooMany = errors.New("selection is larger than the limit")

// entry is one selected message.
type entry struct {
	queue string
	id    string
}

// Message describes one selected message in a response.
type Message struct {
	QueueID        string      `json:"queue_id"`
	Queue          string      `json:"queue"`
	Sender         string      `json:"sender"`
	Recipients     []Recipient `json:"recipients"`
	RecipientCount int         `json:"recipient_count"`
	ArrivalTime    time.Time   `json:"arrival_time"`
	AgeSeconds     int64       `json:"age_seconds"`
	SizeBytes      int64       `json:"size_bytes"`
}

// Recipient is one recipient of a described message.
type Recipient struct {
	Address     string `json:"address"`
	DelayReason string `json:"delay_reason,omitempty"`
}

// Skipped is a requested message found in a queue where the action changes
// nothing, such as a deferred message named in a release.
type Skipped struct {
	QueueID string `json:"queue_id"`
	Queue   string `json:"queue"`
}

// selection gathers the messages of one listing that a request names. It
// keeps every selected id, up to limit, and the details of the first
// maxDetails only.
type selection struct {
	action     Action
	instance   string
	now        time.Time
	nullSender string
	limit      int

	selector  *Selector      // the select form
	requested map[string]int // the queue_ids form: id to times seen

	entries  []entry
	bytes    int64
	details  []Message
	skipped  []Skipped
	overflow bool // more than limit messages matched; entries is incomplete
}

func newSelection(p *plan, instance string, now time.Time, nullSender string, limit int) *selection {
	s := &selection{
		action:     p.action,
		instance:   instance,
		now:        now,
		nullSender: nullSender,
		limit:      limit,
		selector:   p.selector,
	}
	if p.ids != nil {
		s.requested = make(map[string]int, len(p.ids))
		for _, id := range p.ids {
			s.requested[id] = 0
		}
	}
	return s
}

// add is the parser.Handler for the listing. It returns errTooMany to stop
// the listing when more than limit messages match.
func (s *selection) add(m *parser.Message) error {
	if s.requested != nil {
		seen, ok := s.requested[m.ID]
		if !ok {
			return nil
		}
		// The parser reuses the memory of m's strings, and assigning to an
		// existing key stores the new key: copy it.
		id := strings.Clone(m.ID)
		s.requested[id] = seen + 1
		if !s.action.appliesTo(m.Queue) {
			s.skipped = append(s.skipped, Skipped{QueueID: id, Queue: m.Queue})
			return nil
		}
	} else if !s.action.appliesTo(m.Queue) || !s.selector.Match(m, s.now, s.nullSender) {
		return nil
	}

	if len(s.entries) >= s.limit {
		s.overflow = true
		return errTooMany
	}
	s.entries = append(s.entries, entry{queue: m.Queue, id: strings.Clone(m.ID)})
	s.bytes += m.Size
	if len(s.details) < maxDetails {
		s.details = append(s.details, s.describe(m))
	}
	return nil
}

// describe copies what a response shows of m, because the parser reuses m
// and the memory of its strings.
func (s *selection) describe(m *parser.Message) Message {
	listed := m.Recipients[:min(len(m.Recipients), maxDetailRecipients)]
	recipients := make([]Recipient, 0, len(listed))
	for _, r := range listed {
		recipients = append(recipients, Recipient{
			Address:     strings.Clone(r.Address),
			DelayReason: strings.Clone(r.DelayReason),
		})
	}
	return Message{
		QueueID:        strings.Clone(m.ID),
		Queue:          m.Queue,
		Sender:         strings.Clone(m.Sender),
		Recipients:     recipients,
		RecipientCount: len(m.Recipients),
		ArrivalTime:    m.ArrivalTime.UTC(),
		AgeSeconds:     int64(max(s.now.Sub(m.ArrivalTime), 0) / time.Second),
		SizeBytes:      m.Size,
	}
}

// finish sorts the selection after a complete listing. A message listed
// twice in one queue, which postqueue does when it moves during the scan,
// is kept once.
func (s *selection) finish() {
	slices.SortFunc(s.entries, compareEntries)
	s.entries = slices.Compact(s.entries)
	slices.SortFunc(s.details, func(a, b Message) int {
		return compareEntries(entry{a.Queue, a.QueueID}, entry{b.Queue, b.QueueID})
	})
	s.details = slices.CompactFunc(s.details, func(a, b Message) bool {
		return a.Queue == b.Queue && a.QueueID == b.QueueID
	})
}

func compareEntries(a, b entry) int {
	if c := strings.Compare(a.queue, b.queue); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// notFound returns the requested ids that the listing did not contain, in
// the order of the request.
func (s *selection) notFound(requested []string) []string {
	var missing []string
	for _, id := range requested {
		if s.requested[id] == 0 {
			missing = append(missing, id)
		}
	}
	return missing
}

// queueGroup is the selected ids of one queue.
type queueGroup struct {
	queue string
	ids   []string
}

// groups returns the selected ids by queue, in the order of action.Queues.
func (s *selection) groups() []queueGroup {
	var groups []queueGroup
	for _, queue := range s.action.Queues() {
		var ids []string
		for _, e := range s.entries {
			if e.queue == queue {
				ids = append(ids, e.id)
			}
		}
		if len(ids) > 0 {
			groups = append(groups, queueGroup{queue: queue, ids: ids})
		}
	}
	return groups
}

// counts returns the number of selected messages in each queue.
func (s *selection) counts() map[string]int {
	counts := make(map[string]int)
	for _, e := range s.entries {
		counts[e.queue]++
	}
	return counts
}

// confirm returns the confirm value of the selection: the hex SHA-256 of the
// action, the instance and the sorted "queue:id" lines of every selected
// message. A real request must present the value of its dry run, so that
// the set it changes is exactly the set that was reviewed.
func (s *selection) confirm() string {
	h := sha256.New()
	writeLine(h, "postfix_queue_exporter queue action v1")
	writeLine(h, "action "+string(s.action))
	writeLine(h, "instance "+s.instance)
	for _, e := range s.entries {
		writeLine(h, e.queue+":"+e.id)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeLine(w io.Writer, line string) {
	_, _ = io.WriteString(w, line+"\n")
}

// isConfirmValue reports whether s has the form of a confirm value, in
// either case.
func isConfirmValue(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// hasShortIDs reports whether a selected message has a short queue id,
// which Postfix may reuse for a new message once the old one is gone. Long
// queue ids always contain a 'z'; short ones are hexadecimal.
func (s *selection) hasShortIDs() bool {
	for _, e := range s.entries {
		if !strings.ContainsRune(e.id, 'z') {
			return true
		}
	}
	return false
}

// entryIDs returns the selected ids as "queue:id" strings.
func (s *selection) entryIDs() []string {
	ids := make([]string, len(s.entries))
	for i, e := range s.entries {
		ids[i] = e.queue + ":" + e.id
	}
	return ids
}
