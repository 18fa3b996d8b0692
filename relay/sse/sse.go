// Package sse is the relay's one server-sent-events reader and writer.
package sse

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
)

// Event is one server-sent event. Data is the event's data lines joined by
// "\n"; it is valid only until the next call to Reader.Next.
type Event struct {
	Name string
	Data []byte
	// Done marks OpenAI's terminating "data: [DONE]".
	Done bool
}

// ErrStreamCut means the upstream closed the stream in the middle of an
// event, or before sending its end marker.
var ErrStreamCut = errors.New("upstream stream ended before its end marker")

// ErrEventTooLarge means one SSE line was longer than the reader's limit.
var ErrEventTooLarge = errors.New("upstream SSE line exceeds the size limit")

// DefaultMaxLine bounds one SSE line. Tool-call arguments and base64
// images can make long lines; 8 MiB is well above anything real and still
// stops a broken upstream from growing memory without end.
const DefaultMaxLine = 8 << 20

// A Reader waits for the upstream in a small buffer of its own and takes
// a pooled 4 KiB one only while more than that is buffered: an open
// stream spends most of its life waiting, and every one held a 4 KiB
// buffer through it (issue 14). A typical chunk (a few hundred bytes)
// fits in the small one; a line longer than the large one spills into
// Reader.line.
const (
	smallSize = 512
	largeSize = 4 << 10
)

var largeBufs = sync.Pool{New: func() any { return new([largeSize]byte) }}

// Reader reads server-sent events with an explicit line limit.
type Reader struct {
	src     io.Reader
	buf     []byte // small[:] or large[:]; buf[r:w] is read and not consumed
	r, w    int
	err     error // the read error, returned once what was read is consumed
	large   *[largeSize]byte
	maxLine int
	line    []byte // spill buffer for lines longer than the large buffer
	data    []byte
	name    string
	small   [smallSize]byte
}

// NewReader reads events from r. maxLine <= 0 means DefaultMaxLine.
// Call Close to return a pooled buffer; it does not close r.
func NewReader(r io.Reader, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	rd := &Reader{src: r, maxLine: maxLine}
	rd.buf = rd.small[:]
	return rd
}

// Close releases the reader's pooled buffer, whatever is left unread in
// it.
func (r *Reader) Close() {
	if r.large != nil {
		largeBufs.Put(r.large)
	}
	r.src, r.large, r.buf, r.r, r.w = nil, nil, r.small[:], 0, 0
}

// shrink gives the large buffer back once nothing is left in it.
func (r *Reader) shrink() {
	if r.large != nil && r.r == r.w {
		largeBufs.Put(r.large)
		r.large, r.buf, r.r, r.w = nil, r.small[:], 0, 0
	}
}

// readLine returns one line without its line ending. The line is valid
// until the next call.
func (r *Reader) readLine() ([]byte, error) {
	spilled := false
	for {
		if i := bytes.IndexByte(r.buf[r.r:r.w], '\n'); i >= 0 {
			s := r.buf[r.r : r.r+i]
			r.r += i + 1
			if spilled {
				r.line = append(r.line, s...)
				s = r.line
			}
			if len(s) > r.maxLine {
				return nil, ErrEventTooLarge
			}
			return bytes.TrimSuffix(s, []byte{'\r'}), nil
		}
		if r.err != nil {
			if r.err == io.EOF && (r.r < r.w || spilled) {
				// A last line without its newline: the stream was cut.
				return nil, ErrStreamCut
			}
			return nil, r.err
		}
		// No whole line is buffered: make room and read.
		r.shrink()
		if r.r > 0 {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		}
		if r.w == len(r.buf) {
			if r.large == nil {
				r.large = largeBufs.Get().(*[largeSize]byte)
				r.w = copy(r.large[:], r.buf[:r.w])
				r.buf = r.large[:]
			} else {
				if !spilled {
					r.line, spilled = r.line[:0], true
				}
				r.line = append(r.line, r.buf[:r.w]...)
				r.w = 0
				if len(r.line) > r.maxLine {
					return nil, ErrEventTooLarge
				}
			}
		}
		r.read()
	}
}

// read fills the buffer from the source once. A source that keeps
// returning nothing and no error ends as io.ErrNoProgress, as bufio does.
func (r *Reader) read() {
	for range 100 {
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err != nil {
			r.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.err = io.ErrNoProgress
}

// Next returns the next event. At the end of the stream it returns io.EOF
// when the stream ended between events, and ErrStreamCut when it ended in
// the middle of one. "data: [DONE]" comes back as an Event with Done set.
func (r *Reader) Next() (Event, error) {
	r.data = r.data[:0]
	r.name = ""
	have, lines := false, 0
	for {
		line, err := r.readLine()
		if err != nil {
			if err == io.EOF && have {
				return Event{}, ErrStreamCut
			}
			return Event{}, err
		}
		if len(line) == 0 {
			if !have {
				continue
			}
			if bytes.Equal(r.data, []byte("[DONE]")) {
				return Event{Done: true}, nil
			}
			return Event{Name: r.name, Data: r.data}, nil
		}
		if line[0] == ':' {
			continue // comment
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "data":
			if lines > 0 {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			lines++
			have = true
		case "event":
			r.name = nameOf(value)
			have = true
		}
	}
}

// knownNames are the event names of the streams the relay reads, so that
// naming an event allocates nothing (Anthropic names every one).
var knownNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"message_start", "content_block_start", "content_block_delta", "content_block_stop",
		"message_delta", "message_stop", "ping", "error",
		"response.created", "response.in_progress", "response.output_item.added", "response.output_item.done",
		"response.content_part.added", "response.content_part.done", "response.output_text.delta",
		"response.output_text.done", "response.function_call_arguments.delta",
		"response.function_call_arguments.done", "response.reasoning_summary_text.delta",
		"response.completed", "response.incomplete", "response.failed",
	} {
		m[n] = n
	}
	return m
}()

// nameOf is value as a string, without a copy for a known name.
func nameOf(value []byte) string {
	if n, ok := knownNames[string(value)]; ok {
		return n
	}
	return string(value)
}

// Writer writes events to a client and flushes each one at once.
type Writer struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	// started reports whether anything was written.
	started bool
}

// NewWriter writes to w.
func NewWriter(w http.ResponseWriter) *Writer {
	return &Writer{w: w, rc: http.NewResponseController(w)}
}

// Start commits the stream's headers. They go out with the first event
// (or keep-alive) written after it, in the same write: flushing them on
// their own cost every stream a second write and the client a second
// wake-up before its first token (issue 14).
func (s *Writer) Start() {
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	// Tell nginx not to buffer the stream.
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
	s.started = true
}

// Started reports whether headers went out.
func (s *Writer) Started() bool { return s.started }

var (
	dataPrefix  = []byte("data: ")
	eventPrefix = []byte("event: ")
	newline     = []byte("\n")
	eventEnd    = []byte("\n\n")
	keepAlive   = []byte(": keep-alive\n\n")
	doneEvent   = []byte("data: [DONE]\n\n")
)

// Data writes one "data:" event (data must be a single line, as JSON is).
func (s *Writer) Data(data []byte) error {
	if _, err := s.w.Write(dataPrefix); err != nil {
		return err
	}
	if _, err := s.w.Write(data); err != nil {
		return err
	}
	if _, err := s.w.Write(eventEnd); err != nil {
		return err
	}
	return s.rc.Flush()
}

// Named writes an event with an "event:" line (Anthropic's framing).
func (s *Writer) Named(name string, data []byte) error {
	if _, err := s.w.Write(eventPrefix); err != nil {
		return err
	}
	if _, err := io.WriteString(s.w, name); err != nil {
		return err
	}
	if _, err := s.w.Write(newline); err != nil {
		return err
	}
	return s.Data(data)
}

// KeepAlive writes an SSE comment that clients ignore and proxies see as
// traffic.
func (s *Writer) KeepAlive() error {
	if _, err := s.w.Write(keepAlive); err != nil {
		return err
	}
	return s.rc.Flush()
}

// Done writes OpenAI's end marker.
func (s *Writer) Done() error {
	if _, err := s.w.Write(doneEvent); err != nil {
		return err
	}
	return s.rc.Flush()
}
